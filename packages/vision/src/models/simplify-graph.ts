/**
 * Exact rewrites of an ONNX graph that onnxruntime (1.2x) does not make itself, applied to every model as it is
 * loaded. PaddleOCR's exports (paddle2onnx) spell PP-LCNet's layers as a convolution followed by a chain of
 * whole-tensor Mul and Add by constants (its "learnable affine blocks"), and hard-swish as Add, Clip, Mul and Div:
 * onnxruntime runs each as a pass over the activations, and they took more than half of the PP-OCRv4 recogniser's
 * time (measured with onnxruntime's profiler, 1450 x 48 line, one thread).
 *
 * - A Mul, Add, Sub or Div by a scalar or per-channel constant right after a convolution (its only consumer) is
 *   folded into that convolution's weights and bias.
 * - Hard-swish spelt out (x * clip(x + 3, 0, 6) / 6) becomes HardSwish (opset 14 and later) or
 *   x * HardSigmoid(x) (alpha 1/6, beta 0.5) before that.
 * - A Mul by a scalar or per-channel constant whose consumers are all convolutions is folded into their weights;
 *   an Add is folded into their bias when they have no padding (padding would see zeros, not the added constant).
 *
 * Each is exact in real arithmetic; in float32 the outputs move by rounding only (simplify-graph.test.ts compares
 * them with the original model's). Nodes left without consumers are dropped. The model's identity (its file's
 * SHA-256) is unchanged: this is how it is run, not what it is.
 */
import {
  type ConstantTensor,
  floatAttribute,
  type OnnxGraph,
  type OnnxNode,
  readAttribute,
  readOnnxGraph,
  writeOnnxGraph,
} from './onnx-graph.ts';

export interface SimplifiedModel {
  bytes: Uint8Array;
  /** How many of each rewrite were made; all zero when the model was returned unchanged. */
  rewrites: { foldedIntoProducer: number; hardSwish: number; foldedIntoConsumer: number };
}

export function simplifyGraph(bytes: Uint8Array): SimplifiedModel {
  const graph = readOnnxGraph(bytes);
  const rewrites = { foldedIntoProducer: 0, hardSwish: 0, foldedIntoConsumer: 0 };
  const context = new RewriteContext(graph);
  for (let changed = true; changed; ) {
    changed = false;
    for (const node of [...graph.nodes]) {
      if (!context.alive(node)) continue;
      if (node.opType === 'Conv' && context.foldIntoProducer(node)) {
        rewrites.foldedIntoProducer++;
        changed = true;
      } else if (node.opType === 'Add' && context.hardSwish(node)) {
        rewrites.hardSwish++;
        changed = true;
      } else if ((node.opType === 'Mul' || node.opType === 'Add') && context.foldIntoConsumers(node)) {
        rewrites.foldedIntoConsumer++;
        changed = true;
      }
    }
  }
  if (rewrites.foldedIntoProducer + rewrites.hardSwish + rewrites.foldedIntoConsumer === 0) {
    return { bytes, rewrites };
  }
  context.dropUnused();
  return { bytes: writeOnnxGraph(graph), rewrites };
}

const AFFINE = new Set(['Mul', 'Add', 'Sub', 'Div']);

class RewriteContext {
  readonly #graph: OnnxGraph;
  readonly #removed = new Set<OnnxNode>();
  readonly #constants = new Map<string, ConstantTensor | undefined>();
  /** Producer and consumers of each value, built once and kept in step with every rewrite. */
  #index: { producers: Map<string, OnnxNode>; consumers: Map<string, OnnxNode[]> } | undefined;
  #serial = 0;

  constructor(graph: OnnxGraph) {
    this.#graph = graph;
  }

  alive(node: OnnxNode): boolean {
    return !this.#removed.has(node);
  }

