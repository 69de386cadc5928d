/**
 * The separable Gaussian blur of gaussian-blur.ts (blurPlane) in WebAssembly SIMD, bit for bit: the same float64
 * operations in the same order on two pixels per f64x2 lane pair (WebAssembly arithmetic is IEEE round-to-nearest
 * per lane and never fuses a multiply into an add, like V8's scalar code), float32 rounding where blurPlane stores
 * to a Float32Array. The horizontal pass keeps its float32-rounded results as float64 (exactly the same values)
 * in a plane of its own, so neither pass widens a float per tap; 8 output pixels per step, no bounds checks, rows
 * looped over in WebAssembly. blur-simd.test.ts compares it with blurPlane on random planes and SIFT's kernels.
 *
 * The planes live in the module's linear memory: a SimdPlanes holds one WebAssembly.Memory and hands out
 * Float32Array views of it (SIFT's arena), so the blur reads and writes them in place; the same module carries
 * SIFT's extremum scan (extrema-wasm.ts) and gradient histograms (descriptor-wasm.ts), which read those planes.
 * It is assembled here from its instructions (wasm-assembler.ts): no toolchain, no binary file in the repository.
 */
import { descriptorRow, descriptorWindow, orientationWindow } from './descriptor-wasm.ts';
import { extremaRow } from './extrema-wasm.ts';
import { reflect101 } from './math.ts';
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

/** 2 floats at address + offset, widened to f64x2. */
const load2 = (offset: number) => [...op.simd(0x5d, 2, ...uleb(offset)), ...op.simd(0x5f)];
/** 2 float64 at address + offset. */
const load64 = (offset: number) => op.simd(0x00, 3, ...uleb(offset));
const store64 = (offset: number) => op.simd(0x0b, 3, ...uleb(offset));
const f64x2Splat = op.simd(0x14);
const f64x2Add = op.simd(0xf0);
const f64x2Mul = op.simd(0xf2);
/** f64x2 -> 2 floats (round to nearest) in the low half. */
const demote = op.simd(0x5e);
/** f64x2 rounded to float32 and widened back: what storing to a Float32Array and reading it again gives. */
const roundF32 = [...demote, ...op.simd(0x5f)];
const store2 = (offset: number) => [...demote, ...op.simd(0x5b, 2, ...uleb(offset), 0)];

/** Pixels per step: PAIRS f64x2 accumulators. */
const PAIRS = 4;
export const BLUR_STEP = PAIRS * 2;
const pairs = Array.from({ length: PAIRS }, (_, n) => n);

/**
 * hrow(row, out, width, kernel, radius): out[x] = f32(k0 row[x + r] + sum_i k_i (row[x + r - i] + row[x + r + i])),
 * x = 0 .. width rounded up to BLUR_STEP (row and out have room). row: the source row widened to float64 with its
 * borders; out: float64 holding float32 values (the rounding blurPlane's Float32Array store makes). Byte addresses;
 * kernel is the float64 half kernel.
 */
