/**
 * Plane geometry for text boxes: convex hull, minimum-area rectangle (rotating calipers), convex polygon offset and
 * corner ordering. Coordinates are continuous: pixel (i, j) covers [i, i+1) x [j, j+1), its centre is (i+.5, j+.5).
 */
import type { Point } from '@imgpipe/contracts';

export interface RotatedRect {
  /** Corners clockwise from top-left (y grows downwards). */
  corners: [Point, Point, Point, Point];
  /** Length of the side from corners[0] to corners[1]. */
  width: number;
  /** Length of the side from corners[1] to corners[2]. */
  height: number;
}

function cross(o: Point, a: Point, b: Point): number {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

/** Andrew's monotone chain; returns the hull counter-clockwise in math orientation (clockwise on screen). */
export function convexHull(points: readonly Point[]): Point[] {
  if (points.length <= 2) return points.map((p) => ({ x: p.x, y: p.y }));
  const sorted = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  const lower: Point[] = [];
  for (const p of sorted) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = sorted.length - 1; i >= 0; i--) {
    const p = sorted[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

export function polygonArea(polygon: readonly Point[]): number {
  let twice = 0;
  for (let i = 0; i < polygon.length; i++) {
    const a = polygon[i]!;
    const b = polygon[(i + 1) % polygon.length]!;
    twice += a.x * b.y - b.x * a.y;
  }
  return Math.abs(twice) / 2;
}

export function polygonPerimeter(polygon: readonly Point[]): number {
  let length = 0;
  for (let i = 0; i < polygon.length; i++) {
    const a = polygon[i]!;
    const b = polygon[(i + 1) % polygon.length]!;
    length += Math.hypot(b.x - a.x, b.y - a.y);
  }
  return length;
}

/**
 * Minimum-area enclosing rectangle. One side of the optimum lies on a hull edge, so trying every edge direction
 * and projecting the hull onto it and its normal finds it (O(h^2) on the hull, which is small for text blobs).
 */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0) throw new RangeError('minAreaRect needs at least one point');
  let best: { area: number; ux: number; uy: number; minU: number; maxU: number; minV: number; maxV: number } | null =
    null;
  const directions: [number, number][] = [];
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % hull.length]!;
    const length = Math.hypot(b.x - a.x, b.y - a.y);
    if (length > 0) directions.push([(b.x - a.x) / length, (b.y - a.y) / length]);
  }
  // A single point has no edge; any direction does.
  if (directions.length === 0) directions.push([1, 0]);
  for (const [ux, uy] of directions) {
    let minU = Number.POSITIVE_INFINITY;
    let maxU = Number.NEGATIVE_INFINITY;
    let minV = Number.POSITIVE_INFINITY;
    let maxV = Number.NEGATIVE_INFINITY;
    for (const p of hull) {
      const u = p.x * ux + p.y * uy;
      const v = -p.x * uy + p.y * ux;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (best === null || area < best.area - 1e-9) best = { area, ux, uy, minU, maxU, minV, maxV };
  }
  const { ux, uy, minU, maxU, minV, maxV } = best!;
  const at = (u: number, v: number): Point => ({ x: u * ux - v * uy, y: u * uy + v * ux });
  return orderRectCorners([at(minU, minV), at(maxU, minV), at(maxU, maxV), at(minU, maxV)]);
}

/**
 * Orders four corners clockwise from the top-left the way PaddleOCR does: the two leftmost points give top-left and
 * bottom-left (by y), the two rightmost give top-right and bottom-right.
 */
export function orderRectCorners(corners: readonly Point[]): RotatedRect {
  const byX = [...corners].sort((a, b) => a.x - b.x || a.y - b.y);
  const [l1, l2, r1, r2] = byX as [Point, Point, Point, Point];
  const [topLeft, bottomLeft] = l1.y <= l2.y ? [l1, l2] : [l2, l1];
  const [topRight, bottomRight] = r1.y <= r2.y ? [r1, r2] : [r2, r1];
  return {
    corners: [topLeft, topRight, bottomRight, bottomLeft],
    width: Math.hypot(topRight.x - topLeft.x, topRight.y - topLeft.y),
    height: Math.hypot(bottomLeft.x - topLeft.x, bottomLeft.y - topLeft.y),
  };
}

/**
 * Moves every edge of a convex polygon outwards by `distance` and intersects neighbouring edges (a mitred offset).
 * For DB's unclip the result's minimum-area rectangle equals that of a round-joined offset, because the rounded
 * corners never reach past the offset edges' lines.
 */
export function offsetConvexPolygon(input: readonly Point[], distance: number): Point[] {
  // A vertex repeated in a row is a zero-length edge with no direction to move along: drop the repeats.
  const polygon = input.filter((p, i) => {
    const next = input[(i + 1) % input.length]!;
    return p.x !== next.x || p.y !== next.y;
  });
  const n = polygon.length;
  if (n < 3) return input.map((p) => ({ x: p.x, y: p.y }));
  // The signed area gives the winding, which decides on which side of each edge "outwards" is.
  let twice = 0;
  for (let i = 0; i < n; i++) {
    const a = polygon[i]!;
    const b = polygon[(i + 1) % n]!;
    twice += a.x * b.y - b.x * a.y;
  }
  const sign = twice >= 0 ? 1 : -1;
  const lines: { px: number; py: number; dx: number; dy: number }[] = [];
  for (let i = 0; i < n; i++) {
    const a = polygon[i]!;
    const b = polygon[(i + 1) % n]!;
    const length = Math.hypot(b.x - a.x, b.y - a.y);
    const dx = (b.x - a.x) / length;
    const dy = (b.y - a.y) / length;
    const nx = sign * dy;
    const ny = -sign * dx;
    lines.push({ px: a.x + nx * distance, py: a.y + ny * distance, dx, dy });
  }
  const out: Point[] = [];
  for (let i = 0; i < n; i++) {
    const prev = lines[(i - 1 + n) % n]!;
    const next = lines[i]!;
    const denominator = prev.dx * next.dy - prev.dy * next.dx;
    if (Math.abs(denominator) < 1e-12) {
      out.push({ x: next.px, y: next.py });
      continue;
    }
    const t = ((next.px - prev.px) * next.dy - (next.py - prev.py) * next.dx) / denominator;
    out.push({ x: prev.px + prev.dx * t, y: prev.py + prev.dy * t });
  }
  return out;
}

/** True when `p` lies inside the convex polygon or within `tolerance` of its boundary. */
export function insideConvex(polygon: readonly Point[], p: Point, tolerance = 0): boolean {
  const n = polygon.length;
  let orientation = 0;
  for (let i = 0; i < n; i++) {
    const a = polygon[i]!;
    const b = polygon[(i + 1) % n]!;
    orientation += a.x * b.y - b.x * a.y;
  }
  const sign = orientation >= 0 ? 1 : -1;
  for (let i = 0; i < n; i++) {
    const a = polygon[i]!;
    const b = polygon[(i + 1) % n]!;
    const length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
    const signedDistance = (sign * cross(a, b, p)) / length;
    if (signedDistance < -tolerance) return false;
  }
  return true;
}
