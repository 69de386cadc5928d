/**
 * Reading order for text lines: top to bottom, and left to right among lines that share a row. Two lines share a
 * row when their vertical centres are closer than half the smaller line's height, so slightly rotated or
 * differently sized lines side by side still read left to right.
 */
import type { Point } from '@imgpipe/contracts';
import { boundingCorners } from '../geometry/boxes.ts';

interface Extent {
  index: number;
  left: number;
  centreY: number;
  height: number;
}

function extentOf(polygon: readonly Point[], index: number): Extent {
  const { x1, y1, y2 } = boundingCorners(polygon);
  return { index, left: x1, centreY: (y1 + y2) / 2, height: y2 - y1 };
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
