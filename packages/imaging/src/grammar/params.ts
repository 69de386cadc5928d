/**
 * The kinds of argument an operation takes, each knowing how to read itself from a string token and from a JSON
 * value, how to write its canonical token, and its JSON Schema. One table of these (operations.ts) drives parsing,
 * formatting, validation and the schema, so the string and JSON forms cannot drift apart.
 */
import { ImgpipeError } from '@imgpipe/core';

interface Base {
  readonly name: string;
  readonly doc: string;
}

export interface IntParam extends Base {
  readonly kind: 'int';
  readonly min: number;
  readonly max: number;
  readonly default?: number;
  /** May be left out, with no default (format quality: the encoder's own). */
  readonly optional?: boolean;
  /** Only odd values (median windows). */
  readonly odd?: boolean;
}

export interface NumberParam extends Base {
  readonly kind: 'number';
  readonly min: number;
  readonly max: number;
  readonly default?: number;
  /** The minimum itself is not allowed (a factor that must be above 0). */
  readonly exclusiveMin?: boolean;
}

export interface EnumParam extends Base {
  readonly kind: 'enum';
  readonly values: readonly string[];
  /** Other spellings the string form accepts (`center` for `centre`); JSON takes the canonical values only. */
  readonly aliases?: Readonly<Record<string, string>>;
  readonly default?: string;
}

export interface BoolParam extends Base {
  readonly kind: 'bool';
  readonly default: boolean;
}

export interface ColourParam extends Base {
  readonly kind: 'colour';
  readonly default: string;
}

export interface LabelParam extends Base {
  readonly kind: 'label';
}

/** An aspect ratio, `16x9` in the string, `[16, 9]` in JSON. Always optional. */
export interface RatioParam extends Base {
  readonly kind: 'ratio';
}

/** `WxH`, `Wx` or `xH` in the string; `width` and `height` in JSON (at least one). */
export interface SizeParam extends Base {
  readonly kind: 'size';
  /** Fractions of the image (written with a decimal point) are allowed, setting the operation's `unit`. */
  readonly fractions: boolean;
  readonly max: number;
}

/** One of a crop box's four numbers: whole pixels, or fractions of the image when written with a decimal point. */
export interface CoordParam extends Base {
  readonly kind: 'coord';
  readonly max: number;
  /** Width and height must be above 0. */
  readonly positive: boolean;
}

export type Param =
  | IntParam
  | NumberParam
  | EnumParam
  | BoolParam
  | ColourParam
  | LabelParam
  | RatioParam
  | SizeParam
  | CoordParam;

export function argumentError(op: string, message: string): ImgpipeError {
  return new ImgpipeError('RECIPE_INVALID_ARGUMENT', `${op}: ${message}`, { details: { op } });
}

const NUMBER = /^-?\d+(\.\d+)?$/;
const COLOUR = /^#?([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i;
const LABEL = /^[a-z0-9][a-z0-9 _-]{0,63}$/i;

/** A number token: the value, and whether it was written with a decimal point (a fraction, for coordinates). */
export function readNumberToken(op: string, name: string, token: string): { value: number; decimal: boolean } {
  if (!NUMBER.test(token)) throw argumentError(op, `${name} must be a number (got "${token}")`);
  return { value: Number(token), decimal: token.includes('.') };
}

/** Numbers in the canonical string: shortest round-trip form, never an exponent (ranges keep them small). */
export function writeNumber(value: number): string {
  const text = String(value);
  return text.includes('e') ? value.toFixed(6).replace(/\.?0+$/, '') : text;
}

/** A fraction always shows its decimal point, so `1.0` (the whole image) is never read back as 1 pixel. */
export function writeFraction(value: number): string {
  const text = writeNumber(value);
  return text.includes('.') ? text : `${text}.0`;
}

export function checkRange(op: string, param: IntParam | NumberParam, value: number): number {
  if (!Number.isFinite(value)) throw argumentError(op, `${param.name} must be a number`);
  if (param.kind === 'int' && !Number.isInteger(value)) {
    throw argumentError(op, `${param.name} must be a whole number (got ${value})`);
  }
  const belowMin = param.kind === 'number' && param.exclusiveMin ? value <= param.min : value < param.min;
  if (belowMin || value > param.max) {
    const lower = param.kind === 'number' && param.exclusiveMin ? `above ${param.min}` : `at least ${param.min}`;
    throw argumentError(op, `${param.name} must be ${lower} and at most ${param.max} (got ${value})`);
  }
  if (param.kind === 'int' && param.odd && value % 2 === 0) {
    throw argumentError(op, `${param.name} must be odd (got ${value})`);
  }
  return value;
}

export function readColour(op: string, name: string, raw: unknown): string {
  if (typeof raw !== 'string' || !COLOUR.test(raw)) {
    throw argumentError(op, `${name} must be a hex colour rgb, rrggbb or rrggbbaa (got ${JSON.stringify(raw)})`);
  }
  let hex = raw.replace(/^#/, '').toLowerCase();
  if (hex.length === 3) hex = [...hex].map((digit) => digit + digit).join('');
  return hex.endsWith('ff') && hex.length === 8 ? hex.slice(0, 6) : hex;
}

export function readLabel(op: string, name: string, raw: unknown): string {
  if (typeof raw !== 'string' || !LABEL.test(raw)) {
    throw argumentError(
      op,
      `${name} must be 1-64 letters, digits, spaces, _ or - starting with a letter or digit (got ${JSON.stringify(raw)})`,
    );
  }
  return raw.toLowerCase();
}

export function readRatio(op: string, name: string, raw: unknown): [number, number] {
  let pair: unknown[] | undefined;
  if (typeof raw === 'string') {
    const match = /^(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)$/.exec(raw);
    pair = match ? [Number(match[1]), Number(match[2])] : undefined;
  } else if (Array.isArray(raw) && raw.length === 2) {
    pair = raw;
  }
  const [width, height] = pair ?? [];
  if (
    typeof width !== 'number' ||
    typeof height !== 'number' ||
    !(width > 0 && height > 0 && width <= 10_000 && height <= 10_000)
  ) {
    throw argumentError(op, `${name} must be a ratio like 16x9 of two numbers above 0 (got ${JSON.stringify(raw)})`);
  }
  return [width, height];
}

export function readEnum(op: string, param: EnumParam, raw: unknown, allowAliases: boolean): string {
  if (typeof raw === 'string') {
    const lower = raw.toLowerCase();
    const value = allowAliases ? (param.aliases?.[lower] ?? lower) : raw;
    if (param.values.includes(value)) return value;
  }
  throw argumentError(op, `${param.name} must be one of ${param.values.join(', ')} (got ${JSON.stringify(raw)})`);
}

export function readBoolToken(op: string, name: string, token: string): boolean {
  const lower = token.toLowerCase();
  if (['1', 'true', 't', 'yes'].includes(lower)) return true;
  if (['0', 'false', 'f', 'no'].includes(lower)) return false;
  throw argumentError(op, `${name} must be 1 or 0 (got "${token}")`);
}
