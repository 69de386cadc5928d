/**
 * Reads the top-level fields of an ONNX ModelProto that onnxruntime-node (1.30) does not expose: producer and the
 * custom `metadata_props` map, where Ultralytics exports keep their class names (`names`), `imgsz`, `task`, ...
 * A minimal protobuf walk: the graph (field 7) is skipped by its length, never parsed.
 */
export interface OnnxModelMetadata {
  producerName?: string;
  producerVersion?: string;
  /** metadata_props as a map (later duplicates win). */
  props: Record<string, string>;
}

const MODEL_PRODUCER_NAME = 2;
const MODEL_PRODUCER_VERSION = 3;
const MODEL_METADATA_PROPS = 14;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextDecoder('utf-8', { fatal: false });

export function readOnnxMetadata(bytes: Uint8Array): OnnxModelMetadata {
  const result: OnnxModelMetadata = { props: {} };
  for (const field of fields(bytes, 0, bytes.length)) {
    if (field.wireType !== WIRE_LENGTH_DELIMITED) continue;
    const value = bytes.subarray(field.start, field.end);
    if (field.number === MODEL_PRODUCER_NAME) result.producerName = utf8.decode(value);
    else if (field.number === MODEL_PRODUCER_VERSION) result.producerVersion = utf8.decode(value);
    else if (field.number === MODEL_METADATA_PROPS) {
      let key = '';
      let text = '';
      for (const entry of fields(value, 0, value.length)) {
        if (entry.wireType !== WIRE_LENGTH_DELIMITED) continue;
        const decoded = utf8.decode(value.subarray(entry.start, entry.end));
        if (entry.number === ENTRY_KEY) key = decoded;
        else if (entry.number === ENTRY_VALUE) text = decoded;
      }
      if (key) result.props[key] = text;
    }
  }
  return result;
}

interface Field {
  number: number;
  wireType: number;
  /** Payload range for length-delimited fields; empty otherwise. */
  start: number;
  end: number;
}

function* fields(bytes: Uint8Array, from: number, to: number): Generator<Field> {
  let offset = from;
  while (offset < to) {
    const [tag, afterTag] = readVarint(bytes, offset, to);
    const number = Math.floor(tag / 8);
    const wireType = tag % 8;
    offset = afterTag;
    if (wireType === WIRE_VARINT) {
      offset = readVarint(bytes, offset, to)[1];
      yield { number, wireType, start: offset, end: offset };
    } else if (wireType === WIRE_FIXED64 || wireType === WIRE_FIXED32) {
      offset += wireType === WIRE_FIXED64 ? 8 : 4;
      if (offset > to) throw new Error('ONNX protobuf: fixed-width field runs past the end');
      yield { number, wireType, start: offset, end: offset };
    } else if (wireType === WIRE_LENGTH_DELIMITED) {
      const [length, start] = readVarint(bytes, offset, to);
      const end = start + length;
      if (end > to) throw new Error('ONNX protobuf: length-delimited field runs past the end');
      offset = end;
      yield { number, wireType, start, end };
    } else {
      throw new Error(`ONNX protobuf: unsupported wire type ${wireType}`);
    }
  }
}

/** A varint as a JS number (exact up to 2^53, far above any length or tag here). */
function readVarint(bytes: Uint8Array, offset: number, to: number): [value: number, next: number] {
  let value = 0;
  let multiplier = 1;
  for (let i = offset; i < to && i < offset + 10; i++) {
    const byte = bytes[i]!;
    value += (byte & 0x7f) * multiplier;
    if (byte < 0x80) return [value, i + 1];
    multiplier *= 128;
  }
  throw new Error('ONNX protobuf: truncated varint');
}