function hrow(): WasmFunction {
  const [row, out, width, kernel, radius] = [0, 1, 2, 3, 4];
  const [x, c, i, l, r] = [5, 6, 7, 8, 9];
  const k = 10;
  const acc = pairs.map((n) => 11 + n);
  const locals: [number, number][] = [
    [5, I32],
    [1 + PAIRS, V128],
  ];
  const code = [
    ...op.i32Const(0),
    ...op.set(x),
    ...op.block,
    ...op.loop,
    ...[...op.get(x), ...op.get(width), ...op.i32GeS, ...op.brIf(1)],
    // c = row + (x + radius) * 8
    ...[...op.get(row), ...op.get(x), ...op.get(radius), ...op.i32Add, ...op.i32Const(3), ...op.i32Shl, ...op.i32Add],
    ...op.set(c),
    ...[...op.get(kernel), ...op.f64Load(0), ...f64x2Splat, ...op.set(k)],
    ...pairs.flatMap((n) => [...op.get(k), ...op.get(c), ...load64(16 * n), ...f64x2Mul, ...op.set(acc[n]!)]),
    ...op.i32Const(1),
    ...op.set(i),
    ...op.block,
    ...op.loop,
    ...[...op.get(i), ...op.get(radius), ...op.i32GtS, ...op.brIf(1)],
    ...[...op.get(kernel), ...op.get(i), ...op.i32Const(3), ...op.i32Shl, ...op.i32Add, ...op.f64Load(0)],
    ...[...f64x2Splat, ...op.set(k)],
    ...[...op.get(c), ...op.get(i), ...op.i32Const(3), ...op.i32Shl, ...op.i32Sub, ...op.set(l)],
    ...[...op.get(c), ...op.get(i), ...op.i32Const(3), ...op.i32Shl, ...op.i32Add, ...op.set(r)],
    // acc += k * (row[l] + row[r])
    ...pairs.flatMap((n) => [
      ...[...op.get(acc[n]!), ...op.get(k), ...op.get(l), ...load64(16 * n), ...op.get(r), ...load64(16 * n)],
      ...[...f64x2Add, ...f64x2Mul, ...f64x2Add, ...op.set(acc[n]!)],
    ]),
    ...[...op.get(i), ...op.i32Const(1), ...op.i32Add, ...op.set(i), ...op.br(0)],
    ...op.end,
    ...op.end,
    // out[x .. x + BLUR_STEP - 1] = float32(acc), kept as float64
    ...[...op.get(out), ...op.get(x), ...op.i32Const(3), ...op.i32Shl, ...op.i32Add, ...op.set(l)],
    ...pairs.flatMap((n) => [...op.get(l), ...op.get(acc[n]!), ...roundF32, ...store64(16 * n)]),
    ...[...op.get(x), ...op.i32Const(BLUR_STEP), ...op.i32Add, ...op.set(x), ...op.br(0)],
    ...op.end,
    ...op.end,
  ];
  return { name: 'hrow', params: [I32, I32, I32, I32, I32], locals, code };
}

/**
 * vrow(centre, out, width, taps, groups, singles, k0): one output row (float32) of the vertical pass over hrow's
 * float64 rows. centre is the source row's address; taps holds 16-byte entries [address of row y - i (i32), of row
 * y + i (i32), k_i (f64)] for i = 1..r.
 * As blurPlane: d = f32(k0 centre), then for each of `groups` groups of four taps d = f32(d + (((k1 A1 + k2 A2) +
 * k3 A3) + k4 A4)) with A = up + down, then for each of `singles` taps d = f32(d + k A). Columns 0 .. width rounded
 * up to BLUR_STEP.
 */
