/**
 * SIFT (Lowe 2004) with OpenCV's parameters, defaults and semantics (modules/features2d/src/sift.*), written for
 * typed arrays: the grey image is doubled (bilinear), blurred to sigma from an assumed 0.5, a Gaussian pyramid of
 * nOctaveLayers + 3 images per octave is built with separable blurs, extrema of the difference of Gaussians are
 * refined by a quadratic fit (up to 5 steps), filtered on contrast and on the ratio of principal curvatures,
 * given one keypoint per orientation peak (36-bin histogram, smoothed, peaks >= 0.8 of the highest, parabolic
 * interpolation) and described by 4x4 histograms of 8 orientations with trilinear interpolation, clamped at 0.2,
 * renormalised and scaled by 512 to whole numbers 0-255, stored as floats like OpenCV's CV_32F descriptors.
 *
 * Keypoints come out as OpenCV reports them: position and size in pixels of the input grey image, angle in
 * degrees clockwise in image coordinates (y down; the dominant gradient direction), response = |DoG| at the refined
 * extremum, octave packed as OpenCV packs it: (octave & 0xff) | (layer << 8) | (round((xi + 0.5) * 255) << 16),
 * where octave -1 is the doubled image (stored as 0xff), layer 1..nOctaveLayers, xi the sub-layer offset.
 *
 * Working memory: float planes carved from one arena that this thread keeps for the next call (dropped when it
 * would hold more than ARENA_KEEP_BYTES): layers 1..nOctaveLayers of every octave, three shared planes for the
 * other layers, and the blur's float64 plane, about 9 planes of the doubled image (~144 bytes per input pixel). The
 * arena is a WebAssembly memory (blur-simd.ts) so the Gaussian blurs, most of the work, run there in SIMD, bit for
 * bit what gaussian-blur.ts's blurPlane computes, and so do the extremum scan and the gradient histograms
 * (extrema-wasm.ts, descriptor-wasm.ts).
 */
import { SimdPlanes } from './blur-simd.ts';
import { gaussianHalfKernel } from './gaussian-blur.ts';
import { cvRound, fastAtan2 } from './math.ts';

export interface SiftParams {
  /** Keep the best this many keypoints by response (ties at the cut kept, as OpenCV does); 0 keeps all. */
  nfeatures: number;
  /** Layers per octave in which extrema are sought (OpenCV: 3). */
  nOctaveLayers: number;
  /** Minimum |DoG| contrast at an extremum, divided by nOctaveLayers (OpenCV: 0.04). */
  contrastThreshold: number;
  /** Maximum ratio of principal curvatures; larger keeps more edge-like points (OpenCV: 10). */
  edgeThreshold: number;
  /** Blur of the first image of each octave (OpenCV: 1.6). */
  sigma: number;
}

export const SIFT_DEFAULTS: Readonly<SiftParams> = Object.freeze({
  nfeatures: 0,
  nOctaveLayers: 3,
  contrastThreshold: 0.04,
  edgeThreshold: 10,
  sigma: 1.6,
});

export interface Keypoint {
  x: number;
  y: number;
  size: number;
  angle: number;
  response: number;
  octave: number;
}

export interface SiftOutput {
  keypoints: Keypoint[];
  /** keypoints.length rows of 128 values. */
  descriptors: Float32Array;
}

export const SIFT_DESCRIPTOR_SIZE = 128;

const DESCR_WIDTH = 4;
const DESCR_HIST_BINS = 8;
const INIT_SIGMA = 0.5;
const IMG_BORDER = 5;
const MAX_INTERP_STEPS = 5;
const ORI_HIST_BINS = 36;
const ORI_SIG_FCTR = 1.5;
const ORI_RADIUS = 3 * ORI_SIG_FCTR;
const ORI_PEAK_RATIO = 0.8;
const DESCR_SCL_FCTR = 3;
const DESCR_MAG_THR = 0.2;
const INT_DESCR_FCTR = 512;
const FIRST_OCTAVE = -1;
/** Pixel values are 0-255 here (OpenCV keeps them x256 in 16 bits; the scale cancels out). */
const IMG_SCALE = 1 / 255;
const FLT_EPSILON = 1.1920928955078125e-7;
const ARENA_KEEP_BYTES = 256 * 1024 * 1024;

