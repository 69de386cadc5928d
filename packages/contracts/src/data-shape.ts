/**
 * A data shape, described once, from which its TypeScript type (`Infer`), its JSON Schema (`jsonSchemaOf`) and its
 * Avro type (`avroTypeOf`, `avroFieldsOf`) are derived. The result contract (results.ts, image-view.ts) is written in
 * it: the HTTP API's response schemas and the result records inside the Avro events come from there.
 *
 * Why a small vocabulary of our own rather than JSON Schema or Avro as the source: each of the three lacks something
 * the others need. JSON Schema cannot tell an Avro int from a long or name a record, and inferring TypeScript from it
 * takes a large type library; Avro has no enums in imgpipe's schemas (a rule of their evolution) and spells
 * optionality as a union with null. This file is a dozen constructors, two renderers and one inference type.
 *
 *   export const PixelBox = record('PixelBox', 'A box in pixels.', { x: required(double, 'Left edge.'), ... });
 *   export interface PixelBox extends Infer<typeof PixelBox> {}
 */
import {
  type AvroField,
  type AvroRecord,
  type AvroType,
  field as avroField,
  list as avroList,
  optional as avroOptional,
  record as avroRecord,
  stringMap as avroMap,
  uuid as avroUuid,
} from './avro-schema.ts';

type ScalarKind = 'string' | 'uuid' | 'dateTime' | 'int' | 'long' | 'double' | 'boolean';

export interface Scalar<K extends ScalarKind = ScalarKind> {
  readonly kind: K;
}

/** A string from a fixed set: a literal union in TypeScript, an enum in JSON Schema, a plain string in Avro. */
export interface OneOf<V extends string = string> {
  readonly kind: 'oneOf';
  readonly values: readonly V[];
}

export interface ListOf<S extends Shape = Shape> {
  readonly kind: 'list';
  readonly items: S;
}

/** An object with exactly these keys, each holding the same shape: `Record<K, V>`, an Avro map. */
export interface KeyedBy<K extends string = string, S extends Shape = Shape> {
  readonly kind: 'keyed';
  readonly keys: readonly K[];
  readonly values: S;
}

/** An object with any string keys (the producer's own names), each holding the same shape: `Record<string, V>`. */
export interface MapOf<S extends Shape = Shape> {
  readonly kind: 'map';
  readonly values: S;
}

/** Named (the Avro record's name), documented, with fields in their Avro order. */
export interface RecordShape<F extends Fields = Fields> {
  readonly kind: 'record';
  readonly name: string;
  readonly doc: string;
  readonly fields: F;
}

export type Shape = Scalar | OneOf | ListOf | KeyedBy | MapOf | RecordShape;

export interface Field<S extends Shape = Shape, O extends boolean = boolean> {
  readonly shape: S;
  readonly optional: O;
  readonly doc: string;
}

export type Fields = Readonly<Record<string, Field>>;

export const string: Scalar<'string'> = { kind: 'string' };
export const uuid: Scalar<'uuid'> = { kind: 'uuid' };
/** ISO 8601 date and time (JSON Schema `date-time`); only in HTTP views, an Avro string if ever in an event. */
export const dateTime: Scalar<'dateTime'> = { kind: 'dateTime' };
/** 32-bit integer. */
export const int: Scalar<'int'> = { kind: 'int' };
/** 64-bit integer (a JS number, safe to 2^53). */
export const long: Scalar<'long'> = { kind: 'long' };
export const double: Scalar<'double'> = { kind: 'double' };
export const boolean: Scalar<'boolean'> = { kind: 'boolean' };

export function oneOf<const V extends string>(values: readonly V[]): OneOf<V> {
  return { kind: 'oneOf', values };
}

export function listOf<S extends Shape>(items: S): ListOf<S> {
  return { kind: 'list', items };
}

export function keyedBy<const K extends string, S extends Shape>(keys: readonly K[], values: S): KeyedBy<K, S> {
  return { kind: 'keyed', keys, values };
}

export function mapOf<S extends Shape>(values: S): MapOf<S> {
  return { kind: 'map', values };
}

export function record<F extends Fields>(name: string, doc: string, fields: F): RecordShape<F> {
  return { kind: 'record', name, doc, fields };
}

export function required<S extends Shape>(shape: S, doc: string): Field<S, false> {
  return { shape, optional: false, doc };
}

/** Absent when unknown: an optional property, left out of JSON Schema's `required`, an Avro union with null. */
export function optional<S extends Shape>(shape: S, doc: string): Field<S, true> {
  return { shape, optional: true, doc };
}

