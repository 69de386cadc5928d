/**
 * The inner loop of SIFT's descriptor (sift.ts, DescriptorScratch.describe) as a WebAssembly function, one row of
 * the keypoint's window per call: the same float64 operations in the same order (OpenCV's polynomial fastAtan2
 * included), so the histogram and the descriptor come out bit for bit as the TypeScript loop makes them, without
 * its bounds checks. The 4 x 4 x 8 grid with one-cell borders and two spare orientation bins (6 x 6 x 10 float64
 * cells) is the caller's, in the module's memory.
 *
 * drow(row, stride, px, jLo, jHi, i, wy, weights, hist, cosT, sinT, ori, binsPerDegree): for j = jLo..jHi (chosen
 * so that px + j stays inside 1 .. width - 2), the pixel at column px + j of the image row at byte address `row`
 * (rows `stride` bytes apart) at window offset (i, j): rotated into the grid, skipped unless it falls in it, its
 * gradient's magnitude times wy * weights[j] (weights: address of the float64 column weight of j = 0) spread
 * trilinearly over row, column and orientation bins.
 */
import { EPS, P1, P3, P5, P7 } from './math.ts';
import { F64, I32, op, uleb, V128, type WasmFunction } from '../wasm-assembler.ts';

const f64x2Splat = op.simd(0x14);
const f64x2Lt = op.simd(0x49);
const f64x2Gt = op.simd(0x4a);
const f64x2Le = op.simd(0x4b);
const f64x2Ge = op.simd(0x4c);
const v128And = op.simd(0x4e);
const bitselect = op.simd(0x52);
const f64x2Floor = op.simd(0x75);
const f64x2Nearest = op.simd(0x94);
const i64x2Bitmask = op.simd(0xc4);
const f64x2Abs = op.simd(0xec);
const f64x2Sqrt = op.simd(0xef);
const f64x2Add = op.simd(0xf0);
const f64x2Sub = op.simd(0xf1);
const f64x2Mul = op.simd(0xf2);
const f64x2Div = op.simd(0xf3);
const v128Load = (offset: number) => op.simd(0x00, 3, ...uleb(offset));

const D = 4;
const N = 8;
const HALF = D / 2 - 0.5;
const COL = (N + 2) * 8;
const ROW = (D + 2) * (N + 2) * 8;
const select = [0x1b];

/**
 * OpenCV's fastAtan2(y, x) in degrees as math.ts computes it, on two lanes (f64x2 locals y, x; cc, c2, steep:
 * scratch), into `ang`: both of its branches' values, selected per lane.
 */
function fastAtan2x2(y: number, x: number, cc: number, c2: number, ang: number, steep: number): number[] {
  const splat = (v: number[]) => [...v, ...f64x2Splat];
  const poly = [
    ...[...op.get(cc), ...op.get(cc), ...f64x2Mul, ...op.set(c2)],
    ...[...splat(op.f64Const(P7)), ...op.get(c2), ...f64x2Mul, ...splat(op.f64Const(P5)), ...f64x2Add],
    ...[...op.get(c2), ...f64x2Mul, ...splat(op.f64Const(P3)), ...f64x2Add],
    ...[...op.get(c2), ...f64x2Mul, ...splat(op.f64Const(P1)), ...f64x2Add, ...op.get(cc), ...f64x2Mul],
  ];
  return [
    ...[...op.get(x), ...f64x2Abs, ...op.get(y), ...f64x2Abs, ...f64x2Ge, ...op.set(steep)],
    ...[...op.get(y), ...f64x2Abs, ...op.get(x), ...f64x2Abs, ...op.get(steep), ...bitselect],
    ...[...op.get(x), ...f64x2Abs, ...op.get(y), ...f64x2Abs, ...op.get(steep), ...bitselect],
    ...[...splat(op.f64Const(EPS)), ...f64x2Add, ...f64x2Div, ...op.set(cc)],
    ...poly,
    ...op.set(ang),
    ...[...op.get(ang), ...splat(op.f64Const(90)), ...op.get(ang), ...f64x2Sub, ...op.get(steep), ...bitselect],
    ...op.set(ang),
    ...[...splat(op.f64Const(180)), ...op.get(ang), ...f64x2Sub, ...op.get(ang)],
    ...[...op.get(x), ...splat(op.f64Const(0)), ...f64x2Lt, ...bitselect, ...op.set(ang)],
    ...[...splat(op.f64Const(360)), ...op.get(ang), ...f64x2Sub, ...op.get(ang)],
    ...[...op.get(y), ...splat(op.f64Const(0)), ...f64x2Lt, ...bitselect, ...op.set(ang)],
  ];
}

