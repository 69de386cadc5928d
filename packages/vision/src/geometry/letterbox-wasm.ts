/**
 * The letterbox's two pixel loops (letterbox.ts: copyPixels and resizeBilinear) in WebAssembly, bit for bit: the same
 * float64 operations in the same order per value, rounded to float32 where the JavaScript stores to a Float32Array.
 * Without bounds checks and typed-array dispatch they run several times faster than the JavaScript, which stays as
 * the reference letterbox-wasm.test.ts compares against (issue 10: stage time over bare session.run).
 *
 * A thread's kernel owns one WebAssembly.Memory: the RGB pixels are copied in, the planar tensor is written there
 * (padding included) and copied out into the caller's buffer, so no view of the memory outlives a call. Assembled
 * here from its instructions (../wasm-assembler.ts): no toolchain, no binary file in the repository.
 */
import {
  assembleModule,
  F64,
  I32,
  op,
  uleb,
  V128,
  type WasmFunction,
  type WasmMemory,
  wasm,
} from '../wasm-assembler.ts';

const PAGE = 65_536;
const align = (bytes: number) => Math.ceil(bytes / 16) * 16;

/** f32.store at address + offset of float32(value * scale), value an f64 on the stack below the address. */
const storeScaled = (scale: number) => [...op.get(scale), ...op.f64Mul, ...op.f32DemoteF64, ...op.f32Store(0)];

/** The address of plane k's element at `dst` (plane 0's address; planes are `plane` bytes apart), on the stack. */
const planeAddress = (dst: number, plane: number, k: number) => [
  ...op.get(dst),
  ...(k === 0 ? [] : [...op.get(plane), ...(k === 2 ? [...op.i32Const(1), ...op.i32Shl] : []), ...op.i32Add]),
];

/** The locals of a loop over the pixel rows of a copy: its parameters and four i32 locals of its own. */
interface RowLoop {
  pixels: number;
  width: number;
  height: number;
  srcStride: number;
  out: number;
  outStride: number;
  y: number;
  src: number;
  dst: number;
  end: number;
}

/**
 * For y < height: src = pixels + y * srcStride, dst = out + y * outStride; then `step` while dst < dst + width * 4,
 * src and dst advancing by srcStep and dstStep bytes after each step.
 */
function overRows(l: RowLoop, step: number[], srcStep: number, dstStep: number): number[] {
  return [
    ...[...op.i32Const(0), ...op.set(l.y)],
    ...op.block,
    ...op.loop,
    ...[...op.get(l.y), ...op.get(l.height), ...op.i32GeS, ...op.brIf(1)],
    ...[...op.get(l.pixels), ...op.get(l.y), ...op.get(l.srcStride), ...op.i32Mul, ...op.i32Add, ...op.set(l.src)],
    ...[...op.get(l.out), ...op.get(l.y), ...op.get(l.outStride), ...op.i32Mul, ...op.i32Add, ...op.set(l.dst)],
    ...[...op.get(l.dst), ...op.get(l.width), ...op.i32Const(2), ...op.i32Shl, ...op.i32Add, ...op.set(l.end)],
    ...op.block,
    ...op.loop,
    ...[...op.get(l.dst), ...op.get(l.end), ...op.i32GeS, ...op.brIf(1)],
    ...step,
    ...[...op.get(l.src), ...op.i32Const(srcStep), ...op.i32Add, ...op.set(l.src)],
    ...[...op.get(l.dst), ...op.i32Const(dstStep), ...op.i32Add, ...op.set(l.dst), ...op.br(0)],
    ...op.end,
    ...op.end,
    ...[...op.get(l.y), ...op.i32Const(1), ...op.i32Add, ...op.set(l.y), ...op.br(0)],
    ...op.end,
    ...op.end,
  ];
}

/**
 * copy(pixels, width, height, srcStride, out, outStride, plane, c0, c1, c2, scale): for each of `height` rows and
 * `width` pixels, plane k at out + y * outStride + x * 4 (+ k * plane bytes) = float32(pixels[src + ck] * scale).
 */
