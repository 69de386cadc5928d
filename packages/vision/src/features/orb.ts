/**
 * ORB (Rublee et al. 2011) with OpenCV's parameters, defaults and semantics (modules/features2d/src/orb.cpp): a
 * pyramid of nlevels images, each scaleFactor smaller (bilinear, bit-exact with OpenCV's INTER_LINEAR_EXACT);
 * FAST-9 corners per level, kept away from the border by edgeThreshold, the best 2n by FAST score then the best
 * n by Harris response (n per level from a geometric series summing to nfeatures); orientation by the intensity
 * centroid of the circular patch; 256-bit rBRIEF descriptors from OpenCV's learned pairs, rotated by the keypoint
 * angle, on each level blurred by OpenCV's 7x7 fixed-point Gaussian (sigma 2).
 *
 * Keypoints come out as OpenCV reports them: position in pixels of the input image, size = patchSize * the level's
 * scale, angle in degrees clockwise in image coordinates (0-360, y down), response = Harris score,
 * octave = pyramid level.
 * Supported: WTA_K = 2, patchSize = 31 (OpenCV's defaults, the learned pattern), scoreType HARRIS or FAST,
 * firstLevel = 0.
 */
import { fastCorners } from './fast.ts';
import { cvRound, fastAtan2, reflect101 } from './math.ts';
import { ORB_PATTERN_31 } from './orb-pattern.ts';
import { resizeLinearExact } from './resize.ts';
import { type Keypoint, retainBest } from './sift.ts';

export interface OrbParams {
  /** Keypoints to keep over all levels (OpenCV: 500). */
  nfeatures: number;
  /** Pyramid decimation ratio, > 1 (OpenCV: 1.2). */
  scaleFactor: number;
  /** Pyramid levels (OpenCV: 8). */
  nlevels: number;
  /** Border in which no keypoint is taken, in level pixels (OpenCV: 31). */
  edgeThreshold: number;
  /** FAST threshold (OpenCV: 20). */
  fastThreshold: number;
  /** Rank corners by Harris response (OpenCV's default) or by FAST score. */
  scoreType: 'harris' | 'fast';
}

export const ORB_DEFAULTS: Readonly<OrbParams> = Object.freeze({
  nfeatures: 500,
  scaleFactor: 1.2,
  nlevels: 8,
  edgeThreshold: 31,
  fastThreshold: 20,
  scoreType: 'harris',
});

export interface OrbOutput {
  keypoints: Keypoint[];
  /** keypoints.length rows of 32 bytes (256 bits, bit i of byte j = test 8j + i). */
  descriptors: Uint8Array;
}

export const ORB_DESCRIPTOR_BYTES = 32;
const PATCH_SIZE = 31;
const HALF_PATCH = 15;
const HARRIS_BLOCK = 7;
const HARRIS_K = Math.fround(0.04);
// OpenCV's bit-exact 8-bit kernel for GaussianBlur(Size(7, 7), 2, 2): 8 fractional bits, centre takes the rest.
const DESCRIPTOR_BLUR = [18, 34, 48, 56, 48, 34, 18] as const;

interface Level {
  width: number;
  height: number;
  /** Row stride of the padded image. */
  stride: number;
  /** Index of pixel (0, 0) in `pixels`. */
  origin: number;
  pixels: Uint8Array;
  scale: number;
}

interface OrbPoint {
  x: number;
  y: number;
  level: number;
  response: number;
  angle: number;
}

const f = Math.fround;

