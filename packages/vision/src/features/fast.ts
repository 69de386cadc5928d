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
  // tab[neighbour - v + 255]: 1 darker than v - t, 2 brighter than v + t, 0 neither.
  const tab = new Uint8Array(511);
  for (let i = -255; i <= 255; i++) tab[i + 255] = i < -t ? 1 : i > t ? 2 : 0;
  const [r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13, r14, r15] = ring;
  const scores = new Uint8Array(width * height);
  const candidates: number[] = [];
  const d = new Int32Array(25);
  for (let y = 3; y < height - 3; y++) {
    let p = offset + y * stride + 3;
    for (let x = 3; x < width - 3; x++, p++) {
      const v = img[p]!;
      const base = 255 - v;
      // 9 contiguous of 16 always include pixel 0 or 8, and one of each opposite pair (2, 10), (4, 12), (6, 14)...
      let cls = tab[img[p + r0!]! + base]! | tab[img[p + r8!]! + base]!;
      if (cls === 0) continue;
      cls &= tab[img[p + r2!]! + base]! | tab[img[p + r10!]! + base]!;
      cls &= tab[img[p + r4!]! + base]! | tab[img[p + r12!]! + base]!;
      cls &= tab[img[p + r6!]! + base]! | tab[img[p + r14!]! + base]!;
      if (cls === 0) continue;
      cls &= tab[img[p + r1!]! + base]! | tab[img[p + r9!]! + base]!;
      cls &= tab[img[p + r3!]! + base]! | tab[img[p + r11!]! + base]!;
      cls &= tab[img[p + r5!]! + base]! | tab[img[p + r13!]! + base]!;
      cls &= tab[img[p + r7!]! + base]! | tab[img[p + r15!]! + base]!;
      if (cls === 0) continue;
      let corner = false;
      let count = 0;
      if (cls & 1) {
        const lo = v - t;
        for (let k = 0; k < 25; k++) {
          if (img[p + ring[k]!]! < lo) {
            if (++count > 8) {
              corner = true;
              break;
            }
          } else count = 0;
        }
      }
      if (!corner && cls & 2) {
        const hi = v + t;
        count = 0;
        for (let k = 0; k < 25; k++) {
          if (img[p + ring[k]!]! > hi) {
            if (++count > 8) {
              corner = true;
              break;
            }
          } else count = 0;
        }
      }
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