function vrow(): WasmFunction {
  const [centre, out, width, taps, groups, singles, k0] = [0, 1, 2, 3, 4, 5, 6];
  const [xb, end, p, g, a, b] = [7, 8, 9, 10, 11, 12];
  const k = 13;
  const d = pairs.map((n) => 14 + n);
  const t = pairs.map((n) => 14 + PAIRS + n);
  const locals: [number, number][] = [
    [6, I32],
    [1 + 2 * PAIRS, V128],
  ];
  /** t (+)= k * (row a + row b) at byte column xb (of the float64 rows), for the tap entry at p + entry * 16. */
  const tap = (entry: number, first: boolean) => [
    ...[...op.get(p), ...op.i32Load(entry * 16), ...op.get(xb), ...op.i32Add, ...op.set(a)],
    ...[...op.get(p), ...op.i32Load(entry * 16 + 4), ...op.get(xb), ...op.i32Add, ...op.set(b)],
    ...[...op.get(p), ...op.f64Load(entry * 16 + 8), ...f64x2Splat, ...op.set(k)],
    ...pairs.flatMap((n) => [
      ...(first ? [] : op.get(t[n]!)),
      ...[...op.get(k), ...op.get(a), ...load64(16 * n), ...op.get(b), ...load64(16 * n), ...f64x2Add, ...f64x2Mul],
      ...(first ? [] : f64x2Add),
      ...op.set(t[n]!),
    ]),
  ];
  const accumulate = pairs.flatMap((n) => [
    ...[...op.get(d[n]!), ...op.get(t[n]!), ...f64x2Add, ...roundF32, ...op.set(d[n]!)],
  ]);
  const code = [
    ...[...op.get(width), ...op.i32Const(3), ...op.i32Shl, ...op.set(end)],
    ...op.i32Const(0),
    ...op.set(xb),
    ...op.block,
    ...op.loop,
    ...[...op.get(xb), ...op.get(end), ...op.i32GeS, ...op.brIf(1)],
    ...[...op.get(k0), ...f64x2Splat, ...op.set(k)],
    ...[...op.get(centre), ...op.get(xb), ...op.i32Add, ...op.set(a)],
    ...pairs.flatMap((n) => [
      ...op.get(k),
      ...op.get(a),
      ...load64(16 * n),
      ...f64x2Mul,
      ...roundF32,
      ...op.set(d[n]!),
    ]),
    ...[...op.get(taps), ...op.set(p), ...op.get(groups), ...op.set(g)],
    // groups of four taps
    ...op.block,
    ...op.loop,
    ...[...op.get(g), ...op.i32Const(0), ...op.i32LeS, ...op.brIf(1)],
    ...tap(0, true),
    ...tap(1, false),
    ...tap(2, false),
    ...tap(3, false),
    ...accumulate,
    ...[...op.get(p), ...op.i32Const(64), ...op.i32Add, ...op.set(p)],
    ...[...op.get(g), ...op.i32Const(1), ...op.i32Sub, ...op.set(g), ...op.br(0)],
    ...op.end,
    ...op.end,
    // single taps
    ...[...op.get(singles), ...op.set(g)],
    ...op.block,
    ...op.loop,
    ...[...op.get(g), ...op.i32Const(0), ...op.i32LeS, ...op.brIf(1)],
    ...tap(0, true),
    ...accumulate,
    ...[...op.get(p), ...op.i32Const(16), ...op.i32Add, ...op.set(p)],
    ...[...op.get(g), ...op.i32Const(1), ...op.i32Sub, ...op.set(g), ...op.br(0)],
    ...op.end,
    ...op.end,
    // float32 out at byte column xb / 2
    ...[...op.get(out), ...op.get(xb), ...op.i32Const(1), ...op.i32ShrS, ...op.i32Add, ...op.set(a)],
    ...pairs.flatMap((n) => [...op.get(a), ...op.get(d[n]!), ...store2(8 * n)]),
    ...[...op.get(xb), ...op.i32Const(8 * BLUR_STEP), ...op.i32Add, ...op.set(xb), ...op.br(0)],
    ...op.end,
    ...op.end,
  ];
  return { name: 'vrow', params: [I32, I32, I32, I32, I32, I32, F64], locals, code };
}

/** Indices of the functions in the module (assembleModule's order). */
const HROW = 0;
const VROW = 1;

/**
 * hpass(src, dst, width, height, kernel, radius, row, out, pads, direct): the horizontal pass over all rows of the
 * float32 plane src into the float64 plane dst: each row widened into `row` at radius, its reflect-101 borders
 * from `pads` (radius pairs [byte in row, byte in the source row] for each side, int32), then hrow into dst's row
 * (direct: in place, a row not a whole number of steps wide spilling up to a step into the next row, computed
 * later, or into the slack after the plane) or into `out` and copied.
 */
