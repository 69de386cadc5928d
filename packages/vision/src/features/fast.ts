/**
 * FAST-9 corners (Rosten & Drummond) as OpenCV's FAST(threshold, nonmaxSuppression = true, TYPE_9_16) finds them:
 * a pixel is a corner when 9 contiguous pixels of the 16 on a radius-3 circle are all brighter than it by more
 * than `threshold`, or all darker; its score is the largest threshold for which that still holds, minus 1 (OpenCV's
 * cornerScore<16>); a corner is kept when its score beats all 8 neighbours' (non-corners score 0).
 */
export interface Corner {
  x: number;
  y: number;
  score: number;
}

// The 16-pixel circle, clockwise from straight down, as (dx, dy).
const CIRCLE = [
  [0, 3],
  [1, 3],
  [2, 2],
  [3, 1],
  [3, 0],
  [3, -1],
  [2, -2],
  [1, -3],
  [0, -3],
  [-1, -3],
  [-2, -2],
  [-3, -1],
  [-3, 0],
  [-3, 1],
  [-2, 2],
  [-1, 3],
] as const;

/**
 * Corners of `img` (width x height, rows `stride` bytes apart, first pixel at `offset`), in pixel coordinates of
 * that image, in row-major order.
 */
export function fastCorners(
  img: Uint8Array,
  width: number,
  height: number,
  stride: number,
  offset: number,
  threshold: number,
): Corner[] {
  const t = Math.min(Math.max(threshold, 0), 255);
  const ring = new Int32Array(25);
  for (let k = 0; k < 25; k++) ring[k] = CIRCLE[k % 16]![0] + CIRCLE[k % 16]![1] * stride;
  const scores = new Uint8Array(width * height);
  const candidates: number[] = [];
  const d = new Int32Array(25);
  for (let y = 3; y < height - 3; y++) {
    for (let x = 3; x < width - 3; x++) {
      const p = offset + y * stride + x;
      const v = img[p]!;
      const hi = v + t;
      const lo = v - t;
      // 9 contiguous of 16 always include pixel 0 or 8, and one of each opposite pair (2, 10), (4, 12), (6, 14)...
      let cls = classify(img[p + ring[0]!]!, hi, lo) | classify(img[p + ring[8]!]!, hi, lo);
      if (cls === 0) continue;
      cls &= classify(img[p + ring[2]!]!, hi, lo) | classify(img[p + ring[10]!]!, hi, lo);
      cls &= classify(img[p + ring[4]!]!, hi, lo) | classify(img[p + ring[12]!]!, hi, lo);
      cls &= classify(img[p + ring[6]!]!, hi, lo) | classify(img[p + ring[14]!]!, hi, lo);
      if (cls === 0) continue;
      cls &= classify(img[p + ring[1]!]!, hi, lo) | classify(img[p + ring[9]!]!, hi, lo);
      cls &= classify(img[p + ring[3]!]!, hi, lo) | classify(img[p + ring[11]!]!, hi, lo);
      cls &= classify(img[p + ring[5]!]!, hi, lo) | classify(img[p + ring[13]!]!, hi, lo);
      cls &= classify(img[p + ring[7]!]!, hi, lo) | classify(img[p + ring[15]!]!, hi, lo);
      if (cls === 0) continue;
      let corner = false;
      if (cls & 1) corner = hasArc(img, p, ring, (value) => value < lo);
      if (!corner && cls & 2) corner = hasArc(img, p, ring, (value) => value > hi);
      if (!corner) continue;
      for (let k = 0; k < 25; k++) d[k] = v - img[p + ring[k]!]!;
      scores[y * width + x] = cornerScore(d);
      candidates.push(y * width + x);
    }
  }
  const corners: Corner[] = [];
  for (const at of candidates) {
    const s = scores[at]!;
    if (
      s > scores[at - 1]! &&
      s > scores[at + 1]! &&
      s > scores[at - width - 1]! &&
      s > scores[at - width]! &&
      s > scores[at - width + 1]! &&
      s > scores[at + width - 1]! &&
      s > scores[at + width]! &&
      s > scores[at + width + 1]!
    ) {
      corners.push({ x: at % width, y: Math.floor(at / width), score: s });
    }
  }
  return corners;
}

/** 1 when darker than lo, 2 when brighter than hi, 0 otherwise. */
function classify(value: number, hi: number, lo: number): number {
  return value < lo ? 1 : value > hi ? 2 : 0;
}

function hasArc(img: Uint8Array, p: number, ring: Int32Array, passes: (value: number) => boolean): boolean {
  let count = 0;
  for (let k = 0; k < 25; k++) {
    if (passes(img[p + ring[k]!]!)) {
      if (++count > 8) return true;
    } else {
      count = 0;
    }
  }
  return false;
}

/** max over 9-pixel arcs of min(v - p) (darker arcs) or of min(p - v) (brighter arcs), minus 1. */
function cornerScore(d: Int32Array): number {
  let q0 = -1000;
  let q1 = 1000;
  for (let k = 0; k < 16; k++) {
    let a = d[k]!;
    let b = a;
    for (let i = 1; i < 9; i++) {
      const v = d[k + i]!;
      if (v < a) a = v;
      if (v > b) b = v;
    }
    if (a > q0) q0 = a;
    if (b < q1) q1 = b;
  }
  return Math.max(q0, -q1) - 1;
}
