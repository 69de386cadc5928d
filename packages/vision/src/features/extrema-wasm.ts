/**
 * The scan for SIFT's scale-space extrema (sift.ts, findExtrema and isExtremum) as a WebAssembly function, one
 * row at a time: a pixel whose difference of Gaussians |G2 - G1| exceeds the threshold and is >= (positive) or
 * <= (negative) all 26 neighbours in DoG layers G1 - G0, G2 - G1 and G3 - G2. The same float64 differences of the
 * float32 planes as the TypeScript test, so the same pixels are found, in the same order (extrema-wasm.test.ts).
 *
 * erow(g0, g1, g2, g3, stride, row, cLo, cHi, threshold, out) -> count: planes' byte addresses, bytes per row, the
 * row's byte offset in a plane, columns cLo .. cHi - 1; the columns found are written to `out` (int32) and counted.
 */
import { F64, I32, op, type WasmFunction } from './wasm-assembler.ts';

export function extremaRow(): WasmFunction {
  const [g0, g1, g2, g3, stride, row, cLo, cHi, threshold, out] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [c, p, n, up, down] = [10, 11, 12, 13, 14];
  const val = 15;
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
  const code = [
    ...[...op.i32Const(0), ...op.set(n), ...op.get(cLo), ...op.set(c)],
    ...op.block,
    ...op.loop,
    ...[...op.get(c), ...op.get(cHi), ...op.i32GeS, ...op.brIf(1)],
    ...op.block,
    // p = row + (c - 1) * 4: the pixel left of c, so the three columns are at offsets 0, 4, 8
    ...[...op.get(row), ...op.get(c), ...op.i32Const(1), ...op.i32Sub, ...op.i32Const(2), ...op.i32Shl, ...op.i32Add],
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
    ...[...op.get(out), ...op.get(n), ...op.i32Const(2), ...op.i32Shl, ...op.i32Add, ...op.get(c), ...op.i32Store(0)],
    ...[...op.get(n), ...op.i32Const(1), ...op.i32Add, ...op.set(n)],
    ...op.end,
    ...[...op.get(c), ...op.i32Const(1), ...op.i32Add, ...op.set(c), ...op.br(0)],
    ...op.end,
    ...op.end,
    ...op.get(n),
  ];
  return {
    name: 'erow',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, F64, I32],
    results: [I32],
    locals: [
      [5, I32],
      [1, F64],
    ],
    code,
  };
}
