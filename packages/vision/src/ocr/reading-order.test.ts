import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readingOrder } from './reading-order.ts';

function box(x: number, y: number, width: number, height: number) {
  return [
    { x, y },
    { x: x + width, y },
    { x: x + width, y: y + height },
    { x, y: y + height },
  ];
}

describe('readingOrder', () => {
  test('top to bottom, then left to right within a row despite a small vertical offset', () => {
    const polygons = [box(300, 104, 100, 30), box(10, 10, 200, 30), box(10, 100, 200, 30), box(10, 200, 50, 30)];
    assert.deepEqual(readingOrder(polygons), [1, 2, 0, 3]);
  });
});
