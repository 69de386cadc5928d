/**
 * A planar homography from point correspondences, robust to outliers (RANSAC), as OpenCV's
 * findHomography(RANSAC) is used after ratio-test matching:
 *
 *   const found = findHomography(src, dst, { reprojThreshold: 3 });
 *   if (found) projectPoint(found.matrix, { x: 0, y: 0 });
 *
 * Minimal samples of 4 correspondences give candidate models (normalised DLT with h33 = 1); the model with the
 * most inliers (reprojection error in dst below the threshold) wins, the number of iterations adapting to the
 * inlier ratio for the requested confidence; the winner is refitted by least squares on its inliers until the
 * inlier set stops changing. Sampling is seeded, so results are reproducible.
 */
import { seededRandom } from '@imgpipe/core';
export interface Point {
  x: number;
  y: number;
}

export interface HomographyOptions {
  /** Maximum reprojection error of an inlier, in dst pixels; default 3 (OpenCV's). */
  reprojThreshold?: number;
  /** Default 2000 (OpenCV's). */
  maxIters?: number;
  /** Default 0.995 (OpenCV's). */
  confidence?: number;
  /** Seed of the sampler; default 1. */
  seed?: number;
}

export interface Homography {
  /** Row-major 3x3, matrix[8] = 1: dst ~ H * src. */
  matrix: number[];
  /** inliers[i]: correspondence i agrees with the model. */
  inliers: boolean[];
  inlierCount: number;
}

export function projectPoint(matrix: readonly number[], p: Point): Point {
  const w = matrix[6]! * p.x + matrix[7]! * p.y + matrix[8]!;
  return {
    x: (matrix[0]! * p.x + matrix[1]! * p.y + matrix[2]!) / w,
    y: (matrix[3]! * p.x + matrix[4]! * p.y + matrix[5]!) / w,
  };
}

export function findHomography(
  src: readonly Point[],
  dst: readonly Point[],
  options: HomographyOptions = {},
): Homography | undefined {
  const n = Math.min(src.length, dst.length);
  if (n < 4) return undefined;
  const threshold = options.reprojThreshold ?? 3;
  const threshold2 = threshold * threshold;
  const confidence = options.confidence ?? 0.995;
  const maxIters = options.maxIters ?? 2000;
  const random = seededRandom(options.seed ?? 1);

  let bestModel: number[] | undefined;
  let bestCount = 0;
  let bestError = Number.POSITIVE_INFINITY;
  let iterations = maxIters;
  const sample = [0, 0, 0, 0];
  for (let iter = 0; iter < iterations; iter++) {
    if (!drawSample(sample, n, random, src)) continue;
    const model = solveDlt(
      sample.map((i) => src[i]!),
      sample.map((i) => dst[i]!),
    );
    if (!model) continue;
    let count = 0;
    let error = 0;
    for (let i = 0; i < n; i++) {
      const e = reprojectionError2(model, src[i]!, dst[i]!);
      if (e < threshold2) {
        count++;
        error += e;
      }
    }
    if (count > bestCount || (count === bestCount && error < bestError)) {
      bestModel = model;
      bestCount = count;
      bestError = error;
      iterations = Math.min(iterations, neededIterations(count / n, confidence, maxIters));
    }
  }
  if (!bestModel || bestCount < 4) return undefined;

  let model = bestModel;
  let inliers = classify(model, src, dst, n, threshold2);
  for (let round = 0; round < 10; round++) {
    const chosen = inliers.flatMap((inlier, i) => (inlier ? [i] : []));
    const refined = solveDlt(
      chosen.map((i) => src[i]!),
      chosen.map((i) => dst[i]!),
    );
    if (!refined) break;
    const next = classify(refined, src, dst, n, threshold2);
    const count = next.filter(Boolean).length;
    if (count < chosen.length) break;
    model = refined;
    const same = next.every((v, i) => v === inliers[i]);
    inliers = next;
    if (same) break;
  }
  return { matrix: model, inliers, inlierCount: inliers.filter(Boolean).length };
}

function classify(model: number[], src: readonly Point[], dst: readonly Point[], n: number, threshold2: number) {
  return Array.from({ length: n }, (_, i) => reprojectionError2(model, src[i]!, dst[i]!) < threshold2);
}

function reprojectionError2(model: number[], s: Point, d: Point): number {
  const p = projectPoint(model, s);
  const dx = p.x - d.x;
  const dy = p.y - d.y;
  const e = dx * dx + dy * dy;
  return Number.isFinite(e) ? e : Number.POSITIVE_INFINITY;
}

function neededIterations(inlierRatio: number, confidence: number, maxIters: number): number {
  const w4 = inlierRatio ** 4;
  if (w4 >= 1) return 0;
  if (w4 <= 0) return maxIters;
  const needed = Math.log(1 - confidence) / Math.log(1 - w4);
  return Number.isFinite(needed) ? Math.min(maxIters, Math.ceil(needed)) : maxIters;
}

