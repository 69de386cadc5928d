/**
 * Reads the top-level fields of an ONNX ModelProto that onnxruntime-node (1.30) does not expose: producer and the
 * custom `metadata_props` map, where Ultralytics exports keep their class names (`names`), `imgsz`, `task`, ...
 * A minimal protobuf walk: the graph (field 7) is skipped by its length, never parsed.
 */
import { fields, WIRE_LENGTH_DELIMITED } from './protobuf.ts';

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