interface Octave {
  width: number;
  height: number;
  /** nOctaveLayers + 3 blurred images. */
  gauss: Float32Array[];
}

interface Candidate extends Keypoint {
  /** Octave index counted from the doubled image (0) up, and layer, for the descriptor. */
  o: number;
  layer: number;
}

let arena: SimdPlanes | undefined;

/** The kept arena, or a new one that also fits what the kept one did (images of mixed shapes settle on one). */
function takeArena(floats: number, width: number, height: number, radius: number): SimdPlanes {
  if (arena?.fits(floats, width, height, radius)) return arena;
  const old = arena;
  arena = undefined;
  arena = old
    ? new SimdPlanes(
        Math.max(floats, old.floats.length),
        Math.max(width, old.maxWidth),
        Math.max(height, old.maxHeight),
        Math.max(radius, old.maxRadius),
      )
    : new SimdPlanes(floats, width, height, radius);
  return arena;
}

export function sift(grey: Uint8Array, width: number, height: number, params: SiftParams): SiftOutput {
  const nl = params.nOctaveLayers;
  const baseW = width * 2;
  const baseH = height * 2;
  const nOctaves = cvRound(Math.log2(Math.min(baseW, baseH)) - 2) - FIRST_OCTAVE;
  if (nOctaves <= 0) return { keypoints: [], descriptors: new Float32Array(0) };

  // Incremental blurs between layers: sig[i]^2 = (k^i sigma)^2 - (k^(i-1) sigma)^2; kernels[0] blurs the base.
  const sigDiff = Math.sqrt(Math.max(params.sigma * params.sigma - INIT_SIGMA * INIT_SIGMA * 4, 0.01));
  const k = 2 ** (1 / nl);
  const kernels = [gaussianHalfKernel(sigDiff)];
  for (let i = 1; i < nl + 3; i++) {
    const prev = k ** (i - 1) * params.sigma;
    const totalSigma = prev * k;
    kernels.push(gaussianHalfKernel(Math.sqrt(totalSigma * totalSigma - prev * prev)));
  }
  const maxRadius = Math.max(...kernels.map((kernel) => kernel.length - 1));

  // The arena: layers 1..nOctaveLayers of every octave are kept (orientations and descriptors are measured on
  // them); layers 0, nl + 1 and nl + 2 are needed only while their octave is searched and share three planes the
  // size of octave 0 (the blur keeps its own float64 plane). Differences of Gaussians are never stored: they are
  // read as differences of these planes.
  const sizes: { width: number; height: number }[] = [];
  const plane0 = baseW * baseH;
  let total = 3 * plane0;
  for (let o = 0, w = baseW, h = baseH; o < nOctaves; o++, w = w >> 1, h = h >> 1) {
    sizes.push({ width: w, height: h });
    total += nl * w * h;
  }
  const planes = takeArena(total, baseW, baseH, maxRadius);
  const memory = planes.floats;
  let offset = 0;
  const carve = (n: number) => {
    const view = memory.subarray(offset, offset + n);
    offset += n;
    return view;
  };
  const shared: Float32Array[] = [carve(plane0), carve(plane0), carve(plane0)];
  const octaves: Octave[] = sizes.map(({ width: w, height: h }) => ({
    width: w,
    height: h,
    gauss: Array.from({ length: nl + 3 }, (_, i) =>
      i === 0 ? shared[0]!.subarray(0, w * h) : i <= nl ? carve(w * h) : shared[i - nl]!.subarray(0, w * h),
    ),
  }));

  // Base image: grey doubled by bilinear interpolation (OpenCV's INTER_LINEAR_EXACT at scale 2), then blurred from
  // the assumed camera blur (0.5, doubled to 1.0) to sigma.
  upscale2x(grey, width, height, shared[1]!);
  planes.blur(shared[1]!, octaves[0]!.gauss[0]!, baseW, baseH, kernels[0]!);

  const threshold = Math.floor(((0.5 * params.contrastThreshold) / nl) * 255 * 256) / 256;
  const candidates: Candidate[] = [];
  const histogram = new OrientationScratch(planes);

  for (let o = 0; o < nOctaves; o++) {
    const octave = octaves[o]!;
    const { width: w, height: h, gauss } = octave;
    if (o > 0) {
      const prev = octaves[o - 1]!;
      downsample2x(prev.gauss[nl]!, prev.width, gauss[0]!, w, h);
    }
    for (let i = 1; i < nl + 3; i++) planes.blur(gauss[i - 1]!, gauss[i]!, w, h, kernels[i]!);
    for (let layer = 1; layer <= nl; layer++) {
      findExtrema(o, layer, threshold, octave, params, candidates, histogram, planes);
    }
  }

  let keypoints = removeDuplicates(candidates);
  if (params.nfeatures > 0) keypoints = retainBest(keypoints, params.nfeatures);

  const descriptors = new Float32Array(keypoints.length * SIFT_DESCRIPTOR_SIZE);
  const describer = new DescriptorScratch(planes);
  // Described plane by plane, top to bottom (each descriptor depends only on its keypoint): windows of nearby
  // keypoints share cached rows, where the keypoints' own order (by x) jumps across the planes.
  const order = keypoints.map((_, i) => i);
  order.sort((a, b) => {
    const p = keypoints[a]!;
    const q = keypoints[b]!;
    return p.o - q.o || p.layer - q.layer || p.y - q.y || p.x - q.x;
  });
  for (const i of order) {
    const kp = keypoints[i]!;
    const octave = octaves[kp.o]!;
    const scale = 2 ** -(kp.o + FIRST_OCTAVE);
    let angle = 360 - kp.angle;
    if (Math.abs(angle - 360) < FLT_EPSILON) angle = 0;
    describer.describe(
      octave.gauss[kp.layer]!,
      octave.width,
      octave.height,
      kp.x * scale,
      kp.y * scale,
      angle,
      kp.size * scale * 0.5,
      descriptors,
      i * SIFT_DESCRIPTOR_SIZE,
    );
  }
  if (planes.byteLength > ARENA_KEEP_BYTES) arena = undefined;
  return {
    keypoints: keypoints.map(({ x, y, size, angle, response, octave }) => ({ x, y, size, angle, response, octave })),
    descriptors,
  };
}