function hpass(): WasmFunction {
  const [src, dst, width, height, kernel, radius, row, out, pads, direct] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [y, s, p, e, target, x] = [10, 11, 12, 13, 14, 15];
  const code = [
    ...[...op.i32Const(0), ...op.set(y)],
    ...op.block,
    ...op.loop,
    ...[...op.get(y), ...op.get(height), ...op.i32GeS, ...op.brIf(1)],
    ...[...op.get(src), ...op.get(y), ...op.get(width), ...op.i32Mul, ...op.i32Const(2), ...op.i32Shl, ...op.i32Add],
    ...op.set(s),
    // row[radius + x] = float64(src[x]), two at a time (an odd width widens one float past the row: the right
    // border, written next, covers it)
    ...[...op.i32Const(0), ...op.set(x)],
    ...op.block,
    ...op.loop,
    ...[...op.get(x), ...op.get(width), ...op.i32GeS, ...op.brIf(1)],
    ...[...op.get(row), ...op.get(x), ...op.get(radius), ...op.i32Add, ...op.i32Const(3), ...op.i32Shl, ...op.i32Add],
    ...[...op.get(s), ...op.get(x), ...op.i32Const(2), ...op.i32Shl, ...op.i32Add, ...load2(0), ...store64(0)],
    ...[...op.get(x), ...op.i32Const(2), ...op.i32Add, ...op.set(x), ...op.br(0)],
    ...op.end,
    ...op.end,
    ...[...op.get(pads), ...op.set(p), ...op.get(pads), ...op.get(radius), ...op.i32Const(4), ...op.i32Shl],
    ...[...op.i32Add, ...op.set(e)],
    ...op.block,
    ...op.loop,
    ...[...op.get(p), ...op.get(e), ...op.i32GeS, ...op.brIf(1)],
    ...[...op.get(row), ...op.get(p), ...op.i32Load(0), ...op.i32Add],
    ...[...op.get(s), ...op.get(p), ...op.i32Load(4), ...op.i32Add, ...op.f32Load(0), ...op.f64PromoteF32],
    ...op.f64Store(0),
    ...[...op.get(p), ...op.i32Const(8), ...op.i32Add, ...op.set(p), ...op.br(0)],
    ...op.end,
    ...op.end,
    ...[...op.get(dst), ...op.get(y), ...op.get(width), ...op.i32Mul, ...op.i32Const(3), ...op.i32Shl, ...op.i32Add],
    ...op.set(target),
    ...[...op.get(direct), ...op.i32Eqz],
    ...op.if,
    ...[...op.get(row), ...op.get(out), ...op.get(width), ...op.get(kernel), ...op.get(radius), ...op.call(HROW)],
    ...[...op.get(target), ...op.get(out), ...op.get(width), ...op.i32Const(3), ...op.i32Shl, ...op.memoryCopy],
    ...op.else,
    ...[...op.get(row), ...op.get(target), ...op.get(width), ...op.get(kernel), ...op.get(radius), ...op.call(HROW)],
    ...op.end,
    ...[...op.get(y), ...op.i32Const(1), ...op.i32Add, ...op.set(y), ...op.br(0)],
    ...op.end,
    ...op.end,
  ];
  return {
    name: 'hpass',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32],
    locals: [[6, I32]],
    code,
  };
}

/**
 * vpass(src, dst, width, height, kernel, radius, taps, out, rows, direct): the vertical pass over all rows of the
 * float64 plane src into the float32 plane dst: for output row y, the tap table (vrow's) from `rows` (byte offset
 * of source row reflect101(j - radius), j = 0 .. height + 2 radius - 1, int32), then vrow into dst's row (rows
 * y < direct) or into `out` and copied.
 */
