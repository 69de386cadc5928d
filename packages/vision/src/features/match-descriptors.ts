/**
 * Brute-force descriptor matching with Lowe's ratio test: for each descriptor of `query`, its two nearest in
 * `train` (L2 for SIFT's float descriptors, Hamming for ORB's bit strings), kept when the nearest is clearly
 * nearer than the second (distance < ratio * second distance). Optionally only mutual best matches.
 *
 *   const matches = matchDescriptors(a, b, { ratio: 0.75 });   // [{ queryIndex, trainIndex, distance }]
 */
import { ImgpipeError } from '@imgpipe/core';

export interface DescriptorSet {
  descriptorType: 'float32' | 'binary';
  descriptorSize: number;
  descriptors: Float32Array | Uint8Array;
}

export interface DescriptorMatch {
  queryIndex: number;
  trainIndex: number;
  distance: number;
}

export interface MatchOptions {
  /** Lowe's ratio; default 0.75. 1 keeps every nearest neighbour. */
  ratio?: number;
  /** Keep a match only when the train descriptor's nearest query descriptor is the same one. Default false. */
  crossCheck?: boolean;
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, i) => {
  let n = 0;
  for (let v = i; v; v >>= 1) n += v & 1;
  return n;
});

export function matchDescriptors(
  query: DescriptorSet,
  train: DescriptorSet,
  options: MatchOptions = {},
): DescriptorMatch[] {
  const ratio = options.ratio ?? 0.75;
  if (!(ratio > 0 && ratio <= 1))
    throw new ImgpipeError('REQUEST_INVALID', `ratio must be > 0 and <= 1 (got ${ratio})`);
  if (query.descriptorType !== train.descriptorType || query.descriptorSize !== train.descriptorSize) {
    throw new ImgpipeError(
      'REQUEST_INVALID',
      `cannot match ${query.descriptorType}/${query.descriptorSize} descriptors against ${train.descriptorType}/${train.descriptorSize}`,
    );
  }
  const size = query.descriptorSize;
  const nq = query.descriptors.length / size;
  const nt = train.descriptors.length / size;
  const distance = query.descriptorType === 'binary' ? hamming : squaredL2;
  const finish = query.descriptorType === 'binary' ? (d: number) => d : Math.sqrt;
  const best = new Int32Array(nq).fill(-1);
  const bestD = new Float64Array(nq);
  const secondD = new Float64Array(nq);
  const reverseBest = new Int32Array(nt).fill(-1);
  const reverseD = new Float64Array(nt).fill(Number.POSITIVE_INFINITY);
  for (let q = 0; q < nq; q++) {
    let d1 = Number.POSITIVE_INFINITY;
    let d2 = Number.POSITIVE_INFINITY;
    let i1 = -1;
    for (let t = 0; t < nt; t++) {
      const d = distance(query.descriptors, q * size, train.descriptors, t * size, size);
      if (d < d1) {
        d2 = d1;
        d1 = d;
        i1 = t;
      } else if (d < d2) {
        d2 = d;
      }
      if (d < reverseD[t]!) {
        reverseD[t] = d;
        reverseBest[t] = q;
      }
    }
    best[q] = i1;
    bestD[q] = finish(d1);
    secondD[q] = finish(d2);
  }
  const matches: DescriptorMatch[] = [];
  for (let q = 0; q < nq; q++) {
    const t = best[q]!;
    if (t < 0) continue;
    // The ratio test needs a second neighbour: with a single train descriptor nothing passes (unless ratio = 1).
    if (ratio < 1 && !(Number.isFinite(secondD[q]!) && bestD[q]! < ratio * secondD[q]!)) continue;
    if (options.crossCheck && reverseBest[t] !== q) continue;
    matches.push({ queryIndex: q, trainIndex: t, distance: bestD[q]! });
  }
  return matches;
}

function squaredL2(a: Float32Array | Uint8Array, ao: number, b: Float32Array | Uint8Array, bo: number, n: number) {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = a[ao + i]! - b[bo + i]!;
    s += d * d;
  }
  return s;
}

function hamming(a: Float32Array | Uint8Array, ao: number, b: Float32Array | Uint8Array, bo: number, n: number) {
  let s = 0;
  for (let i = 0; i < n; i++) s += POPCOUNT[(a[ao + i]! ^ b[bo + i]!) & 255]!;
  return s;
}