export function orb(grey: Uint8Array, width: number, height: number, params: OrbParams): OrbOutput {
  const descPatch = Math.ceil(HALF_PATCH * Math.SQRT2);
  const border = Math.max(params.edgeThreshold, Math.max(descPatch, 4)) + 1;
  const scaleFactor = f(params.scaleFactor);
  const levels: Level[] = [];
  let prev: { pixels: Uint8Array; width: number; height: number } = { pixels: grey, width, height };
  for (let l = 0; l < params.nlevels; l++) {
    const scale = f(scaleFactor ** l);
    const w = cvRound(f(width / scale));
    const h = cvRound(f(height / scale));
    if (w < 1 || h < 1) break;
    let content = grey;
    if (l > 0) {
      content = new Uint8Array(w * h);
      resizeLinearExact(prev.pixels, prev.width, prev.height, content, w, h);
    }
    levels.push(padLevel(content, w, h, border, scale));
    prev = { pixels: content, width: w, height: h };
  }

  const perLevel = featuresPerLevel(params.nfeatures, scaleFactor, levels.length);
  const umax = circleRows();
  const points: OrbPoint[] = [];
  for (let l = 0; l < levels.length; l++) {
    const level = levels[l]!;
    const wanted = perLevel[l]!;
    let corners = fastCorners(level.pixels, level.width, level.height, level.stride, level.origin, params.fastThreshold)
      .filter(
        (c) =>
          c.x >= params.edgeThreshold &&
          c.x < level.width - params.edgeThreshold &&
          c.y >= params.edgeThreshold &&
          c.y < level.height - params.edgeThreshold,
      )
      .map((c) => ({ x: c.x, y: c.y, level: l, response: c.score, angle: 0 }));
    if (params.scoreType === 'harris') {
      corners = retainBest(corners, 2 * wanted);
      for (const c of corners) c.response = harrisResponse(level, c.x, c.y);
    }
    corners = retainBest(corners, wanted);
    for (const c of corners) c.angle = centroidAngle(level, c.x, c.y, umax);
    points.push(...corners);
  }

  for (const level of levels) blurLevel(level);
  const descriptors = new Uint8Array(points.length * ORB_DESCRIPTOR_BYTES);
  const keypoints: Keypoint[] = points.map((p, i) => {
    const level = levels[p.level]!;
    const x = f(p.x * level.scale);
    const y = f(p.y * level.scale);
    const inverse = f(1 / level.scale);
    describe(level, cvRound(f(x * inverse)), cvRound(f(y * inverse)), p.angle, descriptors, i * ORB_DESCRIPTOR_BYTES);
    return { x, y, size: f(PATCH_SIZE * level.scale), angle: p.angle, response: p.response, octave: p.level };
  });
  return { keypoints, descriptors };
}

/** OpenCV's split of nfeatures over levels: a geometric series with ratio 1/scaleFactor, the rest on the last. */
export function featuresPerLevel(nfeatures: number, scaleFactor: number, nlevels: number): number[] {
  const factor = f(1 / scaleFactor);
  let desired = f(f(nfeatures * f(1 - factor)) / f(1 - f(factor ** nlevels)));
  const counts: number[] = [];
  let sum = 0;
  for (let l = 0; l < nlevels - 1; l++) {
    const n = cvRound(desired);
    counts.push(n);
    sum += n;
    desired = f(desired * factor);
  }
  if (nlevels > 0) counts.push(Math.max(nfeatures - sum, 0));
  return counts;
}

function padLevel(content: Uint8Array, w: number, h: number, border: number, scale: number): Level {
  const stride = w + 2 * border;
  const pixels = new Uint8Array(stride * (h + 2 * border));
  for (let y = -border; y < h + border; y++) {
    const sy = reflect101(y, h);
    const row = (y + border) * stride + border;
    pixels.set(content.subarray(sy * w, sy * w + w), row);
    for (let x = 1; x <= border; x++) {
      pixels[row - x] = content[sy * w + reflect101(-x, w)]!;
      pixels[row + w - 1 + x] = content[sy * w + reflect101(w - 1 + x, w)]!;
    }
  }
  return { width: w, height: h, stride, origin: border * stride + border, pixels, scale };
}

/** Harris corner response over a 7x7 block of 3x3 Sobel gradients, in OpenCV's float arithmetic and scale. */
function harrisResponse(level: Level, x: number, y: number): number {
  const { pixels, stride } = level;
  const r = HARRIS_BLOCK >> 1;
  const scale = f(1 / f(4 * HARRIS_BLOCK * 255));
  const scaleSqSq = f(f(f(scale * scale) * scale) * scale);
  let a = 0;
  let b = 0;
  let c = 0;
  const p0 = level.origin + (y - r) * stride + (x - r);
  for (let i = 0; i < HARRIS_BLOCK; i++) {
    for (let j = 0; j < HARRIS_BLOCK; j++) {
      const p = p0 + i * stride + j;
      const ix =
        (pixels[p + 1]! - pixels[p - 1]!) * 2 +
        (pixels[p - stride + 1]! - pixels[p - stride - 1]!) +
        (pixels[p + stride + 1]! - pixels[p + stride - 1]!);
      const iy =
        (pixels[p + stride]! - pixels[p - stride]!) * 2 +
        (pixels[p + stride - 1]! - pixels[p - stride - 1]!) +
        (pixels[p + stride + 1]! - pixels[p - stride + 1]!);
      a += ix * ix;
      b += iy * iy;
      c += ix * iy;
    }
  }
  const sum = f(a + b);
  return f(f(f(f(a) * b) - f(f(c) * c)) - f(f(HARRIS_K * sum) * sum)) * scaleSqSq;
}