/** Drops the plane arena this thread keeps between calls. */
export function releaseSiftMemory(): void {
  arena = undefined;
}

function upscale2x(src: Uint8Array, width: number, height: number, dst: Float32Array): void {
  // dst(2i) = 0.25 src(i-1) + 0.75 src(i), dst(2i+1) = 0.75 src(i) + 0.25 src(i+1), edges replicated: what
  // bilinear resampling with pixel centres at half-integers gives for an exact 2x. In sixteenths every value is a
  // whole number (rows expanded x4 once each, then combined x4), so the floats are exact.
  const dw = width * 2;
  let above = new Int32Array(dw);
  let here = new Int32Array(dw);
  let below = new Int32Array(dw);
  expandRow(src, 0, width, here);
  above.set(here);
  for (let y = 0; y < height; y++) {
    expandRow(src, (y < height - 1 ? y + 1 : y) * width, width, below);
    const top = 2 * y * dw;
    const bottom = top + dw;
    for (let x = 0; x < dw; x++) {
      const h3 = 3 * here[x]!;
      dst[top + x] = (above[x]! + h3) * 0.0625;
      dst[bottom + x] = (h3 + below[x]!) * 0.0625;
    }
    const spare = above;
    above = here;
    here = below;
    below = spare;
  }
}

/** One grey row widened 2x, times 4: out(2i) = src(i-1) + 3 src(i), out(2i+1) = 3 src(i) + src(i+1), edges replicated. */
function expandRow(src: Uint8Array, o: number, width: number, out: Int32Array): void {
  let left = src[o]!;
  for (let x = 0; x < width; x++) {
    const c = src[o + x]!;
    const r = x < width - 1 ? src[o + x + 1]! : c;
    out[2 * x] = left + 3 * c;
    out[2 * x + 1] = 3 * c + r;
    left = c;
  }
}

/** Next octave's first image: every second pixel of the previous octave's layer nOctaveLayers (INTER_NEAREST). */
function downsample2x(src: Float32Array, srcWidth: number, dst: Float32Array, width: number, height: number): void {
  for (let y = 0; y < height; y++) {
    const s = 2 * y * srcWidth;
    const d = y * width;
    for (let x = 0; x < width; x++) dst[d + x] = src[s + 2 * x]!;
  }
}

