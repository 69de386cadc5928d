import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { boxesFromProbabilityMap, DEFAULT_DB_OPTIONS, labelRegions, meanInside } from './db-postprocess.ts';

function near(actual: number, expected: number, tolerance = 1e-6): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not within ${tolerance} of ${expected}`);
}

function map(width: number, height: number, fill: (x: number, y: number) => number): Float32Array {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = fill(x, y);
  return data;
}

describe('DB post-processing', () => {
  test('labels 8-connected regions (a diagonal step joins, a gap splits)', () => {
    const probability = map(8, 4, (x, y) => ((x === 0 && y === 0) || (x === 1 && y === 1) || x === 5 ? 0.9 : 0));
    assert.equal(labelRegions(probability, 8, 4, 0.3, 100).length, 2);
  });

  test('one box per text kernel, grown by area * ratio / perimeter', () => {
    // Two kernels of 40x6 and 20x6 pixels.
    const probability = map(100, 40, (x, y) => {
      if (y >= 5 && y < 11 && x >= 10 && x < 50) return 0.9;
      if (y >= 25 && y < 31 && x >= 60 && x < 80) return 0.8;
      return 0.05;
    });
    const boxes = boxesFromProbabilityMap(probability, 100, 40, DEFAULT_DB_OPTIONS).sort(
      (a, b) => a.rect.corners[0].y - b.rect.corners[0].y,
    );
    assert.equal(boxes.length, 2);
    const [first] = boxes;
    // The rectangle through pixel centres is 39 x 5; unclip distance = 39*5*1.5 / (2*(39+5)) = 3.32.
    const distance = (39 * 5 * 1.5) / (2 * (39 + 5));
    assert.ok(Math.abs(first!.rect.width - (39 + 2 * distance)) < 1e-6);
    assert.ok(Math.abs(first!.rect.height - (5 + 2 * distance)) < 1e-6);
    assert.ok(Math.abs(first!.score - 0.9) < 1e-6);
  });

  test('drops regions whose mean probability is below the box threshold, and specks', () => {
    const faint = map(60, 20, (x, y) => (y >= 5 && y < 12 && x >= 5 && x < 50 ? 0.4 : 0));
    assert.equal(boxesFromProbabilityMap(faint, 60, 20).length, 0);
    const speck = map(60, 20, (x, y) => (y >= 5 && y < 7 && x >= 5 && x < 9 ? 0.95 : 0));
    assert.equal(boxesFromProbabilityMap(speck, 60, 20).length, 0);
  });

  test('a curved line keeps its box with region scoring but loses it with box scoring', () => {
    const probability = map(200, 60, (x, y) => {
      const centre = 20 + 25 * Math.sin((Math.PI * x) / 200);
      return x >= 5 && x < 195 && Math.abs(y - centre) < 3 ? 0.9 : 0;
    });
    assert.equal(boxesFromProbabilityMap(probability, 200, 60).length, 1);
    assert.equal(boxesFromProbabilityMap(probability, 200, 60, { ...DEFAULT_DB_OPTIONS, scoreMode: 'box' }).length, 0);
  });
});

/** A map from rows of text: '#' is 0.9, '+' is exactly the threshold 0.5, anything else 0. */
function picture(rows: string[]): { data: Float32Array; width: number; height: number } {
  const width = rows[0]!.length;
  const data = map(width, rows.length, (x, y) => ({ '#': 0.9, '+': 0.5 })[rows[y]![x]!] ?? 0);
  return { data, width, height: rows.length };
}

function regionsOf(rows: string[], maxRegions = 100) {
  const { data, width, height } = picture(rows);
  return labelRegions(data, width, height, 0.5, maxRegions);
}

describe('DB post-processing: regions', () => {
  test('defaults', () => {
    assert.deepEqual(DEFAULT_DB_OPTIONS, {
      threshold: 0.3,
      boxThreshold: 0.6,
      unclipRatio: 1.5,
      maxCandidates: 1000,
      minSize: 3,
      scoreMode: 'region',
    });
  });

  test('a region records its first row, each row its leftmost and rightmost pixel, and its probability sum', () => {
    const regions = regionsOf(['......', '...#..', '..###.', '.##...', '#.....']);
    assert.equal(regions.length, 1);
    const [region] = regions;
    assert.deepStrictEqual(
      { ...region, sum: Math.round(region!.sum * 1e6) / 1e6 },
      {
        minY: 1,
        rowMin: [3, 2, 1, 0],
        rowMax: [3, 4, 2, 0],
        sum: Math.round(7 * Math.fround(0.9) * 1e6) / 1e6,
        count: 7,
      },
    );
  });

  test('8-connected along every border of the map, in every direction', () => {
    // Down the left edge, along the bottom, up the right edge, along the top: one ring.
    assert.equal(regionsOf(['######', '#....#', '#....#', '######']).length, 1);
    // A diagonal step down and to the left joins; one seeded from pixel 0 too.
    assert.equal(regionsOf(['#..#', '..#.', '.#..']).length, 2);
    assert.equal(regionsOf(['#...', '.#..', '..#.']).length, 1);
    assert.equal(regionsOf(['...#', '..#.', '.#..']).length, 1);
    assert.equal(regionsOf(['#.#.#']).length, 3, 'one row: gaps split');
    assert.equal(regionsOf(['#', '.', '#']).length, 2, 'one column: gaps split');
  });

  test('rows are recorded whatever order the fill visits them in', () => {
    const [region] = regionsOf(['.........', '..######.', '..######.', '..######.']);
    assert.deepStrictEqual(
      { minY: region!.minY, rowMin: region!.rowMin, rowMax: region!.rowMax, count: region!.count },
      { minY: 1, rowMin: [2, 2, 2], rowMax: [7, 7, 7], count: 18 },
    );
  });

  test('a pixel two rows above the region, later in the scan, is not part of it', () => {
    assert.equal(regionsOf(['#..#', '#...', '####']).length, 2);
    assert.equal(regionsOf(['#...#', '#....', '#####']).length, 2);
  });

  test('a gap of one row or one column splits; the last column does not wrap to the next row', () => {
    assert.equal(regionsOf(['###', '...', '###']).length, 2);
    assert.equal(regionsOf(['#.#', '#.#', '#.#']).length, 2);
    assert.equal(regionsOf(['..#', '#..']).length, 2);
  });

  test('a pixel exactly at the threshold is background', () => {
    assert.equal(regionsOf(['+.+', '...']).length, 0);
    const [region] = regionsOf(['#+', '..']);
    assert.equal(region!.count, 1);
  });

  test('at most maxRegions regions, the first ones in raster order', () => {
    const regions = regionsOf(['#.#.#', '.....', '#....'], 2);
    assert.deepEqual(
      regions.map((r) => [r.minY, r.rowMin[0]]),
      [
        [0, 0],
        [0, 2],
      ],
    );
    assert.equal(regionsOf(['#.#.#', '.....', '#....'], 1).length, 1);
  });
});

describe('DB post-processing: mean probability inside a box', () => {
  // 6 x 5 map whose value says where it is: x + 10 y (as a fraction, so it fits a probability map).
  const width = 6;
  const height = 5;
  const values = map(width, height, (x, y) => (x + 10 * y) / 100);
  const mean = (cells: [number, number][]) => cells.reduce((s, [x, y]) => s + values[y * width + x]!, 0) / cells.length;
  const rect = (x1: number, y1: number, x2: number, y2: number) => [
    { x: x1, y: y1 },
    { x: x2, y: y1 },
    { x: x2, y: y2 },
    { x: x1, y: y2 },
  ];

  test('pixels whose centres lie inside or within half a pixel of the box', () => {
    // Centres x + 0.5 within [1.1, 3.9] and y + 0.5 within [1.1, 2.9]: x 1-3, y 1-2.
    const expected = mean([
      [1, 1],
      [2, 1],
      [3, 1],
      [1, 2],
      [2, 2],
      [3, 2],
    ]);
    near(meanInside(values, width, height, rect(1.6, 1.6, 3.4, 2.4)), expected);
    // Centres exactly half a pixel outside count.
    near(
      meanInside(values, width, height, rect(2, 2, 3, 3)),
      mean([
        [1, 1],
        [2, 1],
        [3, 1],
        [1, 2],
        [2, 2],
        [3, 2],
        [1, 3],
        [2, 3],
        [3, 3],
      ]),
    );
  });

  test('a box reaching past the map: only the pixels of the map count', () => {
    near(
      meanInside(values, width, height, rect(-3, -3, 1, 1)),
      mean([
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ]),
    );
    near(
      meanInside(values, width, height, rect(5, 4, 9, 9)),
      mean([
        [4, 3],
        [5, 3],
        [4, 4],
        [5, 4],
      ]),
    );
  });

  test('a turned box: only the pixels near the diamond, not its bounding rectangle', () => {
    // Diamond around (3, 2.5) reaching 2 px in each axis direction: |x - 3| + |y - 2.5| <= 2, and half a pixel of
    // tolerance across its 45-degree edges adds 0.5 * sqrt(2) to that sum.
    const diamond = [
      { x: 3, y: 0.5 },
      { x: 5, y: 2.5 },
      { x: 3, y: 4.5 },
      { x: 1, y: 2.5 },
    ];
    const cells: [number, number][] = [];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (Math.abs(x + 0.5 - 3) + Math.abs(y + 0.5 - 2.5) <= 2 + 0.5 * Math.SQRT2 + 1e-9) cells.push([x, y]);
      }
    }
    assert.ok(cells.length > 6 && cells.length < width * height);
    near(meanInside(values, width, height, diamond), mean(cells));
  });

  test('a box outside the map averages nothing: 0', () => {
    assert.equal(meanInside(values, width, height, rect(20, 20, 30, 30)), 0);
  });
});

describe('DB post-processing: which boxes are kept', () => {
  const kernel = (w: number, h: number, p = 0.9) =>
    map(120, 40, (x, y) => (x >= 10 && x < 10 + w && y >= 10 && y < 10 + h ? p : 0));

  test('the box is the minimum rectangle through the pixel centres, grown by the unclip distance', () => {
    const [box] = boxesFromProbabilityMap(kernel(40, 6), 120, 40);
    const d = (39 * 5 * 1.5) / (2 * (39 + 5));
    const xs = box!.rect.corners.map((p) => p.x);
    const ys = box!.rect.corners.map((p) => p.y);
    near(Math.min(...xs), 10.5 - d);
    near(Math.max(...xs), 49.5 + d);
    near(Math.min(...ys), 10.5 - d);
    near(Math.max(...ys), 15.5 + d);
  });

  test('a region touching the left edge keeps its left edge', () => {
    const probability = map(60, 20, (x, y) => (x < 30 && y >= 5 && y < 11 ? 0.9 : 0));
    const [box] = boxesFromProbabilityMap(probability, 60, 20, { ...DEFAULT_DB_OPTIONS, unclipRatio: 0 });
    near(Math.min(...box!.rect.corners.map((p) => p.x)), 0.5);
    near(box!.rect.width, 29);
  });

  test('minSize: a rectangle whose short side is exactly minSize is kept, shorter is dropped', () => {
    const options = { ...DEFAULT_DB_OPTIONS, unclipRatio: 3 };
    // 4 rows of pixels: centres 3 apart; 3 rows: 2 apart (the grown boxes would be large enough either way).
    assert.equal(boxesFromProbabilityMap(kernel(100, 4), 120, 40, options).length, 1);
    assert.equal(boxesFromProbabilityMap(kernel(100, 3), 120, 40, options).length, 0);
  });

  test('the grown box must be 2 px above minSize on its short side', () => {
    const options = { ...DEFAULT_DB_OPTIONS, minSize: 10, unclipRatio: 0 };
    assert.equal(boxesFromProbabilityMap(kernel(40, 13), 120, 40, options).length, 1, 'short side 12');
    assert.equal(boxesFromProbabilityMap(kernel(40, 12), 120, 40, options).length, 0, 'short side 11');
  });

  test('a mean probability exactly at the box threshold is kept', () => {
    const options = { ...DEFAULT_DB_OPTIONS, boxThreshold: 0.75 };
    assert.equal(boxesFromProbabilityMap(kernel(40, 6, 0.75), 120, 40, options).length, 1);
    assert.equal(boxesFromProbabilityMap(kernel(40, 6, 0.74), 120, 40, options).length, 0);
  });

  test('box scoring averages the probability inside the rectangle', () => {
    const [box] = boxesFromProbabilityMap(kernel(40, 6, 0.8), 120, 40, { ...DEFAULT_DB_OPTIONS, scoreMode: 'box' });
    near(box!.score, Math.fround(0.8));
  });
});
