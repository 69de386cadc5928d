/**
 * Texture statistics of a grey image: Haralick's grey-level co-occurrence matrix (GLCM) and the Sobel edge density.
 *
 * The GLCM counts, for every pixel and its neighbour at distance 1 in one direction, the pair (level here, level
 * there) after quantising 0-255 to GLCM_LEVELS levels (level = floor(grey * levels / 256)). It is symmetric (each
 * pair counted both ways, as scikit-image's graycomatrix(symmetric=True)) and normalised to sum 1. Four directions,
 * 0° (right), 45° (up-right), 90° (up) and 135° (up-left), each give the four statistics; the result is their mean,
 * which does not depend on how the image is turned by a multiple of 45°.
 *
 * - contrast: sum p(i,j) (i-j)^2 divided by (levels-1)^2, so 0-1: 0 for a flat image, 1 when every neighbour pair
 *   is black against white. (scikit-image's contrast is this times (levels-1)^2.)
 * - homogeneity: sum p(i,j) / (1 + (i-j)^2), 1/(1+(levels-1)^2) to 1: 1 when neighbours are equal.
 * - energy: sqrt(sum p(i,j)^2), 1/levels to 1: 1 when one pair of levels is all there is (a flat image).
 * - entropy: -sum p(i,j) log2 p(i,j), in bits, 0 to 2 log2(levels) (8 bits for 16 levels): how unpredictable a
 *   neighbour's level is; 0 for a flat image.
 * - edgeDensity: the fraction (0-1) of the pixels inside the one-pixel border whose Sobel magnitude is at least
 *   EDGE_THRESHOLD (sobel.ts).
 */
import type { GreyImage } from './grey-image.ts';
import { type Gradients, isEdge } from './sobel.ts';

export const GLCM_LEVELS = 16;

/** Offsets (dx, dy) of the neighbour, y downwards: "up" is dy = -1. */
export const GLCM_DIRECTIONS = { 0: [1, 0], 45: [1, -1], 90: [0, -1], 135: [-1, -1] } as const;
export type GlcmAngle = keyof typeof GLCM_DIRECTIONS;

export interface GlcmStatistics {
  contrast: number;
  homogeneity: number;
  energy: number;
  entropy: number;
}

export interface TextureStatistics extends GlcmStatistics {
  edgeDensity: number;
}

/** The normalised symmetric GLCM at distance 1 in one direction, levels x levels, row-major. */
export function cooccurrence(image: GreyImage, angle: GlcmAngle, levels = GLCM_LEVELS): Float64Array {
  return cooccurrenceOfLevels(quantise(image, levels), image.width, image.height, angle, levels);
}

/** Each pixel's level: floor(grey * levels / 256). */
function quantise(image: GreyImage, levels: number): Uint8Array {
  const { data } = image;
  const quantised = new Uint8Array(data.length);
  const shift = 8 - Math.log2(levels);
  if (Number.isInteger(shift)) for (let i = 0; i < data.length; i++) quantised[i] = data[i]! >> shift;
  else for (let i = 0; i < data.length; i++) quantised[i] = Math.floor((data[i]! * levels) / 256);
  return quantised;
}

function cooccurrenceOfLevels(
  quantised: Uint8Array,
  width: number,
  height: number,
  angle: GlcmAngle,
  levels: number,
): Float64Array {
  const [dx, dy] = GLCM_DIRECTIONS[angle];
  const counts = new Uint32Array(levels * levels);
  const xFrom = Math.max(0, -dx);
  const xTo = Math.min(width, width - dx);
  const yFrom = Math.max(0, -dy);
  const yTo = Math.min(height, height - dy);
  let pairs = 0;
  for (let y = yFrom; y < yTo; y++) {
    const row = y * width;
    const other = (y + dy) * width + dx;
    for (let x = xFrom; x < xTo; x++) {
      const a = quantised[row + x]!;
      const b = quantised[other + x]!;
      counts[a * levels + b]!++;
      counts[b * levels + a]!++;
    }
    pairs += 2 * Math.max(0, xTo - xFrom);
  }
  const matrix = new Float64Array(levels * levels);
  if (pairs > 0) for (let k = 0; k < matrix.length; k++) matrix[k] = counts[k]! / pairs;
  return matrix;
}

/** The four statistics of one normalised GLCM (see the module comment for their ranges). */
export function glcmStatistics(matrix: Float64Array, levels = GLCM_LEVELS): GlcmStatistics {
  let contrast = 0;
  let homogeneity = 0;
  let squares = 0;
  let entropy = 0;
  for (let i = 0; i < levels; i++) {
    for (let j = 0; j < levels; j++) {
      const p = matrix[i * levels + j]!;
      if (p === 0) continue;
      const d2 = (i - j) * (i - j);
      contrast += p * d2;
      homogeneity += p / (1 + d2);
      squares += p * p;
      entropy -= p * Math.log2(p);
    }
  }
  const empty = squares === 0;
  return {
    contrast: contrast / ((levels - 1) * (levels - 1)),
    homogeneity: empty ? 1 : homogeneity,
    energy: empty ? 1 : Math.sqrt(squares),
    entropy,
  };
}

export function glcmByDirection(image: GreyImage, levels = GLCM_LEVELS): Record<GlcmAngle, GlcmStatistics> {
  const quantised = quantise(image, levels);
  const of = (angle: GlcmAngle) =>
    glcmStatistics(cooccurrenceOfLevels(quantised, image.width, image.height, angle, levels), levels);
  return { 0: of(0), 45: of(45), 90: of(90), 135: of(135) };
}

/** The fraction of the pixels inside the one-pixel border that are edges (sobel.ts); 0 for an image under 3x3. */
export function edgeDensity(gradients: Gradients): number {
  const { width, height } = gradients;
  if (width < 3 || height < 3) return 0;
  let edges = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) if (isEdge(gradients, y * width + x)) edges++;
  }
  return edges / ((width - 2) * (height - 2));
}

export function textureStatistics(image: GreyImage, gradients: Gradients): TextureStatistics {
  const byDirection = Object.values(glcmByDirection(image));
  const mean = (key: keyof GlcmStatistics) =>
    byDirection.reduce((sum, statistics) => sum + statistics[key], 0) / byDirection.length;
  return {
    contrast: mean('contrast'),
    homogeneity: mean('homogeneity'),
    energy: mean('energy'),
    entropy: mean('entropy'),
    edgeDensity: edgeDensity(gradients),
  };
}