/** Bins of the orientation histogram (sift.ts's ORI_HIST_BINS). */
const ORI_BINS = 36;

/**
 * orient(img, stride, height, px, py, radius, jLo, jHi, weights, temp, binsPerDegree): the raw orientation
 * histogram of sift.ts's orientationHistogram: for rows py + i (i = -radius..radius, inside 1 .. height - 2) and
 * columns px + j (j = jLo..jHi), temp[2 + bin] += weights[i] * weights[j] * |gradient|, bin = cvRound(binsPerDegree *
 * fastAtan2(dy, dx)) mod 36 (weights: address of the float64 weight of offset 0; temp: float64).
 */
export function orientationWindow(): WasmFunction {
  const [img, stride, height, px, py, radius, jLo, jHi, weights, temp, bpd] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [i, j, y, p, bin, rowAt] = [11, 12, 13, 14, 15, 16];
  // f64x2 locals: two columns j, j + 1 at a time
  const [wyV, dx, dy, cc, c2, ang, steep, mag, bins] = [17, 18, 19, 20, 21, 22, 23, 24, 25];
  /** Two floats at p + offset, widened. */
  const pixels = (offset: number) => [...op.simd(0x5d, 2, ...uleb(offset)), ...op.simd(0x5f)];
  /** Lane k: bin wrapped into 0..35, temp[2 + bin] += mag (unless j + k > jHi). */
  const scatter = (k: number) => [
    ...op.block,
    ...(k === 1 ? [...op.get(j), ...op.get(jHi), ...op.i32GeS, ...op.brIf(0)] : []),
    ...[...op.get(bins), ...op.simd(0x1b, k), ...op.set(bin)],
    ...[...op.get(bin), ...op.i32Const(ORI_BINS), ...op.i32Sub, ...op.get(bin), ...op.get(bin)],
    ...[...op.i32Const(ORI_BINS), ...op.i32GeS, ...select, ...op.set(bin)],
    ...[...op.get(bin), ...op.i32Const(ORI_BINS), ...op.i32Add, ...op.get(bin), ...op.get(bin), ...op.i32Const(0)],
    ...[...op.i32LtS, ...select, ...op.set(bin)],
    ...[...op.get(temp), ...op.get(bin), ...op.i32Const(3), ...op.i32Shl, ...op.i32Add, ...op.tee(p)],
    ...[...op.get(p), ...op.f64Load(16), ...op.get(mag), ...op.simd(0x21, k), ...op.f64Add, ...op.f64Store(16)],
    ...op.end,
  ];
  const code = [
    ...[...op.i32Const(0), ...op.get(radius), ...op.i32Sub, ...op.set(i)],
    ...op.block,
    ...op.loop,
    ...[...op.get(i), ...op.get(radius), ...op.i32GtS, ...op.brIf(1)],
    ...op.block,
    ...[...op.get(py), ...op.get(i), ...op.i32Add, ...op.tee(y), ...op.i32Const(0), ...op.i32LeS, ...op.brIf(0)],
    ...[...op.get(y), ...op.get(height), ...op.i32Const(1), ...op.i32Sub, ...op.i32GeS, ...op.brIf(0)],
    ...[...op.get(weights), ...op.get(i), ...op.i32Const(3), ...op.i32Shl, ...op.i32Add, ...op.f64Load(0)],
    ...[...f64x2Splat, ...op.set(wyV)],
    ...[...op.get(img), ...op.get(y), ...op.get(stride), ...op.i32Mul, ...op.i32Add, ...op.set(rowAt)],
    ...[...op.get(jLo), ...op.set(j)],
    ...op.block,
    ...op.loop,
    ...[...op.get(j), ...op.get(jHi), ...op.i32GtS, ...op.brIf(1)],
    // p = address of the pixel left of (px + j)
    ...[...op.get(rowAt), ...op.get(px), ...op.get(j), ...op.i32Add, ...op.i32Const(1), ...op.i32Sub],
    ...[...op.i32Const(2), ...op.i32Shl, ...op.i32Add, ...op.set(p)],
    ...[...op.get(p), ...pixels(8), ...op.get(p), ...pixels(0), ...f64x2Sub, ...op.set(dx)],
    ...[...op.get(p), ...op.get(stride), ...op.i32Sub, ...pixels(4)],
    ...[...op.get(p), ...op.get(stride), ...op.i32Add, ...pixels(4), ...f64x2Sub, ...op.set(dy)],
    ...fastAtan2x2(dy, dx, cc, c2, ang, steep),
    // bins = cvRound(binsPerDegree * ang) (nearest: halves to even, as cvRound) as int32 lanes
    ...[...op.get(bpd), ...f64x2Splat, ...op.get(ang), ...f64x2Mul, ...f64x2Nearest, ...op.simd(0xfc), ...op.set(bins)],
    // mag = wy * weights[j] * sqrt(dx dx + dy dy)
    ...[
      ...op.get(wyV),
      ...op.get(weights),
      ...op.get(j),
      ...op.i32Const(3),
      ...op.i32Shl,
      ...op.i32Add,
      ...v128Load(0),
    ],
    ...[...f64x2Mul, ...op.get(dx), ...op.get(dx), ...f64x2Mul, ...op.get(dy), ...op.get(dy), ...f64x2Mul],
    ...[...f64x2Add, ...f64x2Sqrt, ...f64x2Mul, ...op.set(mag)],
    ...scatter(0),
    ...scatter(1),
    ...[...op.get(j), ...op.i32Const(2), ...op.i32Add, ...op.set(j), ...op.br(0)],
    ...op.end,
    ...op.end,
    ...op.end,
    ...[...op.get(i), ...op.i32Const(1), ...op.i32Add, ...op.set(i), ...op.br(0)],
    ...op.end,
    ...op.end,
  ];
  return {
    name: 'orient',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F64],
    locals: [
      [6, I32],
      [9, V128],
    ],
    code,
  };
}

