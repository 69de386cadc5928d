/**
 * Reading order for text lines: top to bottom, and left to right among lines that share a row. Two lines share a
 * row when their vertical centres are closer than half the smaller line's height, so slightly rotated or
 * differently sized lines side by side still read left to right.
 *
 * Columns of text read one after the other: where a vertical gap of at least a line's height runs through every
 * line, and each side holds at least MIN_COLUMN_LINES lines of running text (median width at least
 * MIN_COLUMN_ASPECT times the median height), the left column is read to its end before the right one. A table of
 * short cells, or a label beside a few words, keeps the row order. A block above the columns (a heading across
 * both) is split off at the widest horizontal gap first.
 */
import type { Point } from '@imgpipe/contracts';
import { boundingCorners } from '../geometry/boxes.ts';

/** Fewest lines on each side of a gap for the gap to be a gutter between columns. */
export const MIN_COLUMN_LINES = 3;
/** Smallest median width / median height of a column's lines: running text, not table cells. */
export const MIN_COLUMN_ASPECT = 6;

interface Extent {
  index: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
  centreY: number;
  height: number;
}

function extentOf(polygon: readonly Point[], index: number): Extent {
  const { x1, y1, x2, y2 } = boundingCorners(polygon);
  return { index, left: x1, right: x2, top: y1, bottom: y2, centreY: (y1 + y2) / 2, height: y2 - y1 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Rows top to bottom (each compared with its first line), left to right within a row. */
function rowOrder(extents: readonly Extent[]): Extent[] {
  const sorted = [...extents].sort((a, b) => a.centreY - b.centreY);
  const rows: Extent[][] = [];
  for (const extent of sorted) {
    const row = rows[rows.length - 1];
    const anchor = row?.[0];
    if (row && anchor && Math.abs(extent.centreY - anchor.centreY) < Math.min(extent.height, anchor.height) / 2) {
      row.push(extent);
    } else {
      rows.push([extent]);
    }
  }
  return rows.flatMap((row) => row.sort((a, b) => a.left - b.left));
}

/** Intervals [from, to) along one axis that no extent covers, between the first and the last, widest first. */
function gaps(extents: readonly Extent[], start: (e: Extent) => number, end: (e: Extent) => number) {
  const sorted = [...extents].sort((a, b) => start(a) - start(b));
  const found: { from: number; to: number }[] = [];
  let reach = end(sorted[0]!);
  for (const extent of sorted.slice(1)) {
    if (start(extent) > reach) found.push({ from: reach, to: start(extent) });
    reach = Math.max(reach, end(extent));
  }
  return found.sort((a, b) => b.to - b.from - (a.to - a.from));
}

const isColumn = (lines: readonly Extent[]) =>
  lines.length >= MIN_COLUMN_LINES &&
  median(lines.map((e) => e.right - e.left)) >= MIN_COLUMN_ASPECT * median(lines.map((e) => e.height));

/** The lines split at the widest vertical gutter with a column of running text on each side, or undefined. */
function columnSplit(extents: readonly Extent[]): [Extent[], Extent[]] | undefined {
  const lineHeight = median(extents.map((e) => e.height));
  for (const gap of gaps(
    extents,
    (e) => e.left,
    (e) => e.right,
  )) {
    if (gap.to - gap.from < lineHeight) break;
    const left = extents.filter((e) => e.right <= gap.from);
    const right = extents.filter((e) => e.left >= gap.to);
    if (isColumn(left) && isColumn(right)) return [left, right];
  }
  return undefined;
}

function order(extents: readonly Extent[]): Extent[] {
  if (extents.length < 2 * MIN_COLUMN_LINES) return rowOrder(extents);
  const columns = columnSplit(extents);
  if (columns) return columns.flatMap(order);
  // A heading or paragraph above columns: split at the widest horizontal gap, when it is clearly the widest (a page
  // of evenly spaced rows has no such gap and keeps the row order).
  const [widest, next] = gaps(
    extents,
    (e) => e.top,
    (e) => e.bottom,
  );
  if (widest && widest.to - widest.from > 1.5 * (next ? next.to - next.from : 0)) {
    const above = extents.filter((e) => e.bottom <= widest.from);
    const below = extents.filter((e) => e.top >= widest.to);
    return [...order(above), ...order(below)];
  }
  return rowOrder(extents);
}

/** Indexes of `polygons` in reading order. */
export function readingOrder(polygons: readonly (readonly Point[])[]): number[] {
  return order(polygons.map(extentOf)).map((e) => e.index);
}
