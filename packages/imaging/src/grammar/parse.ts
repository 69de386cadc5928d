/**
 * parseRecipe: a recipe from its string form (`resize:800x600:cover/sharpen/format:webp:80`), its JSON form
 * (`{ "ops": [...] }`, as a value or as JSON text), into the normalised Recipe. Every mistake is an ImgpipeError:
 * RECIPE_INVALID (shape), RECIPE_UNKNOWN_OPERATION, RECIPE_INVALID_ARGUMENT, RECIPE_TOO_MANY_OPERATIONS (the hard cap;
 * the configured limit is validateRecipe's).
 */
import { ImgpipeError } from '@imgpipe/core';
import { type Operation, type Recipe, SETTING_OPS } from '../recipe.ts';
import { OPERATIONS, type OpSpec, operationSpec, type Variant } from './operations.ts';
import {
  argumentError,
  checkRange,
  type Param,
  readBoolToken,
  readColour,
  readEnum,
  readLabel,
  readNumberToken,
  readRatio,
} from './params.ts';

/** Longer strings are refused before any parsing. */
export const MAX_RECIPE_LENGTH = 4096;
/** A recipe never holds more entries than this, whatever the configured operation limit. */
export const MAX_RECIPE_ENTRIES = 256;

export function parseRecipe(input: unknown): Recipe {
  if (typeof input === 'string') {
    const text = input.trim();
    if (text.startsWith('{') || text.startsWith('[')) {
      if (text.length > MAX_RECIPE_LENGTH * 4) throw invalid(`the JSON recipe is longer than ${MAX_RECIPE_LENGTH * 4}`);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw invalid(`the recipe is not valid JSON: ${(error as Error).message}`);
      }
      return parseRecipeJson(value);
    }
    return parseRecipeString(text);
  }
  return parseRecipeJson(input);
}

export function parseRecipeString(text: string): Recipe {
  if (text.length > MAX_RECIPE_LENGTH) throw invalid(`the recipe is longer than ${MAX_RECIPE_LENGTH} characters`);
  const body = text.trim().replace(/^\/+|\/+$/g, '');
  if (body === '') return { ops: [] };
  const segments = body.split('/');
  if (segments.length > MAX_RECIPE_ENTRIES) throw tooMany(segments.length);
  const ops = segments.map((segment, index) => {
    if (segment.trim() === '') throw invalid(`operation ${index + 1} is empty (two slashes in a row)`);
    const [rawName = '', ...tokens] = segment.split(':');
    const name = rawName.trim().toLowerCase();
    const spec = operationSpec(name);
    if (!spec) throw unknownOperation(rawName);
    return readStringOp(
      spec,
      tokens.map((token) => token.trim()),
    );
  });
  return normaliseRecipe(ops);
}

export function parseRecipeJson(value: unknown): Recipe {
  if (!isObject(value) || !Array.isArray(value['ops'])) {
    throw invalid('a JSON recipe is an object with an "ops" array: { "ops": [{ "op": "resize", "width": 800 }] }');
  }
  const extra = Object.keys(value).filter((key) => key !== 'ops');
  if (extra.length > 0) throw invalid(`a JSON recipe has only "ops" (unexpected ${extra.join(', ')})`);
  const entries = value['ops'] as unknown[];
  if (entries.length > MAX_RECIPE_ENTRIES) throw tooMany(entries.length);
  const ops = entries.map((entry, index) => {
    if (!isObject(entry) || typeof entry['op'] !== 'string') {
      throw invalid(`ops[${index}] must be an object with a string "op"`);
    }
    const spec = operationSpec(entry['op']);
    if (!spec || spec.aliases?.includes(entry['op'])) throw unknownOperation(entry['op']);
    return readJsonOp(spec, entry);
  });
  return normaliseRecipe(ops);
}

function readStringOp(spec: OpSpec, tokens: string[]): Operation {
  const variant = pickVariant(spec, tokens);
  const args = variant.keyword ? tokens.slice(1) : tokens;
  if (args.length > variant.params.length) {
    throw argumentError(spec.op, `takes at most ${variant.params.length} argument(s), got ${args.length}`);
  }
  const op: Record<string, unknown> = { op: spec.op, ...(variant.mode ? { mode: variant.mode } : {}) };
  const decimals: boolean[] = [];
  variant.params.forEach((param, index) => {
    const token = args[index];
    readStringParam(spec.op, param, token === '' ? undefined : token, op, decimals);
  });
  if (variant.unit) op['unit'] = readUnit(spec.op, variant, op, decimals);
  else checkUnit(spec.op, variant, op, 'px');
  return finish(spec, op);
}