/** Four distinct indices, no three of whose source points are (nearly) collinear. */
function drawSample(sample: number[], n: number, random: () => number, src: readonly Point[]): boolean {
  for (let attempt = 0; attempt < 100; attempt++) {
    for (let k = 0; k < 4; k++) {
      let index: number;
      do index = Math.floor(random() * n);
      while (sample.slice(0, k).includes(index));
      sample[k] = index;
    }
    const [a, b, c, d] = sample.map((i) => src[i]!) as [Point, Point, Point, Point];
    if (!collinear(a, b, c) && !collinear(a, b, d) && !collinear(a, c, d) && !collinear(b, c, d)) return true;
  }
  return false;
}

function collinear(a: Point, b: Point, c: Point): boolean {
  const area = Math.abs((b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x));
  const scale = Math.hypot(b.x - a.x, b.y - a.y) * Math.hypot(c.x - a.x, c.y - a.y);
  return area <= 1e-6 * scale || scale === 0;
}

/**
 * Least-squares DLT on Hartley-normalised points with h33 = 1: for each correspondence two rows of A h = b, solved
 * through the normal equations (8x8, Gaussian elimination with partial pivoting), then denormalised.
 */
function solveDlt(src: readonly Point[], dst: readonly Point[]): number[] | undefined {
  if (src.length < 4) return undefined;
  const ts = normaliser(src);
  const td = normaliser(dst);
  const ata = new Float64Array(64);
  const atb = new Float64Array(8);
  const row = new Float64Array(8);
  const add = (b: number) => {
    for (let i = 0; i < 8; i++) {
      atb[i]! += row[i]! * b;
      for (let j = 0; j < 8; j++) ata[i * 8 + j]! += row[i]! * row[j]!;
    }
  };
  for (let i = 0; i < src.length; i++) {
    const x = (src[i]!.x - ts.cx) * ts.s;
    const y = (src[i]!.y - ts.cy) * ts.s;
    const u = (dst[i]!.x - td.cx) * td.s;
    const v = (dst[i]!.y - td.cy) * td.s;
    row.set([x, y, 1, 0, 0, 0, -u * x, -u * y]);
    add(u);
    row.set([0, 0, 0, x, y, 1, -v * x, -v * y]);
    add(v);
  }
  const h = solve8(ata, atb);
  if (!h) return undefined;
  // H = Td^-1 * Hn * Ts
  const hn = [h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!, 1];
  const tsm = [ts.s, 0, -ts.s * ts.cx, 0, ts.s, -ts.s * ts.cy, 0, 0, 1];
  const tdInv = [1 / td.s, 0, td.cx, 0, 1 / td.s, td.cy, 0, 0, 1];
  const m = multiply(tdInv, multiply(hn, tsm));
  const scale = m[8]!;
  if (!Number.isFinite(scale) || Math.abs(scale) < 1e-12) return undefined;
  const out = m.map((v) => v / scale);
  return out.every(Number.isFinite) ? out : undefined;
}

function normaliser(points: readonly Point[]): { cx: number; cy: number; s: number } {
  let cx = 0;
  let cy = 0;
  for (const p of points) {
    cx += p.x;
    cy += p.y;
  }
  cx /= points.length;
  cy /= points.length;
  let mean = 0;
  for (const p of points) mean += Math.hypot(p.x - cx, p.y - cy);
  mean /= points.length;
  return { cx, cy, s: mean > 0 ? Math.SQRT2 / mean : 1 };
}

function multiply(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) out[i * 3 + j]! += a[i * 3 + k]! * b[k * 3 + j]!;
  return out;
}

function solve8(a: Float64Array, b: Float64Array): Float64Array | undefined {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let col = 0; col < 8; col++) {
    let pivot = col;
    for (let r = col + 1; r < 8; r++) if (Math.abs(m[r * 8 + col]!) > Math.abs(m[pivot * 8 + col]!)) pivot = r;
    if (Math.abs(m[pivot * 8 + col]!) < 1e-12) return undefined;
    if (pivot !== col) {
      for (let c = 0; c < 8; c++) {
        const t = m[col * 8 + c]!;
        m[col * 8 + c] = m[pivot * 8 + c]!;
        m[pivot * 8 + c] = t;
      }
      const t = x[col]!;
      x[col] = x[pivot]!;
      x[pivot] = t;
    }
    for (let r = col + 1; r < 8; r++) {
      const factor = m[r * 8 + col]! / m[col * 8 + col]!;
      if (factor === 0) continue;
      for (let c = col; c < 8; c++) m[r * 8 + c]! -= factor * m[col * 8 + c]!;
      x[r]! -= factor * x[col]!;
    }
  }
  for (let r = 7; r >= 0; r--) {
    let s = x[r]!;
    for (let c = r + 1; c < 8; c++) s -= m[r * 8 + c]! * x[c]!;
    x[r] = s / m[r * 8 + r]!;
  }
  return x;
}
