/**
 * Composition measures of a grey image: where its visual weight sits against the rule-of-thirds intersections,
 * how nearly it mirrors left to right, and how far its dominant near-horizontal line (the horizon) is tilted.
 *
 * Visual weight comes from a frequency-tuned saliency map (Achanta et al., "Frequency-tuned salient region
 * detection", CVPR 2009) on luma: saliency is |blurred grey - the image's mean grey|, with a 5x5 binomial blur
 * ([1 4 6 4 1]/16 both ways), so whatever differs from the image's overall tone stands out. A pixel's weight is its
 * saliency above the mean saliency (0 below), which keeps a large plain background from pulling the centre of
 * weight towards the middle. An image with no weight anywhere (a flat field) has no centre of weight.
 */
import type { GreyImage } from './grey-image.ts';
import { type Gradients, isEdge } from './sobel.ts';

/** A point as fractions 0-1 of the image's width (x, from the left) and height (y, from the top). */
export interface NormalizedPoint {
  x: number;
  y: number;
}

export interface CompositionMeasures {
  /** Centre of visual weight; absent when nothing stands out (a flat field). */
  weightCenter?: NormalizedPoint;
  /** Distance of weightCenter to the nearest thirds intersection, 0-1 (see thirdsDistance). */
  thirdsDistance?: number;
  symmetry: number;
  /** Degrees, positive when the line rises from left to right; absent when there is no such line. */
  horizonTilt?: number;
}

export function compositionMeasures(image: GreyImage, gradients: Gradients): CompositionMeasures {
  const weightCenter = visualWeightCenter(image);
  const horizon = horizonTilt(gradients);
  return {
    ...(weightCenter ? { weightCenter, thirdsDistance: thirdsDistance(weightCenter) } : {}),
    symmetry: symmetry(image),
    ...(horizon === undefined ? {} : { horizonTilt: horizon }),
  };
}

const BINOMIAL = [1, 4, 6, 4, 1] as const;

/** Frequency-tuned saliency (module comment), one value per pixel in grey units 0-255. */
export function saliencyMap(image: GreyImage): Float32Array {
  const { data, width, height } = image;
  const pixels = width * height;
  let sum = 0;
  for (let i = 0; i < pixels; i++) sum += data[i]!;
  const mean = pixels > 0 ? sum / pixels : 0;
  // Separable 5x5 binomial blur, sums kept in units of 1/16 per pass; samples past an edge repeat the edge pixel.
  const across = new Float32Array(pixels);
  const clampX = (x: number) => (x < 0 ? 0 : x >= width ? width - 1 : x);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (x >= 2 && x < width - 2) {
        const i = row + x;
        across[i] = data[i - 2]! + 4 * data[i - 1]! + 6 * data[i]! + 4 * data[i + 1]! + data[i + 2]!;
      } else {
        let value = 0;
        for (let k = -2; k <= 2; k++) value += BINOMIAL[k + 2]! * data[row + clampX(x + k)]!;
        across[row + x] = value;
      }
    }
  }
  const saliency = new Float32Array(pixels);
  const rowOf = (y: number) => (y < 0 ? 0 : y >= height ? height - 1 : y) * width;
  for (let y = 0; y < height; y++) {
    const r0 = rowOf(y - 2);
    const r1 = rowOf(y - 1);
    const r2 = y * width;
    const r3 = rowOf(y + 1);
    const r4 = rowOf(y + 2);
    for (let x = 0; x < width; x++) {
      const value = across[r0 + x]! + 4 * across[r1 + x]! + 6 * across[r2 + x]! + 4 * across[r3 + x]! + across[r4 + x]!;
      saliency[r2 + x] = Math.abs(value / 256 - mean);
    }
  }
  return saliency;
}

