/**
 * The JSON Schema of a recipe's JSON form, built from the operations table (one `oneOf` branch per operation and
 * crop mode), for the HTTP API's OpenAPI document. Accepting a document does not replace parseRecipe: the schema
 * cannot express every rule (odd median windows, fractions at most 1, lower below upper), parseRecipe does.
 */
import { OPERATIONS, type OpSpec, type Variant } from './operations.ts';
import type { Param } from './params.ts';

type Schema = Record<string, unknown>;

export const RECIPE_STRING_SCHEMA: Schema = {
  type: 'string',
  maxLength: 4096,
  description: 'A recipe in its string form, e.g. resize:800x600:cover/sharpen/format:webp:80 (docs/transform.md)',
};

export function recipeJsonSchema(): Schema {
  return {
    $id: 'Recipe',
    type: 'object',
    description: 'An ordered list of image operations; format, metadata and auto-orient are settings (at most once)',
    required: ['ops'],
    additionalProperties: false,
    properties: {
      ops: {
        type: 'array',
        items: { oneOf: OPERATIONS.flatMap((spec) => spec.variants.map((variant) => variantSchema(spec, variant))) },
      },
    },
  };
}

function variantSchema(spec: OpSpec, variant: Variant): Schema {
  const properties: Record<string, Schema> = { op: { const: spec.op } };
  const required = ['op'];
  if (variant.mode) {
    properties['mode'] = { const: variant.mode };
    required.push('mode');
  }
  if (variant.unit) {
    properties['unit'] = {
      enum: ['px', 'fraction'],
      default: 'px',
      description: 'px: whole pixels; fraction: 0-1 of the image',
    };
  }
  const sizes: string[] = [];
  for (const param of variant.params) {
    if (param.kind === 'size') {
      const number = variant.unit ? { type: 'number', exclusiveMinimum: 0 } : { type: 'integer', minimum: 1 };
      properties['width'] = { ...number, maximum: param.max, description: 'width' };
      properties['height'] = { ...number, maximum: param.max, description: 'height' };
      sizes.push('width', 'height');
      continue;
    }
    properties[param.name] = paramSchema(param, variant.unit === true);
    const optional =
      'default' in param ||
      param.kind === 'label' ||
      param.kind === 'ratio' ||
      (param.kind === 'int' && param.optional);
    if (!optional) required.push(param.name);
  }
  return {
    type: 'object',
    title: variant.mode ? `${spec.op} (${variant.mode})` : spec.op,
    description: spec.summary,
    required,
    additionalProperties: false,
    properties,
    ...(sizes.length > 0 ? { anyOf: sizes.map((name) => ({ required: [name], properties: { [name]: true } })) } : {}),
  };
}

function paramSchema(param: Param, unit: boolean): Schema {
  const base = { description: param.doc };
  switch (param.kind) {
    case 'int':
      return { ...base, type: 'integer', minimum: param.min, maximum: param.max, ...withDefault(param.default) };
    case 'number':
      return {
        ...base,
        type: 'number',
        ...(param.exclusiveMin ? { exclusiveMinimum: param.min } : { minimum: param.min }),
        maximum: param.max,
        ...withDefault(param.default),
      };
    case 'coord':
      return unit
        ? { ...base, type: 'number', minimum: 0, maximum: param.max }
        : { ...base, type: 'integer', minimum: 0, maximum: param.max };
    case 'enum':
      return { ...base, enum: [...param.values], ...withDefault(param.default) };
    case 'bool':
      return { ...base, type: 'boolean', default: param.default };
    case 'colour':
      return {
        ...base,
        type: 'string',
        pattern: '^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$',
        default: param.default,
      };
    case 'label':
      return { ...base, type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9 _-]{0,63}$' };
    case 'ratio':
      return {
        ...base,
        type: 'array',
        items: { type: 'number', exclusiveMinimum: 0, maximum: 10_000 },
        minItems: 2,
        maxItems: 2,
      };
    case 'size':
      return base;
  }
}

function withDefault(value: unknown): Schema {
  return value === undefined ? {} : { default: value };
}