  /** Conv followed by an affine op on its output (its only consumer): the op goes into W and B. */
  foldIntoProducer(conv: OnnxNode): boolean {
    const output = conv.outputs[0]!;
    const next = this.#soleConsumer(output);
    if (!next || !AFFINE.has(next.opType) || next.inputs.length !== 2) return false;
    const weights = this.#convWeights(conv);
    if (!weights) return false;
    const operandIndex = next.inputs[0] === output ? 1 : 0;
    if (operandIndex === 0 && (next.opType === 'Sub' || next.opType === 'Div')) return false;
    const operand = this.#channelValues(next.inputs[operandIndex]!, weights.outChannels);
    if (!operand) return false;
    if (next.opType === 'Div' && operand.includes(0)) return false;
    const { w, b } = writable(weights);
    const { perOutput } = weights;
    for (let o = 0; o < weights.outChannels; o++) {
      const c = operand[o]!;
      if (next.opType === 'Add') b[o]! += c;
      else if (next.opType === 'Sub') b[o]! -= c;
      else {
        const factor = next.opType === 'Mul' ? c : 1 / c;
        b[o]! *= factor;
        for (let i = o * perOutput; i < (o + 1) * perOutput; i++) w[i]! *= factor;
      }
    }
    this.#remove(next);
    this.#update(conv, () => {
      this.#setConvWeights(conv, weights);
      conv.outputs[0] = next.outputs[0]!;
    });
    return true;
  }

  /** Add(x, 3) -> Clip(0, 6) -> Mul(x, .) -> Div(., 6) (or Mul by 1/6): hard-swish in one or two nodes. */
  hardSwish(add: OnnxNode): boolean {
    const threeAt = add.inputs.findIndex((input) => this.#scalar(input) === 3);
    if (threeAt < 0 || add.inputs.length !== 2) return false;
    const x = add.inputs[1 - threeAt]!;
    const clip = this.#soleConsumer(add.outputs[0]!);
    if (clip?.opType !== 'Clip' || clip.inputs[0] !== add.outputs[0]) return false;
    const low = clip.inputs[1] ? this.#scalar(clip.inputs[1]) : readAttribute(clip, 'min');
    const high = clip.inputs[2] ? this.#scalar(clip.inputs[2]) : readAttribute(clip, 'max');
    if (low !== 0 || high !== 6) return false;
    const product = this.#soleConsumer(clip.outputs[0]!);
    if (product?.opType !== 'Mul' || !product.inputs.includes(x)) return false;
    const scale = this.#soleConsumer(product.outputs[0]!);
    if (!scale || scale.inputs[0] !== product.outputs[0]) return false;
    const divisor = this.#scalar(scale.inputs[1]!);
    const isSixth =
      (scale.opType === 'Div' && divisor === 6) ||
      (scale.opType === 'Mul' && divisor !== undefined && Math.abs(divisor * 6 - 1) < 1e-7);
    if (!isSixth) return false;
    const output = scale.outputs[0]!;
    const replacement: OnnxNode[] =
      this.#graph.opset >= 14
        ? [this.#node('HardSwish', [x], [output])]
        : [
            this.#node('HardSigmoid', [x], [`${output}/hard_sigmoid`], {
              alpha: floatAttribute('alpha', 1 / 6),
              beta: floatAttribute('beta', 0.5),
            }),
            this.#node('Mul', [x, `${output}/hard_sigmoid`], [output]),
          ];
    for (const node of [add, clip, product, scale]) this.#remove(node);
    this.#graph.nodes.splice(this.#graph.nodes.indexOf(scale), 0, ...replacement);
    for (const node of replacement) this.#attach(node);
    return true;
  }

  /** Mul (or, before unpadded convolutions, Add) by a constant whose consumers are all convolutions. */
  foldIntoConsumers(node: OnnxNode): boolean {
    if (node.inputs.length !== 2) return false;
    const constantAt = node.inputs.findIndex((input) => this.#constant(input) !== undefined);
    if (constantAt < 0 || this.#constant(node.inputs[1 - constantAt]!) !== undefined) return false;
    const output = node.outputs[0]!;
    if (this.#graph.outputs.has(output)) return false;
    const consumers = this.#consumers(output);
    if (consumers.length === 0) return false;
    const plans: { conv: OnnxNode; weights: ConvWeights; operand: Float32Array }[] = [];
    for (const conv of consumers) {
      if (conv.opType !== 'Conv' || conv.inputs[0] !== output || conv.inputs.slice(1).includes(output)) return false;
      const weights = this.#convWeights(conv);
      if (!weights) return false;
      if (node.opType === 'Add' && !unpadded(conv)) return false;
      const operand = this.#channelValues(node.inputs[constantAt]!, weights.inChannels);
      if (!operand) return false;
      plans.push({ conv, weights, operand });
    }
    for (const { conv, weights, operand } of plans) {
      const { w, b } = writable(weights);
      const { perOutput, kernel, outChannels } = weights;
      const perGroupIn = perOutput / kernel;
      const outPerGroup = outChannels / (weights.inChannels / perGroupIn);
      for (let o = 0; o < outChannels; o++) {
        const firstIn = Math.floor(o / outPerGroup) * perGroupIn;
        for (let j = 0; j < perGroupIn; j++) {
          const c = operand[firstIn + j]!;
          const from = o * perOutput + j * kernel;
          for (let k = from; k < from + kernel; k++) {
            if (node.opType === 'Mul') w[k]! *= c;
            else b[o]! += w[k]! * c;
          }
        }
      }
      this.#update(conv, () => {
        this.#setConvWeights(conv, weights);
        conv.inputs[0] = node.inputs[1 - constantAt]!;
      });
    }
    this.#remove(node);
    return true;
  }

  /** Removes nodes none of whose outputs is used (constants the folds replaced, and what only they fed). */
  dropUnused(): void {
    const graph = this.#graph;
    for (let dropped = true; dropped; ) {
      dropped = false;
      const used = new Set<string>(graph.outputs);
      for (const node of graph.nodes) if (this.alive(node)) for (const input of node.inputs) used.add(input);
      for (const node of graph.nodes) {
        if (this.alive(node) && node.outputs.every((output) => !used.has(output))) {
          this.#removed.add(node);
          dropped = true;
        }
      }
    }
    graph.nodes = graph.nodes.filter((node) => this.alive(node));
    const used = new Set(graph.nodes.flatMap((node) => node.inputs));
    for (const name of graph.added.keys()) if (!used.has(name)) graph.added.delete(name);
  }

  #remove(node: OnnxNode): void {
    this.#detach(node);
    this.#removed.add(node);
  }

  /** Changes a node's inputs or outputs with the indexes kept in step. */
  #update(node: OnnxNode, change: () => void): void {
    this.#detach(node);
    change();
    node.encoded = undefined;
    this.#attach(node);
  }

  #attach(node: OnnxNode): void {
    const { producers, consumers } = this.#indexes();
    for (const output of node.outputs) producers.set(output, node);
    for (const input of new Set(node.inputs)) {
      const list = consumers.get(input);
      if (list) list.push(node);
      else consumers.set(input, [node]);
    }
  }

  #detach(node: OnnxNode): void {
    const { producers, consumers } = this.#indexes();
    for (const output of node.outputs) if (producers.get(output) === node) producers.delete(output);
    for (const input of new Set(node.inputs)) {
      const list = consumers.get(input)?.filter((consumer) => consumer !== node);
      if (list?.length) consumers.set(input, list);
      else consumers.delete(input);
    }
  }

  #indexes(): { producers: Map<string, OnnxNode>; consumers: Map<string, OnnxNode[]> } {
    if (!this.#index) {
      this.#index = { producers: new Map(), consumers: new Map() };
      for (const node of this.#graph.nodes) if (this.alive(node)) this.#attach(node);
    }
    return this.#index;
  }

  #node(opType: string, inputs: string[], outputs: string[], attributes: Record<string, Uint8Array> = {}): OnnxNode {
    const name = `imgpipe/${opType}/${this.#serial++}`;
    return { opType, inputs, outputs, domain: '', name, attributes: new Map(Object.entries(attributes)) };
  }

  #consumers(value: string): OnnxNode[] {
    return this.#indexes().consumers.get(value) ?? [];
  }

  #soleConsumer(value: string): OnnxNode | undefined {
    if (this.#graph.outputs.has(value)) return undefined;
    const consumers = this.#consumers(value);
    return consumers.length === 1 ? consumers[0] : undefined;
  }

  /** A value computed from constants alone: an initializer, a Constant node, or a Reshape/Unsqueeze of one. */
  #constant(value: string): ConstantTensor | undefined {
    const initializer = this.#graph.initializers.get(value) ?? this.#graph.added.get(value);
    if (initializer) return initializer;
    // Values are never renamed to a constant, so what is known stays true as the graph is rewritten.
    if (this.#constants.has(value)) return this.#constants.get(value);
    const tensor = this.#evaluate(value);
    this.#constants.set(value, tensor);
    return tensor;
  }

  #evaluate(value: string): ConstantTensor | undefined {
    const producer = this.#indexes().producers.get(value);
    if (!producer) return undefined;
    if (producer.opType === 'Constant') {
      const tensor = readAttribute(producer, 'value');
      return tensor && !Array.isArray(tensor) && typeof tensor === 'object' ? tensor : undefined;
    }
    if (producer.opType === 'Reshape' || producer.opType === 'Unsqueeze') {
      const data = this.#constant(producer.inputs[0]!);
      // The values keep their order; only how they broadcast matters here, and channelValues checks that by size
      // and by the shape the reshape asks for when it is a constant.
      if (!data) return undefined;
      const shape = producer.opType === 'Reshape' ? this.#constant(producer.inputs[1]!) : undefined;
      const dims = shape ? (shape.values as number[]).map((d, i) => (d === 0 ? (data.dims[i] ?? 1) : d)) : undefined;
      if (dims?.includes(-1)) {
        const known = dims.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
        dims[dims.indexOf(-1)] = data.values.length / known;
      }
      return { ...data, dims: dims ?? [data.values.length] };
    }
    return undefined;
  }

  #scalar(value: string): number | undefined {
    const tensor = this.#constant(value);
    return tensor && tensor.values.length === 1 ? Number(tensor.values[0]) : undefined;
  }

  /**
   * The constant as one value per channel of an NCHW tensor with `channels` channels: a scalar repeated, or a
   * tensor shaped [C, 1, 1] / [1, C, 1, 1]. Anything else (it would broadcast along other axes) is undefined.
   */
  #channelValues(value: string, channels: number): Float32Array | undefined {
    const tensor = this.#constant(value);
    if (tensor?.type !== 'float32') return undefined;
    const values = tensor.values as Float32Array;
    if (values.length === 1) return new Float32Array(channels).fill(values[0]!);
    const dims = [...tensor.dims];
    while (dims.length > 0 && dims[0] === 1 && dims.length > 3) dims.shift();
    if (values.length === channels && dims.length === 3 && dims[0] === channels && dims[1] === 1 && dims[2] === 1) {
      return values;
    }
    return undefined;
  }

  #convWeights(conv: OnnxNode): ConvWeights | undefined {
    if (conv.domain !== '' || conv.inputs.length < 2) return undefined;
    const w = this.#constant(conv.inputs[1]!);
    if (w?.type !== 'float32' || w.dims.length !== 4) return undefined;
    const [outChannels, perGroupIn, kh, kw] = w.dims as [number, number, number, number];
    const group = readAttribute(conv, 'group');
    const groups = typeof group === 'number' ? group : 1;
    const bias = conv.inputs[2] ? this.#constant(conv.inputs[2]) : undefined;
    if (conv.inputs[2] && (bias?.type !== 'float32' || bias.values.length !== outChannels)) return undefined;
    return {
      w: w.values as Float32Array,
      b: bias ? (bias.values as Float32Array) : new Float32Array(outChannels),
      dims: w.dims,
      outChannels,
      inChannels: perGroupIn * groups,
      kernel: kh * kw,
      perOutput: perGroupIn * kh * kw,
    };
  }

  #setConvWeights(conv: OnnxNode, weights: ConvWeights): void {
    const base = `imgpipe/folded/${this.#serial++}`;
    this.#graph.added.set(`${base}/W`, { dims: weights.dims, type: 'float32', values: weights.w });
    this.#graph.added.set(`${base}/B`, { dims: [weights.outChannels], type: 'float32', values: weights.b });
    conv.inputs[1] = `${base}/W`;
    conv.inputs[2] = `${base}/B`;
  }
}

/** A convolution's weights and bias as the graph holds them: read-only until `writable` copies them. */
interface ConvWeights {
  w: Float32Array;
  b: Float32Array;
  dims: number[];
  outChannels: number;
  inChannels: number;
  kernel: number;
  perOutput: number;
}

/** The weights copied for a fold to change (the graph's own may be shared with other nodes). */
function writable(weights: ConvWeights): ConvWeights {
  weights.w = Float32Array.from(weights.w);
  weights.b = Float32Array.from(weights.b);
  return weights;
}

function unpadded(conv: OnnxNode): boolean {
  const pads = readAttribute(conv, 'pads');
  const autoPad = conv.attributes.has('auto_pad');
  return !autoPad && (pads === undefined || (Array.isArray(pads) && pads.every((p) => p === 0)));
}
