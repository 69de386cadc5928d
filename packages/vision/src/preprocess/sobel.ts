/**
 * Sobel gradients of a grey image: the 3x3 kernels [-1 0 1; -2 0 2; -1 0 1] (x, rightwards) and its transpose (y,
 * downwards), in 0-255 grey units, so a sharp step of d grey levels gives a magnitude of 4d on both sides of it.
 * The one-pixel border has no full neighbourhood and is left at 0.
 */
import type { GreyImage } from './grey-image.ts';

export interface Gradients {
  readonly gx: Int16Array;
  readonly gy: Int16Array;
  readonly width: number;
  readonly height: number;
}

export function sobel(image: GreyImage): Gradients {
  const { data, width, height } = image;
  const gx = new Int16Array(width * height);
  const gy = new Int16Array(width * height);
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const topLeft = data[i - width - 1]!;
      const top = data[i - width]!;
      const topRight = data[i - width + 1]!;
      const left = data[i - 1]!;
      const right = data[i + 1]!;
      const bottomLeft = data[i + width - 1]!;
      const bottom = data[i + width]!;
      const bottomRight = data[i + width + 1]!;
      gx[i] = topRight + 2 * right + bottomRight - topLeft - 2 * left - bottomLeft;
      gy[i] = bottomLeft + 2 * bottom + bottomRight - topLeft - 2 * top - topRight;
    }
  }
  return { gx, gy, width, height };
}

/** Sobel magnitude at or above which a pixel is an edge: a sharp step of 32 grey levels (1/8 of the range). */
export const EDGE_THRESHOLD = 128;

export function isEdge(gradients: Gradients, i: number): boolean {
  const gx = gradients.gx[i]!;
  const gy = gradients.gy[i]!;
  return gx * gx + gy * gy >= EDGE_THRESHOLD * EDGE_THRESHOLD;
}