function vpass(): WasmFunction {
  const [src, dst, width, height, kernel, radius, taps, out, rows, direct] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [y, i, p, stride, groups, singles, target, centre] = [10, 11, 12, 13, 14, 15, 16, 17];
  const stride64 = 18;
  const k0 = 19;
  /** src + rows[y + sign * i + radius] */
  const source = (sign: number) => [
    ...op.get(src),
    ...[...op.get(rows), ...op.get(y), ...op.get(i)],
    ...(sign < 0 ? op.i32Sub : op.i32Add),
    ...[...op.get(radius), ...op.i32Add, ...op.i32Const(2), ...op.i32Shl, ...op.i32Add, ...op.i32Load(0)],
    ...op.i32Add,
  ];
  const code = [
    ...[...op.get(width), ...op.i32Const(2), ...op.i32Shl, ...op.set(stride)],
    ...[...op.get(width), ...op.i32Const(3), ...op.i32Shl, ...op.set(stride64)],
    ...[...op.get(radius), ...op.i32Const(2), ...op.i32ShrS, ...op.set(groups)],
    ...[...op.get(radius), ...op.get(groups), ...op.i32Const(2), ...op.i32Shl, ...op.i32Sub, ...op.set(singles)],
    ...[...op.get(kernel), ...op.f64Load(0), ...op.set(k0)],
    ...[...op.i32Const(0), ...op.set(y)],
    ...op.block,
    ...op.loop,
    ...[...op.get(y), ...op.get(height), ...op.i32GeS, ...op.brIf(1)],
    ...[...op.i32Const(1), ...op.set(i), ...op.get(taps), ...op.set(p)],
    ...op.block,
    ...op.loop,
    ...[...op.get(i), ...op.get(radius), ...op.i32GtS, ...op.brIf(1)],
    ...[...op.get(p), ...source(-1), ...op.i32Store(0)],
    ...[...op.get(p), ...source(1), ...op.i32Store(4)],
    ...[...op.get(p), ...op.get(kernel), ...op.get(i), ...op.i32Const(3), ...op.i32Shl, ...op.i32Add, ...op.f64Load(0)],
    ...op.f64Store(8),
    ...[...op.get(p), ...op.i32Const(16), ...op.i32Add, ...op.set(p)],
    ...[...op.get(i), ...op.i32Const(1), ...op.i32Add, ...op.set(i), ...op.br(0)],
    ...op.end,
    ...op.end,
    ...[...op.get(src), ...op.get(y), ...op.get(stride64), ...op.i32Mul, ...op.i32Add, ...op.set(centre)],
    ...[...op.get(dst), ...op.get(y), ...op.get(stride), ...op.i32Mul, ...op.i32Add, ...op.set(target)],
    // rows y < direct in place (a spill past the row lands in rows computed later), the others through out
    ...[...op.get(y), ...op.get(direct), ...op.i32LtS, ...op.i32Eqz],
    ...op.if,
    ...[...op.get(centre), ...op.get(out), ...op.get(width), ...op.get(taps), ...op.get(groups), ...op.get(singles)],
    ...[...op.get(k0), ...op.call(VROW)],
    ...[...op.get(target), ...op.get(out), ...op.get(stride), ...op.memoryCopy],
    ...op.else,
    ...[...op.get(centre), ...op.get(target), ...op.get(width), ...op.get(taps), ...op.get(groups), ...op.get(singles)],
    ...[...op.get(k0), ...op.call(VROW)],
    ...op.end,
    ...[...op.get(y), ...op.i32Const(1), ...op.i32Add, ...op.set(y), ...op.br(0)],
    ...op.end,
    ...op.end,
  ];
  return {
    name: 'vpass',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32],
    locals: [
      [9, I32],
      [1, F64],
    ],
    code,
  };
}

let compiled: object | undefined;

type Pass = (
  src: number,
  dst: number,
  width: number,
  height: number,
  kernel: number,
  radius: number,
  table: number,
  out: number,
  indices: number,
  direct: number,
) => void;

interface Exports {
  hpass: Pass;
  vpass: Pass;
  hrow(row: number, out: number, width: number, kernel: number, radius: number): void;
  vrow(centre: number, out: number, width: number, taps: number, groups: number, singles: number, k0: number): void;
  drow(
    row: number,
    stride: number,
    px: number,
    jLo: number,
    jHi: number,
    i: number,
    wy: number,
    weights: number,
    hist: number,
    cosT: number,
    sinT: number,
    ori: number,
    binsPerDegree: number,
  ): void;
  dwin(
    img: number,
    stride: number,
    width: number,
    height: number,
    px: number,
    py: number,
    radius: number,
    weights: number,
    hist: number,
    cosT: number,
    sinT: number,
    ori: number,
    binsPerDegree: number,
  ): void;
  orient(
    img: number,
    stride: number,
    height: number,
    px: number,
    py: number,
    radius: number,
    jLo: number,
    jHi: number,
    weights: number,
    temp: number,
    binsPerDegree: number,
  ): void;
  erow(
    g0: number,
    g1: number,
    g2: number,
    g3: number,
    stride: number,
    row: number,
    cLo: number,
    cHi: number,
    threshold: number,
    out: number,
  ): number;
}

