import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Point } from '@imgpipe/contracts';
import { mergeLinePieces } from './merge-lines.ts';

type Quad = [Point, Point, Point, Point];

function box(x: number, y: number, width: number, height: number): Quad {
  return [
    { x, y },
    { x: x + width, y },
    { x: x + width, y: y + height },
    { x, y: y + height },
  ];
}

describe('mergeLinePieces', () => {
  test('joins pieces of one line split at a word gap or overlapping by a letter', () => {
    const merged = mergeLinePieces([box(10, 10, 200, 40), box(225, 12, 100, 40), box(310, 11, 80, 40)]);
    assert.equal(merged.length, 1);
    const xs = merged[0]!.map((p) => p.x);
    assert.ok(Math.min(...xs) <= 10 && Math.max(...xs) >= 390);
  });

  test('keeps separate lines, far columns, and much smaller print apart', () => {
    const lines = [box(10, 10, 200, 40), box(10, 70, 200, 40)];
    assert.equal(mergeLinePieces(lines).length, 2, 'lines above each other');
    assert.equal(mergeLinePieces([box(10, 10, 200, 40), box(300, 10, 200, 40)]).length, 2, 'a gap over 0.8 heights');
    assert.equal(mergeLinePieces([box(10, 10, 200, 40), box(215, 25, 60, 12)]).length, 2, 'a footnote-sized piece');
  });

  test('leaves vertical boxes alone', () => {
    assert.equal(mergeLinePieces([box(10, 10, 30, 200), box(45, 10, 30, 200)]).length, 2);
  });
});
