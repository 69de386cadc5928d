import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Point } from '@imgpipe/contracts';
import {
  convexHull,
  insideConvex,
  minAreaRect,
  offsetConvexPolygon,
  orderRectCorners,
  polygonArea,
} from './geometry.ts';

function rotated(cx: number, cy: number, width: number, height: number, degrees: number): Point[] {
  const a = (degrees * Math.PI) / 180;
  const corners = [
    [-width / 2, -height / 2],
    [width / 2, -height / 2],
    [width / 2, height / 2],
    [-width / 2, height / 2],
  ] as const;
  return corners.map(([x, y]) => ({
    x: cx + x * Math.cos(a) - y * Math.sin(a),
    y: cy + x * Math.sin(a) + y * Math.cos(a),
  }));
}

function near(actual: number, expected: number, tolerance = 1e-6): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);
}

describe('geometry', () => {
  test('convexHull drops interior and collinear points', () => {
    const hull = convexHull([
      { x: 0, y: 0 },
      { x: 2, y: 0 },
      { x: 4, y: 0 },
      { x: 4, y: 3 },
      { x: 0, y: 3 },
      { x: 1, y: 1 },
      { x: 2, y: 2 },
    ]);
    assert.equal(hull.length, 4);
    near(polygonArea(hull), 12);
  });

  test('minAreaRect recovers a rotated rectangle from points inside and on it', () => {
    const corners = rotated(50, 40, 60, 12, 17);
    const points = [...corners, { x: 50, y: 40 }, { x: 52, y: 41 }];
    const rect = minAreaRect(points);
    near(rect.width * rect.height, 60 * 12, 1e-6);
    near(Math.max(rect.width, rect.height), 60, 1e-6);
    // Clockwise from top-left: the top-left corner is the upper of the two leftmost ones.
    const [tl, tr, br, bl] = rect.corners;
    assert.ok(tl.x < tr.x && bl.x < br.x && tl.y < bl.y && tr.y < br.y);
  });

  test('orderRectCorners puts an axis-aligned box clockwise from top-left', () => {
    const { corners, width, height } = orderRectCorners([
      { x: 10, y: 5 },
      { x: 0, y: 0 },
      { x: 0, y: 5 },
      { x: 10, y: 0 },
    ]);
    assert.deepEqual(corners, [
      { x: 0, y: 0 },
      { x: 10, y: 0 },
      { x: 10, y: 5 },
      { x: 0, y: 5 },
    ]);
    assert.equal(width, 10);
    assert.equal(height, 5);
  });

  test('offsetConvexPolygon grows a rectangle by the distance on every side, whatever the winding', () => {
    const square = [
      { x: 0, y: 0 },
      { x: 10, y: 0 },
      { x: 10, y: 4 },
      { x: 0, y: 4 },
    ];
    for (const polygon of [square, [...square].reverse()]) {
      const grown = minAreaRect(offsetConvexPolygon(polygon, 2));
      near(grown.width, 14);
      near(grown.height, 8);
    }
  });

  test('insideConvex honours the tolerance at the boundary', () => {
    const box = rotated(0, 0, 10, 10, 0);
    assert.ok(insideConvex(box, { x: 0, y: 0 }));
    assert.ok(!insideConvex(box, { x: 5.4, y: 0 }));
    assert.ok(insideConvex(box, { x: 5.4, y: 0 }, 0.5));
  });
});
