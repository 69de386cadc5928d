/**
 * An ONNX model's graph as nodes that can be rewritten, and back to bytes. Only what graph rewriting needs is
 * decoded (a node's inputs, outputs, op type and the attributes asked for; float and int64 tensors); every other
 * field of the model, the graph and each untouched node is written back byte for byte.
 */
import { type Field, fields, ProtoWriter, readVarint, WIRE_FIXED32, WIRE_LENGTH_DELIMITED } from './protobuf.ts';

const MODEL_OPSET_IMPORT = 8;
const MODEL_GRAPH = 7;
const OPSET_DOMAIN = 1;
const OPSET_VERSION = 2;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_OUTPUT = 12;
const VALUE_INFO_NAME = 1;
const NODE_INPUT = 1;
const NODE_OUTPUT = 2;
const NODE_NAME = 3;
const NODE_OP_TYPE = 4;
const NODE_ATTRIBUTE = 5;
const NODE_DOMAIN = 7;
const ATTRIBUTE_NAME = 1;
const ATTRIBUTE_FLOAT = 2;
const ATTRIBUTE_INT = 3;
const ATTRIBUTE_TENSOR = 5;
const ATTRIBUTE_INTS = 8;
const ATTRIBUTE_TYPE = 20;
const ATTRIBUTE_TYPE_FLOAT = 1;
const TENSOR_DIMS = 1;
const TENSOR_DATA_TYPE = 2;
const TENSOR_FLOAT_DATA = 4;
const TENSOR_INT64_DATA = 7;
const TENSOR_NAME = 8;
const TENSOR_RAW_DATA = 9;
const FLOAT = 1;
const INT64 = 7;

const utf8 = new TextDecoder();

/** A constant tensor: float32 or int64 (as numbers), row-major. */
export interface ConstantTensor {
  dims: number[];
  type: 'float32' | 'int64';
  values: Float32Array | number[];
}

export interface OnnxNode {
  inputs: string[];
  outputs: string[];
  opType: string;
  domain: string;
  /** The node's attributes as encoded (AttributeProto bytes), by name. */
  attributes: Map<string, Uint8Array>;
  /** The node's bytes as read, written back as they are; a rewrite that changes the node clears them. */
  encoded?: Uint8Array;
  name: string;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  /** Initializers by name (decoded when float32 or int64; others are kept only as bytes). */
  initializers: Map<string, ConstantTensor>;
  /** Names of the graph's outputs: values no rewrite may remove. */
  outputs: Set<string>;
  /** The default domain's opset version. */
  opset: number;
  /** Initializers added by a rewrite, written after the graph's own. */
  added: Map<string, ConstantTensor>;
}

interface ParsedModel {
  bytes: Uint8Array;
  graphField: Field;
  graphFields: Field[];
}

const parsed = new WeakMap<OnnxGraph, ParsedModel>();

export function readOnnxGraph(bytes: Uint8Array): OnnxGraph {
  let graphField: Field | undefined;
  let opset = 1;
  for (const field of fields(bytes)) {
    if (field.number === MODEL_GRAPH && field.wireType === WIRE_LENGTH_DELIMITED) graphField = field;
    else if (field.number === MODEL_OPSET_IMPORT && field.wireType === WIRE_LENGTH_DELIMITED) {
      let domain = '';
      let version = 0;
      for (const entry of fields(bytes, field.start, field.end)) {
        if (entry.number === OPSET_DOMAIN) domain = utf8.decode(bytes.subarray(entry.start, entry.end));
        else if (entry.number === OPSET_VERSION) version = entry.value;
      }
      if (domain === '' || domain === 'ai.onnx') opset = version;
    }
  }
  if (!graphField) throw new Error('ONNX model without a graph');
  const graphFields = [...fields(bytes, graphField.start, graphField.end)];
  const graph: OnnxGraph = { nodes: [], initializers: new Map(), outputs: new Set(), opset, added: new Map() };
  for (const field of graphFields) {
    if (field.wireType !== WIRE_LENGTH_DELIMITED) continue;
    const payload = bytes.subarray(field.start, field.end);
    if (field.number === GRAPH_NODE) graph.nodes.push(readNode(payload));
    else if (field.number === GRAPH_INITIALIZER) {
      const tensor = readTensor(payload);
      if (tensor) graph.initializers.set(tensor.name, tensor.tensor);
    } else if (field.number === GRAPH_OUTPUT) {
      for (const entry of fields(payload)) {
        if (entry.number === VALUE_INFO_NAME) graph.outputs.add(utf8.decode(payload.subarray(entry.start, entry.end)));
      }
    }
  }
  parsed.set(graph, { bytes, graphField, graphFields });
  return graph;
}

