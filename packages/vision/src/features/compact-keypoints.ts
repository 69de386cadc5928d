import type { Keypoint } from './sift.ts';

/**
 * The shortest decimal that reads back as the value's float32: JSON.stringify prints a float32 held in a double with
 * up to 17 digits ("321.2816162109375"); this prints "321.28162", which Math.fround turns back into exactly that
 * float32. A double that is not a float32 is rounded to the nearest one first.
 */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const single = Math.fround(value);
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(single.toPrecision(digits));
    if (Math.fround(candidate) === single) return candidate;
  }
  return Number(single.toPrecision(9)); // nine significant digits always identify a float32
}

/**
 * Keypoints as JSON answers carry them: each float field at float32 precision (as OpenCV's KeyPoint and the stored
 * features hold them; for a coordinate, finer than 0.0005 px below 8192 px), spelled at its shortest. The detector's
 * coordinates in the original image's pixels are doubles (scaled up from the detection size); everything else is
 * float32 already. About 100 bytes of JSON per keypoint instead of 145.
 */
export function compactKeypoints(keypoints: readonly Keypoint[]): Keypoint[] {
  return keypoints.map((point) => ({
    x: shortestFloat32(point.x),
    y: shortestFloat32(point.y),
    size: shortestFloat32(point.size),
    angle: shortestFloat32(point.angle),
    response: shortestFloat32(point.response),
    octave: point.octave,
  }));
}

/** Keypoints read back from JSON as the detector held them: each float field as its float32 (the inverse). */
export function float32Keypoints(keypoints: readonly Keypoint[]): Keypoint[] {
  return keypoints.map((point) => ({
    x: Math.fround(point.x),
    y: Math.fround(point.y),
    size: Math.fround(point.size),
    angle: Math.fround(point.angle),
    response: Math.fround(point.response),
    octave: point.octave,
  }));
}