export function descriptorRow(): WasmFunction {
  const [row, stride, px, jLo, jHi, i, wy, weights, hist, cosT, sinT, ori, bpd] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
  ];
  const [j, a, mask] = [13, 14, 15];
  const [obin, t, v00s, v01s, v10s, v11s] = [16, 17, 18, 19, 20, 21];
  // f64x2 locals: two columns j, j + 1 at a time
  const [jv, rbin, cbin, dx, dy, mag, ob, fr, fc, cc, c2, ang, steep, v1, v0, v11, v10, v01, v00, r0, c0, o0v] = [
    22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
  ];
  const [sinV, cosV, isinV, icosV, jHiV, oi, cell] = [44, 45, 46, 47, 48, 49, 50];
  const splat = (x: number[]) => [...x, ...f64x2Splat];
  /** hist[a + offset] += value on the stack. */
  const add = (offset: number, value: number[]) => [
    ...op.get(a),
    ...op.get(a),
    ...op.f64Load(offset),
    ...value,
    ...op.f64Add,
    ...op.f64Store(offset),
  ];
  /** The pair of orientation bins for one corner: corner - corner * obin into o0, corner * obin into o0 + 1. */
  const corner = (offset: number, v: number) => [
    ...[...op.get(v), ...op.get(obin), ...op.f64Mul, ...op.set(t)],
    ...add(offset, [...op.get(v), ...op.get(t), ...op.f64Sub]),
    ...add(offset + 8, op.get(t)),
  ];
  const lane = (v: number, k: number) => [...op.get(v), ...op.simd(0x21, k)];
  const int = (v: number) => [...op.get(v), ...op.simd(0xfc)];
  const i32x4 = (value: number) => [...op.i32Const(value), ...op.simd(0x11)];
  const [i32x4Add, i32x4Sub, i32x4Mul, i32x4Shl] = [op.simd(0xae), op.simd(0xb1), op.simd(0xb5), op.simd(0xab)];
  /**
   * cell = hist + 8 ((((r0 + 1) (d + 2) + c0 + 1) (n + 2)) + o0), o0 wrapped into 0..n-1, for both lanes (int32
   * lanes 0 and 1): the address of the sample's first histogram entry.
   */
  const cells = [
    ...[...int(o0v), ...op.set(oi)],
    ...[...op.get(oi), ...i32x4(N), ...i32x4Add, ...op.get(oi), ...op.get(oi), ...i32x4(0), ...op.simd(0x39)],
    ...[...bitselect, ...op.set(oi)],
    ...[...op.get(oi), ...i32x4(N), ...i32x4Sub, ...op.get(oi), ...op.get(oi), ...i32x4(N), ...op.simd(0x3f)],
    ...[...bitselect, ...op.set(oi)],
    ...[...int(r0), ...i32x4(1), ...i32x4Add, ...i32x4(D + 2), ...i32x4Mul, ...int(c0), ...i32x4Add],
    ...[...i32x4(1), ...i32x4Add, ...i32x4(N + 2), ...i32x4Mul, ...op.get(oi), ...i32x4Add],
    ...[...op.i32Const(3), ...i32x4Shl, ...op.get(hist), ...op.simd(0x11), ...i32x4Add, ...op.set(cell)],
  ];
  /** Lane k's sample added into the histogram, as the scalar loop adds it (skipped unless in the grid). */
  const scatter = (k: number) => [
    ...op.block,
    ...[...op.get(mask), ...op.i32Const(1 << k), ...op.i32And, ...op.i32Eqz, ...op.brIf(0)],
    ...[...op.get(cell), ...op.simd(0x1b, k), ...op.set(a)],
    ...[...lane(ob, k), ...op.set(obin)],
    ...[...lane(v00, k), ...op.set(v00s), ...lane(v01, k), ...op.set(v01s)],
    ...[...lane(v10, k), ...op.set(v10s), ...lane(v11, k), ...op.set(v11s)],
    ...corner(0, v00s),
    ...corner(COL, v01s),
    ...corner(ROW, v10s),
    ...corner(ROW + COL, v11s),
    ...op.end,
  ];
  /** Two floats at a + offset, widened. */
  const pixels = (offset: number) => [...op.simd(0x5d, 2, ...uleb(offset)), ...op.simd(0x5f)];
  const code = [
    ...[...op.get(sinT), ...f64x2Splat, ...op.set(sinV), ...op.get(cosT), ...f64x2Splat, ...op.set(cosV)],
    ...[...op.get(i), ...op.get(sinT), ...op.f64Mul, ...f64x2Splat, ...op.set(isinV)],
    ...[...op.get(i), ...op.get(cosT), ...op.f64Mul, ...f64x2Splat, ...op.set(icosV)],
    ...[...op.get(jHi), ...op.f64ConvertI32S, ...f64x2Splat, ...op.set(jHiV)],
    // jv = (jLo, jLo + 1)
    ...[...op.get(jLo), ...op.f64ConvertI32S, ...f64x2Splat, ...op.v128Const([0, 1]), ...f64x2Add, ...op.set(jv)],
    ...[...op.get(jLo), ...op.set(j)],
    ...op.block,
    ...op.loop,
    ...[...op.get(j), ...op.get(jHi), ...op.i32GtS, ...op.brIf(1)],
    ...op.block,
    // rbin = (j sinT + i cosT) + half, cbin = (j cosT - i sinT) + half; lanes in the grid (and j <= jHi)
    ...[...op.get(jv), ...op.get(sinV), ...f64x2Mul, ...op.get(icosV), ...f64x2Add],
    ...[...splat(op.f64Const(HALF)), ...f64x2Add, ...op.set(rbin)],
    ...[...op.get(jv), ...op.get(cosV), ...f64x2Mul, ...op.get(isinV), ...f64x2Sub],
    ...[...splat(op.f64Const(HALF)), ...f64x2Add, ...op.set(cbin)],
    ...[...op.get(rbin), ...splat(op.f64Const(-1)), ...f64x2Gt, ...op.get(rbin), ...splat(op.f64Const(D)), ...f64x2Lt],
    ...v128And,
    ...[...op.get(cbin), ...splat(op.f64Const(-1)), ...f64x2Gt, ...v128And],
    ...[...op.get(cbin), ...splat(op.f64Const(D)), ...f64x2Lt, ...v128And],
    ...[...op.get(jv), ...op.get(jHiV), ...f64x2Le, ...v128And],
    ...[...i64x2Bitmask, ...op.tee(mask), ...op.i32Eqz, ...op.brIf(0)],
    // a = address of the pixel left of (px + j)
    ...[...op.get(row), ...op.get(px), ...op.get(j), ...op.i32Add, ...op.i32Const(1), ...op.i32Sub],
    ...[...op.i32Const(2), ...op.i32Shl, ...op.i32Add, ...op.set(a)],
    ...[...op.get(a), ...pixels(8), ...op.get(a), ...pixels(0), ...f64x2Sub, ...op.set(dx)],
    ...[...op.get(a), ...op.get(stride), ...op.i32Sub, ...pixels(4)],
    ...[...op.get(a), ...op.get(stride), ...op.i32Add, ...pixels(4), ...f64x2Sub, ...op.set(dy)],
    // mag = sqrt(dx dx + dy dy) * wy * weights[j]
    ...[...op.get(dx), ...op.get(dx), ...f64x2Mul, ...op.get(dy), ...op.get(dy), ...f64x2Mul, ...f64x2Add],
    ...[...f64x2Sqrt, ...op.get(wy), ...f64x2Splat, ...f64x2Mul],
    ...[...op.get(weights), ...op.get(j), ...op.i32Const(3), ...op.i32Shl, ...op.i32Add, ...v128Load(0)],
    ...[...f64x2Mul, ...op.set(mag)],
    ...fastAtan2x2(dy, dx, cc, c2, ang, steep),
    // obin = (ang - ori) * binsPerDegree; floors and fractions
    ...[...op.get(ang), ...op.get(ori), ...f64x2Splat, ...f64x2Sub, ...op.get(bpd), ...f64x2Splat, ...f64x2Mul],
    ...op.set(ob),
    ...[...op.get(rbin), ...f64x2Floor, ...op.tee(r0), ...op.get(rbin), ...op.get(r0), ...f64x2Sub, ...op.set(fr)],
    ...op.drop,
    ...[...op.get(cbin), ...f64x2Floor, ...op.tee(c0), ...op.get(cbin), ...op.get(c0), ...f64x2Sub, ...op.set(fc)],
    ...op.drop,
    ...[...op.get(ob), ...f64x2Floor, ...op.set(o0v)],
    ...[...op.get(ob), ...op.get(o0v), ...f64x2Sub, ...op.set(ob)],
    // trilinear weights, as the TypeScript loop computes them
    ...[...op.get(mag), ...op.get(fr), ...f64x2Mul, ...op.set(v1)],
    ...[...op.get(mag), ...op.get(v1), ...f64x2Sub, ...op.set(v0)],
    ...[...op.get(v1), ...op.get(fc), ...f64x2Mul, ...op.set(v11)],
    ...[...op.get(v1), ...op.get(v11), ...f64x2Sub, ...op.set(v10)],
    ...[...op.get(v0), ...op.get(fc), ...f64x2Mul, ...op.set(v01)],
    ...[...op.get(v0), ...op.get(v01), ...f64x2Sub, ...op.set(v00)],
    ...cells,
    ...scatter(0),
    ...scatter(1),
    ...op.end,
    ...[...op.get(j), ...op.i32Const(2), ...op.i32Add, ...op.set(j)],
    ...[...op.get(jv), ...splat(op.f64Const(2)), ...f64x2Add, ...op.set(jv), ...op.br(0)],
    ...op.end,
    ...op.end,
  ];
  return {
    name: 'drow',
    params: [I32, I32, I32, I32, I32, F64, F64, I32, I32, F64, F64, F64, F64],
    locals: [
      [3, I32],
      [6, F64],
      [29, V128],
    ],
    code,
  };
}