function findExtrema(
  o: number,
  layer: number,
  threshold: number,
  octave: Octave,
  params: SiftParams,
  out: Candidate[],
  histogram: OrientationScratch,
  planes: SimdPlanes,
): void {
  const { width: w, height: h, gauss } = octave;
  // DoG_i = G_(i+1) - G_i: the extremum's layer and the two around it come from four Gaussian planes. Pixels with
  // |DoG| > threshold that are >= (or <=) all 26 neighbours in the three DoG layers are found by extrema-wasm.ts.
  const [g0, g1, g2, g3] = [gauss[layer - 1]!, gauss[layer]!, gauss[layer + 1]!, gauss[layer + 2]!];
  const columns = planes.extremaColumns;
  const cube = new Float64Array(27);
  for (let r = IMG_BORDER; r < h - IMG_BORDER; r++) {
    const found = planes.extremaRow(
      g0.byteOffset,
      g1.byteOffset,
      g2.byteOffset,
      g3.byteOffset,
      w * 4,
      r * w * 4,
      IMG_BORDER,
      w - IMG_BORDER,
      threshold,
      columns.byteOffset,
    );
    for (let k = 0; k < found; k++) {
      const refined = refine(gauss, o, layer, r, columns[k]!, w, h, params, cube);
      if (!refined) continue;
      addOrientations(refined, octave, o, out, histogram);
    }
  }
}

interface Refined {
  x: number;
  y: number;
  size: number;
  response: number;
  octave: number;
  layer: number;
  /** Integer position after refinement, in the octave's pixels: where orientation is measured. */
  r: number;
  c: number;
}

/**
 * Fits a 3D quadratic to the DoG around (layer, r, c), moving to the neighbour the offset points into (at most 5
 * times); rejects low contrast and edges. Derivatives by central differences, as in OpenCV's adjustLocalExtrema.
 */
function refine(
  gauss: Float32Array[],
  o: number,
  startLayer: number,
  startR: number,
  startC: number,
  w: number,
  h: number,
  params: SiftParams,
  cube: Float64Array,
): Refined | undefined {
  const nl = params.nOctaveLayers;
  const deriv = IMG_SCALE * 0.5;
  const second = IMG_SCALE;
  const cross = IMG_SCALE * 0.25;
  let layer = startLayer;
  let r = startR;
  let c = startC;
  let xi = 0;
  let xr = 0;
  let xc = 0;
  let step = 0;
  for (; step < MAX_INTERP_STEPS; step++) {
    loadCube(gauss, layer, r * w + c, w, cube);
    const v2 = cube[13]! * 2;
    const dx = (cube[14]! - cube[12]!) * deriv;
    const dy = (cube[16]! - cube[10]!) * deriv;
    const ds = (cube[22]! - cube[4]!) * deriv;
    const dxx = (cube[14]! + cube[12]! - v2) * second;
    const dyy = (cube[16]! + cube[10]! - v2) * second;
    const dss = (cube[22]! + cube[4]! - v2) * second;
    const dxy = (cube[17]! - cube[15]! - cube[11]! + cube[9]!) * cross;
    const dxs = (cube[23]! - cube[21]! - cube[5]! + cube[3]!) * cross;
    const dys = (cube[25]! - cube[19]! - cube[7]! + cube[1]!) * cross;
    // Solve H X = dD by LU without pivoting (OpenCV's 3x3 solve_LU), then step against the gradient.
    const l10 = dxy / dxx;
    const l20 = dxs / dxx;
    const u11 = dyy - l10 * dxy;
    const u12 = dys - l10 * dxs;
    const l21 = (dys - l20 * dxy) / u11;
    const u22 = dss - l20 * dxs - l21 * u12;
    const v0 = dx;
    const v1 = dy - l10 * v0;
    const v2s = ds - l20 * v0 - l21 * v1;
    const x2 = v2s / u22;
    const x1 = (v1 - x2 * u12) / u11;
    const x0 = (v0 - x2 * dxs - x1 * dxy) / dxx;
    xi = -x2;
    xr = -x1;
    xc = -x0;
    if (Math.abs(xi) < 0.5 && Math.abs(xr) < 0.5 && Math.abs(xc) < 0.5) break;
    const limit = 0x7fffffff / 3;
    // NaN (a singular fit) fails this test too, as it does in OpenCV (comparisons with NaN are false there and
    // cvRound(NaN) moves the point out of range).
    if (!(Math.abs(xi) <= limit && Math.abs(xr) <= limit && Math.abs(xc) <= limit)) return undefined;
    c += cvRound(xc);
    r += cvRound(xr);
    layer += cvRound(xi);
    if (layer < 1 || layer > nl || c < IMG_BORDER || c >= w - IMG_BORDER || r < IMG_BORDER || r >= h - IMG_BORDER)
      return undefined;
  }
  if (step >= MAX_INTERP_STEPS) return undefined;

  loadCube(gauss, layer, r * w + c, w, cube);
  const dx = (cube[14]! - cube[12]!) * deriv;
  const dy = (cube[16]! - cube[10]!) * deriv;
  const ds = (cube[22]! - cube[4]!) * deriv;
  const t = dx * xc + dy * xr + ds * xi;
  const contrast = cube[13]! * IMG_SCALE + t * 0.5;
  if (Math.abs(contrast) * nl < params.contrastThreshold) return undefined;

  const v2 = cube[13]! * 2;
  const dxx = (cube[14]! + cube[12]! - v2) * second;
  const dyy = (cube[16]! + cube[10]! - v2) * second;
  const dxy = (cube[17]! - cube[15]! - cube[11]! + cube[9]!) * cross;
  const trace = dxx + dyy;
  const det = dxx * dyy - dxy * dxy;
  const edge = params.edgeThreshold;
  if (det <= 0 || trace * trace * edge >= (edge + 1) * (edge + 1) * det) return undefined;

  const scale = 2 ** o;
  return {
    x: (c + xc) * scale,
    y: (r + xr) * scale,
    octave: o + (layer << 8) + (cvRound((xi + 0.5) * 255) << 16),
    size: params.sigma * 2 ** ((layer + xi) / nl) * scale * 2,
    response: Math.abs(contrast),
    layer,
    r,
    c,
  };
}