function copyFunction(): WasmFunction {
  const [pixels, width, height, srcStride, out, outStride, plane, c0, c1, c2, scale] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
  ];
  const [y, src, dst, end] = [11, 12, 13, 14];
  const loop = { pixels, width, height, srcStride, out, outStride, y, src, dst, end };
  const channel = (c: number, k: number) => [
    ...planeAddress(dst, plane, k),
    ...[...op.get(src), ...op.get(c), ...op.i32Add, ...op.i32Load8U(0), ...op.f64ConvertI32U],
    ...storeScaled(scale),
  ];
  const code = overRows(loop, [...channel(c0, 0), ...channel(c1, 1), ...channel(c2, 2)], 3, 4);
  return {
    name: 'copy',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F64],
    locals: [[4, I32]],
    code,
  };
}

const v128Load = (offset: number) => op.simd(0x00, 0, ...uleb(offset));
const v128Store = (offset: number) => op.simd(0x0b, 0, ...uleb(offset));
const i8x16Swizzle = op.simd(0x0e);
/** f32x4.convert_i32x4_u: exact for byte values. */
const f32x4ConvertU = op.simd(0xfb);

/**
 * copy4(pixels, width, height, srcStride, out, outStride, plane, masks): copy() for scale 1 (each value is the byte
 * itself, exactly), four pixels per step: one 16-byte load, and per plane a swizzle that puts the four pixels' bytes
 * of its channel in the low byte of four i32 lanes (masks: three 16-byte swizzle masks), converted to float32 and
 * stored. width must be a multiple of 4; the load reads up to 4 bytes past a row's last pixel (there is memory).
 */
function copy4Function(): WasmFunction {
  const [pixels, width, height, srcStride, out, outStride, plane, masks] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [y, src, dst, end] = [8, 9, 10, 11];
  const [v, m0, m1, m2] = [12, 13, 14, 15];
  const loop = { pixels, width, height, srcStride, out, outStride, y, src, dst, end };
  const lane = (mask: number, k: number) => [
    ...planeAddress(dst, plane, k),
    ...[...op.get(v), ...op.get(mask), ...i8x16Swizzle, ...f32x4ConvertU, ...v128Store(0)],
  ];
  const code = [
    ...[...op.get(masks), ...v128Load(0), ...op.set(m0)],
    ...[...op.get(masks), ...v128Load(16), ...op.set(m1)],
    ...[...op.get(masks), ...v128Load(32), ...op.set(m2)],
    ...overRows(
      loop,
      [...op.get(src), ...v128Load(0), ...op.set(v), ...lane(m0, 0), ...lane(m1, 1), ...lane(m2, 2)],
      12,
      16,
    ),
  ];
  return {
    name: 'copy4',
    params: [I32, I32, I32, I32, I32, I32, I32, I32],
    locals: [
      [4, I32],
      [4, V128],
    ],
    code,
  };
}

/**
 * bilinear(pixels, cols, rows, width, height, out, outStride, plane, c0, c1, c2, scale): resizeBilinear's loop.
 * cols holds 16-byte entries [left byte offset (i32), right byte offset (i32), fx (f64)] per output column, rows
 * [top byte offset, bottom byte offset, fy] per output row; each value is lerp2's
 * top = p[a] + (p[b] - p[a]) * fx, bottom = p[c] + (p[d] - p[c]) * fx, top + (bottom - top) * fy, times scale.
 */