/** The weighted mean of the pixel centres, weights = saliency above its mean; undefined when they are all 0. */
export function visualWeightCenter(image: GreyImage): NormalizedPoint | undefined {
  const { width, height } = image;
  const saliency = saliencyMap(image);
  let total = 0;
  for (let i = 0; i < saliency.length; i++) total += saliency[i]!;
  if (total === 0) return undefined;
  const floor = total / saliency.length;
  let weight = 0;
  let sumX = 0;
  let sumY = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const w = saliency[y * width + x]! - floor;
      if (w <= 0) continue;
      weight += w;
      sumX += w * (x + 0.5);
      sumY += w * (y + 0.5);
    }
  }
  if (weight === 0) return undefined;
  return { x: sumX / weight / width, y: sumY / weight / height };
}

export const THIRDS_INTERSECTIONS: readonly NormalizedPoint[] = [
  { x: 1 / 3, y: 1 / 3 },
  { x: 2 / 3, y: 1 / 3 },
  { x: 1 / 3, y: 2 / 3 },
  { x: 2 / 3, y: 2 / 3 },
];

/** The farthest any point of the unit square is from its nearest intersection: a corner, sqrt(2)/3 away. */
const FARTHEST_FROM_THIRDS = Math.SQRT2 / 3;

/**
 * Distance, in fractions of width and height, from the point to the nearest thirds intersection, divided by the
 * largest it can be (sqrt(2)/3, at a corner): 0 on an intersection, 0.5 at the centre, 1 at a corner.
 */
export function thirdsDistance(point: NormalizedPoint): number {
  const nearest = Math.min(...THIRDS_INTERSECTIONS.map((p) => Math.hypot(point.x - p.x, point.y - p.y)));
  return Math.min(1, nearest / FARTHEST_FROM_THIRDS);
}

/** 1 - mean |grey - its left-right mirror| / 255: 1 for a mirror-symmetric image, 0 for black against white. */
export function symmetry(image: GreyImage): number {
  const { data, width, height } = image;
  if (width * height === 0) return 1;
  let difference = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) difference += Math.abs(data[row + x]! - data[row + width - 1 - x]!);
  }
  return 1 - difference / (width * height * 255);
}

/** Lines tilted more than this (degrees) are not horizons. */
export const HORIZON_MAX_TILT = 30;
/** A horizon is a straight edge crossing at least this fraction of the image's columns. */
export const HORIZON_MIN_SPAN = 0.5;
/** Edge pixels whose gradient is more than this many degrees from vertical do not lie on near-horizontal lines. */
const GRADIENT_SLACK = 40;
const COARSE_STEP = 1;
/** An edge pixel votes only for line angles within this many degrees of its own edge's tilt. */
const VOTE_WINDOW = 10;
/** Edge pixels within this many pixels (vertically) of the line are on it: a step edge marks both its sides. */
const BAND = 2;

/**
 * The tilt in degrees of the dominant near-horizontal straight edge, positive when it rises from left to right
 * (turn the image clockwise by that much to level it); undefined when no straight edge within HORIZON_MAX_TILT of
 * horizontal crosses HORIZON_MIN_SPAN of the image's width.
 *
 * Edge pixels (sobel.ts) whose gradient is within 40° of vertical vote in a Hough transform over lines
 * y = x tan(a) + c, each for the angles within 10° of its own edge's tilt (a from -30° to 30° in 1° steps, c in
 * 1-pixel bins, scored over 3 adjacent bins); the winner is then refined
 * by least squares on the edge pixels within 2 pixels of it (twice), which finds the angle to a small fraction of
 * a degree.
 */
