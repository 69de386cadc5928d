/**
 * Writes tiny ONNX models for tests: a graph whose output is a constant tensor, with custom metadata_props.
 * Enough to exercise a detector's decoding and the metadata reader without shipping model files.
 */
export interface ConstantModelSpec {
  input: { name: string; shape: readonly number[] };
  output: { name: string; shape: readonly number[]; values: Float32Array };
  metadata?: Record<string, string>;
  producerName?: string;
}

const FLOAT = 1;
const ATTRIBUTE_TENSOR = 4;

export function buildConstantModel(spec: ConstantModelSpec): Uint8Array {
  const tensor = message([
    ...spec.output.shape.map((dim) => varintField(1, dim)),
    varintField(2, FLOAT),
    bytesField(
      9,
      new Uint8Array(spec.output.values.buffer, spec.output.values.byteOffset, spec.output.values.byteLength),
    ),
  ]);
  const attribute = message([stringField(1, 'value'), bytesField(5, tensor), varintField(20, ATTRIBUTE_TENSOR)]);
  const node = message([
    stringField(2, spec.output.name),
    stringField(3, 'constant'),
    stringField(4, 'Constant'),
    bytesField(5, attribute),
  ]);
  const graph = message([
    bytesField(1, node),
    stringField(2, 'test-graph'),
    bytesField(11, valueInfo(spec.input.name, spec.input.shape)),
    bytesField(12, valueInfo(spec.output.name, spec.output.shape)),
  ]);
  const opset = message([stringField(1, ''), varintField(2, 13)]);
  const props = Object.entries(spec.metadata ?? {}).map(([key, value]) =>
    bytesField(14, message([stringField(1, key), stringField(2, value)])),
  );
  return message([
    varintField(1, 8),
    stringField(2, spec.producerName ?? 'imgpipe-test'),
    bytesField(7, graph),
    bytesField(8, opset),
    ...props,
  ]);
}

function valueInfo(name: string, shape: readonly number[]): Uint8Array {
  const dims = shape.map((dim) => bytesField(1, message([varintField(1, dim)])));
  const tensorType = message([varintField(1, FLOAT), bytesField(2, message(dims))]);
  return message([stringField(1, name), bytesField(2, message([bytesField(1, tensorType)]))]);
}

function varint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return out;
}

function varintField(number: number, value: number): Uint8Array {
  return Uint8Array.from([...varint(number * 8), ...varint(value)]);
}

function bytesField(number: number, payload: Uint8Array): Uint8Array {
  return message([Uint8Array.from([...varint(number * 8 + 2), ...varint(payload.length)]), payload]);
}

function stringField(number: number, text: string): Uint8Array {
  return bytesField(number, new TextEncoder().encode(text));
}

function message(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