function bilinearFunction(): WasmFunction {
  const [pixels, cols, rows, width, height, out, outStride, plane, c0, c1, c2, scale] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
  ];
  const [y, x, top, bottom, dst, entry, a, b] = [12, 13, 14, 15, 16, 17, 18, 19];
  const [fx, fy, upper, lower, first] = [20, 21, 22, 23, 24];
  /** f64 of the byte at (base + channel). */
  const byte = (base: number, c: number) => [
    ...op.get(base),
    ...op.get(c),
    ...op.i32Add,
    ...op.i32Load8U(0),
    ...op.f64ConvertI32U,
  ];
  /** first + (second - first) * fx, left on the stack. */
  const lerpX = (left: number, right: number, c: number) => [
    ...byte(left, c),
    ...op.tee(first),
    ...[...byte(right, c), ...op.get(first), ...op.f64Sub, ...op.get(fx), ...op.f64Mul, ...op.f64Add],
  ];
  const [cAddr, dAddr] = [25, 26];
  const value = (c: number, k: number) => [
    ...planeAddress(dst, plane, k),
    ...[...lerpX(a, b, c), ...op.set(upper)],
    ...[...lerpX(cAddr, dAddr, c), ...op.set(lower)],
    ...[...op.get(upper), ...op.get(lower), ...op.get(upper), ...op.f64Sub, ...op.get(fy), ...op.f64Mul, ...op.f64Add],
    ...storeScaled(scale),
  ];
  const code = [
    ...[...op.i32Const(0), ...op.set(y)],
    ...op.block,
    ...op.loop,
    ...[...op.get(y), ...op.get(height), ...op.i32GeS, ...op.brIf(1)],
    ...[...op.get(rows), ...op.get(y), ...op.i32Const(4), ...op.i32Shl, ...op.i32Add, ...op.set(entry)],
    ...[...op.get(pixels), ...op.get(entry), ...op.i32Load(0), ...op.i32Add, ...op.set(top)],
    ...[...op.get(pixels), ...op.get(entry), ...op.i32Load(4), ...op.i32Add, ...op.set(bottom)],
    ...[...op.get(entry), ...op.f64Load(8), ...op.set(fy)],
    ...[...op.get(out), ...op.get(y), ...op.get(outStride), ...op.i32Mul, ...op.i32Add, ...op.set(dst)],
    ...[...op.i32Const(0), ...op.set(x)],
    ...op.block,
    ...op.loop,
    ...[...op.get(x), ...op.get(width), ...op.i32GeS, ...op.brIf(1)],
    ...[...op.get(cols), ...op.get(x), ...op.i32Const(4), ...op.i32Shl, ...op.i32Add, ...op.set(entry)],
    ...[...op.get(top), ...op.get(entry), ...op.i32Load(0), ...op.i32Add, ...op.set(a)],
    ...[...op.get(top), ...op.get(entry), ...op.i32Load(4), ...op.i32Add, ...op.set(b)],
    ...[...op.get(bottom), ...op.get(entry), ...op.i32Load(0), ...op.i32Add, ...op.set(cAddr)],
    ...[...op.get(bottom), ...op.get(entry), ...op.i32Load(4), ...op.i32Add, ...op.set(dAddr)],
    ...[...op.get(entry), ...op.f64Load(8), ...op.set(fx)],
    ...value(c0, 0),
    ...value(c1, 1),
    ...value(c2, 2),
    ...[...op.get(dst), ...op.i32Const(4), ...op.i32Add, ...op.set(dst)],
    ...[...op.get(x), ...op.i32Const(1), ...op.i32Add, ...op.set(x), ...op.br(0)],
    ...op.end,
    ...op.end,
    ...[...op.get(y), ...op.i32Const(1), ...op.i32Add, ...op.set(y), ...op.br(0)],
    ...op.end,
    ...op.end,
  ];
  return {
    name: 'bilinear',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F64],
    locals: [
      [8, I32],
      [5, F64],
      [2, I32],
    ],
    code,
  };
}

interface Exports {
  copy4(
    pixels: number,
    width: number,
    height: number,
    srcStride: number,
    out: number,
    outStride: number,
    plane: number,
    masks: number,
  ): void;
  copy(
    pixels: number,
    width: number,
    height: number,
    srcStride: number,
    out: number,
    outStride: number,
    plane: number,
    c0: number,
    c1: number,
    c2: number,
    scale: number,
  ): void;
  bilinear(
    pixels: number,
    cols: number,
    rows: number,
    width: number,
    height: number,
    out: number,
    outStride: number,
    plane: number,
    c0: number,
    c1: number,
    c2: number,
    scale: number,
  ): void;
}

/** The RGB source of a letterbox: interleaved bytes, width x height. */
export interface RgbPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Where and how the pixels go: letterbox.ts's TensorTarget, with the planes as one tensor of 3 planes. */
export interface PlanarTarget {
  tensor: Float32Array;
  /** The tensor's width and height (each plane's). */
  width: number;
  height: number;
  /** The resized image's size inside it, and where it starts. */
  resizedWidth: number;
  resizedHeight: number;
  padX: number;
  padY: number;
  /** Source channel (0 R, 1 G, 2 B) of each plane. */
  order: readonly [number, number, number];
  scale: number;
  /** The value of every tensor element outside the resized image; undefined when there is none. */
  pad?: number;
}

/** Column or row sampling of resizeBilinear: byte offsets of the two neighbours and the weight of the second. */
export type Sampling = (index: number) => [low: number, high: number, fraction: number];

let compiled: object | undefined;

/** One thread's letterbox kernel and its memory (grown on demand). */
class LetterboxKernel {
  #memory: WasmMemory & { grow(pages: number): number };
  readonly #exports: Exports;

