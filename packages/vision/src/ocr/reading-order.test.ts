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

describe('readingOrder: what makes a row', () => {
  test('two lines close together but on different rows stay in separate rows', () => {
    // Heights 30: centres 15 and 35 are 20 apart, more than half a line (15), so the right-hand line above reads first.
    assert.deepEqual(readingOrder([box(200, 0, 100, 30), box(10, 20, 100, 30)]), [0, 1]);
    // Exactly half a line apart is a new row too.
    assert.deepEqual(readingOrder([box(200, 0, 100, 30), box(10, 15, 100, 30)]), [0, 1]);
    // Just under half a line: one row, read left to right.
    assert.deepEqual(readingOrder([box(200, 0, 100, 30), box(10, 14, 100, 30)]), [1, 0]);
  });

  test('a line slightly higher but to the right reads after its left neighbour', () => {
    // Centres 115 and 124: the right-hand line sits 9 px higher, within half a line (15).
    assert.deepEqual(readingOrder([box(10, 109, 200, 30), box(300, 100, 100, 30)]), [0, 1]);
    assert.deepEqual(readingOrder([box(300, 100, 100, 30), box(10, 109, 200, 30)]), [1, 0]);
  });

  test('the tolerance is half the smaller line: a small line beside a tall one, lower, starts its own row', () => {
    // Tall line: centre 50, height 100. Small line: centre 70, height 20; 20 apart, over 10 (half of 20).
    assert.deepEqual(readingOrder([box(300, 0, 100, 100), box(10, 60, 100, 20)]), [0, 1]);
    // 8 apart: under 10, the same row.
    assert.deepEqual(readingOrder([box(300, 0, 100, 100), box(10, 48, 100, 20)]), [1, 0]);
  });

  test('rows compare with their first line; three rows of three, given shuffled', () => {
    const grid = [
      box(400, 200, 100, 30),
      box(10, 0, 100, 30),
      box(200, 104, 100, 30),
      box(400, 3, 100, 30),
      box(10, 206, 100, 30),
      box(200, 2, 100, 30),
      box(10, 100, 100, 30),
      box(400, 98, 100, 30),
      box(200, 201, 100, 30),
    ];
    assert.deepEqual(readingOrder(grid), [1, 5, 3, 6, 2, 7, 4, 8, 0]);
  });

  test('nothing to order', () => {
    assert.deepEqual(readingOrder([]), []);
    assert.deepEqual(readingOrder([box(5, 5, 10, 10)]), [0]);
  });
});
