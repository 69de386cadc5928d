/**
 * The filters as pipeline steps. Most are one libvips operation (convolve, recomb, median, blur, sharpen, threshold,
 * negate); the edge detectors and pixelate are pixel arithmetic here, on the decoded image.
 *
 * Kernels are applied as written (correlation, not flipped), edges extended by copying the border pixel, results
 * clipped to 0-255.
 */
import type { FilterOp } from './recipe.ts';
import { LUMA, type RawImage, toGrey } from './raw-image.ts';
import type { Step } from './steps.ts';

export const EMBOSS_KERNEL = [-2, -1, 0, -1, 1, 1, 0, 1, 2] as const;
/** With offset 255: flat areas white, edges dark. */
export const CONTOUR_KERNEL = [-1, -1, -1, -1, 8, -1, -1, -1, -1] as const;
/** The edge kernels, for reference: sobel() and laplacian() below compute them written out. */
export const SOBEL_X = [-1, 0, 1, -2, 0, 2, -1, 0, 1] as const;
export const SOBEL_Y = [-1, -2, -1, 0, 0, 0, 1, 2, 1] as const;
export const LAPLACIAN = [0, 1, 0, 1, -4, 1, 0, 1, 0] as const;

export const SEPIA_MATRIX = [
  [0.393, 0.769, 0.189],
  [0.349, 0.686, 0.168],
  [0.272, 0.534, 0.131],
] as const;

export const GRAYSCALE_MATRIX = [LUMA, LUMA, LUMA] as const;

export function filterSteps(op: FilterOp): Step[] {
  switch (op.op) {
    case 'blur': {
      const side = 2 * op.radius + 1;
      return [
        {
          slot: 'convolve',
          width: side,
          height: side,
          kernel: new Array(side * side).fill(1),
          scale: side * side,
          offset: 0,
        },
      ];
    }
    case 'gaussian-blur':
      return [{ slot: 'blur', sigma: op.sigma }];
    case 'median':
      return [{ slot: 'median', size: op.size }];
    case 'sharpen':
      return [{ slot: 'sharpen', sigma: op.sigma, flat: op.flat, jagged: op.jagged }];
    case 'emboss':
      return [{ slot: 'convolve', width: 3, height: 3, kernel: [...EMBOSS_KERNEL], scale: 1, offset: 0 }];
    case 'contour':
      return [{ slot: 'convolve', width: 3, height: 3, kernel: [...CONTOUR_KERNEL], scale: 1, offset: 255 }];
    case 'grayscale':
      return [{ slot: 'recomb', matrix: GRAYSCALE_MATRIX.map((row) => [...row]) }];
    case 'sepia':
      return [{ slot: 'recomb', matrix: SEPIA_MATRIX.map((row) => [...row]) }];
    case 'negate':
      return [{ slot: 'negate' }];
    case 'threshold':
      return [{ slot: 'threshold', level: op.level }];
    case 'edge':
      return [{ slot: 'raw', name: `edge:${op.method}`, run: op.method === 'sobel' ? sobel : laplacian }];
    case 'pixelate':
      return [{ slot: 'raw', name: 'pixelate', run: (image) => pixelate(image, op.size) }];
  }
}

/** The grey image with a one-pixel border of copies of its edge pixels, so 3x3 windows need no bounds checks. */
function padded(grey: Uint8Array, width: number, height: number): Uint8Array {
  const stride = width + 2;
  const out = new Uint8Array(stride * (height + 2));
  for (let y = -1; y <= height; y++) {
    const source = Math.min(height - 1, Math.max(0, y)) * width;
    const target = (y + 1) * stride;
    out.set(grey.subarray(source, source + width), target + 1);
    out[target] = grey[source]!;
    out[target + stride - 1] = grey[source + width - 1]!;
  }
  return out;
}

/** Gradient magnitude sqrt(Gx^2 + Gy^2) of the grey image, rounded and clipped to 255. One grey channel out. */
export function sobel(image: RawImage): RawImage {
  const { data: grey, width, height } = toGrey(image);
  const p = padded(grey, width, height);
  const stride = width + 2;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    let above = y * stride;
    let row = above + stride;
    let below = row + stride;
    for (let x = 0; x < width; x++, above++, row++, below++) {
      // Kernels SOBEL_X and SOBEL_Y, written out.
      const gx = p[above + 2]! - p[above]! + 2 * (p[row + 2]! - p[row]!) + p[below + 2]! - p[below]!;
      const gy = p[below]! + 2 * p[below + 1]! + p[below + 2]! - p[above]! - 2 * p[above + 1]! - p[above + 2]!;
      out[y * width + x] = Math.min(255, Math.round(Math.sqrt(gx * gx + gy * gy)));
    }
  }
  return { data: out, width, height, channels: 1 };
}

/** |Laplacian| of the grey image, clipped to 255. One grey channel out. */
export function laplacian(image: RawImage): RawImage {
  const { data: grey, width, height } = toGrey(image);
  const p = padded(grey, width, height);
  const stride = width + 2;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    let centre = (y + 1) * stride + 1;
    for (let x = 0; x < width; x++, centre++) {
      const value = p[centre - stride]! + p[centre - 1]! + p[centre + 1]! + p[centre + stride]! - 4 * p[centre]!;
      out[y * width + x] = Math.min(255, Math.abs(value));
    }
  }
  return { data: out, width, height, channels: 1 };
}

/** Blocks of size x size from the top left (smaller at the right and bottom edges), each the rounded mean. */
export function pixelate(image: RawImage, size: number): RawImage {
  const { data, width, height, channels } = image;
  const out = new Uint8Array(data.length);
  const rowBytes = width * channels;
  const sums = new Float64Array(channels);
  const means = new Uint8Array(rowBytes);
  for (let top = 0; top < height; top += size) {
    const bottom = Math.min(height, top + size);
    for (let left = 0; left < width; left += size) {
      const right = Math.min(width, left + size);
      sums.fill(0);
      for (let y = top; y < bottom; y++) {
        const end = y * rowBytes + right * channels;
        for (let p = y * rowBytes + left * channels; p < end; p += channels) {
          for (let c = 0; c < channels; c++) sums[c]! += data[p + c]!;
        }
      }
      const count = (bottom - top) * (right - left);
      for (let c = 0; c < channels; c++) means[left * channels + c] = Math.round(sums[c]! / count);
      for (let p = (left + 1) * channels; p < right * channels; p++) means[p] = means[p - channels]!;
    }
    for (let y = top; y < bottom; y++) out.set(means, y * rowBytes);
  }
  return { data: out, width, height, channels };
}