function pickVariant(spec: OpSpec, tokens: string[]): Variant {
  if (spec.variants.length === 1) return spec.variants[0]!;
  const first = tokens[0]?.toLowerCase();
  const keyed = spec.variants.find((variant) => variant.keyword !== undefined && variant.keyword === first);
  if (keyed) return keyed;
  const shaped = spec.variants.find((variant) => variant.accepts?.(tokens));
  if (shaped) return shaped;
  const forms = spec.variants.map((variant) => variant.keyword ?? variant.mode).join(', ');
  throw argumentError(spec.op, `the arguments match none of its forms (${forms}); see docs/transform.md`);
}

function readStringParam(
  op: string,
  param: Param,
  token: string | undefined,
  into: Record<string, unknown>,
  decimals: boolean[],
): void {
  if (token === undefined) {
    applyDefault(op, param, into);
    return;
  }
  switch (param.kind) {
    case 'int':
    case 'number':
      into[param.name] = checkRange(op, param, readNumberToken(op, param.name, token).value);
      return;
    case 'enum':
      into[param.name] = readEnum(op, param, token, true);
      return;
    case 'bool':
      into[param.name] = readBoolToken(op, param.name, token);
      return;
    case 'colour':
      into[param.name] = readColour(op, param.name, token);
      return;
    case 'label':
      into[param.name] = readLabel(op, param.name, token);
      return;
    case 'ratio':
      into[param.name] = readRatio(op, param.name, token);
      return;
    case 'coord': {
      const { value, decimal } = readNumberToken(op, param.name, token);
      decimals.push(decimal);
      into[param.name] = value;
      return;
    }
    case 'size': {
      const match = /^([^x]*)x([^x]*)$/i.exec(token);
      if (!match) throw argumentError(op, `${param.name} must be WxH, Wx or xH (got "${token}")`);
      for (const [name, part] of [
        ['width', match[1]!],
        ['height', match[2]!],
      ] as const) {
        if (part === '') continue;
        const { value, decimal } = readNumberToken(op, name, part);
        decimals.push(decimal);
        into[name] = value;
      }
      if (into['width'] === undefined && into['height'] === undefined) {
        throw argumentError(op, `${param.name} needs a width, a height or both (got "${token}")`);
      }
      return;
    }
  }
}

function readJsonOp(spec: OpSpec, entry: Record<string, unknown>): Operation {
  let variant = spec.variants[0]!;
  if (spec.variants.length > 1) {
    const found = spec.variants.find((candidate) => candidate.mode === entry['mode']);
    if (!found) {
      const modes = spec.variants.map((candidate) => candidate.mode).join(', ');
      throw argumentError(spec.op, `mode must be one of ${modes} (got ${JSON.stringify(entry['mode'])})`);
    }
    variant = found;
  }
  const allowed = new Set(['op', ...(variant.mode ? ['mode'] : []), ...(variant.unit ? ['unit'] : [])]);
  for (const param of variant.params) {
    if (param.kind === 'size') {
      allowed.add('width');
      allowed.add('height');
    } else {
      allowed.add(param.name);
    }
  }
  const unknown = Object.keys(entry).filter((key) => !allowed.has(key));
  if (unknown.length > 0) throw argumentError(spec.op, `unexpected ${unknown.map((key) => `"${key}"`).join(', ')}`);

  const op: Record<string, unknown> = { op: spec.op, ...(variant.mode ? { mode: variant.mode } : {}) };
  for (const param of variant.params) {
    if (param.kind === 'size') {
      for (const name of ['width', 'height']) {
        if (entry[name] !== undefined) op[name] = jsonNumber(spec.op, name, entry[name]);
      }
      if (op['width'] === undefined && op['height'] === undefined) {
        throw argumentError(spec.op, 'needs a width, a height or both');
      }
      continue;
    }
    const raw = entry[param.name];
    if (raw === undefined) {
      applyDefault(spec.op, param, op);
      continue;
    }
    switch (param.kind) {
      case 'int':
      case 'number':
        op[param.name] = checkRange(spec.op, param, jsonNumber(spec.op, param.name, raw));
        break;
      case 'coord':
        op[param.name] = jsonNumber(spec.op, param.name, raw);
        break;
      case 'enum':
        op[param.name] = readEnum(spec.op, param, raw, false);
        break;
      case 'bool':
        if (typeof raw !== 'boolean') throw argumentError(spec.op, `${param.name} must be true or false`);
        op[param.name] = raw;
        break;
      case 'colour':
        op[param.name] = readColour(spec.op, param.name, raw);
        break;
      case 'label':
        op[param.name] = readLabel(spec.op, param.name, raw);
        break;
      case 'ratio':
        op[param.name] = readRatio(spec.op, param.name, raw);
        break;
    }
  }
  if (variant.unit) {
    const unit = entry['unit'] ?? 'px';
    if (unit !== 'px' && unit !== 'fraction') throw argumentError(spec.op, 'unit must be px or fraction');
    op['unit'] = unit;
    checkUnit(spec.op, variant, op, unit);
  } else {
    checkUnit(spec.op, variant, op, 'px');
  }
  return finish(spec, op);
}

