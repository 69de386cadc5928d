/**
 * The few protobuf wire-format pieces imgpipe needs to read and rewrite ONNX files (onnx-metadata.ts,
 * onnx-graph.ts): a field walker over a byte range and a writer. Unknown fields are kept as bytes by the callers,
 * so nothing this module does not understand is lost.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

export interface Field {
  number: number;
  wireType: number;
  /** Where the field begins (its tag) and ends: its whole encoding is bytes.subarray(tagStart, end). */
  tagStart: number;
  /** Payload range for length-delimited and fixed-width fields; for a varint, value holds it. */
  start: number;
  end: number;
  /** A varint's value (exact up to 2^53; negative int64s read as large numbers). */
  value: number;
}

export function* fields(bytes: Uint8Array, from = 0, to = bytes.length): Generator<Field> {
  let offset = from;
  while (offset < to) {
    const tagStart = offset;
    const [tag, afterTag] = readVarint(bytes, offset, to);
    const number = Math.floor(tag / 8);
    const wireType = tag % 8;
    offset = afterTag;
    if (wireType === WIRE_VARINT) {
      const [value, next] = readVarint(bytes, offset, to);
      yield { number, wireType, tagStart, start: offset, end: next, value };
      offset = next;
    } else if (wireType === WIRE_FIXED64 || wireType === WIRE_FIXED32) {
      const end = offset + (wireType === WIRE_FIXED64 ? 8 : 4);
      if (end > to) throw new Error('protobuf: fixed-width field runs past the end');
      yield { number, wireType, tagStart, start: offset, end, value: 0 };
      offset = end;
    } else if (wireType === WIRE_LENGTH_DELIMITED) {
      const [length, start] = readVarint(bytes, offset, to);
      const end = start + length;
      if (end > to) throw new Error('protobuf: length-delimited field runs past the end');
      yield { number, wireType, tagStart, start, end, value: length };
      offset = end;
    } else {
      throw new Error(`protobuf: unsupported wire type ${wireType}`);
    }
  }
}

/** A varint as a JS number (exact up to 2^53, far above any length, tag or dimension here). */
export function readVarint(bytes: Uint8Array, offset: number, to: number): [value: number, next: number] {
  let value = 0;
  let multiplier = 1;
  for (let i = offset; i < to && i < offset + 10; i++) {
    const byte = bytes[i]!;
    value += (byte & 0x7f) * multiplier;
    if (byte < 0x80) return [value, i + 1];
    multiplier *= 128;
  }
  throw new Error('protobuf: truncated varint');
}

/** Appends fields; `finish` joins them. Only non-negative varints are written (all that ONNX rewriting needs). */
export class ProtoWriter {
  readonly #parts: Uint8Array[] = [];

  varint(number: number, value: number): this {
    return this.#push(tagAndVarints(number * 8 + WIRE_VARINT, value));
  }

  bytes(number: number, value: Uint8Array): this {
    this.#push(tagAndVarints(number * 8 + WIRE_LENGTH_DELIMITED, value.length));
    return this.#push(value);
  }

  string(number: number, value: string): this {
    return this.bytes(number, new TextEncoder().encode(value));
  }

  float(number: number, value: number): this {
    const payload = new Uint8Array(4);
    new DataView(payload.buffer).setFloat32(0, value, true);
    this.#push(tagAndVarints(number * 8 + WIRE_FIXED32));
    return this.#push(payload);
  }

  /** A nested message, its parts taken over without a copy (the writer must not be used afterwards). */
  message(number: number, inner: ProtoWriter): this {
    this.#push(tagAndVarints(number * 8 + WIRE_LENGTH_DELIMITED, inner.length));
    for (const part of inner.#parts) this.#push(part);
    return this;
  }

  get length(): number {
    return this.#parts.reduce((sum, part) => sum + part.length, 0);
  }

  /** Bytes already encoded as whole fields (copied through unchanged). */
  raw(encoded: Uint8Array): this {
    return this.#push(encoded);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const part of this.#parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  #push(part: Uint8Array): this {
    this.#parts.push(part);
    return this;
  }
}

function tagAndVarints(...values: number[]): Uint8Array {
  const out: number[] = [];
  for (let value of values) {
    if (value < 0 || !Number.isSafeInteger(value)) throw new Error(`protobuf: cannot write varint ${value}`);
    while (value >= 0x80) {
      out.push((value % 0x80) | 0x80);
      value = Math.floor(value / 0x80);
    }
    out.push(value);
  }
  return Uint8Array.from(out);
}
