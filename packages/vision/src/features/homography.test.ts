import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findHomography, type Point, projectPoint } from './homography.ts';

// A fixed, generic homography (rotation, scale, shear, perspective) and a seeded point cloud.
const H = [0.82, -0.31, 40.5, 0.27, 0.91, -12.25, 0.0004, -0.0002, 1];

function points(n: number, seed: number): Point[] {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  return Array.from({ length: n }, () => ({ x: next() * 640, y: next() * 480 }));
}

describe('findHomography', () => {
  test('recovers a known homography from exact correspondences', () => {
    const src = points(30, 7);
    const found = findHomography(
      src,
      src.map((p) => projectPoint(H, p)),
    );
    assert.ok(found);
    assert.equal(found.inlierCount, 30);
    for (let i = 0; i < 9; i++)
      assert.ok(Math.abs(found.matrix[i]! - H[i]!) < 1e-6 * Math.max(1, Math.abs(H[i]!)), `h${i}`);
  });

  test('ignores 40% gross outliers and tolerates 0.5 px noise', () => {
    const src = points(200, 11);
    const noise = points(200, 12);
    const dst = src.map((p, i) => {
      const q = projectPoint(H, p);
      if (i % 5 < 2) return { x: noise[i]!.x, y: noise[i]!.y }; // outlier: anywhere
      return { x: q.x + (noise[i]!.x / 640 - 0.5), y: q.y + (noise[i]!.y / 480 - 0.5) };
    });
    const found = findHomography(src, dst, { reprojThreshold: 3 });
    assert.ok(found);
    const outliersKept = found.inliers.filter((inlier, i) => inlier && i % 5 < 2).length;
    assert.ok(outliersKept <= 2, `${outliersKept} outliers taken as inliers`);
    assert.ok(found.inlierCount >= 118, `${found.inlierCount} inliers of 120`);
    for (const corner of [
      { x: 0, y: 0 },
      { x: 639, y: 479 },
    ]) {
      const got = projectPoint(found.matrix, corner);
      const want = projectPoint(H, corner);
      assert.ok(Math.hypot(got.x - want.x, got.y - want.y) < 1, 'corner within 1 px');
    }
  });

  test('gives nothing for fewer than 4 points or all-collinear ones', () => {
    assert.equal(findHomography(points(3, 1), points(3, 2)), undefined);
    const line = Array.from({ length: 20 }, (_, i) => ({ x: i * 10, y: i * 5 }));
    assert.equal(findHomography(line, line), undefined);
  });

  test('is reproducible: the same input and seed give the same model', () => {
    const src = points(100, 3);
    const dst = src.map((p, i) => (i % 3 === 0 ? { x: p.y, y: p.x } : projectPoint(H, p)));
    assert.deepEqual(findHomography(src, dst), findHomography(src, dst));
  });
});
