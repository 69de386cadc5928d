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

describe('readingOrder: columns', () => {
  /** `rows` lines of width x 20 at a pitch of 26, from (x, y). */
  const column = (x: number, y: number, rows: number, width = 300) =>
    Array.from({ length: rows }, (_, i) => box(x, y + 26 * i, width, 20));

  test('two columns of running text: the left column to its end, then the right', () => {
    // Given interleaved (as rows would read them): left 0, right 0, left 1, right 1, ...
    const left = column(10, 10, 4);
    const right = column(360, 10, 4);
    const polygons = left.flatMap((l, i) => [l, right[i]!]);
    assert.deepEqual(readingOrder(polygons), [0, 2, 4, 6, 1, 3, 5, 7]);
  });

  test('a heading across both columns reads first, then each column', () => {
    const polygons = [box(10, 10, 650, 30), ...column(10, 80, 3), ...column(360, 80, 3)];
    assert.deepEqual(readingOrder(polygons), [0, 1, 2, 3, 4, 5, 6]);
    // The same boxes shuffled give the same order.
    assert.deepEqual(readingOrder([...polygons].reverse()), [6, 5, 4, 3, 2, 1, 0]);
  });

  test('a table of short cells keeps the row order, however many rows', () => {
    // Cells 100 x 20 (aspect 5, under MIN_COLUMN_ASPECT) with 150-px gaps between the columns.
    const polygons = [...column(10, 10, 5, 100), ...column(260, 10, 5, 100)];
    assert.deepEqual(readingOrder(polygons), [0, 5, 1, 6, 2, 7, 3, 8, 4, 9]);
  });

  test('fewer than MIN_COLUMN_LINES lines on a side keep the row order', () => {
    const polygons = [...column(10, 10, 2), ...column(360, 10, 4)];
    assert.deepEqual(readingOrder(polygons), [0, 2, 1, 3, 4, 5]);
  });

  test('a gap narrower than a line height is not a gutter (words of one line the detector left apart)', () => {
    const polygons = [...column(10, 10, 4), ...column(325, 10, 4)];
    assert.deepEqual(readingOrder(polygons), [0, 4, 1, 5, 2, 6, 3, 7]);
  });
});
