/**
 * A small typed vocabulary for writing Avro schemas in TypeScript, plus `selfContained`, which turns a schema whose
 * shared record types appear as objects (possibly several times) into the JSON form Avro requires: each named type
 * defined in full at its first use and referred to by name afterwards.
 */
export interface AvroRecord {
  type: 'record';
  name: string;
  namespace?: string;
  doc: string;
  fields: AvroField[];
}

export interface AvroField {
  name: string;
  type: AvroType;
  doc: string;
  default?: unknown;
}

export type AvroPrimitive = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';

export type AvroType =
  | AvroPrimitive
  | AvroRecord
  | { type: 'array'; items: AvroType }
  | { type: 'map'; values: AvroType }
  | { type: 'long'; logicalType: 'timestamp-millis' }
  | { type: 'string'; logicalType: 'uuid' }
  | AvroType[]
  | string;

export function record(name: string, doc: string, fields: AvroField[]): AvroRecord {
  return { type: 'record', name, doc, fields };
}

export function field(name: string, type: AvroType, doc: string): AvroField {
  return { name, type, doc };
}

/** Optional: a union with null first, defaulting to null, so the field can be added or dropped later. */
export function optional(name: string, type: AvroType, doc: string): AvroField {
  return { name, type: ['null', type], doc, default: null };
}

/** An array defaulting to empty, so old data without it reads as "none". */
export function list(name: string, items: AvroType, doc: string): AvroField {
  return { name, type: { type: 'array', items }, doc, default: [] };
}

export function stringMap(name: string, values: AvroType, doc: string, withDefault = true): AvroField {
  return withDefault
    ? { name, type: { type: 'map', values }, doc, default: {} }
    : { name, type: { type: 'map', values }, doc };
}

export const timestampMillis = { type: 'long', logicalType: 'timestamp-millis' } as const;
export const uuid = { type: 'string', logicalType: 'uuid' } as const;

/** The schema as Avro JSON with every named type defined once, in the given namespace. */
export function selfContained(root: AvroRecord, namespace: string): AvroRecord {
  const defined = new Map<string, AvroRecord>();
  const render = (type: AvroType): AvroType => {
    if (typeof type === 'string') return type;
    if (Array.isArray(type)) return type.map(render);
    if (type.type === 'array') return { type: 'array', items: render(type.items) };
    if (type.type === 'map') return { type: 'map', values: render(type.values) };
    if (type.type !== 'record') return { ...type };
    const earlier = defined.get(type.name);
    if (earlier === type) return type.name;
    if (earlier) throw new Error(`two different Avro records are both named ${type.name} in ${root.name}`);
    defined.set(type.name, type);
    return {
      type: 'record',
      name: type.name,
      doc: type.doc,
      fields: type.fields.map((f) => ({
        name: f.name,
        type: render(f.type),
        ...(f.default === undefined ? {} : { default: f.default }),
        doc: f.doc,
      })),
    };
  };
  const rendered = render(root) as AvroRecord;
  return { type: 'record', name: rendered.name, namespace, doc: rendered.doc, fields: rendered.fields };
}
