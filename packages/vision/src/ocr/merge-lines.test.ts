import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Point } from '@imgpipe/contracts';
import { DEFAULT_MERGE_OPTIONS, mergeLinePieces } from './merge-lines.ts';

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

  test('keeps vertical lines side by side apart, and joins two pieces of one vertical line', () => {
    assert.equal(mergeLinePieces([box(10, 10, 30, 200), box(45, 10, 30, 200)]).length, 2);
    // A line of a page turned a quarter, split by the detector with the pieces overlapping by a letter.
    const merged = mergeLinePieces([box(100, 300, 42, 310), box(98, 590, 44, 377)]);
    assert.equal(merged.length, 1);
    const ys = merged[0]!.map((p) => p.y);
    assert.ok(Math.min(...ys) <= 300 && Math.max(...ys) >= 967);
    assert.equal(mergeLinePieces([box(10, 10, 40, 200), box(10, 215, 200, 40)]).length, 2, 'a tall and a wide piece');
  });
});

/** A w x h box centred at (cx, cy), turned by `degrees`, corners clockwise from its top-left. */
function turned(cx: number, cy: number, w: number, h: number, degrees: number): Quad {
  const a = (degrees * Math.PI) / 180;
  const corner = (x: number, y: number) => ({
    x: cx + x * Math.cos(a) - y * Math.sin(a),
    y: cy + x * Math.sin(a) + y * Math.cos(a),
  });
  return [corner(-w / 2, -h / 2), corner(w / 2, -h / 2), corner(w / 2, h / 2), corner(-w / 2, h / 2)];
}

/** Where a piece of the same line would be, `along` pixels further along a line turned by `degrees`. */
function further(cx: number, cy: number, along: number, degrees: number) {
  const a = (degrees * Math.PI) / 180;
  return { x: cx + along * Math.cos(a), y: cy + along * Math.sin(a) };
}

