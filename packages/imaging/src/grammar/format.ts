/**
 * formatRecipe: the one canonical string of a (normalised) recipe. Arguments are written in order up to the last one
 * that differs from its default; numbers in their shortest form; fractions always with a decimal point. Parsing the
 * string gives the same recipe back, so the string serves as a cache key.
 */
import type { Operation, Recipe } from '../recipe.ts';
import { specOf, variantOf } from './operations.ts';
import { type Param, writeFraction, writeNumber } from './params.ts';

export function formatRecipe(recipe: Recipe): string {
  return recipe.ops.map(formatOperation).join('/');
}

export function formatOperation(operation: Operation): string {
  const op = operation as unknown as Record<string, unknown>;
  const spec = specOf(operation);
  const variant = variantOf(spec, op);
  const fraction = op['unit'] === 'fraction';
  const tokens = variant.params.map((param) => writeParam(param, op, fraction));
  while (tokens.length > 0 && tokens[tokens.length - 1]!.omittable) tokens.pop();
  const args = [...(variant.keyword ? [variant.keyword] : []), ...tokens.map(({ token }) => token)];
  return [spec.op, ...args].join(':');
}

/** One argument's token; omittable when absent or at its default (only trailing ones are left out). */
function writeParam(param: Param, op: Record<string, unknown>, fraction: boolean) {
  const value = op[param.name];
  const token = writeToken(param, op, fraction);
  const omittable = param.kind !== 'size' && (value === undefined || ('default' in param && param.default === value));
  return { token, omittable };
}

function writeToken(param: Param, op: Record<string, unknown>, fraction: boolean): string {
  const number = fraction ? writeFraction : writeNumber;
  if (param.kind === 'size') {
    const width = op['width'] as number | undefined;
    const height = op['height'] as number | undefined;
    return `${width === undefined ? '' : number(width)}x${height === undefined ? '' : number(height)}`;
  }
  const value = op[param.name];
  if (value === undefined) return '';
  switch (param.kind) {
    case 'coord':
      return number(value as number);
    case 'int':
    case 'number':
      return writeNumber(value as number);
    case 'bool':
      return value ? '1' : '0';
    case 'ratio': {
      const [width, height] = value as [number, number];
      return `${writeNumber(width)}x${writeNumber(height)}`;
    }
    default:
      return String(value);
  }
}
