/**
 * Box geometry shared by the detectors: corners in model-input pixels while decoding, then mapped to the
 * oriented original (PixelBox) and to fractions of it (NormalizedBox), clipped to the image.
 */
import type { NormalizedBox, PixelBox, Point } from '@imgpipe/contracts';

export interface Corners {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface Candidate extends Corners {
  score: number;
  classId: number;
}

export function iou(a: Corners, b: Corners): number {
  const width = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const height = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (width <= 0 || height <= 0) return 0;
  const intersection = width * height;
  // Both boxes have a positive width and height here, so the union is positive.
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - intersection;
  return intersection / union;
}

/**
 * Greedy non-maximum suppression, highest score first. Class-aware: a box only suppresses boxes of its own class
 * (pass classAware false for single-class detectors). Ties keep input order, so results are deterministic.
 */
export function nonMaxSuppression<T extends Candidate>(
  candidates: readonly T[],
  iouThreshold: number,
  maxResults: number,
  classAware = true,
): T[] {
  const order = candidates
    .map((_, index) => index)
    .sort((a, b) => candidates[b]!.score - candidates[a]!.score || a - b);
  const kept: T[] = [];
  for (const index of order) {
    const candidate = candidates[index]!;
    const suppressed = kept.some(
      (other) => (!classAware || other.classId === candidate.classId) && iou(other, candidate) > iouThreshold,
    );
    if (suppressed) continue;
    kept.push(candidate);
    if (kept.length >= maxResults) break;
  }
  return kept;
}

/** Maps model-input pixels to the oriented original: subtract the padding, divide by the input's scale. */
export interface InputToOriginal {
  padX: number;
  padY: number;
  /** Original pixels per model-input pixel, per axis. */
  scaleX: number;
  scaleY: number;
  originalWidth: number;
  originalHeight: number;
}

export function mapPoint(point: { x: number; y: number }, map: InputToOriginal): Point {
  return {
    x: round(clamp((point.x - map.padX) * map.scaleX, 0, map.originalWidth), 2),
    y: round(clamp((point.y - map.padY) * map.scaleY, 0, map.originalHeight), 2),
  };
}

export function mapBox(corners: Corners, map: InputToOriginal): { box: PixelBox; boxNormalized: NormalizedBox } {
  const mapped = {
    x1: clamp((corners.x1 - map.padX) * map.scaleX, 0, map.originalWidth),
    y1: clamp((corners.y1 - map.padY) * map.scaleY, 0, map.originalHeight),
    x2: clamp((corners.x2 - map.padX) * map.scaleX, 0, map.originalWidth),
    y2: clamp((corners.y2 - map.padY) * map.scaleY, 0, map.originalHeight),
  };
  return reportedBox(mapped, map.originalWidth, map.originalHeight);
}

/** Corners already in pixels of the oriented original, as the result contract reports them. */
export function reportedBox(
  corners: Corners,
  width: number,
  height: number,
): { box: PixelBox; boxNormalized: NormalizedBox } {
  const { x1, y1, x2, y2 } = corners;
  return {
    box: { x: round(x1, 2), y: round(y1, 2), width: round(x2 - x1, 2), height: round(y2 - y1, 2) },
    boxNormalized: {
      left: round(x1 / width, 6),
      top: round(y1 / height, 6),
      width: round((x2 - x1) / width, 6),
      height: round((y2 - y1) / height, 6),
    },
  };
}

/** The axis-aligned corners enclosing `points`. */
export function boundingCorners(points: readonly Point[]): Corners {
  let x1 = Number.POSITIVE_INFINITY;
  let y1 = Number.POSITIVE_INFINITY;
  let x2 = Number.NEGATIVE_INFINITY;
  let y2 = Number.NEGATIVE_INFINITY;
  for (const p of points) {
    x1 = Math.min(x1, p.x);
    y1 = Math.min(y1, p.y);
    x2 = Math.max(x2, p.x);
    y2 = Math.max(y2, p.y);
  }
  return { x1, y1, x2, y2 };
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
