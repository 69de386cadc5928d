/**
 * The separable Gaussian blur of gaussian-blur.ts (blurPlane) in WebAssembly SIMD, bit for bit: the same float64
 * operations in the same order on two pixels per f64x2 lane pair (WebAssembly arithmetic is IEEE round-to-nearest
 * per lane and never fuses a multiply into an add, like V8's scalar code), float32 rounding where blurPlane stores
 * to a Float32Array. It runs 4 output pixels per step without bounds checks; blur-simd.test.ts compares it with
 * blurPlane on random planes and on every kernel SIFT uses.
 *
 * The planes live in the module's linear memory: a SimdPlanes holds one WebAssembly.Memory and hands out
 * Float32Array views of it (SIFT's arena), so the blur reads and writes them in place. The module is assembled
 * here from its instructions (about 400 bytes): no toolchain, no binary file in the repository.
 */
import { reflect101 } from './math.ts';

// --- a minimal assembler: only what the two functions below use ---

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  i32Load: (offset: number) => [0x28, 2, ...uleb(offset)],
  f64Load: (offset: number) => [0x2b, 3, ...uleb(offset)],
  i32Const: (value: number) => [0x41, ...sleb(value)],
  i32GeS: [0x4e],
  i32GtS: [0x4a],
  i32LeS: [0x4c],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Shl: [0x74],
  simd: (code: number, ...rest: number[]) => [0xfd, ...uleb(code), ...rest],
};
/** 2 floats at address + offset, widened to f64x2. */
const load2 = (offset: number) => [...op.simd(0x5d, 2, ...uleb(offset)), ...op.simd(0x5f)];
const f64x2Splat = op.simd(0x14);
const f64x2Add = op.simd(0xf0);
const f64x2Mul = op.simd(0xf2);
/** f64x2 -> 2 floats (round to nearest) in the low half. */
const demote = op.simd(0x5e);
/** f64x2 rounded to float32 and widened back: what storing to a Float32Array and reading it again gives. */
const roundF32 = [...demote, ...op.simd(0x5f)];
const store2 = (offset: number) => [...demote, ...op.simd(0x5b, 2, ...uleb(offset), 0)];

/**
 * hrow(row, out, width, kernel, radius): out[x] = k0 row[x + r] + sum_i k_i (row[x + r - i] + row[x + r + i]),
 * x = 0 .. width rounded up to 4 (row and out have room). Byte addresses; kernel is the float64 half kernel.
 */
function hrowBody(): number[] {
  const [row, out, width, kernel, radius] = [0, 1, 2, 3, 4];
  const [x, c, i, l, r] = [5, 6, 7, 8, 9];
  const [acc0, acc1, k] = [10, 11, 12];
  const locals = [
    [5, I32],
    [3, V128],
  ];
  const code = [
    ...op.i32Const(0),
    ...op.set(x),
    ...op.block,
    ...op.loop,
    ...[...op.get(x), ...op.get(width), ...op.i32GeS, ...op.brIf(1)],
    // c = row + (x + radius) * 4
    ...[...op.get(row), ...op.get(x), ...op.get(radius), ...op.i32Add, ...op.i32Const(2), ...op.i32Shl, ...op.i32Add],
    ...op.set(c),
    ...[...op.get(kernel), ...op.f64Load(0), ...f64x2Splat, ...op.set(k)],
    ...[...op.get(k), ...op.get(c), ...load2(0), ...f64x2Mul, ...op.set(acc0)],
    ...[...op.get(k), ...op.get(c), ...load2(8), ...f64x2Mul, ...op.set(acc1)],
    ...op.i32Const(1),
    ...op.set(i),
    ...op.block,
    ...op.loop,
    ...[...op.get(i), ...op.get(radius), ...op.i32GtS, ...op.brIf(1)],
    ...[...op.get(kernel), ...op.get(i), ...op.i32Const(3), ...op.i32Shl, ...op.i32Add, ...op.f64Load(0)],
    ...[...f64x2Splat, ...op.set(k)],
    ...[...op.get(c), ...op.get(i), ...op.i32Const(2), ...op.i32Shl, ...op.i32Sub, ...op.set(l)],
    ...[...op.get(c), ...op.get(i), ...op.i32Const(2), ...op.i32Shl, ...op.i32Add, ...op.set(r)],
    // acc += k * (row[l] + row[r])
    ...[...op.get(acc0), ...op.get(k), ...op.get(l), ...load2(0), ...op.get(r), ...load2(0), ...f64x2Add],
    ...[...f64x2Mul, ...f64x2Add, ...op.set(acc0)],
    ...[...op.get(acc1), ...op.get(k), ...op.get(l), ...load2(8), ...op.get(r), ...load2(8), ...f64x2Add],
    ...[...f64x2Mul, ...f64x2Add, ...op.set(acc1)],
    ...[...op.get(i), ...op.i32Const(1), ...op.i32Add, ...op.set(i), ...op.br(0)],
    ...op.end,
    ...op.end,
    // out[x .. x + 3] = float32(acc)
    ...[...op.get(out), ...op.get(x), ...op.i32Const(2), ...op.i32Shl, ...op.i32Add, ...op.tee(l)],
    ...[...op.get(acc0), ...store2(0), ...op.get(l), ...op.get(acc1), ...store2(8)],
    ...[...op.get(x), ...op.i32Const(4), ...op.i32Add, ...op.set(x), ...op.br(0)],
    ...op.end,
    ...op.end,
  ];
  return body(locals, code);
}

