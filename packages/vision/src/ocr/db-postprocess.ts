/**
 * Differentiable Binarization (DB) post-processing: turns the detector's text probability map into rotated text
 * boxes. Binarise, label 8-connected regions, fit each region's minimum-area rectangle, keep it when the mean
 * probability inside is high enough, then "unclip" it (the network predicts shrunk text kernels) by
 * area * ratio / perimeter, as PaddleOCR's DBPostProcess does with score_mode "fast".
 */
import type { Point } from '@imgpipe/contracts';
import { boundingCorners } from '../geometry/boxes.ts';
import { insideConvex, minAreaRect, offsetConvexPolygon, polygonArea, polygonPerimeter } from './geometry.ts';
import type { RotatedRect } from './geometry.ts';

export interface DbOptions {
  /** Pixels with probability above this are text. */
  threshold: number;
  /** A box is kept when the mean probability inside it reaches this. */
  boxThreshold: number;
  /** How far a box grows: distance = area * ratio / perimeter. */
  unclipRatio: number;
  maxCandidates: number;
  /** Boxes whose shorter side is below this many map pixels are noise. */
  minSize: number;
  /**
   * What the box score averages: 'region' the pixels of the detected region itself (close to PaddleOCR's "slow"
   * mode, which fills the contour; fair to curved lines whose rectangle is mostly background); 'box' the whole
   * rectangle (PaddleOCR's "fast" mode).
   */
  scoreMode: 'region' | 'box';
}

export const DEFAULT_DB_OPTIONS: DbOptions = {
  threshold: 0.3,
  boxThreshold: 0.6,
  unclipRatio: 1.5,
  maxCandidates: 1000,
  minSize: 3,
  scoreMode: 'region',
};

export interface DetectedBox {
  /** Corners clockwise from top-left in the probability map's coordinates. */
  rect: RotatedRect;
  /** Mean text probability inside the shrunk box, 0-1. */
  score: number;
}

interface Region {
  minY: number;
  /** Leftmost and rightmost x of the region in each row from minY; -1 where the row is empty. */
  rowMin: number[];
  rowMax: number[];
  /** Sum of the probabilities of the region's pixels, and their count. */
  sum: number;
  count: number;
}

/** Labels 8-connected foreground regions and records each one's per-row extent (all its convex hull needs). */
export function labelRegions(
  probability: Float32Array,
  width: number,
  height: number,
  threshold: number,
  maxRegions: number,
): Region[] {
  const visited = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  const regions: Region[] = [];
  for (let start = 0; start < width * height; start++) {
    if (visited[start] || !(probability[start]! > threshold)) continue;
    if (regions.length >= maxRegions) break;
    // A raster scan meets every region first in its top row, so rows only grow downwards from the seed.
    const startY = Math.floor(start / width);
    const region: Region = { minY: startY, rowMin: [], rowMax: [], sum: 0, count: 0 };
    let top = 0;
    stack[top++] = start;
    visited[start] = 1;
    while (top > 0) {
      const index = stack[--top]!;
      const y = Math.floor(index / width);
      const x = index - y * width;
      region.sum += probability[index]!;
      region.count++;
      const row = y - region.minY;
      while (region.rowMin.length <= row) {
        region.rowMin.push(-1);
        region.rowMax.push(-1);
      }
      if (region.rowMin[row] === -1 || x < region.rowMin[row]!) region.rowMin[row] = x;
      if (x > region.rowMax[row]!) region.rowMax[row] = x;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const neighbour = ny * width + nx;
          if (visited[neighbour] || !(probability[neighbour]! > threshold)) continue;
          visited[neighbour] = 1;
          stack[top++] = neighbour;
        }
      }
    }
    regions.push(region);
  }
  return regions;
}

function regionHullPoints(region: Region): Point[] {
  const points: Point[] = [];
  for (let row = 0; row < region.rowMin.length; row++) {
    const min = region.rowMin[row]!;
    if (min < 0) continue;
    const y = region.minY + row + 0.5;
    points.push({ x: min + 0.5, y });
    const max = region.rowMax[row]!;
    if (max !== min) points.push({ x: max + 0.5, y });
  }
  return points;
}

/** Mean probability over the map pixels whose centres fall inside the box (boundary pixels included). */
export function meanInside(
  probability: Float32Array,
  width: number,
  height: number,
  corners: readonly Point[],
): number {
  const { x1: minX, y1: minY, x2: maxX, y2: maxY } = boundingCorners(corners);
  const x0 = Math.max(0, Math.floor(minX - 0.5));
  const x1 = Math.min(width - 1, Math.ceil(maxX - 0.5));
  const y0 = Math.max(0, Math.floor(minY - 0.5));
  const y1 = Math.min(height - 1, Math.ceil(maxY - 0.5));
  let sum = 0;
  let count = 0;
  const centre = { x: 0, y: 0 };
  for (let y = y0; y <= y1; y++) {
    centre.y = y + 0.5;
    for (let x = x0; x <= x1; x++) {
      centre.x = x + 0.5;
      if (!insideConvex(corners, centre, 0.5)) continue;
      sum += probability[y * width + x]!;
      count++;
    }
  }
  return count === 0 ? 0 : sum / count;
}

export function boxesFromProbabilityMap(
  probability: Float32Array,
  width: number,
  height: number,
  options: DbOptions = DEFAULT_DB_OPTIONS,
): DetectedBox[] {
  const regions = labelRegions(probability, width, height, options.threshold, options.maxCandidates);
  const boxes: DetectedBox[] = [];
  for (const region of regions) {
    const points = regionHullPoints(region);
    const rect = minAreaRect(points);
    if (Math.min(rect.width, rect.height) < options.minSize) continue;
    const score =
      options.scoreMode === 'region' ? region.sum / region.count : meanInside(probability, width, height, rect.corners);
    if (score < options.boxThreshold) continue;
    const area = polygonArea(rect.corners);
    const perimeter = polygonPerimeter(rect.corners);
    const distance = perimeter > 0 ? (area * options.unclipRatio) / perimeter : 0;
    const grown = minAreaRect(offsetConvexPolygon(rect.corners, distance));
    if (Math.min(grown.width, grown.height) < options.minSize + 2) continue;
    boxes.push({ rect: grown, score });
  }
  return boxes;
}
