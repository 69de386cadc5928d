/**
 * The scan for SIFT's scale-space extrema (sift.ts, findExtrema and isExtremum) as a WebAssembly function, one
 * row at a time: a pixel whose difference of Gaussians |G2 - G1| exceeds the threshold and is >= (positive) or
 * <= (negative) all 26 neighbours in DoG layers G1 - G0, G2 - G1 and G3 - G2. The same float64 differences of the
 * float32 planes as the TypeScript test, so the same pixels are found, in the same order (extrema-wasm.test.ts).
 *
 * erow(g0, g1, g2, g3, stride, row, cLo, cHi, threshold, out) -> count: planes' byte addresses, bytes per row, the
 * row's byte offset in a plane, columns cLo .. cHi - 1; the columns found are written to `out` (int32) and counted.
 */
import { F64, I32, op, uleb, V128, type WasmFunction } from '../wasm-assembler.ts';

const v128Load = (offset: number) => op.simd(0x00, 0, ...uleb(offset));
const f32x4Splat = op.simd(0x13);
const f32x4Eq = op.simd(0x41);
const f32x4Le = op.simd(0x45);
const f32x4Ge = op.simd(0x46);
const v128And = op.simd(0x4e);
const v128Or = op.simd(0x50);
const i32x4Bitmask = op.simd(0xa4);
const f32x4Neg = op.simd(0xe1);
const f32x4Sub = op.simd(0xe5);
const pmin = op.simd(0xea);
const pmax = op.simd(0xeb);