/**
 * The 3x3x3 DoG neighbourhood of pixel p in DoG layers layer - 1, layer, layer + 1, as differences of Gaussian
 * planes: cube[(s + 1) * 9 + (dy + 1) * 3 + (dx + 1)].
 */
function loadCube(gauss: Float32Array[], layer: number, p: number, w: number, cube: Float64Array): void {
  let i = 0;
  for (let s = -1; s <= 1; s++) {
    const lower = gauss[layer + s]!;
    const upper = gauss[layer + s + 1]!;
    for (let dy = -1; dy <= 1; dy++) {
      const q = p + dy * w;
      cube[i++] = upper[q - 1]! - lower[q - 1]!;
      cube[i++] = upper[q]! - lower[q]!;
      cube[i++] = upper[q + 1]! - lower[q + 1]!;
    }
  }
}

/** Buffers of the orientation histogram; with `planes`, images in its memory are histogrammed there. */
export class OrientationScratch {
  readonly hist = new Float64Array(ORI_HIST_BINS);
  readonly temp = new Float64Array(ORI_HIST_BINS + 4);
  weights = new Float64Array(64);
  readonly planes: SimdPlanes | undefined;

  constructor(planes?: SimdPlanes) {
    this.planes = planes;
  }
}

function addOrientations(
  point: Refined,
  octave: Octave,
  o: number,
  out: Candidate[],
  scratch: OrientationScratch,
): void {
  const n = ORI_HIST_BINS;
  const sclOctv = (point.size * 0.5) / 2 ** o;
  const max = orientationHistogram(
    octave.gauss[point.layer]!,
    octave.width,
    octave.height,
    point.c,
    point.r,
    cvRound(ORI_RADIUS * sclOctv),
    ORI_SIG_FCTR * sclOctv,
    scratch,
  );
  const hist = scratch.hist;
  const threshold = max * ORI_PEAK_RATIO;
  // Positions leave the octave's pixels for the image's (doubled for octave 0): OpenCV halves them afterwards
  // (firstOctave = -1); doing it here keeps the packed octave and the float32 values identical to its output.
  const half = 0.5;
  const octaveByte = (point.octave & ~255) | ((point.octave + FIRST_OCTAVE) & 255);
  for (let j = 0; j < n; j++) {
    const l = j > 0 ? j - 1 : n - 1;
    const r2 = j < n - 1 ? j + 1 : 0;
    const v = hist[j]!;
    if (v > hist[l]! && v > hist[r2]! && v >= threshold) {
      let bin = j + (0.5 * (hist[l]! - hist[r2]!)) / (hist[l]! - 2 * v + hist[r2]!);
      bin = bin < 0 ? n + bin : bin >= n ? bin - n : bin;
      let angle = Math.fround(360 - (360 / n) * bin);
      if (Math.abs(angle - 360) < FLT_EPSILON) angle = 0;
      out.push({
        x: Math.fround(Math.fround(point.x) * half),
        y: Math.fround(Math.fround(point.y) * half),
        size: Math.fround(Math.fround(point.size) * half),
        angle,
        response: Math.fround(point.response),
        octave: octaveByte,
        o,
        layer: point.layer,
      });
    }
  }
}

