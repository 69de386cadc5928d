/**
 * Separable Gaussian blur of a float plane, with OpenCV's GaussianBlur semantics (kernel size from sigma when none
 * is given, sampled Gaussian normalised to sum 1, BORDER_REFLECT_101). Buffers are the caller's: nothing is
 * allocated per pixel or per row.
 */
import { reflect101 } from './math.ts';

/** OpenCV's automatic kernel size: cvRound(sigma * (8-bit ? 3 : 4) * 2 + 1) | 1. */
export function gaussianKernelSize(sigma: number, eightBit = false): number {
  return Math.round(sigma * (eightBit ? 3 : 4) * 2 + 1) | 1;
}

/** Half a kernel: [centre, offset 1, ..., offset r] of the normalised Gaussian of `size` taps. */
export function gaussianHalfKernel(sigma: number, size = gaussianKernelSize(sigma)): Float64Array {
  const radius = (size - 1) >> 1;
  const half = new Float64Array(radius + 1);
  const scale = -0.5 / (sigma * sigma);
  let sum = 0;
  for (let i = 0; i <= radius; i++) {
    half[i] = Math.exp(scale * i * i);
    sum += i === 0 ? half[i]! : 2 * half[i]!;
  }
  for (let i = 0; i <= radius; i++) half[i]! /= sum;
  return half;
}

/**
 * dst = src blurred by the half kernel; `scratch` holds width*height floats for the horizontal pass and `row`
 * width + 2*radius floats. src and dst may not be the same array.
 */
export function blurPlane(
  src: Float32Array,
  dst: Float32Array,
  width: number,
  height: number,
  half: Float64Array,
  scratch: Float32Array,
  row: Float32Array,
): void {
  const radius = half.length - 1;
  const k0 = half[0]!;
  // Horizontal pass into scratch, four output pixels per step so each tap's weight is loaded once for four.
  for (let y = 0; y < height; y++) {
    const o = y * width;
    for (let x = 0; x < width; x++) row[radius + x] = src[o + x]!;
    for (let i = 1; i <= radius; i++) {
      row[radius - i] = src[o + reflect101(-i, width)]!;
      row[radius + width - 1 + i] = src[o + reflect101(width - 1 + i, width)]!;
    }
    let x = 0;
    for (; x + 4 <= width; x += 4) {
      const c = x + radius;
      let s0 = k0 * row[c]!;
      let s1 = k0 * row[c + 1]!;
      let s2 = k0 * row[c + 2]!;
      let s3 = k0 * row[c + 3]!;
      for (let i = 1; i <= radius; i++) {
        const k = half[i]!;
        const l = c - i;
        const r = c + i;
        s0 += k * (row[l]! + row[r]!);
        s1 += k * (row[l + 1]! + row[r + 1]!);
        s2 += k * (row[l + 2]! + row[r + 2]!);
        s3 += k * (row[l + 3]! + row[r + 3]!);
      }
      scratch[o + x] = s0;
      scratch[o + x + 1] = s1;
      scratch[o + x + 2] = s2;
      scratch[o + x + 3] = s3;
    }
    for (; x < width; x++) {
      const c = x + radius;
      let s = k0 * row[c]!;
      for (let i = 1; i <= radius; i++) s += half[i]! * (row[c - i]! + row[c + i]!);
      scratch[o + x] = s;
    }
  }
  // Vertical pass, one output row at a time, four taps per sweep, rows read contiguously.
  for (let y = 0; y < height; y++) {
    const o = y * width;
    for (let x = 0; x < width; x++) dst[o + x] = k0 * scratch[o + x]!;
    let i = 1;
    for (; i + 3 <= radius; i += 4) {
      const a1 = reflect101(y - i, height) * width;
      const b1 = reflect101(y + i, height) * width;
      const a2 = reflect101(y - i - 1, height) * width;
      const b2 = reflect101(y + i + 1, height) * width;
      const a3 = reflect101(y - i - 2, height) * width;
      const b3 = reflect101(y + i + 2, height) * width;
      const a4 = reflect101(y - i - 3, height) * width;
      const b4 = reflect101(y + i + 3, height) * width;
      const k1 = half[i]!;
      const k2 = half[i + 1]!;
      const k3 = half[i + 2]!;
      const k4 = half[i + 3]!;
      for (let x = 0; x < width; x++) {
        dst[o + x]! +=
          k1 * (scratch[a1 + x]! + scratch[b1 + x]!) +
          k2 * (scratch[a2 + x]! + scratch[b2 + x]!) +
          k3 * (scratch[a3 + x]! + scratch[b3 + x]!) +
          k4 * (scratch[a4 + x]! + scratch[b4 + x]!);
      }
    }
    for (; i <= radius; i++) {
      const a = reflect101(y - i, height) * width;
      const b = reflect101(y + i, height) * width;
      const k = half[i]!;
      for (let x = 0; x < width; x++) dst[o + x]! += k * (scratch[a + x]! + scratch[b + x]!);
    }
  }
}