export function extremaRow(): WasmFunction {
  const [g0, g1, g2, g3, stride, row, cLo, cHi, threshold, out] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [c, p, n, up, down, x, q, mask] = [10, 11, 12, 13, 14, 15, 16, 17];
  const val = 18;
  const [thr, dm, d0, dp, vmax, vmin] = [19, 20, 21, 22, 23, 24];
  /** Address of plane `g` at pixel p + dr rows + dc columns (dc -1, 0, 1), as an f64. */
  const pixel = (g: number, dr: number, dc: number) => [
    ...op.get(g),
    ...op.get(dr < 0 ? up : dr > 0 ? down : p),
    ...op.i32Add,
    ...op.f32Load(4 * (dc + 1)),
    ...op.f64PromoteF32,
  ];
  // Neighbours in isExtremum's order: the extremum's own layer first, then the layers above and below.
  const around: [number, number][] = [
    [0, -1],
    [0, 1],
    [-1, -1],
    [-1, 0],
    [-1, 1],
    [1, -1],
    [1, 0],
    [1, 1],
  ];
  const neighbours: [number, number, number, number][] = [
    ...around.map(([dr, dc]) => [g2, g1, dr, dc] as [number, number, number, number]),
    [g3, g2, 0, 0],
    [g1, g0, 0, 0],
    ...around.flatMap(([dr, dc]) => [
      [g3, g2, dr, dc] as [number, number, number, number],
      [g1, g0, dr, dc] as [number, number, number, number],
    ]),
  ];
  /** Falls out of the pixel's block (depth 1 from inside the if) unless val compares as wanted with each. */
  const all = (compare: number[]) =>
    neighbours.flatMap(([upper, lower, dr, dc]) => [
      ...op.get(val),
      ...pixel(upper, dr, dc),
      ...pixel(lower, dr, dc),
      ...op.f64Sub,
      ...compare,
      ...op.i32Eqz,
      ...op.brIf(1),
    ]);
  /** The exact test of column x (p, up, down set from it), appending x to `out` if it is an extremum. */
  const exact = (x: number) => [
    ...op.block,
    // p = row + (x - 1) * 4: the pixel left of x, so the three columns are at offsets 0, 4, 8
    ...[...op.get(row), ...op.get(x), ...op.i32Const(1), ...op.i32Sub, ...op.i32Const(2), ...op.i32Shl, ...op.i32Add],
    ...op.set(p),
    ...[...pixel(g2, 0, 0), ...pixel(g1, 0, 0), ...op.f64Sub, ...op.set(val)],
    ...[...op.get(val), ...op.f64Abs, ...op.get(threshold), ...op.f64Gt, ...op.i32Eqz, ...op.brIf(0)],
    ...[...op.get(p), ...op.get(stride), ...op.i32Sub, ...op.set(up)],
    ...[...op.get(p), ...op.get(stride), ...op.i32Add, ...op.set(down)],
    ...[...op.get(val), ...op.f64Const(0), ...op.f64Gt],
    ...op.if,
    ...all(op.f64Ge),
    ...op.else,
    ...all(op.f64Le),
    ...op.end,
    ...[...op.get(out), ...op.get(n), ...op.i32Const(2), ...op.i32Shl, ...op.i32Add, ...op.get(x), ...op.i32Store(0)],
    ...[...op.get(n), ...op.i32Const(1), ...op.i32Add, ...op.set(n)],
    ...op.end,
  ];
  // The prefilter, 4 columns c..c+3 at a time in float32: the DoG (g2 - g1) rounded to float32 is monotone in
  // the exact difference, so an exact extremum beyond the threshold has a float32 DoG >= the threshold (exactly a
  // float32) or <= minus it, and equal to the largest (or smallest) float32 DoG of its 3 x 3 neighbourhood in its
  // own layer. Columns failing that cannot pass the exact test and are skipped; the others are tested exactly.
  const dog = (at: number, offset: number) => [
    ...[...op.get(g2), ...op.get(at), ...op.i32Add, ...v128Load(offset)],
    ...[...op.get(g1), ...op.get(at), ...op.i32Add, ...v128Load(offset), ...f32x4Sub],
  ];
  /** Horizontal max and min of the DoG at columns c-1, c, c+1 (lanes c..c+3) of the row at address q. */
  const across = (q: number, first: boolean) => [
    ...[...dog(q, 0), ...op.set(dm), ...dog(q, 4), ...op.set(d0), ...dog(q, 8), ...op.set(dp)],
    ...(first ? [] : op.get(vmax)),
    ...[...op.get(dm), ...op.get(d0), ...pmax, ...op.get(dp), ...pmax],
    ...(first ? [] : pmax),
    ...op.set(vmax),
    ...(first ? [] : op.get(vmin)),
    ...[...op.get(dm), ...op.get(d0), ...pmin, ...op.get(dp), ...pmin],
    ...(first ? [] : pmin),
    ...op.set(vmin),
  ];
  const code = [
    ...[...op.i32Const(0), ...op.set(n), ...op.get(cLo), ...op.set(c)],
    ...[...op.get(threshold), ...op.f32DemoteF64, ...f32x4Splat, ...op.set(thr)],
    ...op.block,
    ...op.loop,
    ...[...op.get(c), ...op.get(cHi), ...op.i32GeS, ...op.brIf(1)],
    // q = row + (c - 1) * 4, and the rows above and below
    ...[...op.get(row), ...op.get(c), ...op.i32Const(1), ...op.i32Sub, ...op.i32Const(2), ...op.i32Shl, ...op.i32Add],
    ...op.tee(q),
    ...[...op.get(stride), ...op.i32Sub, ...op.set(up)],
    ...across(up, true),
    ...[...op.get(q), ...op.get(stride), ...op.i32Add, ...op.set(down)],
    ...across(down, false),
    ...across(q, false),
    // d0 is now the own row's DoG at c..c+3
    ...[...op.get(d0), ...op.get(thr), ...f32x4Ge, ...op.get(d0), ...op.get(vmax), ...f32x4Eq, ...v128And],
    ...[...op.get(d0), ...op.get(thr), ...f32x4Neg, ...f32x4Le, ...op.get(d0), ...op.get(vmin), ...f32x4Eq],
    ...[...v128And, ...v128Or, ...i32x4Bitmask, ...op.set(mask)],
    ...op.block,
    ...[...op.get(mask), ...op.i32Eqz, ...op.brIf(0)],
    ...[0, 1, 2, 3].flatMap((k) => [
      ...op.block,
      ...[...op.get(mask), ...op.i32Const(1 << k), ...op.i32And, ...op.i32Eqz, ...op.brIf(0)],
      ...[...op.get(c), ...op.i32Const(k), ...op.i32Add, ...op.tee(x), ...op.get(cHi), ...op.i32GeS, ...op.brIf(0)],
      ...exact(x),
      ...op.end,
    ]),
    ...op.end,
    ...[...op.get(c), ...op.i32Const(4), ...op.i32Add, ...op.set(c), ...op.br(0)],
    ...op.end,
    ...op.end,
    ...op.get(n),
  ];
  return {
    name: 'erow',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, F64, I32],
    results: [I32],
    locals: [
      [8, I32],
      [1, F64],
      [6, V128],
    ],
    code,
  };
}
