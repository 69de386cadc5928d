/**
 * Pixel sampling for OCR: decoded images as interleaved 8-bit pixels, bilinear reads with replicated borders, and
 * projective (quad-to-rectangle) resampling that cuts text lines out straight at the recogniser's height.
 */
import type { Point } from '@imgpipe/contracts';

/** Decoded pixels, row-major, interleaved: 1 (grey), 3 (RGB, the default) or 4 (RGBA, alpha ignored) channels. */
export interface RasterImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels?: 1 | 3 | 4;
}

/** A resampled RGB patch as floats 0-255, row-major, interleaved. */
export interface RgbPatch {
  data: Float32Array;
  width: number;
  height: number;
}

/**
 * Bilinear RGB read at continuous coordinates (pixel centres at +0.5), clamping to the edge like OpenCV's
 * BORDER_REPLICATE. Writes into `out` at `offset`.
 */
export function sampleBilinear(image: RasterImage, x: number, y: number, out: Float32Array, offset: number): void {
  const { data, width, height } = image;
  const channels = image.channels ?? 3;
  let fx = x - 0.5;
  let fy = y - 0.5;
  if (fx < 0) fx = 0;
  else if (fx > width - 1) fx = width - 1;
  if (fy < 0) fy = 0;
  else if (fy > height - 1) fy = height - 1;
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const x1 = x0 + 1 < width ? x0 + 1 : x0;
  const y1 = y0 + 1 < height ? y0 + 1 : y0;
  const ax = fx - x0;
  const ay = fy - y0;
  const w00 = (1 - ax) * (1 - ay);
  const w10 = ax * (1 - ay);
  const w01 = (1 - ax) * ay;
  const w11 = ax * ay;
  const i00 = (y0 * width + x0) * channels;
  const i10 = (y0 * width + x1) * channels;
  const i01 = (y1 * width + x0) * channels;
  const i11 = (y1 * width + x1) * channels;
  if (channels === 1) {
    const v = data[i00]! * w00 + data[i10]! * w10 + data[i01]! * w01 + data[i11]! * w11;
    out[offset] = v;
    out[offset + 1] = v;
    out[offset + 2] = v;
    return;
  }
  for (let c = 0; c < 3; c++) {
    out[offset + c] = data[i00 + c]! * w00 + data[i10 + c]! * w10 + data[i01 + c]! * w01 + data[i11 + c]! * w11;
  }
}

/** Coefficients of the projective map from the unit square to a quad (Heckbert's square-to-quad). */
interface Projection {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
  g: number;
  h: number;
}

export function squareToQuad(quad: readonly [Point, Point, Point, Point]): Projection {
  const [p0, p1, p2, p3] = quad;
  const sx = p0.x - p1.x + p2.x - p3.x;
  const sy = p0.y - p1.y + p2.y - p3.y;
  if (Math.abs(sx) < 1e-9 && Math.abs(sy) < 1e-9) {
    return { a: p1.x - p0.x, b: p3.x - p0.x, c: p0.x, d: p1.y - p0.y, e: p3.y - p0.y, f: p0.y, g: 0, h: 0 };
  }
  const dx1 = p1.x - p2.x;
  const dx2 = p3.x - p2.x;
  const dy1 = p1.y - p2.y;
  const dy2 = p3.y - p2.y;
  const denominator = dx1 * dy2 - dx2 * dy1;
  const g = (sx * dy2 - dx2 * sy) / denominator;
  const h = (dx1 * sy - sx * dy1) / denominator;
  return {
    a: p1.x - p0.x + g * p1.x,
    b: p3.x - p0.x + h * p3.x,
    c: p0.x,
    d: p1.y - p0.y + g * p1.y,
    e: p3.y - p0.y + h * p3.y,
    f: p0.y,
    g,
    h,
  };
}

/**
 * Resamples the quad (corners clockwise from top-left) into a width x height RGB patch, so that the quad's top
 * edge becomes the patch's top row. When the patch is much smaller than the quad, each output pixel averages a
 * grid of `supersample` x `supersample` bilinear reads to avoid aliasing thin strokes away.
 */
export function warpQuad(
  image: RasterImage,
  quad: readonly [Point, Point, Point, Point],
  width: number,
  height: number,
  supersample = 1,
): RgbPatch {
  const { a, b, c, d, e, f, g, h } = squareToQuad(quad);
  const out = new Float32Array(width * height * 3);
  const sample = new Float32Array(3);
  const n = Math.max(1, Math.floor(supersample));
  const weight = 1 / (n * n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 3;
      let r = 0;
      let gg = 0;
      let bb = 0;
      for (let sy = 0; sy < n; sy++) {
        const v = (y + (sy + 0.5) / n) / height;
        for (let sx = 0; sx < n; sx++) {
          const u = (x + (sx + 0.5) / n) / width;
          const w = g * u + h * v + 1;
          sampleBilinear(image, (a * u + b * v + c) / w, (d * u + e * v + f) / w, sample, 0);
          r += sample[0]!;
          gg += sample[1]!;
          bb += sample[2]!;
        }
      }
      out[offset] = r * weight;
      out[offset + 1] = gg * weight;
      out[offset + 2] = bb * weight;
    }
  }
  return { data: out, width, height };
}