/** drow's index in the module (blur-simd.ts assembles [hrow, vrow, drow, ...]). */
const DROW = 2;

/**
 * dwin(img, stride, width, height, px, py, radius, weights, hist, cosT, sinT, ori, binsPerDegree): drow over a
 * keypoint's whole window, rows py + i for i = -radius..radius inside 1 .. height - 2, each over the columns the
 * TypeScript loop visits: those inside 1 .. width - 2 whose rotated position can land in the grid (with one to
 * spare each side; drow's exact test decides). weights: address of the float64 weight of offset 0.
 */
export function descriptorWindow(): WasmFunction {
  const [img, stride, width, height, px, py, radius, weights, hist, cosT, sinT, ori, bpd] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
  ];
  const [i, y] = [13, 14];
  const [lo, hi, fi, qa, qb] = [15, 16, 17, 18, 19];
  const reach = HALF + 1;
  /** Narrows [lo, hi] to the j with |j coef + offset| < reach (when |coef| > 1e-9), a column to spare each side. */
  const narrow = (coef: number, offset: number[]) => [
    ...[...op.get(coef), ...op.f64Abs, ...op.f64Const(1e-9), ...op.f64Gt],
    ...op.if,
    ...[...op.f64Const(-reach), ...offset, ...op.f64Add, ...op.get(coef), ...op.f64Div, ...op.set(qa)],
    ...[...op.f64Const(reach), ...offset, ...op.f64Add, ...op.get(coef), ...op.f64Div, ...op.set(qb)],
    ...[...op.get(lo), ...op.get(qa), ...op.get(qb), ...op.f64Min, ...op.f64Floor, ...op.f64Const(1), ...op.f64Sub],
    ...[...op.f64Max, ...op.set(lo)],
    ...[...op.get(hi), ...op.get(qa), ...op.get(qb), ...op.f64Max, ...op.f64Ceil, ...op.f64Const(1), ...op.f64Add],
    ...[...op.f64Min, ...op.set(hi)],
    ...op.end,
  ];
  const code = [
    ...[...op.i32Const(0), ...op.get(radius), ...op.i32Sub, ...op.set(i)],
    ...op.block,
    ...op.loop,
    ...[...op.get(i), ...op.get(radius), ...op.i32GtS, ...op.brIf(1)],
    ...op.block,
    ...[...op.get(py), ...op.get(i), ...op.i32Add, ...op.tee(y), ...op.i32Const(0), ...op.i32LeS, ...op.brIf(0)],
    ...[...op.get(y), ...op.get(height), ...op.i32Const(1), ...op.i32Sub, ...op.i32GeS, ...op.brIf(0)],
    ...[...op.get(i), ...op.f64ConvertI32S, ...op.set(fi)],
    // lo = max(-radius, 1 - px), hi = min(radius, width - 2 - px), as float64 until narrowed
    ...[...op.i32Const(0), ...op.get(radius), ...op.i32Sub, ...op.f64ConvertI32S],
    ...[...op.i32Const(1), ...op.get(px), ...op.i32Sub, ...op.f64ConvertI32S, ...op.f64Max, ...op.set(lo)],
    ...[...op.get(radius), ...op.f64ConvertI32S],
    ...[...op.get(width), ...op.i32Const(2), ...op.i32Sub, ...op.get(px), ...op.i32Sub, ...op.f64ConvertI32S],
    ...[...op.f64Min, ...op.set(hi)],
    // |j cosT - i sinT| < reach and |j sinT + i cosT| < reach
    ...narrow(cosT, [...op.get(fi), ...op.get(sinT), ...op.f64Mul]),
    ...narrow(sinT, [...op.get(fi), ...op.get(cosT), ...op.f64Mul, ...op.f64Neg]),
    ...[...op.get(lo), ...op.get(hi), ...op.f64Gt, ...op.brIf(0)],
    ...[...op.get(img), ...op.get(y), ...op.get(stride), ...op.i32Mul, ...op.i32Add, ...op.get(stride)],
    ...[...op.get(px), ...op.get(lo), ...op.i32TruncSatF64S, ...op.get(hi), ...op.i32TruncSatF64S],
    ...[
      ...op.get(fi),
      ...op.get(weights),
      ...op.get(i),
      ...op.i32Const(3),
      ...op.i32Shl,
      ...op.i32Add,
      ...op.f64Load(0),
    ],
    ...[...op.get(weights), ...op.get(hist), ...op.get(cosT), ...op.get(sinT), ...op.get(ori), ...op.get(bpd)],
    ...op.call(DROW),
    ...op.end,
    ...[...op.get(i), ...op.i32Const(1), ...op.i32Add, ...op.set(i), ...op.br(0)],
    ...op.end,
    ...op.end,
  ];
  return {
    name: 'dwin',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, F64, F64, F64, F64],
    locals: [
      [2, I32],
      [5, F64],
    ],
    code,
  };
}