/** The model with this graph's nodes and added initializers in place of the ones it was read with. */
export function writeOnnxGraph(graph: OnnxGraph): Uint8Array {
  const source = parsed.get(graph);
  if (!source) throw new Error('writeOnnxGraph takes a graph from readOnnxGraph');
  const { bytes, graphField, graphFields } = source;
  const graphWriter = new ProtoWriter();
  let nodesWritten = false;
  for (const field of graphFields) {
    if (field.number === GRAPH_NODE) {
      if (nodesWritten) continue;
      nodesWritten = true;
      for (const node of graph.nodes) graphWriter.bytes(GRAPH_NODE, node.encoded ?? encodeNode(node));
    } else {
      graphWriter.raw(bytes.subarray(field.tagStart, field.end));
    }
  }
  for (const [name, tensor] of graph.added) graphWriter.bytes(GRAPH_INITIALIZER, encodeTensor(name, tensor));
  const model = new ProtoWriter();
  for (const field of fields(bytes)) {
    if (field.tagStart === graphField.tagStart) model.message(MODEL_GRAPH, graphWriter);
    else model.raw(bytes.subarray(field.tagStart, field.end));
  }
  return model.finish();
}

function readNode(payload: Uint8Array): OnnxNode {
  const node: OnnxNode = {
    inputs: [],
    outputs: [],
    opType: '',
    domain: '',
    name: '',
    attributes: new Map(),
    encoded: payload,
  };
  for (const field of fields(payload)) {
    if (field.wireType !== WIRE_LENGTH_DELIMITED) continue;
    const value = payload.subarray(field.start, field.end);
    if (field.number === NODE_INPUT) node.inputs.push(utf8.decode(value));
    else if (field.number === NODE_OUTPUT) node.outputs.push(utf8.decode(value));
    else if (field.number === NODE_NAME) node.name = utf8.decode(value);
    else if (field.number === NODE_OP_TYPE) node.opType = utf8.decode(value);
    else if (field.number === NODE_DOMAIN) node.domain = utf8.decode(value);
    else if (field.number === NODE_ATTRIBUTE) {
      for (const entry of fields(value)) {
        if (entry.number === ATTRIBUTE_NAME) {
          node.attributes.set(utf8.decode(value.subarray(entry.start, entry.end)), value);
          break;
        }
      }
    }
  }
  return node;
}

function encodeNode(node: OnnxNode): Uint8Array {
  const writer = new ProtoWriter();
  for (const input of node.inputs) writer.string(NODE_INPUT, input);
  for (const output of node.outputs) writer.string(NODE_OUTPUT, output);
  if (node.name) writer.string(NODE_NAME, node.name);
  writer.string(NODE_OP_TYPE, node.opType);
  for (const attribute of node.attributes.values()) writer.bytes(NODE_ATTRIBUTE, attribute);
  if (node.domain) writer.string(NODE_DOMAIN, node.domain);
  return writer.finish();
}

/** A float attribute (AttributeProto) to put in a node's `attributes`. */
export function floatAttribute(name: string, value: number): Uint8Array {
  return new ProtoWriter()
    .string(ATTRIBUTE_NAME, name)
    .float(ATTRIBUTE_FLOAT, value)
    .varint(ATTRIBUTE_TYPE, ATTRIBUTE_TYPE_FLOAT)
    .finish();
}

