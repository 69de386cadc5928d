import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GreyImage } from './grey-image.ts';
import { sobel } from './sobel.ts';
import { cooccurrence, edgeDensity, glcmByDirection, textureStatistics } from './texture.ts';

function paint(width: number, height: number, grey: (x: number, y: number) => number): GreyImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = grey(x, y);
  return { data, width, height };
}

const flat = paint(32, 24, () => 137);
/** 1-pixel cells, black and white: quantised to 16 levels, 0 and 15. */
const checkerboard = paint(32, 32, (x, y) => ((x + y) % 2 === 0 ? 0 : 255));

function close(actual: number, expected: number, what: string, tolerance = 1e-9) {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual}, expected ${expected}`);
}

describe('texture: GLCM statistics on synthetic images', () => {
  test('a flat field: contrast 0, homogeneity 1, energy 1, entropy 0, no edges', () => {
    const statistics = textureStatistics(flat, sobel(flat));
    assert.deepEqual(statistics, { contrast: 0, homogeneity: 1, energy: 1, entropy: 0, edgeDensity: 0 });
  });

  test('a 1-pixel black and white checkerboard: the largest contrast there is at 0° and 90°, none on the diagonals', () => {
    // At 0° and 90° every neighbour pair is (0, 15) or (15, 0), half each in the symmetric GLCM:
    //   contrast = (0.5 * 15^2 + 0.5 * 15^2) / 15^2 = 1 (the maximum), homogeneity = 1 / (1 + 15^2) = 1/226,
    //   energy = sqrt(0.5^2 + 0.5^2) = sqrt(1/2), entropy = -2 * 0.5 * log2(0.5) = 1 bit.
    // At 45° and 135° diagonal neighbours have the same colour: pairs (0, 0) and (15, 15), half each:
    //   contrast 0, homogeneity 1, energy sqrt(1/2), entropy 1 bit (to within the one pair of 31 x 31 = 961 by
    //   which the black pairs outnumber the white ones).
    const byDirection = glcmByDirection(checkerboard);
    for (const angle of [0, 90] as const) {
      close(byDirection[angle].contrast, 1, `contrast at ${angle}°`);
      close(byDirection[angle].homogeneity, 1 / 226, `homogeneity at ${angle}°`);
      close(byDirection[angle].energy, Math.SQRT1_2, `energy at ${angle}°`);
      close(byDirection[angle].entropy, 1, `entropy at ${angle}°`);
    }
    for (const angle of [45, 135] as const) {
      close(byDirection[angle].contrast, 0, `contrast at ${angle}°`);
      close(byDirection[angle].homogeneity, 1, `homogeneity at ${angle}°`);
      close(byDirection[angle].energy, Math.SQRT1_2, `energy at ${angle}°`, 1e-5);
      close(byDirection[angle].entropy, 1, `entropy at ${angle}°`, 1e-5);
    }
    const mean = textureStatistics(checkerboard, sobel(checkerboard));
    close(mean.contrast, 0.5, 'mean contrast');
    close(mean.homogeneity, (1 / 226 + 1) / 2, 'mean homogeneity');
    // Sobel smooths [1 2 1] across and differences the two neighbours either side, which have the same colour in a
    // 1-pixel checkerboard: the finest texture there is gives no edge at all.
    assert.equal(mean.edgeDensity, 0);
  });

  test('grey levels 64 and 192 (levels 4 and 12): contrast 8^2 / 15^2 at 0°', () => {
    const soft = paint(16, 16, (x, y) => ((x + y) % 2 === 0 ? 64 : 192));
    close(glcmByDirection(soft)[0].contrast, 64 / 225, 'contrast at 0°');
  });

  test('1-pixel horizontal stripes: equal neighbours only at 0°', () => {
    const stripes = paint(16, 16, (_x, y) => (y % 2 === 0 ? 0 : 255));
    const byDirection = glcmByDirection(stripes);
    close(byDirection[0].contrast, 0, 'contrast at 0°');
    for (const angle of [45, 90, 135] as const) close(byDirection[angle].contrast, 1, `contrast at ${angle}°`);
  });

  test('the GLCM is symmetric and sums to 1', () => {
    const ramp = paint(20, 10, (x, y) => (x * 13 + y * 7) % 256);
    const matrix = cooccurrence(ramp, 45);
    close(
      matrix.reduce((sum, p) => sum + p, 0),
      1,
      'sum',
    );
    for (let i = 0; i < 16; i++) for (let j = 0; j < 16; j++) assert.equal(matrix[i * 16 + j], matrix[j * 16 + i]);
  });
});

describe('texture: edge density', () => {
  test('a sharp vertical step of 32 grey levels marks the two columns beside it; 31 levels marks none', () => {
    // 10x10, step between columns 4 and 5: Sobel gives 4 * 32 = 128 (the threshold) in columns 4 and 5, on the
    // 8 interior rows: 16 of the 8 x 8 interior pixels.
    const step = (d: number) => paint(10, 10, (x) => (x < 5 ? 100 : 100 + d));
    assert.equal(edgeDensity(sobel(step(32))), 16 / 64);
    assert.equal(edgeDensity(sobel(step(31))), 0);
  });
});