export function horizonTilt(gradients: Gradients): number | undefined {
  const { width, height } = gradients;
  const maxRatio = Math.tan((GRADIENT_SLACK * Math.PI) / 180);
  const centerX = (width - 1) / 2;
  const centerY = (height - 1) / 2;
  // Edge pixels near a near-horizontal line, sorted by the tilt of their own edge (the line across their gradient,
  // in whole degrees from -GRADIENT_SLACK to GRADIENT_SLACK): a pixel votes only for line angles near its own.
  const buckets = 2 * GRADIENT_SLACK + 1;
  const bucketOf = new Int8Array(width * height).fill(-1);
  const bucketSizes = new Int32Array(buckets + 1);
  let count = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      if (!isEdge(gradients, i)) continue;
      const gx = gradients.gx[i]!;
      const gy = gradients.gy[i]!;
      if (Math.abs(gx) > Math.abs(gy) * maxRatio) continue;
      const bucket = Math.round((Math.atan(-gx / gy) * 180) / Math.PI) + GRADIENT_SLACK;
      bucketOf[i] = bucket;
      bucketSizes[bucket + 1]!++;
      count++;
    }
  }
  if (count < width * HORIZON_MIN_SPAN) return undefined;
  const bucketStart = new Int32Array(buckets + 1);
  for (let b = 1; b <= buckets; b++) bucketStart[b] = bucketStart[b - 1]! + bucketSizes[b]!;
  const next = bucketStart.slice();
  const xs = new Float64Array(count);
  const ys = new Float64Array(count);
  for (let i = 0; i < bucketOf.length; i++) {
    const bucket = bucketOf[i]!;
    if (bucket < 0) continue;
    const p = next[bucket]!++;
    xs[p] = (i % width) - centerX;
    ys[p] = Math.floor(i / width) - centerY;
  }

  const offset = Math.ceil(height / 2 + (width / 2) * Math.tan((HORIZON_MAX_TILT * Math.PI) / 180)) + 2;
  const votes = new Int32Array(2 * offset + 1);
  let best = { score: -1, slope: 0, intercept: 0 };
  for (let angle = -HORIZON_MAX_TILT; angle <= HORIZON_MAX_TILT; angle += COARSE_STEP) {
    const slope = Math.tan((angle * Math.PI) / 180);
    const from = bucketStart[Math.max(0, angle - VOTE_WINDOW + GRADIENT_SLACK)]!;
    const to = bucketStart[Math.min(buckets, angle + VOTE_WINDOW + GRADIENT_SLACK + 1)]!;
    votes.fill(0);
    // c + offset + 0.5 is positive, so truncation rounds it to the nearest bin.
    for (let p = from; p < to; p++) votes[(ys[p]! - xs[p]! * slope + offset + 0.5) | 0]!++;
    for (let b = 1; b < votes.length - 1; b++) {
      const score = votes[b - 1]! + votes[b]! + votes[b + 1]!;
      if (score > best.score) best = { score, slope, intercept: b - offset };
    }
  }

  let { slope, intercept } = best;
  for (let round = 0; round < 2; round++) {
    const fit = leastSquares(xs, ys, slope, intercept);
    if (!fit) return undefined;
    ({ slope, intercept } = fit);
  }
  const columns = new Uint8Array(width);
  let span = 0;
  for (let p = 0; p < count; p++) {
    if (Math.abs(ys[p]! - (xs[p]! * slope + intercept)) > BAND) continue;
    const column = Math.round(xs[p]! + centerX);
    if (columns[column] === 0) span++;
    columns[column] = 1;
  }
  if (span < width * HORIZON_MIN_SPAN) return undefined;
  const tilt = (-Math.atan(slope) * 180) / Math.PI;
  return Math.abs(tilt) > HORIZON_MAX_TILT ? undefined : tilt;
}

/** y = slope x + intercept fitted to the points within BAND of the given line; undefined without spread in x. */
function leastSquares(
  xs: Float64Array,
  ys: Float64Array,
  slope: number,
  intercept: number,
): { slope: number; intercept: number } | undefined {
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let p = 0; p < xs.length; p++) {
    const x = xs[p]!;
    const y = ys[p]!;
    if (Math.abs(y - (x * slope + intercept)) > BAND) continue;
    n++;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const spread = n * sxx - sx * sx;
  if (n < 2 || spread <= 0) return undefined;
  const fitted = (n * sxy - sx * sy) / spread;
  return { slope: fitted, intercept: (sy - fitted * sx) / n };
}
