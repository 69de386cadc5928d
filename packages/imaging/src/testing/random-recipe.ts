/**
 * Test support (not exported): random recipes from a seeded generator, for round-trip and schema properties.
 * Values are drawn from each argument's range in the operations table, with few decimals (as people write them).
 */
import { OPERATIONS, type OpSpec } from '../grammar/operations.ts';
import type { Param } from '../grammar/params.ts';
import { parseRecipeJson } from '../grammar/parse.ts';
import type { Recipe } from '../recipe.ts';
import { seededRandom } from '@imgpipe/core';

export { seededRandom };

export function randomRecipe(random: () => number, maxOps = 8, specs: readonly OpSpec[] = OPERATIONS): Recipe {
  for (;;) {
    const count = Math.floor(random() * (maxOps + 1));
    const ops = Array.from({ length: count }, () => randomOp(random, specs[Math.floor(random() * specs.length)]!));
    try {
      return parseRecipeJson({ ops });
    } catch {
      // A cross-argument rule (a setting twice, quality for TIFF, lower >= upper): draw again.
    }
  }
}

function randomOp(random: () => number, spec: OpSpec): Record<string, unknown> {
  const variant = spec.variants[Math.floor(random() * spec.variants.length)]!;
  const op: Record<string, unknown> = { op: spec.op, ...(variant.mode ? { mode: variant.mode } : {}) };
  const fraction = variant.unit === true && random() < 0.5;
  if (variant.unit) op['unit'] = fraction ? 'fraction' : 'px';
  for (const param of variant.params) {
    const optional = !('default' in param) && param.kind !== 'size' && param.kind !== 'coord';
    const skippable = 'default' in param || param.kind === 'label' || param.kind === 'ratio';
    if ((skippable || optional) && random() < 0.3) continue;
    Object.assign(op, randomValue(random, param, fraction));
  }
  return op;
}

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)]!;
}

function decimal(random: () => number, min: number, max: number, places: number): number {
  const factor = 10 ** places;
  const low = Math.ceil(min * factor);
  const high = Math.floor(max * factor);
  return (low + Math.floor(random() * (high - low + 1))) / factor;
}

function randomValue(random: () => number, param: Param, fraction: boolean): Record<string, unknown> {
  switch (param.kind) {
    case 'int': {
      let value = Math.floor(param.min + random() * Math.min(1000, param.max - param.min + 1));
      if (param.odd && value % 2 === 0) value = value + 1 <= param.max ? value + 1 : value - 1;
      return { [param.name]: value };
    }
    case 'number': {
      const value = decimal(random, param.min, Math.min(param.max, param.min + 50), pick(random, [0, 1, 2, 3]));
      return { [param.name]: param.exclusiveMin && value <= param.min ? param.min + 0.5 : value };
    }
    case 'enum':
      return { [param.name]: pick(random, param.values) };
    case 'bool':
      return { [param.name]: random() < 0.5 };
    case 'colour':
      return {
        [param.name]: Array.from({ length: pick(random, [6, 8]) }, () => pick(random, [...'0123456789abcdef'])).join(
          '',
        ),
      };
    case 'label':
      return { [param.name]: pick(random, ['person', 'dog', 'traffic light', 'cell-phone', 'a_b']) };
    case 'ratio':
      return { [param.name]: [decimal(random, 0.1, 40, pick(random, [0, 1])), decimal(random, 0.1, 40, 0)] };
    case 'coord':
      return {
        [param.name]: fraction ? decimal(random, param.positive ? 0.001 : 0, 1, 3) : Math.floor(random() * 5000) + 1,
      };
    case 'size': {
      const side = () => (fraction ? decimal(random, 0.001, 1, 3) : Math.floor(random() * 5000) + 1);
      const which = random();
      return which < 0.6 ? { width: side(), height: side() } : which < 0.8 ? { width: side() } : { height: side() };
    }
  }
}
