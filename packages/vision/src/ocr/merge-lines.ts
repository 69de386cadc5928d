/**
 * Joins detector boxes that are pieces of one line. DB often splits widely spaced text at a word gap (and may let
 * the pieces overlap by a letter); users expect lines, as Azure's readResult and AWS DetectText LINE give. Two
 * boxes join when they run in nearly the same direction, have similar heights, sit on the same baseline band and
 * the gap between them is under `maxGap` line heights. The joined box is the minimum-area rectangle of both.
 */
import type { Point } from '@imgpipe/contracts';
import { minAreaRect } from './geometry.ts';

type Quad = [Point, Point, Point, Point];

export interface MergeOptions {
  /** Largest gap between pieces, in line heights. */
  maxGap: number;
  /** Largest angle between the pieces' directions, in degrees. */
  maxAngleDegrees: number;
  /** Smallest ratio of the shorter piece's height to the taller one's. */
  minHeightRatio: number;
}

export const DEFAULT_MERGE_OPTIONS: MergeOptions = { maxGap: 0.8, maxAngleDegrees: 10, minHeightRatio: 0.5 };

interface Frame {
  centre: Point;
  /** Unit vector along the line (top-left to top-right). */
  ux: number;
  uy: number;
  width: number;
  height: number;
}

/**
 * The quad's frame along its longer side: a tall box (vertical text, or a line of a page turned a quarter) is
 * measured along its height, so two pieces of one turned line join as two pieces of an upright one do.
 */
function frameOf(quad: Quad): Frame {
  const upright = uprightFrameOf(quad);
  if (upright.height <= upright.width * 1.5) return upright;
  const [q0, q1, q2, q3] = quad;
  return uprightFrameOf([q1, q2, q3, q0]);
}

function uprightFrameOf(quad: Quad): Frame {
  const [p0, p1, p2, p3] = quad;
  const dx = (p1.x - p0.x + p2.x - p3.x) / 2;
  const dy = (p1.y - p0.y + p2.y - p3.y) / 2;
  const width = Math.hypot(dx, dy) || 1;
  const height = (Math.hypot(p3.x - p0.x, p3.y - p0.y) + Math.hypot(p2.x - p1.x, p2.y - p1.y)) / 2;
  return {
    centre: { x: (p0.x + p1.x + p2.x + p3.x) / 4, y: (p0.y + p1.y + p2.y + p3.y) / 4 },
    ux: dx / width,
    uy: dy / width,
    width,
    height,
  };
}

function belongTogether(a: Frame, b: Frame, options: MergeOptions): boolean {
  // A tall piece and a wide one run in different directions: the angle test below keeps them apart.
  const cosine = Math.abs(a.ux * b.ux + a.uy * b.uy);
  if (cosine < Math.cos((options.maxAngleDegrees * Math.PI) / 180)) return false;
  if (Math.min(a.height, b.height) / Math.max(a.height, b.height) < options.minHeightRatio) return false;
  // Measure in the frame of the longer piece, whose direction is the more reliable.
  const reference = a.width >= b.width ? a : b;
  const ux = reference.ux;
  const uy = reference.uy;
  const dx = b.centre.x - a.centre.x;
  const dy = b.centre.y - a.centre.y;
  const along = dx * ux + dy * uy;
  const across = -dx * uy + dy * ux;
  const height = Math.max(a.height, b.height);
  if (Math.abs(across) > height / 2) return false;
  const gap = Math.abs(along) - (a.width + b.width) / 2;
  return gap <= options.maxGap * height;
}

/**
 * Returns the boxes with line pieces joined; each quad's corners are clockwise from top-left. Pieces are grouped
 * transitively (union-find) and the pass repeats on the joined boxes until nothing changes.
 */
export function mergeLinePieces(quads: readonly Quad[], options: MergeOptions = DEFAULT_MERGE_OPTIONS): Quad[] {
  let current = quads.map((q) => [...q] as Quad);
  for (;;) {
    const frames = current.map(frameOf);
    const parent = current.map((_, i) => i);
    const find = (i: number): number => {
      while (parent[i] !== i) {
        parent[i] = parent[parent[i]!]!;
        i = parent[i]!;
      }
      return i;
    };
    let joins = 0;
    for (let i = 0; i < current.length; i++) {
      for (let j = i + 1; j < current.length; j++) {
        if (find(i) === find(j) || !belongTogether(frames[i]!, frames[j]!, options)) continue;
        parent[find(j)] = find(i);
        joins++;
      }
    }
    if (joins === 0) return current;
    const groups = new Map<number, Point[]>();
    current.forEach((quad, i) => {
      const root = find(i);
      groups.set(root, [...(groups.get(root) ?? []), ...quad]);
    });
    current = [...groups.values()].map((points) =>
      points.length === 4 ? (points as Quad) : minAreaRect(points).corners,
    );
  }
}