/**
 * vrow(centre, out, width, taps, groups, singles, k0): one output row of the vertical pass. centre is the source
 * row's address; taps holds 16-byte entries [address of row y - i (i32), of row y + i (i32), k_i (f64)] for i = 1..r.
 * As blurPlane: d = f32(k0 centre), then for each of `groups` groups of four taps d = f32(d + (((k1 A1 + k2 A2) +
 * k3 A3) + k4 A4)) with A = up + down, then for each of `singles` taps d = f32(d + k A).
 */
function vrowBody(): number[] {
  const [centre, out, width, taps, groups, singles, k0] = [0, 1, 2, 3, 4, 5, 6];
  const [xb, end, p, g, a, b] = [7, 8, 9, 10, 11, 12];
  const [d0, d1, t0, t1, k] = [13, 14, 15, 16, 17];
  const locals = [
    [6, I32],
    [5, V128],
  ];
  /** k * (row a + row b) at byte column xb, for the tap entry at p + entry * 16, lanes 0-1 and 2-3. */
  const tap = (entry: number, into0: number, into1: number, first: boolean) => [
    ...[...op.get(p), ...op.i32Load(entry * 16), ...op.get(xb), ...op.i32Add, ...op.set(a)],
    ...[...op.get(p), ...op.i32Load(entry * 16 + 4), ...op.get(xb), ...op.i32Add, ...op.set(b)],
    ...[...op.get(p), ...op.f64Load(entry * 16 + 8), ...f64x2Splat, ...op.set(k)],
    ...(first ? [] : op.get(into0)),
    ...[...op.get(k), ...op.get(a), ...load2(0), ...op.get(b), ...load2(0), ...f64x2Add, ...f64x2Mul],
    ...(first ? [] : f64x2Add),
    ...op.set(into0),
    ...(first ? [] : op.get(into1)),
    ...[...op.get(k), ...op.get(a), ...load2(8), ...op.get(b), ...load2(8), ...f64x2Add, ...f64x2Mul],
    ...(first ? [] : f64x2Add),
    ...op.set(into1),
  ];
  const code = [
    ...[...op.get(width), ...op.i32Const(2), ...op.i32Shl, ...op.set(end)],
    ...op.i32Const(0),
    ...op.set(xb),
    ...op.block,
    ...op.loop,
    ...[...op.get(xb), ...op.get(end), ...op.i32GeS, ...op.brIf(1)],
    ...[...op.get(k0), ...f64x2Splat, ...op.tee(k)],
    ...[...op.get(centre), ...op.get(xb), ...op.i32Add, ...op.tee(a), ...load2(0), ...f64x2Mul, ...roundF32],
    ...op.set(d0),
    ...[...op.get(k), ...op.get(a), ...load2(8), ...f64x2Mul, ...roundF32, ...op.set(d1)],
    ...[...op.get(taps), ...op.set(p), ...op.get(groups), ...op.set(g)],
    // groups of four taps
    ...op.block,
    ...op.loop,
    ...[...op.get(g), ...op.i32Const(0), ...op.i32LeS, ...op.brIf(1)],
    ...tap(0, t0, t1, true),
    ...tap(1, t0, t1, false),
    ...tap(2, t0, t1, false),
    ...tap(3, t0, t1, false),
    ...[...op.get(d0), ...op.get(t0), ...f64x2Add, ...roundF32, ...op.set(d0)],
    ...[...op.get(d1), ...op.get(t1), ...f64x2Add, ...roundF32, ...op.set(d1)],
    ...[...op.get(p), ...op.i32Const(64), ...op.i32Add, ...op.set(p)],
    ...[...op.get(g), ...op.i32Const(1), ...op.i32Sub, ...op.set(g), ...op.br(0)],
    ...op.end,
    ...op.end,
    // single taps
    ...[...op.get(singles), ...op.set(g)],
    ...op.block,
    ...op.loop,
    ...[...op.get(g), ...op.i32Const(0), ...op.i32LeS, ...op.brIf(1)],
    ...tap(0, t0, t1, true),
    ...[...op.get(d0), ...op.get(t0), ...f64x2Add, ...roundF32, ...op.set(d0)],
    ...[...op.get(d1), ...op.get(t1), ...f64x2Add, ...roundF32, ...op.set(d1)],
    ...[...op.get(p), ...op.i32Const(16), ...op.i32Add, ...op.set(p)],
    ...[...op.get(g), ...op.i32Const(1), ...op.i32Sub, ...op.set(g), ...op.br(0)],
    ...op.end,
    ...op.end,
    ...[...op.get(out), ...op.get(xb), ...op.i32Add, ...op.tee(a)],
    ...[...op.get(d0), ...store2(0), ...op.get(a), ...op.get(d1), ...store2(8)],
    ...[...op.get(xb), ...op.i32Const(16), ...op.i32Add, ...op.set(xb), ...op.br(0)],
    ...op.end,
    ...op.end,
  ];
  return body(locals, code);
}