/** umax[v]: half-width of the circular patch's row v, made symmetric as OpenCV makes it. */
function circleRows(): Int32Array {
  const umax = new Int32Array(HALF_PATCH + 2);
  const vmax = Math.floor(HALF_PATCH * Math.SQRT1_2 + 1);
  const vmin = Math.ceil(HALF_PATCH * Math.SQRT1_2);
  for (let v = 0; v <= vmax; v++) umax[v] = cvRound(Math.sqrt(HALF_PATCH * HALF_PATCH - v * v));
  for (let v = HALF_PATCH, v0 = 0; v >= vmin; --v) {
    while (umax[v0] === umax[v0 + 1]) ++v0;
    umax[v] = v0;
    ++v0;
  }
  return umax;
}

/** Orientation of the intensity centroid of the circular patch, in degrees. */
function centroidAngle(level: Level, x: number, y: number, umax: Int32Array): number {
  const { pixels, stride } = level;
  const center = level.origin + y * stride + x;
  let m01 = 0;
  let m10 = 0;
  for (let u = -HALF_PATCH; u <= HALF_PATCH; ++u) m10 += u * pixels[center + u]!;
  for (let v = 1; v <= HALF_PATCH; ++v) {
    let vSum = 0;
    const d = umax[v]!;
    for (let u = -d; u <= d; ++u) {
      const plus = pixels[center + u + v * stride]!;
      const minus = pixels[center + u - v * stride]!;
      vSum += plus - minus;
      m10 += u * (plus + minus);
    }
    m01 += v * vSum;
  }
  return f(fastAtan2(f(m01), f(m10)));
}

/** The level blurred in place (its padded border left as is), as OpenCV does before taking descriptors. */
function blurLevel(level: Level): void {
  const { width: w, height: h, stride, pixels, origin } = level;
  const [k0, k1, k2, k3] = DESCRIPTOR_BLUR;
  // Horizontal pass over the rows the vertical pass reads (3 above and below come from the padding, which holds
  // the reflection: what OpenCV's blur of the ROI reads there too).
  const tmp = new Int32Array((h + 6) * w);
  for (let y = -3; y < h + 3; y++) {
    const row = origin + y * stride;
    const o = (y + 3) * w;
    for (let x = 0; x < w; x++) {
      const p = row + x;
      tmp[o + x] =
        k0 * (pixels[p - 3]! + pixels[p + 3]!) +
        k1 * (pixels[p - 2]! + pixels[p + 2]!) +
        k2 * (pixels[p - 1]! + pixels[p + 1]!) +
        k3 * pixels[p]!;
    }
  }
  for (let y = 0; y < h; y++) {
    const row = origin + y * stride;
    const c = (y + 3) * w;
    for (let x = 0; x < w; x++) {
      const s =
        k0 * (tmp[c - 3 * w + x]! + tmp[c + 3 * w + x]!) +
        k1 * (tmp[c - 2 * w + x]! + tmp[c + 2 * w + x]!) +
        k2 * (tmp[c - w + x]! + tmp[c + w + x]!) +
        k3 * tmp[c + x]!;
      pixels[row + x] = (s + 32768) >> 16;
    }
  }
}

/** 256 intensity comparisons at OpenCV's point pairs rotated by the keypoint's angle. */
function describe(level: Level, cx: number, cy: number, angleDegrees: number, out: Uint8Array, at: number): void {
  const { pixels, stride } = level;
  const angle = f(angleDegrees * f(Math.PI / 180));
  const a = f(Math.cos(angle));
  const b = f(Math.sin(angle));
  const center = level.origin + cy * stride + cx;
  let i = 0;
  for (let byte = 0; byte < ORB_DESCRIPTOR_BYTES; byte++) {
    let value = 0;
    for (let bit = 0; bit < 8; bit++, i += 4) {
      const x1 = ORB_PATTERN_31[i]!;
      const y1 = ORB_PATTERN_31[i + 1]!;
      const x2 = ORB_PATTERN_31[i + 2]!;
      const y2 = ORB_PATTERN_31[i + 3]!;
      const t0 = pixels[center + cvRound(f(f(x1 * b) + f(y1 * a))) * stride + cvRound(f(f(x1 * a) - f(y1 * b)))]!;
      const t1 = pixels[center + cvRound(f(f(x2 * b) + f(y2 * a))) * stride + cvRound(f(f(x2 * a) - f(y2 * b)))]!;
      if (t0 < t1) value |= 1 << bit;
    }
    out[at + byte] = value;
  }
}
