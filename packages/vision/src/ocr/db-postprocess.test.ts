import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { boxesFromProbabilityMap, DEFAULT_DB_OPTIONS, labelRegions } from './db-postprocess.ts';

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