/** A node's float attribute (`f`), int attribute (`i`), ints (`ints`) or tensor (`t`); undefined when absent. */
export function readAttribute(node: OnnxNode, name: string): number | number[] | ConstantTensor | undefined {
  const encoded = node.attributes.get(name);
  if (!encoded) return undefined;
  const ints: number[] = [];
  for (const field of fields(encoded)) {
    if (field.number === ATTRIBUTE_FLOAT && field.wireType === WIRE_FIXED32) {
      return new DataView(encoded.buffer, encoded.byteOffset + field.start, 4).getFloat32(0, true);
    }
    if (field.number === ATTRIBUTE_INT) return signedInt64(encoded, field);
    if (field.number === ATTRIBUTE_TENSOR) return readTensor(encoded.subarray(field.start, field.end))?.tensor;
    if (field.number === ATTRIBUTE_INTS) {
      if (field.wireType === WIRE_LENGTH_DELIMITED) ints.push(...packedInt64(encoded, field.start, field.end));
      else ints.push(signedInt64(encoded, field));
    }
  }
  return ints.length > 0 ? ints : undefined;
}

function readTensor(payload: Uint8Array): { name: string; tensor: ConstantTensor } | undefined {
  const dims: number[] = [];
  let type = 0;
  let name = '';
  let raw: Uint8Array | undefined;
  const floats: number[] = [];
  const int64s: number[] = [];
  for (const field of fields(payload)) {
    if (field.number === TENSOR_DIMS) {
      if (field.wireType === WIRE_LENGTH_DELIMITED) dims.push(...packedInt64(payload, field.start, field.end));
      else dims.push(field.value);
    } else if (field.number === TENSOR_DATA_TYPE) type = field.value;
    else if (field.number === TENSOR_NAME) name = utf8.decode(payload.subarray(field.start, field.end));
    else if (field.number === TENSOR_RAW_DATA) raw = payload.subarray(field.start, field.end);
    else if (field.number === TENSOR_FLOAT_DATA) {
      const view = new DataView(payload.buffer, payload.byteOffset);
      for (let offset = field.start; offset < field.end; offset += 4) floats.push(view.getFloat32(offset, true));
    } else if (field.number === TENSOR_INT64_DATA) {
      if (field.wireType === WIRE_LENGTH_DELIMITED) int64s.push(...packedInt64(payload, field.start, field.end));
      else int64s.push(signedInt64(payload, field));
    }
  }
  const size = dims.reduce((product, dim) => product * dim, 1);
  if (type === FLOAT) {
    const values = raw ? float32FromLittleEndian(raw) : Float32Array.from(floats);
    return values.length === size ? { name, tensor: { dims, type: 'float32', values } } : undefined;
  }
  if (type === INT64) {
    let values = int64s;
    if (raw) {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
      values = Array.from({ length: raw.length / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
    }
    return values.length === size ? { name, tensor: { dims, type: 'int64', values } } : undefined;
  }
  return undefined;
}

function encodeTensor(name: string, tensor: ConstantTensor): Uint8Array {
  const writer = new ProtoWriter();
  for (const dim of tensor.dims) writer.varint(TENSOR_DIMS, dim);
  if (tensor.type !== 'float32') throw new Error('only float32 tensors are written');
  const raw = littleEndianBytes(tensor.values as Float32Array);
  return writer.varint(TENSOR_DATA_TYPE, FLOAT).string(TENSOR_NAME, name).bytes(TENSOR_RAW_DATA, raw).finish();
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** ONNX's raw_data is little-endian: on such a machine (every one Node supports) it is a plain copy. */
function float32FromLittleEndian(raw: Uint8Array): Float32Array {
  if (LITTLE_ENDIAN) return new Float32Array(raw.slice().buffer);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
  return Float32Array.from({ length: raw.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

function littleEndianBytes(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  values.forEach((value, i) => {
    view.setFloat32(i * 4, value, true);
  });
  return raw;
}

function packedInt64(bytes: Uint8Array, start: number, end: number): number[] {
  const values: number[] = [];
  for (let offset = start; offset < end; ) {
    const from = offset;
    const [value, next] = readVarint(bytes, offset, end);
    values.push(next - from === 10 ? value - 2 ** 64 : value);
    offset = next;
  }
  return values;
}

/** An int64 varint field's value, negative ones (ten bytes on the wire) included. */
function signedInt64(_bytes: Uint8Array, field: Field): number {
  return field.end - field.start === 10 ? field.value - 2 ** 64 : field.value;
}