function body(locals: number[][], code: number[]): number[] {
  const bytes = [...uleb(locals.length), ...locals.flatMap(([n, type]) => [...uleb(n!), type!]), ...code, ...op.end];
  return [...uleb(bytes.length), ...bytes];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...uleb(bytes.length), ...bytes];
}

function assemble(): Uint8Array<ArrayBuffer> {
  const hrowType = [0x60, ...vector([[I32], [I32], [I32], [I32], [I32]]), 0];
  const vrowType = [0x60, ...vector([[I32], [I32], [I32], [I32], [I32], [I32], [F64]]), 0];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector([hrowType, vrowType])),
    ...section(2, vector([[...name('m'), ...name('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vector([[0], [1]])),
    ...section(
      7,
      vector([
        [...name('hrow'), 0x00, 0],
        [...name('vrow'), 0x00, 1],
      ]),
    ),
    ...section(10, vector([hrowBody(), vrowBody()])),
  ]);
}

/** The few WebAssembly APIs used (the project's lib settings declare none: no DOM lib, @types/node lacks them). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array<ArrayBuffer>) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: object | undefined;

interface Exports {
  hrow(row: number, out: number, width: number, kernel: number, radius: number): void;
  vrow(centre: number, out: number, width: number, taps: number, groups: number, singles: number, k0: number): void;
}

const PAGE = 65536;
/** Bytes kept free at the end of the memory: 4-wide steps read up to 3 floats past a plane's last row. */
const SLACK = 64;

/**
 * One linear memory: `floats` floats of planes for the caller (views from `plane`), then the blur's own rows and
 * tables for planes up to maxWidth wide and kernels up to maxRadius.
 */
export class SimdPlanes {
  readonly memory: WasmMemory;
  /** The caller's part, floats [0, floats). */
  readonly floats: Float32Array;
  private readonly exports: Exports;
  private readonly heap: DataView;
  private readonly row: number;
  private readonly out: number;
  private readonly taps: number;
  private readonly kernel: number;
  private readonly maxWidth: number;
  private readonly maxRadius: number;

  constructor(floats: number, maxWidth: number, maxRadius: number) {
    const align = (n: number) => (n + 15) & ~15;
    const widthRoom = align(maxWidth + 4) * 4;
    this.row = align(floats * 4);
    this.out = this.row + align((maxWidth + 2 * maxRadius + 8) * 4);
    this.taps = this.out + widthRoom;
    this.kernel = this.taps + align(maxRadius * 16);
    const bytes = this.kernel + align((maxRadius + 1) * 8) + SLACK;
    this.memory = new wasm.Memory({ initial: Math.ceil(bytes / PAGE) });
    compiled ??= new wasm.Module(assemble());
    this.exports = new wasm.Instance(compiled, { m: { memory: this.memory } }).exports as unknown as Exports;
    this.floats = new Float32Array(this.memory.buffer, 0, floats);
    this.heap = new DataView(this.memory.buffer);
    this.maxWidth = maxWidth;
    this.maxRadius = maxRadius;
  }

  /** Whether this memory has room for `floats` floats of planes up to `width` wide blurred with up to `radius`. */
  fits(floats: number, width: number, radius: number): boolean {
    return floats <= this.floats.length && width <= this.maxWidth && radius <= this.maxRadius;
  }

  /** Bytes of linear memory held. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * dst = src blurred by the half kernel, exactly as blurPlane(src, dst, width, height, half, scratch, row) would
   * give; src, dst and scratch (width*height floats) are views of this.floats, src and dst distinct.
   */
  blur(src: Float32Array, dst: Float32Array, width: number, height: number, half: Float64Array, scratch: Float32Array) {
    const radius = half.length - 1;
    if (width > this.maxWidth || radius > this.maxRadius) throw new RangeError('plane or kernel larger than reserved');
    for (const plane of [src, dst, scratch]) {
      if (plane.buffer !== this.memory.buffer || plane.length < width * height) {
        throw new RangeError('blur planes must be views of this memory holding width * height floats');
      }
    }
    const heap = this.heap;
    for (let i = 0; i <= radius; i++) heap.setFloat64(this.kernel + i * 8, half[i]!, true);
    const memory = this.memory.buffer;
    const row = new Float32Array(memory, this.row, width + 2 * radius + 8);
    const out = new Float32Array(memory, this.out, width + 4);
    const { hrow, vrow } = this.exports;

    // Horizontal pass into scratch: the row with reflect-101 borders, then 4 pixels per step.
    for (let y = 0; y < height; y++) {
      const o = y * width;
      row.set(src.subarray(o, o + width), radius);
      for (let i = 1; i <= radius; i++) {
        row[radius - i] = src[o + reflect101(-i, width)]!;
        row[radius + width - 1 + i] = src[o + reflect101(width - 1 + i, width)]!;
      }
      hrow(this.row, this.out, width, this.kernel, radius);
      scratch.set(out.subarray(0, width), o);
    }

    // Vertical pass: per output row, the addresses of the rows each tap reads (reflect-101 at the top and bottom).
    const base = scratch.byteOffset;
    const k0 = half[0]!;
    const groups = radius >> 2;
    const singles = radius - 4 * groups;
    for (let y = 0; y < height; y++) {
      for (let i = 1; i <= radius; i++) {
        const entry = this.taps + (i - 1) * 16;
        heap.setInt32(entry, base + reflect101(y - i, height) * width * 4, true);
        heap.setInt32(entry + 4, base + reflect101(y + i, height) * width * 4, true);
        heap.setFloat64(entry + 8, half[i]!, true);
      }
      vrow(base + y * width * 4, this.out, width, this.taps, groups, singles, k0);
      dst.set(out.subarray(0, width), y * width);
    }
  }
}
