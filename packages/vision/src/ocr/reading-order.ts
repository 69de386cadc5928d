/**
 * Reading order for text lines: top to bottom, and left to right among lines that share a row. Two lines share a
 * row when their vertical centres are closer than half the smaller line's height, so slightly rotated or
 * differently sized lines side by side still read left to right.
 */
import type { Point } from '@imgpipe/contracts';

interface Extent {
  index: number;
  left: number;
  centreY: number;
  height: number;
}

function extentOf(polygon: readonly Point[], index: number): Extent {
  let left = Number.POSITIVE_INFINITY;
  let top = Number.POSITIVE_INFINITY;
  let bottom = Number.NEGATIVE_INFINITY;
  for (const p of polygon) {
    left = Math.min(left, p.x);
    top = Math.min(top, p.y);
    bottom = Math.max(bottom, p.y);
  }
  return { index, left, centreY: (top + bottom) / 2, height: bottom - top };
}

/** Indexes of `polygons` in reading order. */
export function readingOrder(polygons: readonly (readonly Point[])[]): number[] {
  const extents = polygons.map(extentOf).sort((a, b) => a.centreY - b.centreY);
  const rows: Extent[][] = [];
  for (const extent of extents) {
    const row = rows[rows.length - 1];
    const anchor = row?.[0];
    if (row && anchor && Math.abs(extent.centreY - anchor.centreY) < Math.min(extent.height, anchor.height) / 2) {
      row.push(extent);
    } else {
      rows.push([extent]);
    }
  }
  return rows.flatMap((row) => row.sort((a, b) => a.left - b.left).map((e) => e.index));
}