function jsonNumber(op: string, name: string, raw: unknown): number {
  if (typeof raw !== 'number' || !Number.isFinite(raw)) {
    throw argumentError(op, `${name} must be a number (got ${JSON.stringify(raw)})`);
  }
  return raw;
}

function applyDefault(op: string, param: Param, into: Record<string, unknown>): void {
  if (param.kind === 'label' || param.kind === 'ratio' || (param.kind === 'int' && param.optional)) return;
  if (param.kind === 'size' || param.kind === 'coord' || param.default === undefined) {
    throw argumentError(op, `${param.name} is required`);
  }
  into[param.name] = param.default;
}

/** The unit of a crop from how its numbers were written: any decimal point makes all of them fractions. */
function readUnit(op: string, variant: Variant, values: Record<string, unknown>, decimals: boolean[]) {
  const unit = decimals.some(Boolean) ? 'fraction' : 'px';
  checkUnit(op, variant, values, unit);
  return unit;
}

function checkUnit(op: string, variant: Variant, values: Record<string, unknown>, unit: 'px' | 'fraction'): void {
  for (const param of variant.params) {
    const names = param.kind === 'size' ? ['width', 'height'] : param.kind === 'coord' ? [param.name] : [];
    for (const name of names) {
      const value = values[name];
      if (value === undefined) continue;
      const positive = param.kind === 'size' || (param.kind === 'coord' && param.positive);
      if (typeof value !== 'number' || value < 0 || (positive && value === 0)) {
        throw argumentError(op, `${name} must be ${positive ? 'above' : 'at least'} 0 (got ${value})`);
      }
      if (unit === 'fraction' && value > 1) {
        throw argumentError(op, `${name} is a fraction of the image (written with a decimal point): 0-1, got ${value}`);
      }
      const max = param.kind === 'size' || param.kind === 'coord' ? param.max : Number.POSITIVE_INFINITY;
      if (unit === 'px' && (!Number.isInteger(value) || value > max)) {
        throw argumentError(op, `${name} must be a whole number of pixels up to ${max} (got ${value})`);
      }
    }
  }
}

function finish(spec: OpSpec, op: Record<string, unknown>): Operation {
  spec.normalise?.(op);
  const problem = spec.check?.(op);
  if (problem) throw argumentError(spec.op, problem);
  return op as unknown as Operation;
}

/** Settings (format, metadata, auto-orient) at most once each, moved last in a fixed order; defaults dropped. */
export function normaliseRecipe(ops: readonly Operation[]): Recipe {
  const pixel: Operation[] = [];
  const settings = new Map<string, Operation>();
  for (const op of ops) {
    if (!(SETTING_OPS as readonly string[]).includes(op.op)) {
      pixel.push(op);
      continue;
    }
    if (settings.has(op.op)) throw invalid(`${op.op} appears more than once`);
    settings.set(op.op, op);
  }
  const ordered = SETTING_OPS.map((name) => settings.get(name)).filter(
    (op): op is Operation =>
      op !== undefined &&
      !(op.op === 'metadata' && op.mode === 'icc') &&
      !(op.op === 'auto-orient' && op.enabled === true),
  );
  return { ops: [...pixel, ...ordered] };
}

function invalid(message: string): ImgpipeError {
  return new ImgpipeError('RECIPE_INVALID', message);
}

function tooMany(count: number): ImgpipeError {
  return new ImgpipeError(
    'RECIPE_TOO_MANY_OPERATIONS',
    `the recipe has ${count} entries, more than ${MAX_RECIPE_ENTRIES}`,
    {
      details: { operations: count, limit: MAX_RECIPE_ENTRIES },
    },
  );
}

function unknownOperation(name: string): ImgpipeError {
  const known = OPERATIONS.map((spec) => spec.op);
  const suggestion = closest(name.toLowerCase(), known);
  return new ImgpipeError(
    'RECIPE_UNKNOWN_OPERATION',
    `unknown operation "${name}"${suggestion ? ` (did you mean ${suggestion}?)` : ''}; operations: ${known.join(', ')}`,
    { details: { op: name } },
  );
}

function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance <= 2 && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
