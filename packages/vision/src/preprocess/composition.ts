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
  const across = new Float32Array(pixels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let value = 0;
      for (let k = -2; k <= 2; k++) {
        const sx = Math.min(width - 1, Math.max(0, x + k));
        value += BINOMIAL[k + 2]! * data[y * width + sx]!;
      }
      across[y * width + x] = value / 16;
    }
  }
  const saliency = new Float32Array(pixels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let value = 0;
      for (let k = -2; k <= 2; k++) {
        const sy = Math.min(height - 1, Math.max(0, y + k));
        value += BINOMIAL[k + 2]! * across[sy * width + x]!;
      }
      saliency[y * width + x] = Math.abs(value / 16 - mean);
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
const COARSE_STEP = 0.5;
/** Edge pixels within this many pixels (vertically) of the line are on it: a step edge marks both its sides. */
const BAND = 2;

/**
 * The tilt in degrees of the dominant near-horizontal straight edge, positive when it rises from left to right
 * (turn the image clockwise by that much to level it); undefined when no straight edge within HORIZON_MAX_TILT of
 * horizontal crosses HORIZON_MIN_SPAN of the image's width.
 *
 * Edge pixels (sobel.ts) whose gradient is near vertical vote in a Hough transform over lines y = x tan(a) + c
 * (a from -30° to 30° in 0.5° steps, c in 1-pixel bins, scored over 3 adjacent bins); the winner is then refined
 * by least squares on the edge pixels within 2 pixels of it (twice), which finds the angle to a small fraction of
 * a degree.
 */
export function horizonTilt(gradients: Gradients): number | undefined {
  const { width, height } = gradients;
  const maxRatio = Math.tan((GRADIENT_SLACK * Math.PI) / 180);
  const centerX = (width - 1) / 2;
  const centerY = (height - 1) / 2;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      if (!isEdge(gradients, i)) continue;
      if (Math.abs(gradients.gx[i]!) > Math.abs(gradients.gy[i]!) * maxRatio) continue;
      xs.push(x - centerX);
      ys.push(y - centerY);
    }
  }
  if (xs.length < width * HORIZON_MIN_SPAN) return undefined;

  const offset = Math.ceil(height / 2 + (width / 2) * Math.tan((HORIZON_MAX_TILT * Math.PI) / 180)) + 2;
  const votes = new Int32Array(2 * offset + 1);
  let best = { score: -1, slope: 0, intercept: 0 };
  for (let angle = -HORIZON_MAX_TILT; angle <= HORIZON_MAX_TILT; angle += COARSE_STEP) {
    const slope = Math.tan((angle * Math.PI) / 180);
    votes.fill(0);
    for (let p = 0; p < xs.length; p++) votes[Math.round(ys[p]! - xs[p]! * slope) + offset]!++;
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
  for (let p = 0; p < xs.length; p++) {
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
  xs: readonly number[],
  ys: readonly number[],
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