/** The TypeScript type of a shape. */
export type Infer<S extends Shape> =
  S extends Scalar<'int' | 'long' | 'double'>
    ? number
    : S extends Scalar<'boolean'>
      ? boolean
      : S extends Scalar
        ? string
        : S extends OneOf<infer V>
          ? V
          : S extends ListOf<infer I>
            ? Infer<I>[]
            : S extends KeyedBy<infer K, infer V>
              ? Record<K, Infer<V>>
              : S extends MapOf<infer V>
                ? Record<string, Infer<V>>
                : S extends RecordShape<infer F>
                  ? InferFields<F>
                  : never;

type OptionalKeys<F extends Fields> = { [K in keyof F]: F[K]['optional'] extends true ? K : never }[keyof F];

type InferFields<F extends Fields> = Flatten<
  { -readonly [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]['shape']> } & {
    -readonly [K in OptionalKeys<F>]?: Infer<F[K]['shape']>;
  }
>;

type Flatten<T> = T extends infer O ? { [K in keyof O]: O[K] } : never;

export type JsonSchema = { [keyword: string]: unknown };

export interface JsonSchemaOptions {
  /** additionalProperties: false on every object, for checking data rather than serving it. */
  closed?: boolean;
}

/** The JSON Schema of a shape; each record's and each field's doc becomes its `description`. */
export function jsonSchemaOf(shape: Shape, options: JsonSchemaOptions = {}): JsonSchema {
  switch (shape.kind) {
    case 'string':
      return { type: 'string' };
    case 'uuid':
      return { type: 'string', format: 'uuid' };
    case 'dateTime':
      return { type: 'string', format: 'date-time' };
    case 'int':
    case 'long':
      return { type: 'integer' };
    case 'double':
      return { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'oneOf':
      return { type: 'string', enum: [...shape.values] };
    case 'list':
      return { type: 'array', items: jsonSchemaOf(shape.items, options) };
    case 'keyed': {
      const properties = Object.fromEntries(shape.keys.map((key) => [key, jsonSchemaOf(shape.values, options)]));
      return objectSchema(properties, shape.keys, options);
    }
    case 'map':
      return { type: 'object', additionalProperties: jsonSchemaOf(shape.values, options) };
    case 'record': {
      const fields = Object.entries(shape.fields);
      const properties = Object.fromEntries(
        fields.map(([name, field]) => [name, { ...jsonSchemaOf(field.shape, options), description: field.doc }]),
      );
      const required = fields.filter(([, field]) => !field.optional).map(([name]) => name);
      return { description: shape.doc, ...objectSchema(properties, required, options) };
    }
  }
}

function objectSchema(
  properties: Record<string, JsonSchema>,
  required: readonly string[],
  options: JsonSchemaOptions,
): JsonSchema {
  return {
    type: 'object',
    ...(required.length > 0 ? { required: [...required] } : {}),
    properties,
    ...(options.closed ? { additionalProperties: false } : {}),
  };
}

/** One Avro record per record shape, so that selfContained() sees the same object wherever a record recurs. */
const avroRecords = new WeakMap<RecordShape, AvroRecord>();

/** The Avro type of a shape, for use in event-schemas.ts. */
export function avroTypeOf(shape: Shape): AvroType {
  switch (shape.kind) {
    case 'string':
    case 'dateTime':
    case 'oneOf':
      return 'string';
    case 'uuid':
      return avroUuid;
    case 'int':
    case 'long':
    case 'double':
    case 'boolean':
      return shape.kind;
    case 'list':
      return { type: 'array', items: avroTypeOf(shape.items) };
    case 'keyed':
    case 'map':
      return { type: 'map', values: avroTypeOf(shape.values) };
    case 'record': {
      let rendered = avroRecords.get(shape);
      if (!rendered) {
        rendered = avroRecord(shape.name, shape.doc, avroFieldsOf(shape.fields));
        avroRecords.set(shape, rendered);
      }
      return rendered;
    }
  }
}

/**
 * Avro fields in the evolution style of event-schemas.ts: optional fields are null-first unions defaulting to null,
 * lists default to empty and maps to {}, so a field can be added later without breaking old data.
 */
export function avroFieldsOf(fields: Fields): AvroField[] {
  return Object.entries(fields).map(([name, { shape, optional, doc }]) => {
    if (optional) return avroOptional(name, avroTypeOf(shape), doc);
    if (shape.kind === 'list') return avroList(name, avroTypeOf(shape.items), doc);
    if (shape.kind === 'keyed' || shape.kind === 'map') return avroMap(name, avroTypeOf(shape.values), doc);
    return avroField(name, avroTypeOf(shape), doc);
  });
}
