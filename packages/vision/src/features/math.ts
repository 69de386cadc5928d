/** Small numeric helpers with OpenCV's semantics, where results depend on them. */

/** cvRound: nearest integer, halves to even (lrint in the default rounding mode). */
export function cvRound(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

export const P1 = 57.283627;
export const P3 = -18.667446;
export const P5 = 8.914001;
export const P7 = -2.539725;
export const EPS = 2.220446049250313e-16;

/**
 * atan2(y, x) in degrees, 0 <= a < 360, by the 7th-order polynomial OpenCV's fastAtan2 uses (error ~0.01 degree).
 * Orientation bins in SIFT and ORB are taken from it, so using the same approximation keeps bins identical.
 */
export function fastAtan2(y: number, x: number): number {
  const ax = Math.abs(x);
  const ay = Math.abs(y);
  let a: number;
  if (ax >= ay) {
    const c = ay / (ax + EPS);
    const c2 = c * c;
    a = (((P7 * c2 + P5) * c2 + P3) * c2 + P1) * c;
  } else {
    const c = ax / (ay + EPS);
    const c2 = c * c;
    a = 90 - (((P7 * c2 + P5) * c2 + P3) * c2 + P1) * c;
  }
  if (x < 0) a = 180 - a;
  if (y < 0) a = 360 - a;
  return a;
}

/** OpenCV's BORDER_REFLECT_101 index (gfedcb|abcdefgh|gfedcba) for any p, even far outside short rows. */
export function reflect101(p: number, length: number): number {
  if (length === 1) return 0;
  let q = p;
  while (q < 0 || q >= length) {
    if (q < 0) q = -q;
    if (q >= length) q = 2 * length - 2 - q;
  }
  return q;
}
