import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  boundingCorners,
  type Candidate,
  clamp,
  type InputToOriginal,
  iou,
  mapBox,
  mapPoint,
  nonMaxSuppression,
  reportedBox,
  round,
} from './boxes.ts';

const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });

describe('intersection over union', () => {
  test('two partly overlapping boxes: intersection / (area a + area b - intersection)', () => {
    // a is 10x10, b is 10x10 shifted by (5, 5): they share a 5x5 square.
    assert.equal(iou(box(0, 0, 10, 10), box(5, 5, 15, 15)), 25 / (100 + 100 - 25));
    // Different sizes and shapes: a 4x10, b 6x4, sharing 2x4.
    assert.equal(iou(box(0, 0, 4, 10), box(2, 5, 8, 9)), 8 / (40 + 24 - 8));
    assert.equal(iou(box(2, 5, 8, 9), box(0, 0, 4, 10)), 8 / (40 + 24 - 8), 'symmetric');
  });

  test('identical boxes 1, one inside the other the ratio of areas', () => {
    assert.equal(iou(box(1, 2, 3, 7), box(1, 2, 3, 7)), 1);
    assert.equal(iou(box(0, 0, 10, 10), box(2, 2, 4, 4)), 4 / 100);
    assert.equal(iou(box(2, 2, 4, 4), box(0, 0, 10, 10)), 4 / 100);
  });

  test('a thin overlap still counts', () => {
    assert.equal(iou(box(0, 0, 10, 10), box(9.5, 0, 20, 10)), 5 / (100 + 105 - 5));
    assert.equal(iou(box(0, 0, 10, 10), box(0, 9.5, 10, 20)), 5 / (100 + 105 - 5));
  });

  test('boxes without area do not overlap anything, themselves included', () => {
    assert.equal(iou(box(5, 0, 5, 10), box(5, 0, 5, 10)), 0, 'zero width');
    assert.equal(iou(box(0, 5, 10, 5), box(0, 5, 10, 5)), 0, 'zero height');
    assert.equal(iou(box(5, 5, 5, 5), box(0, 0, 10, 10)), 0, 'a point');
  });

  test('boxes that only touch, or overlap on one axis only, do not overlap', () => {
    assert.equal(iou(box(0, 0, 10, 10), box(10, 0, 20, 10)), 0);
    assert.equal(iou(box(0, 0, 10, 10), box(0, 10, 10, 20)), 0);
    assert.equal(iou(box(0, 0, 10, 10), box(2, 30, 8, 40)), 0, 'same columns, rows apart');
    assert.equal(iou(box(0, 0, 10, 10), box(30, 2, 40, 8)), 0, 'same rows, columns apart');
    assert.equal(iou(box(0, 0, 10, 10), box(30, 30, 40, 40)), 0);
  });
});

describe('non-maximum suppression', () => {
  const candidate = (
    corners: ReturnType<typeof box>,
    score: number,
    classId = 0,
    name = '',
  ): Candidate & { name: string } => ({
    ...corners,
    score,
    classId,
    name,
  });

  test('the highest score wins; a box overlapping it more than the threshold goes', () => {
    const kept = nonMaxSuppression(
      [
        candidate(box(1, 1, 11, 11), 0.6, 0, 'overlaps a'),
        candidate(box(0, 0, 10, 10), 0.9, 0, 'a'),
        candidate(box(50, 50, 60, 60), 0.3, 0, 'apart'),
      ],
      0.5,
      10,
    );
    assert.deepEqual(
      kept.map((c) => c.name),
      ['a', 'apart'],
    );
  });

  test('an overlap exactly at the threshold is kept (suppression needs more)', () => {
    // IoU of these two is 50 / 100 = 0.5 exactly.
    const kept = nonMaxSuppression([candidate(box(0, 0, 10, 10), 0.9), candidate(box(0, 0, 10, 5), 0.8)], 0.5, 10);
    assert.equal(kept.length, 2);
    assert.equal(
      nonMaxSuppression([candidate(box(0, 0, 10, 10), 0.9), candidate(box(0, 0, 10, 5), 0.8)], 0.49, 10).length,
      1,
    );
  });

  test('class-aware by default; single-class detectors suppress across classes', () => {
    const overlapping = [candidate(box(0, 0, 10, 10), 0.9, 1), candidate(box(1, 0, 11, 10), 0.8, 2)];
    assert.equal(nonMaxSuppression(overlapping, 0.5, 10).length, 2);
    assert.equal(nonMaxSuppression(overlapping, 0.5, 10, false).length, 1);
  });

  test('at most maxResults, highest scores first; ties keep input order', () => {
    const apart = [0, 1, 2, 3].map((i) => candidate(box(i * 20, 0, i * 20 + 10, 10), 0.5, 0, `c${i}`));
    assert.deepEqual(
      nonMaxSuppression(apart, 0.5, 2).map((c) => c.name),
      ['c0', 'c1'],
    );
    assert.deepEqual(
      nonMaxSuppression(apart, 0.5, 1).map((c) => c.name),
      ['c0'],
    );
    const scored = apart.map((c, i) => ({ ...c, score: [0.2, 0.9, 0.5, 0.7][i]! }));
    assert.deepEqual(
      nonMaxSuppression(scored, 0.5, 3).map((c) => c.name),
      ['c1', 'c3', 'c2'],
    );
    assert.equal(nonMaxSuppression(apart, 0.5, 10).length, 4);
  });
});