/** 36-bin histogram of gradient orientations around (px, py), Gaussian-weighted and smoothed; returns its maximum. */
export function orientationHistogram(
  img: Float32Array,
  w: number,
  h: number,
  px: number,
  py: number,
  radius: number,
  sigma: number,
  scratch: OrientationScratch,
): number {
  const n = ORI_HIST_BINS;
  const planes = scratch.planes;
  const inWasm =
    planes !== undefined && img.buffer === planes.memory.buffer && 2 * radius + 1 <= planes.windowWeights.length;
  const temp = inWasm ? planes.orientationTemp : scratch.temp;
  temp.fill(0);
  if (!inWasm && scratch.weights.length < 2 * radius + 1) scratch.weights = new Float64Array(2 * radius + 1);
  const weights = inWasm ? planes.windowWeights : scratch.weights;
  const expScale = -1 / (2 * sigma * sigma);
  // exp(-(i^2 + j^2) / 2 sigma^2) = exp(-i^2 / 2 sigma^2) exp(-j^2 / 2 sigma^2): one exp per row and column.
  for (let i = 0; i <= radius; i++) {
    const weight = Math.exp(i * i * expScale); // even in i: one exp for i and -i
    weights[radius + i] = weight;
    weights[radius - i] = weight;
  }
  const binsPerDegree = n / 360;
  if (inWasm) {
    // descriptor-wasm.ts's orient: the loop below, bit for bit.
    planes.orientationWindow(
      img.byteOffset,
      w * 4,
      h,
      px,
      py,
      radius,
      Math.max(-radius, 1 - px),
      Math.min(radius, w - 2 - px),
      weights.byteOffset + radius * 8,
      temp.byteOffset,
      binsPerDegree,
    );
  }
  for (let i = -radius; i <= radius && !inWasm; i++) {
    const y = py + i;
    if (y <= 0 || y >= h - 1) continue;
    const wy = weights[i + radius]!;
    const o = y * w;
    for (let j = -radius; j <= radius; j++) {
      const x = px + j;
      if (x <= 0 || x >= w - 1) continue;
      const p = o + x;
      const dx = img[p + 1]! - img[p - 1]!;
      const dy = img[p - w]! - img[p + w]!;
      let bin = cvRound(binsPerDegree * fastAtan2(dy, dx));
      if (bin >= n) bin -= n;
      if (bin < 0) bin += n;
      temp[2 + bin]! += wy * weights[j + radius]! * Math.sqrt(dx * dx + dy * dy);
    }
  }
  temp[1] = temp[n + 1]!;
  temp[0] = temp[n]!;
  temp[n + 2] = temp[2]!;
  temp[n + 3] = temp[3]!;
  const hist = scratch.hist;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const v = (temp[i]! + temp[i + 4]!) * (1 / 16) + (temp[i + 1]! + temp[i + 3]!) * (4 / 16) + temp[i + 2]! * (6 / 16);
    hist[i] = v;
    if (i === 0 || v > max) max = v;
  }
  return max;
}

/** OpenCV's removeDuplicatedSorted: sort by x, y, size (desc), angle, response (desc), octave (desc), drop repeats. */
function removeDuplicates(points: Candidate[]): Candidate[] {
  points.sort(
    (a, b) =>
      a.x - b.x || a.y - b.y || b.size - a.size || a.angle - b.angle || b.response - a.response || b.octave - a.octave,
  );
  const out: Candidate[] = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (last && last.x === p.x && last.y === p.y && last.size === p.size && last.angle === p.angle) continue;
    out.push(p);
  }
  return out;
}