  constructor() {
    compiled ??= new wasm.Module(assembleModule([copyFunction(), copy4Function(), bilinearFunction()]));
    this.#memory = new wasm.Memory({ initial: 64 }) as WasmMemory & { grow(pages: number): number };
    this.#exports = new wasm.Instance(compiled, { m: { memory: this.#memory } }).exports as unknown as Exports;
  }

  #reserve(bytes: number): ArrayBuffer {
    const have = this.#memory.buffer.byteLength;
    if (bytes > have) this.#memory.grow(Math.ceil((bytes - have) / PAGE));
    return this.#memory.buffer;
  }

  /**
   * Writes `source` into the target as letterbox.ts does: copied when its size is the resized size, else resampled
   * (bilinear, `columns` and `rows` as resizeBilinear samples), the padding set to `target.pad`.
   */
  run(source: RgbPixels, target: PlanarTarget, sampling?: { columns: Sampling; rows: Sampling }): void {
    const { width, height, resizedWidth, resizedHeight } = target;
    const plane = width * height * 4;
    const masksAt = 0;
    const pixelsAt = 48;
    // 16 bytes of room after the pixels: copy4's last load of a row reads past its last pixel.
    const colsAt = pixelsAt + align(source.data.byteLength + 16);
    const rowsAt = colsAt + align(resizedWidth * 16);
    const tensorAt = rowsAt + align(resizedHeight * 16);
    if (!(tensorAt + 3 * plane < 2 ** 31)) throw new RangeError('the letterbox is larger than 2 GiB');
    const buffer = this.#reserve(tensorAt + 3 * plane);
    new Uint8Array(buffer, pixelsAt, source.data.byteLength).set(source.data);
    const tensor = new Float32Array(buffer, tensorAt, 3 * width * height);
    if (target.pad !== undefined) tensor.fill(target.pad);
    const out = tensorAt + (target.padY * width + target.padX) * 4;
    const [c0, c1, c2] = target.order;
    if (!sampling) {
      const srcStride = source.width * 3;
      // Four pixels a step where each value is the byte itself; the columns left (and any other scale) one by one.
      const fast = target.scale === 1 ? resizedWidth - (resizedWidth % 4) : 0;
      if (fast > 0) {
        const masks = new Uint8Array(buffer, masksAt, 48).fill(0x80);
        for (const [k, channel] of target.order.entries()) {
          for (let lane = 0; lane < 4; lane++) masks[k * 16 + lane * 4] = channel + 3 * lane;
        }
        this.#exports.copy4(pixelsAt, fast, resizedHeight, srcStride, out, width * 4, plane, masksAt);
      }
      if (fast < resizedWidth) {
        this.#exports.copy(
          pixelsAt + fast * 3,
          resizedWidth - fast,
          resizedHeight,
          srcStride,
          out + fast * 4,
          width * 4,
          plane,
          c0,
          c1,
          c2,
          target.scale,
        );
      }
    } else {
      const heap = new DataView(buffer);
      for (let x = 0; x < resizedWidth; x++) {
        const [low, high, fraction] = sampling.columns(x);
        heap.setInt32(colsAt + x * 16, low * 3, true);
        heap.setInt32(colsAt + x * 16 + 4, high * 3, true);
        // resizeBilinear keeps the column weights in a Float32Array.
        heap.setFloat64(colsAt + x * 16 + 8, Math.fround(fraction), true);
      }
      const rowBytes = source.width * 3;
      for (let y = 0; y < resizedHeight; y++) {
        const [low, high, fraction] = sampling.rows(y);
        heap.setInt32(rowsAt + y * 16, low * rowBytes, true);
        heap.setInt32(rowsAt + y * 16 + 4, high * rowBytes, true);
        heap.setFloat64(rowsAt + y * 16 + 8, fraction, true);
      }
      this.#exports.bilinear(
        pixelsAt,
        colsAt,
        rowsAt,
        resizedWidth,
        resizedHeight,
        out,
        width * 4,
        plane,
        c0,
        c1,
        c2,
        target.scale,
      );
    }
    target.tensor.set(tensor);
  }
}

let kernel: LetterboxKernel | undefined;

/** This thread's kernel, made at its first use. */
export function letterboxKernel(): LetterboxKernel {
  kernel ??= new LetterboxKernel();
  return kernel;
}