describe('mapping model-input pixels to the original', () => {
  const map: InputToOriginal = { padX: 3, padY: 5, scaleX: 2.5, scaleY: 0.5, originalWidth: 100, originalHeight: 40 };

  test('a point: minus the padding, times the scale, rounded to 2 decimals', () => {
    assert.deepEqual(mapPoint({ x: 7.123, y: 9 }, map), { x: 10.31, y: 2 });
    assert.deepEqual(mapPoint({ x: 13.0004, y: 15.3333 }, map), { x: 25, y: 5.17 });
  });

  test('points outside the image are clamped to its edges', () => {
    assert.deepEqual(mapPoint({ x: 1, y: 200 }, map), { x: 0, y: 40 });
    assert.deepEqual(mapPoint({ x: 500, y: 0 }, map), { x: 100, y: 0 });
  });

  test('a box: each corner mapped and clamped, reported in pixels and as fractions', () => {
    assert.deepEqual(mapBox(box(7, 9, 23, 45), map), {
      box: { x: 10, y: 2, width: 40, height: 18 },
      boxNormalized: { left: 0.1, top: 0.05, width: 0.4, height: 0.45 },
    });
    assert.deepEqual(mapBox(box(0, 0, 2, 4), map), {
      box: { x: 0, y: 0, width: 0, height: 0 },
      boxNormalized: { left: 0, top: 0, width: 0, height: 0 },
    });
    assert.deepEqual(mapBox(box(1, 3, 50, 200), map), {
      box: { x: 0, y: 0, width: 100, height: 40 },
      boxNormalized: { left: 0, top: 0, width: 1, height: 1 },
    });
  });
});

describe('reported boxes', () => {
  test('pixels to 2 decimals, fractions to 6', () => {
    assert.deepEqual(reportedBox(box(1.23456, 2.34567, 10.98765, 20.55678), 7, 13), {
      box: { x: 1.23, y: 2.35, width: 9.75, height: 18.21 },
      boxNormalized: {
        left: 0.176366, // 0.17636571...
        top: 0.180436, // 0.18043615...
        width: 1.393299, // 1.39329857...
        height: 1.400855, // 1.40085461...
      },
    });
    assert.deepEqual(reportedBox(box(0.004, 0.006, 1.2349, 3.4561), 1, 1).box, {
      x: 0,
      y: 0.01,
      width: 1.23,
      height: 3.45,
    });
  });
});

describe('small helpers', () => {
  test('boundingCorners encloses every point', () => {
    const points = [
      { x: 5, y: 1 },
      { x: -2, y: 4 },
      { x: 3, y: 9 },
      { x: 1, y: -3 },
    ];
    assert.deepEqual(boundingCorners(points), { x1: -2, y1: -3, x2: 5, y2: 9 });
    assert.deepEqual(boundingCorners([{ x: 2, y: 3 }]), { x1: 2, y1: 3, x2: 2, y2: 3 });
  });

  test('clamp and round', () => {
    assert.equal(clamp(5, 0, 10), 5);
    assert.equal(clamp(-1, 0, 10), 0);
    assert.equal(clamp(11, 0, 10), 10);
    assert.equal(round(1.23456, 2), 1.23);
    assert.equal(round(1.235, 0), 1);
    assert.equal(round(2.5, 0), 3);
    assert.equal(round(0.1234567, 6), 0.123457);
  });
});