/** Float64 row and column weights reserved for orientation and descriptor windows (radius up to 2047 pixels). */
const DESCRIPTOR_WEIGHTS = 4095;
/** The orientation histogram's 36 bins with two on each side. */
const ORIENTATION_TEMP = 40;
/** The descriptor's grid: (4 + 2) x (4 + 2) cells of 8 + 2 orientation bins. */
const DESCRIPTOR_CELLS = 6 * 6 * 10;

const PAGE = 65536;
/** Bytes kept free at the end of the memory: a step reads up to BLUR_STEP - 1 floats past a plane's last row. */
const SLACK = 4 * BLUR_STEP + 64;

/**
 * One linear memory: `floats` floats of planes for the caller (views from `plane`), then the blur's own rows and
 * tables for planes up to maxWidth wide and kernels up to maxRadius, the descriptor's histogram and weights, and
 * the extremum scan's output row.
 */
export class SimdPlanes {
  readonly memory: WasmMemory;
  /** The caller's part, floats [0, floats). */
  readonly floats: Float32Array;
  /** descriptor-wasm.ts's drow and orient, the histograms and the window weights they work on (views). */
  readonly descriptorRow: Exports['drow'];
  readonly descriptorWindow: Exports['dwin'];
  readonly orientationWindow: Exports['orient'];
  readonly descriptorHist: Float64Array;
  readonly orientationTemp: Float64Array;
  readonly windowWeights: Float64Array;
  /** extrema-wasm.ts's erow, and room for the columns it finds in one row. */
  readonly extremaRow: Exports['erow'];
  readonly extremaColumns: Int32Array;
  private readonly exports: Exports;
  private readonly heap: DataView;
  private readonly row: number;
  private readonly out: number;
  private readonly taps: number;
  private readonly kernel: number;
  private readonly plane64: number;
  private readonly pads: number;
  private readonly rows: number;
  readonly maxWidth: number;
  readonly maxHeight: number;
  readonly maxRadius: number;

  constructor(floats: number, maxWidth: number, maxHeight: number, maxRadius: number) {
    const align = (n: number) => Math.ceil(n / 16) * 16;
    // The horizontal pass's float64 plane (SLACK after it: vrow's last step reads past its last row), its float64
    // row and output row, then tables.
    this.plane64 = align(floats * 4);
    this.row = this.plane64 + align(maxWidth * maxHeight * 8) + SLACK;
    this.out = this.row + align((maxWidth + 2 * maxRadius + 2 * BLUR_STEP) * 8);
    this.taps = this.out + align(maxWidth + BLUR_STEP) * 8;
    this.kernel = this.taps + align(maxRadius * 16);
    const hist = this.kernel + align((maxRadius + 1) * 8);
    const weights = hist + align(DESCRIPTOR_CELLS * 8);
    const temp = weights + align(DESCRIPTOR_WEIGHTS * 8);
    const columns = temp + align(ORIENTATION_TEMP * 8);
    this.pads = columns + align(maxWidth * 4);
    this.rows = this.pads + align(maxRadius * 16);
    const bytes = this.rows + align((maxHeight + 2 * maxRadius) * 4) + SLACK;
    // Addresses are compared as signed 32-bit integers in the kernels: 2 GiB at most (SIFT on ~14 MP of input).
    if (!(bytes < 2 ** 31)) throw new RangeError(`${bytes} bytes of planes is more than the 2 GiB SimdPlanes holds`);
    this.memory = new wasm.Memory({ initial: Math.ceil(bytes / PAGE) });
    compiled ??= new wasm.Module(
      assembleModule([
        hrow(),
        vrow(),
        descriptorRow(),
        extremaRow(),
        hpass(),
        vpass(),
        orientationWindow(),
        descriptorWindow(),
      ]),
    );
    this.exports = new wasm.Instance(compiled, { m: { memory: this.memory } }).exports as unknown as Exports;
    this.floats = new Float32Array(this.memory.buffer, 0, floats);
    this.descriptorRow = this.exports.drow;
    this.descriptorWindow = this.exports.dwin;
    this.descriptorHist = new Float64Array(this.memory.buffer, hist, DESCRIPTOR_CELLS);
    this.windowWeights = new Float64Array(this.memory.buffer, weights, DESCRIPTOR_WEIGHTS);
    this.orientationWindow = this.exports.orient;
    this.orientationTemp = new Float64Array(this.memory.buffer, temp, ORIENTATION_TEMP);
    this.extremaRow = this.exports.erow;
    this.extremaColumns = new Int32Array(this.memory.buffer, columns, maxWidth);
    this.heap = new DataView(this.memory.buffer);
    this.maxWidth = maxWidth;
    this.maxHeight = maxHeight;
    this.maxRadius = maxRadius;
  }