/** OpenCV's retainBest: the n strongest by response, plus any tied with the n-th. Order is kept. */
export function retainBest<T extends { response: number }>(points: T[], n: number): T[] {
  if (points.length <= n) return points;
  if (n <= 0) return [];
  const responses = points.map((p) => p.response).sort((a, b) => b - a);
  const cut = responses[n - 1]!;
  return points.filter((p) => p.response >= cut);
}

/**
 * Computes descriptors one keypoint at a time. With `planes`, images that are views of its memory are described by
 * descriptor-wasm.ts's row function (bit for bit the loop below, descriptor-wasm.test.ts); other images, and
 * windows wider than its reserved weights, by the TypeScript loop.
 */
export class DescriptorScratch {
  readonly raw = new Float64Array(DESCR_WIDTH * DESCR_WIDTH * DESCR_HIST_BINS);
  weights = new Float64Array(128);
  private readonly planes: SimdPlanes | undefined;
  private readonly ownHist = new Float64Array((DESCR_WIDTH + 2) * (DESCR_WIDTH + 2) * (DESCR_HIST_BINS + 2));

  constructor(planes?: SimdPlanes) {
    this.planes = planes;
  }

  /**
   * The 128-value descriptor of a keypoint at (ptx, pty) in `img` (its octave's layer), orientation `ori` degrees
   * (the image angle, i.e. 360 - keypoint angle), scale `scl` (half the keypoint size in octave pixels).
   */
  describe(
    img: Float32Array,
    w: number,
    h: number,
    ptx: number,
    pty: number,
    ori: number,
    scl: number,
    dst: Float32Array,
    at: number,
  ): void {
    const d = DESCR_WIDTH;
    const n = DESCR_HIST_BINS;
    const px = cvRound(ptx);
    const py = cvRound(pty);
    const radians = (ori * Math.PI) / 180;
    const histWidth = DESCR_SCL_FCTR * scl;
    let radius = cvRound(histWidth * Math.SQRT2 * (d + 1) * 0.5);
    radius = Math.min(radius, Math.floor(Math.sqrt(w * w + h * h)));
    const cosT = Math.cos(radians) / histWidth;
    const sinT = Math.sin(radians) / histWidth;
    const binsPerDegree = n / 360;
    const expScale = -1 / (d * d * 0.5);
    const planes = this.planes;
    const inWasm =
      planes !== undefined && img.buffer === planes.memory.buffer && 2 * radius + 1 <= planes.windowWeights.length;
    const hist = inWasm ? planes.descriptorHist : this.ownHist;
    hist.fill(0);
    // The weight exp(-(c_rot^2 + r_rot^2) / (d^2 / 2)) depends only on the distance, and rotation keeps distances:
    // exp(-(i^2 + j^2) / histWidth^2 * 2 / d^2), separable into row and column factors.
    if (!inWasm && this.weights.length < 2 * radius + 1) this.weights = new Float64Array(2 * radius + 1);
    const weights = inWasm ? planes.windowWeights : this.weights;
    const distScale = expScale / (histWidth * histWidth);
    for (let i = 0; i <= radius; i++) {
      const weight = Math.exp(i * i * distScale); // even in i: one exp for i and -i
      weights[radius + i] = weight;
      weights[radius - i] = weight;
    }
    const half = d / 2 - 0.5;
    const rowStride = (d + 2) * (n + 2);
    const colStride = n + 2;
    if (inWasm) {
      // descriptor-wasm.ts's dwin: the loop below, bit for bit.
      planes.descriptorWindow(
        img.byteOffset,
        w * 4,
        w,
        h,
        px,
        py,
        radius,
        weights.byteOffset + radius * 8,
        hist.byteOffset,
        cosT,
        sinT,
        ori,
        binsPerDegree,
      );
    }

    for (let i = -radius; i <= radius && !inWasm; i++) {
      const y = py + i;
      if (y <= 0 || y >= h - 1) continue;
      const wy = weights[i + radius]!;
      const o = y * w;
      // Only the columns whose rotated position can fall in the d x d grid (|cRot|, |rRot| < d / 2 + 0.5), with
      // a column to spare on each side; the exact test below still decides each one.
      let jLo = Math.max(-radius, 1 - px);
      let jHi = Math.min(radius, w - 2 - px);
      const reach = half + 1;
      if (Math.abs(cosT) > 1e-9) {
        const a = (-reach + i * sinT) / cosT;
        const b = (reach + i * sinT) / cosT;
        jLo = Math.max(jLo, Math.floor(Math.min(a, b)) - 1);
        jHi = Math.min(jHi, Math.ceil(Math.max(a, b)) + 1);
      }
      if (Math.abs(sinT) > 1e-9) {
        const a = (-reach - i * cosT) / sinT;
        const b = (reach - i * cosT) / sinT;
        jLo = Math.max(jLo, Math.floor(Math.min(a, b)) - 1);
        jHi = Math.min(jHi, Math.ceil(Math.max(a, b)) + 1);
      }
      for (let j = jLo; j <= jHi; j++) {
        const cRot = j * cosT - i * sinT;
        const rRot = j * sinT + i * cosT;
        const rbin = rRot + half;
        const cbin = cRot + half;
        if (!(rbin > -1 && rbin < d && cbin > -1 && cbin < d)) continue;
        const x = px + j;
        if (x <= 0 || x >= w - 1) continue;
        const p = o + x;
        const dx = img[p + 1]! - img[p - 1]!;
        const dy = img[p - w]! - img[p + w]!;
        const mag = Math.sqrt(dx * dx + dy * dy) * wy * weights[j + radius]!;
        let obin = (fastAtan2(dy, dx) - ori) * binsPerDegree;
        const r0 = Math.floor(rbin);
        const c0 = Math.floor(cbin);
        let o0 = Math.floor(obin);
        const fr = rbin - r0;
        const fc = cbin - c0;
        obin -= o0;
        if (o0 < 0) o0 += n;
        if (o0 >= n) o0 -= n;
        // Trilinear: row, column, orientation.
        const vR1 = mag * fr;
        const vR0 = mag - vR1;
        const vRC11 = vR1 * fc;
        const vRC10 = vR1 - vRC11;
        const vRC01 = vR0 * fc;
        const vRC00 = vR0 - vRC01;
        const vRCO111 = vRC11 * obin;
        const vRCO110 = vRC11 - vRCO111;
        const vRCO101 = vRC10 * obin;
        const vRCO100 = vRC10 - vRCO101;
        const vRCO011 = vRC01 * obin;
        const vRCO010 = vRC01 - vRCO011;
        const vRCO001 = vRC00 * obin;
        const vRCO000 = vRC00 - vRCO001;
        const idx = ((r0 + 1) * (d + 2) + c0 + 1) * (n + 2) + o0;
        hist[idx]! += vRCO000;
        hist[idx + 1]! += vRCO001;
        hist[idx + colStride]! += vRCO010;
        hist[idx + colStride + 1]! += vRCO011;
        hist[idx + rowStride]! += vRCO100;
        hist[idx + rowStride + 1]! += vRCO101;
        hist[idx + rowStride + colStride]! += vRCO110;
        hist[idx + rowStride + colStride + 1]! += vRCO111;
      }
    }

    // Fold the circular orientation bins, copy out, clamp at 0.2 of the norm, renormalise, scale to bytes.
    const raw = this.raw;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        const idx = ((i + 1) * (d + 2) + (j + 1)) * (n + 2);
        hist[idx]! += hist[idx + n]!;
        hist[idx + 1]! += hist[idx + n + 1]!;
        for (let k = 0; k < n; k++) raw[(i * d + j) * n + k] = hist[idx + k]!;
      }
    }
    const len = d * d * n;
    let nrm2 = 0;
    for (let k = 0; k < len; k++) nrm2 += raw[k]! * raw[k]!;
    const thr = Math.sqrt(nrm2) * DESCR_MAG_THR;
    nrm2 = 0;
    for (let k = 0; k < len; k++) {
      const v = Math.min(raw[k]!, thr);
      raw[k] = v;
      nrm2 += v * v;
    }
    const scale = INT_DESCR_FCTR / Math.max(Math.sqrt(nrm2), FLT_EPSILON);
    for (let k = 0; k < len; k++) {
      const v = cvRound(raw[k]! * scale);
      dst[at + k] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}
