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

/** Smallest axis-aligned bounding-box area over many rotations: a brute-force check of rotating calipers. */
function bruteForceMinArea(points: readonly Point[]): number {
  let best = Number.POSITIVE_INFINITY;
  for (let step = 0; step < 9000; step++) {
    const a = (step / 9000) * (Math.PI / 2);
    const us = points.map((p) => p.x * Math.cos(a) + p.y * Math.sin(a));
    const vs = points.map((p) => -p.x * Math.sin(a) + p.y * Math.cos(a));
    best = Math.min(best, (Math.max(...us) - Math.min(...us)) * (Math.max(...vs) - Math.min(...vs)));
  }
  return best;
}

function nearPoints(actual: readonly Point[], expected: readonly Point[], tolerance = 1e-9): void {
  assert.equal(actual.length, expected.length, JSON.stringify(actual));
  actual.forEach((p, i) => {
    near(p.x, expected[i]!.x, tolerance);
    near(p.y, expected[i]!.y, tolerance);
  });
}

describe('geometry: exact results', () => {
  test('convexHull: exact vertices in order, collinear and interior points dropped, near-collinear kept', () => {
    const square = [
      { x: 4, y: 3 },
      { x: 0, y: 0 },
      { x: 2, y: 0 },
      { x: 0, y: 3 },
      { x: 4, y: 0 },
      { x: 0, y: 1.5 },
      { x: 2, y: 1 },
    ];
    assert.deepEqual(convexHull(square), [
      { x: 0, y: 0 },
      { x: 4, y: 0 },
      { x: 4, y: 3 },
      { x: 0, y: 3 },
    ]);
    // 0.1 outside an edge is a vertex of its own, above as below.
    assert.deepEqual(convexHull([...square, { x: 2, y: -0.1 }, { x: 2, y: 3.1 }]), [
      { x: 0, y: 0 },
      { x: 2, y: -0.1 },
      { x: 4, y: 0 },
      { x: 4, y: 3 },
      { x: 2, y: 3.1 },
      { x: 0, y: 3 },
    ]);
  });

  test('convexHull of one or two points is those points, copied', () => {
    const two = [
      { x: 5, y: 1 },
      { x: 2, y: 7 },
    ];
    const hull = convexHull(two);
    assert.deepEqual(hull, two);
    assert.notEqual(hull[0], two[0]);
    assert.deepEqual(convexHull([{ x: 1, y: 1 }]), [{ x: 1, y: 1 }]);
    assert.deepEqual(
      convexHull([
        { x: 0, y: 0 },
        { x: 1, y: 1 },
        { x: 3, y: 3 },
      ]),
      [
        { x: 0, y: 0 },
        { x: 3, y: 3 },
      ],
      'collinear points: the two ends',
    );
  });

  test('minAreaRect of irregular shapes matches a brute-force search and contains every point', () => {
    const shapes: Point[][] = [
      [
        { x: 10, y: 10 },
        { x: 30, y: 12 },
        { x: 25, y: 30 },
        { x: 12, y: 22 },
      ],
      [
        { x: 100, y: 50 },
        { x: 140, y: 58 },
        { x: 150, y: 75 },
        { x: 120, y: 90 },
        { x: 95, y: 70 },
      ],
      [
        { x: -20, y: 5 },
        { x: 0, y: -3 },
        { x: 7, y: 9 },
      ],
      // A thin triangle whose best side is the first edge of its hull.
      [
        { x: 0, y: 0 },
        { x: 20, y: 1 },
        { x: 5, y: 3 },
      ],
    ];
    for (const shape of shapes) {
      const rect = minAreaRect(shape);
      const brute = bruteForceMinArea(shape);
      // The search samples angles, so it can only do worse than the exact answer, and by very little.
      assert.ok(rect.width * rect.height <= brute + 1e-9, `${rect.width * rect.height} <= ${brute}`);
      near(rect.width * rect.height, brute, brute * 1e-4);
      near(polygonArea(rect.corners), rect.width * rect.height, 1e-6);
      for (const p of shape) assert.ok(insideConvex(rect.corners, p, 1e-6), `${JSON.stringify(p)} inside`);
    }
  });

  test('minAreaRect returns the rotated rectangle itself, corners clockwise from top-left', () => {
    const corners = rotated(200, 150, 60, 12, 17);
    const rect = minAreaRect([...corners, { x: 200, y: 150 }]);
    nearPoints(rect.corners, [corners[0]!, corners[1]!, corners[2]!, corners[3]!], 1e-9);
    near(rect.width, 60, 1e-9);
    near(rect.height, 12, 1e-9);
  });

  test('minAreaRect of a single point, a segment, and sides shorter than a pixel', () => {
    const point = minAreaRect([{ x: 3, y: 4 }]);
    assert.deepEqual(point.corners, [
      { x: 3, y: 4 },
      { x: 3, y: 4 },
      { x: 3, y: 4 },
      { x: 3, y: 4 },
    ]);
    assert.equal(point.width, 0);
    assert.equal(point.height, 0);
    const segment = minAreaRect([
      { x: 0, y: 0 },
      { x: 3, y: 4 },
    ]);
    near(Math.max(segment.width, segment.height), 5);
    near(Math.min(segment.width, segment.height), 0);
    const tiny = rotated(10, 10, 0.6, 0.3, 30);
    const rect = minAreaRect(tiny);
    near(rect.width * rect.height, 0.18, 1e-9);
    assert.throws(() => minAreaRect([]), RangeError);
  });

  test('orderRectCorners: a diamond, whose leftmost and rightmost corners tie on x with their neighbours', () => {
    const { corners, width, height } = orderRectCorners([
      { x: 5, y: 10 },
      { x: 0, y: 5 },
      { x: 10, y: 5 },
      { x: 5, y: 0 },
    ]);
    assert.deepEqual(corners, [
      { x: 5, y: 0 },
      { x: 10, y: 5 },
      { x: 5, y: 10 },
      { x: 0, y: 5 },
    ]);
    near(width, Math.hypot(5, 5));
    near(height, Math.hypot(5, 5));
    const tall = orderRectCorners([
      { x: 0, y: 10 },
      { x: 0, y: 0 },
      { x: 2, y: 10 },
      { x: 2, y: 0 },
    ]);
    assert.deepEqual(tall.corners, [
      { x: 0, y: 0 },
      { x: 2, y: 0 },
      { x: 2, y: 10 },
      { x: 0, y: 10 },
    ]);
  });

  test('offsetConvexPolygon: a right triangle moved out by 1 on each side, exactly', () => {
    const triangle = [
      { x: 0, y: 0 },
      { x: 4, y: 0 },
      { x: 0, y: 3 },
    ];
    // Bottom y = -1, left x = -1, hypotenuse 3x + 4y = 12 moved to 3x + 4y = 17.
    const expected = [
      { x: -1, y: -1 },
      { x: 7, y: -1 },
      { x: -1, y: 5 },
    ];
    nearPoints(offsetConvexPolygon(triangle, 1), expected, 1e-9);
    nearPoints(offsetConvexPolygon([...triangle].reverse(), 1), [...expected].reverse(), 1e-9);
    nearPoints(offsetConvexPolygon(triangle, 0), triangle, 1e-12);
  });

  test('offsetConvexPolygon: a vertex between two edges in line moves straight out', () => {
    const withMidpoint = [
      { x: 0, y: 0 },
      { x: 2, y: 0 },
      { x: 4, y: 0 },
      { x: 4, y: 3 },
      { x: 0, y: 3 },
    ];
    nearPoints(
      offsetConvexPolygon(withMidpoint, 1),
      [
        { x: -1, y: -1 },
        { x: 2, y: -1 },
        { x: 5, y: -1 },
        { x: 5, y: 4 },
        { x: -1, y: 4 },
      ],
      1e-9,
    );
  });

  test('offsetConvexPolygon: a repeated vertex (a zero-length edge) does not spoil the result', () => {
    const triangle = [
      { x: 0, y: 0 },
      { x: 4, y: 0 },
      { x: 0, y: 3 },
    ];
    const repeated = [triangle[0]!, triangle[1]!, { ...triangle[1]! }, triangle[2]!];
    const grown = offsetConvexPolygon(repeated, 1);
    assert.ok(
      grown.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y)),
      JSON.stringify(grown),
    );
    near(
      polygonArea(minAreaRect(grown).corners),
      polygonArea(minAreaRect(offsetConvexPolygon(triangle, 1)).corners),
      1e-9,
    );
  });

  test('offsetConvexPolygon of fewer than three points returns copies', () => {
    const two = [
      { x: 1, y: 2 },
      { x: 3, y: 4 },
    ];
    const out = offsetConvexPolygon(two, 5);
    assert.deepEqual(out, two);
    assert.notEqual(out[0], two[0]);
  });

  test('insideConvex, either winding, away from the origin: inside, on the edge, within and beyond the tolerance', () => {
    const square = rotated(100, 50, 10, 10, 0); // x 95-105, y 45-55
    for (const polygon of [square, [...square].reverse()]) {
      assert.ok(insideConvex(polygon, { x: 100, y: 50 }));
      assert.ok(insideConvex(polygon, { x: 104.6, y: 50 }), '0.4 inside the right edge');
      assert.ok(insideConvex(polygon, { x: 105, y: 50 }), 'on the edge');
      assert.ok(!insideConvex(polygon, { x: 105.1, y: 50 }), 'just outside');
      assert.ok(!insideConvex(polygon, { x: 100, y: 44.9 }), 'just outside the top');
      assert.ok(!insideConvex(polygon, { x: 94.9, y: 50 }), 'just outside the left');
      assert.ok(insideConvex(polygon, { x: 105.5, y: 50 }, 0.5), 'exactly at the tolerance');
      assert.ok(insideConvex(polygon, { x: 100, y: 44.6 }, 0.5));
      assert.ok(!insideConvex(polygon, { x: 105.6, y: 50 }, 0.5), 'beyond the tolerance');
      assert.ok(!insideConvex(polygon, { x: 100, y: 55.6 }, 0.5));
    }
  });
});