describe('mergeLinePieces: the rules, at their limits', () => {
  test('defaults', () => {
    assert.deepEqual(DEFAULT_MERGE_OPTIONS, { maxGap: 0.8, maxAngleDegrees: 10, minHeightRatio: 0.5 });
  });

  test('gap: up to 0.8 line heights joins, more does not', () => {
    // Height 40: the largest gap is 32. Piece a spans x 10-210, piece b starts 32 or 33 px later.
    assert.equal(mergeLinePieces([box(10, 10, 200, 40), box(242, 10, 100, 40)]).length, 1);
    assert.equal(mergeLinePieces([box(10, 10, 200, 40), box(243, 10, 100, 40)]).length, 2);
    assert.equal(
      mergeLinePieces([box(10, 10, 200, 40), box(243, 10, 100, 40)], { ...DEFAULT_MERGE_OPTIONS, maxGap: 1 }).length,
      1,
    );
  });

  test('baseline band: centres at most half the taller piece apart across the line', () => {
    assert.equal(mergeLinePieces([box(10, 10, 200, 40), box(215, 29, 100, 40)]).length, 1, '19 px lower');
    assert.equal(mergeLinePieces([box(10, 10, 200, 40), box(215, 30, 100, 40)]).length, 1, 'exactly 20 px lower');
    assert.equal(mergeLinePieces([box(10, 10, 200, 40), box(215, 31, 100, 40)]).length, 2, '21 px lower');
    // Heights 40 and 30: the taller one decides (20 px).
    assert.equal(mergeLinePieces([box(10, 10, 200, 40), box(215, 33, 100, 30)]).length, 1, '18 px lower');
    assert.equal(mergeLinePieces([box(10, 10, 200, 40), box(215, 36, 100, 30)]).length, 2, '21 px lower');
  });

  test('heights: the smaller at least half the taller', () => {
    assert.equal(mergeLinePieces([box(10, 10, 200, 40), box(215, 20, 100, 20)]).length, 1, 'exactly half');
    assert.equal(mergeLinePieces([box(10, 10, 200, 40), box(215, 20.5, 100, 19)]).length, 2, 'just under half');
    assert.equal(
      mergeLinePieces([box(10, 10, 200, 40), box(215, 20, 100, 20)], { ...DEFAULT_MERGE_OPTIONS, minHeightRatio: 0.6 })
        .length,
      2,
    );
  });

  test('direction: within 10 degrees joins, on a turned line too', () => {
    for (const degrees of [0, 20, -35]) {
      const a = turned(100, 100, 200, 40, degrees);
      const at = further(100, 100, 165, degrees);
      assert.equal(mergeLinePieces([a, turned(at.x, at.y, 100, 40, degrees + 8)]).length, 1, `${degrees} + 8`);
      assert.equal(mergeLinePieces([a, turned(at.x, at.y, 100, 40, degrees - 8)]).length, 1, `${degrees} - 8`);
      assert.equal(mergeLinePieces([a, turned(at.x, at.y, 100, 40, degrees + 12)]).length, 2, `${degrees} + 12`);
      assert.equal(mergeLinePieces([a, turned(at.x, at.y, 100, 40, degrees - 12)]).length, 2, `${degrees} - 12`);
      // On the turned line but far off its direction: lower by a line height.
      const below = {
        x: at.x - 40 * Math.sin((degrees * Math.PI) / 180),
        y: at.y + 40 * Math.cos((degrees * Math.PI) / 180),
      };
      assert.equal(mergeLinePieces([a, turned(below.x, below.y, 100, 40, degrees)]).length, 2, `${degrees} below`);
    }
    assert.equal(
      mergeLinePieces([turned(100, 100, 200, 40, 0), turned(265, 100, 100, 40, 12)], {
        ...DEFAULT_MERGE_OPTIONS,
        maxAngleDegrees: 15,
      }).length,
      1,
    );
  });

  test('the limit is 10 degrees: 9.97 joins, 10.03 does not', () => {
    const a = turned(100, 100, 200, 40, 0);
    assert.equal(mergeLinePieces([a, turned(265, 100, 100, 40, 9.97)]).length, 1);
    assert.equal(mergeLinePieces([a, turned(265, 100, 100, 40, 10.03)]).length, 2);
  });

  test('far along a turned line is too far', () => {
    for (const degrees of [35, -35, 50]) {
      const at = further(100, 100, 190, degrees);
      const pieces = [turned(100, 100, 200, 40, degrees), turned(at.x, at.y, 100, 40, degrees)];
      assert.equal(mergeLinePieces(pieces).length, 2, `${degrees}: a gap of 40 px`);
    }
  });

  test('distances are measured in the frame of the longer piece, whichever comes first', () => {
    // A short piece turned 9 degrees, 140 px along and 15 px above a long straight one: within the band in the long
    // piece's frame, outside it (about 37 px) in the short piece's own.
    const long = box(10, 10, 200, 40);
    const short = turned(250, 15, 40, 40, 9);
    assert.equal(mergeLinePieces([short, long]).length, 1);
    assert.equal(mergeLinePieces([long, short]).length, 1);
    // Equal lengths: the first piece's frame.
    const second = turned(250, 15, 200, 40, 9);
    assert.equal(mergeLinePieces([turned(110, 30, 200, 40, 0), second]).length, 1);
  });

  test('a box counts as vertical above 1.5 times as high as wide (then it runs across a wide neighbour)', () => {
    assert.equal(mergeLinePieces([box(10, 10, 40, 60), box(55, 10, 40, 60)]).length, 1, 'exactly 1.5');
    assert.equal(mergeLinePieces([box(10, 10, 40, 61), box(55, 10, 40, 60)]).length, 2, 'the first over 1.5');
    assert.equal(mergeLinePieces([box(10, 10, 40, 60), box(55, 10, 40, 61)]).length, 2, 'the second over 1.5');
  });

  test('boxes that join become their minimum-area rectangle; others come back as they were', () => {
    const alone = turned(300, 400, 120, 30, 3);
    const merged = mergeLinePieces([box(10, 10, 200, 40), alone, box(225, 10, 100, 40)]);
    assert.equal(merged.length, 2);
    assert.deepEqual(merged[1], alone);
    const corners = merged[0]!;
    assert.deepEqual(
      corners.map((p) => [Math.round(p.x * 1e6) / 1e6, Math.round(p.y * 1e6) / 1e6]),
      [
        [10, 10],
        [325, 10],
        [325, 50],
        [10, 50],
      ],
    );
  });

  test('pieces joined through a middle piece all become one line, in as many passes as it takes', () => {
    const pieces = [box(10, 10, 100, 40), box(240, 10, 100, 40), box(125, 10, 100, 40), box(355, 10, 60, 40)];
    const merged = mergeLinePieces(pieces);
    assert.equal(merged.length, 1);
    const xs = merged[0]!.map((p) => p.x);
    assert.ok(Math.abs(Math.min(...xs) - 10) < 1e-6 && Math.abs(Math.max(...xs) - 415) < 1e-6);
  });
});