  /** Whether this memory has room for `floats` floats of planes up to width x height blurred with up to `radius`. */
  fits(floats: number, width: number, height: number, radius: number): boolean {
    return (
      floats <= this.floats.length && width <= this.maxWidth && height <= this.maxHeight && radius <= this.maxRadius
    );
  }

  /** Bytes of linear memory held. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * dst = src blurred by the half kernel, exactly as blurPlane(src, dst, width, height, half, scratch, row) would
   * give; src and dst (width*height floats) are views of this.floats (they may be the same: the horizontal pass
   * reads src into this memory's own float64 plane before the vertical pass writes dst).
   */
  blur(src: Float32Array, dst: Float32Array, width: number, height: number, half: Float64Array) {
    const radius = half.length - 1;
    if (!this.fits(0, width, height, radius)) throw new RangeError('plane or kernel larger than reserved');
    for (const plane of [src, dst]) {
      if (plane.buffer !== this.memory.buffer || plane.length < width * height) {
        throw new RangeError('blur planes must be views of this memory holding width * height floats');
      }
    }
    const heap = this.heap;
    for (let i = 0; i <= radius; i++) heap.setFloat64(this.kernel + i * 8, half[i]!, true);
    // Reflect-101 borders: where each row's pads come from, and which source row each tap of each output row reads.
    for (let i = 1; i <= radius; i++) {
      const entry = this.pads + (i - 1) * 16;
      heap.setInt32(entry, (radius - i) * 8, true);
      heap.setInt32(entry + 4, reflect101(-i, width) * 4, true);
      heap.setInt32(entry + 8, (radius + width - 1 + i) * 8, true);
      heap.setInt32(entry + 12, reflect101(width - 1 + i, width) * 4, true);
    }
    for (let j = 0; j < height + 2 * radius; j++) {
      heap.setInt32(this.rows + j * 4, reflect101(j - radius, height) * width * 8, true);
    }
    // Rows are written in place, a step at a time: rows not a whole number of steps wide spill up to a step past
    // their end. In the float64 plane that lands in rows computed later or in the slack after it; in dst only the
    // rows whose spill stays inside the plane (vpass's `direct`: rows before it) are written in place.
    const direct = width % BLUR_STEP === 0 ? height : Math.max(0, height - 1 - Math.ceil((BLUR_STEP - 1) / width) + 1);
    const { hpass, vpass } = this.exports;
    hpass(src.byteOffset, this.plane64, width, height, this.kernel, radius, this.row, this.out, this.pads, 1);
    vpass(this.plane64, dst.byteOffset, width, height, this.kernel, radius, this.taps, this.out, this.rows, direct);
  }
}
