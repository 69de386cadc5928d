/**
 * Filters against pixels computed here, on small synthetic images: the test's own 3x3 correlation (border pixels
 * repeated), its own Sobel and Laplacian, block means, matrices, so a wrong kernel, a flipped kernel, a wrong border
 * or a wrong formula in the code shows up as a pixel difference.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyRecipe } from './apply.ts';
import { parseRecipe } from './grammar/parse.ts';
import type { RawImage } from './raw-image.ts';
import { decode, greyImage, rgbImage, toPng } from './testing/images.ts';

/** A grey test card: a ramp, a bright square and a dark diagonal, so every kernel has edges of each direction. */
const card = greyImage(24, 18, (x, y) => {
  if (x >= 8 && x < 14 && y >= 5 && y < 11) return 230;
  if (Math.abs(x - y) <= 1) return 20;
  return 40 + x * 5 + y * 2;
});

function at(image: RawImage, x: number, y: number): number {
  const cx = Math.min(image.width - 1, Math.max(0, x));
  const cy = Math.min(image.height - 1, Math.max(0, y));
  return image.data[cy * image.width + cx]!;
}

/** Sum over the 3x3 neighbourhood of k[j][i] * pixel(x + i - 1, y + j - 1), borders repeated. */
function correlate(image: RawImage, x: number, y: number, k: number[][]): number {
  let sum = 0;
  for (let j = 0; j < 3; j++) for (let i = 0; i < 3; i++) sum += k[j]![i]! * at(image, x + i - 1, y + j - 1);
  return sum;
}

function expectedGrey(image: RawImage, f: (x: number, y: number) => number): number[] {
  const out: number[] = [];
  for (let y = 0; y < image.height; y++) for (let x = 0; x < image.width; x++) out.push(f(x, y));
  return out;
}

const clip = (value: number) => Math.min(255, Math.max(0, value));

async function runGrey(recipe: string, input: RawImage = card): Promise<number[]> {
  const output = await applyRecipe(await toPng(input), parseRecipe(`${recipe}/format:png`));
  const decoded = await decode(output.bytes, { channels: 1 });
  assert.equal(decoded.width, input.width);
  assert.equal(decoded.height, input.height);
  return [...decoded.data];
}

function assertClose(actual: number[], expected: number[], tolerance: number, label: string) {
  assert.equal(actual.length, expected.length, label);
  const worst = actual.reduce((max, value, index) => Math.max(max, Math.abs(value - expected[index]!)), 0);
  assert.ok(worst <= tolerance, `${label}: largest difference ${worst} > ${tolerance}`);
}

describe('convolutions on a synthetic image', () => {
  test('edge (Sobel): sqrt(Gx^2 + Gy^2), rounded, clipped', async () => {
    const gx = [
      [-1, 0, 1],
      [-2, 0, 2],
      [-1, 0, 1],
    ];
    const gy = [
      [-1, -2, -1],
      [0, 0, 0],
      [1, 2, 1],
    ];
    const expected = expectedGrey(card, (x, y) =>
      clip(Math.round(Math.hypot(correlate(card, x, y, gx), correlate(card, x, y, gy)))),
    );
    assert.deepEqual(await runGrey('edge'), expected);
    assert.ok(
      expected.some((value) => value === 255) && expected.some((value) => value < 60),
      'the card has strong and weak edges',
    );
  });

  test('edge:laplacian: |4-neighbour Laplacian|, clipped', async () => {
    const lap = [
      [0, 1, 0],
      [1, -4, 1],
      [0, 1, 0],
    ];
    assert.deepEqual(
      await runGrey('edge:laplacian'),
      expectedGrey(card, (x, y) => clip(Math.abs(correlate(card, x, y, lap)))),
    );
  });

  test('emboss: [-2 -1 0; -1 1 1; 0 1 2] as written (not flipped)', async () => {
    const emboss = [
      [-2, -1, 0],
      [-1, 1, 1],
      [0, 1, 2],
    ];
    assert.deepEqual(
      await runGrey('emboss'),
      expectedGrey(card, (x, y) => clip(correlate(card, x, y, emboss))),
    );
  });

  test('contour: 255 + (8 x centre - neighbours), clipped', async () => {
    const contour = [
      [-1, -1, -1],
      [-1, 8, -1],
      [-1, -1, -1],
    ];
    assert.deepEqual(
      await runGrey('contour'),
      expectedGrey(card, (x, y) => clip(255 + correlate(card, x, y, contour))),
    );
  });

  test('blur:1 is the 3x3 mean; blur:2 the 5x5 mean', async () => {
    const mean = (radius: number) => (x: number, y: number) => {
      let sum = 0;
      for (let j = -radius; j <= radius; j++) for (let i = -radius; i <= radius; i++) sum += at(card, x + i, y + j);
      return sum / (2 * radius + 1) ** 2;
    };
    assertClose(await runGrey('blur'), expectedGrey(card, mean(1)), 1, 'blur:1');
    assertClose(await runGrey('blur:2'), expectedGrey(card, mean(2)), 1, 'blur:2');
  });

  test('sharpness: 1 leaves the image, 0 is PIL SMOOTH ([1 1 1; 1 5 1; 1 1 1] / 13), 2 is twice the detail', async () => {
    const smooth = [
      [1, 1, 1],
      [1, 5, 1],
      [1, 1, 1],
    ];
    const smoothed = (x: number, y: number) => correlate(card, x, y, smooth) / 13;
    assertClose(await runGrey('sharpness:1'), [...card.data], 1, 'sharpness:1');
    assertClose(await runGrey('sharpness:0'), expectedGrey(card, smoothed), 1, 'sharpness:0');
    assertClose(
      await runGrey('sharpness:2'),
      expectedGrey(card, (x, y) => clip(smoothed(x, y) + 2 * (at(card, x, y) - smoothed(x, y)))),
      1,
      'sharpness:2',
    );
  });
});

describe('point and rank filters', () => {
  test('median:3 removes an isolated bright pixel and keeps flat areas', async () => {
    const salt = greyImage(9, 9, (x, y) => (x === 4 && y === 4 ? 255 : 90));
    assert.deepEqual(await runGrey('median', salt), new Array(81).fill(90));
  });

  test('median: a window wider than the image is the widest odd window that fits (libvips would refuse it)', async () => {
    const small = greyImage(9, 8, (x, y) => (x * 53 + y * 29) % 256);
    assert.deepEqual(await runGrey('median:15', small), await runGrey('median:7', small), 'an 8-pixel side fits 7');
    const sliver = greyImage(1, 40, (_x, y) => (y * 37) % 256);
    assert.deepEqual(await runGrey('median:3', sliver), [...sliver.data], 'a one-pixel-wide image has no 3x3 window');
  });

  test('threshold: at or above the level white, else black', async () => {
    assert.deepEqual(
      await runGrey('threshold:100'),
      [...card.data].map((value) => (value >= 100 ? 255 : 0)),
    );
  });

  test('negate: 255 - v', async () => {
    assert.deepEqual(
      await runGrey('negate'),
      [...card.data].map((value) => 255 - value),
    );
  });

  test('pixelate: each block the rounded mean of its pixels, partial blocks at the edges', async () => {
    const size = 5;
    const expected = expectedGrey(card, (x, y) => {
      const left = Math.floor(x / size) * size;
      const top = Math.floor(y / size) * size;
      let sum = 0;
      let count = 0;
      for (let j = top; j < Math.min(card.height, top + size); j++) {
        for (let i = left; i < Math.min(card.width, left + size); i++) {
          sum += at(card, i, j);
          count++;
        }
      }
      return Math.round(sum / count);
    });
    assert.deepEqual(await runGrey(`pixelate:${size}`), expected);
  });
});

describe('colour filters', () => {
  const swatches = rgbImage(
    4,
    1,
    (x) =>
      (
        [
          [200, 120, 40],
          [10, 200, 90],
          [255, 255, 255],
          [30, 60, 250],
        ] as [number, number, number][]
      )[x]!,
  );

  async function runRgb(recipe: string): Promise<number[][]> {
    const output = await applyRecipe(await toPng(swatches), parseRecipe(`${recipe}/format:png`));
    const decoded = await decode(output.bytes, { channels: 3 });
    return Array.from({ length: 4 }, (_, x) => [...decoded.data.subarray(x * 3, x * 3 + 3)]);
  }

  test('grayscale: Rec. 709 luma in every channel', async () => {
    const rows = await runRgb('grayscale');
    rows.forEach((rgb, x) => {
      const [r, g, b] = [...swatches.data.subarray(x * 3, x * 3 + 3)] as [number, number, number];
      const luma = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      for (const channel of rgb) assert.ok(Math.abs(channel - luma) <= 1, `${rgb} vs ${luma}`);
    });
  });

  test('sepia: the classic matrix, clipped', async () => {
    const matrix = [
      [0.393, 0.769, 0.189],
      [0.349, 0.686, 0.168],
      [0.272, 0.534, 0.131],
    ];
    const rows = await runRgb('sepia');
    rows.forEach((rgb, x) => {
      const source = [...swatches.data.subarray(x * 3, x * 3 + 3)];
      const expected = matrix.map((row) => clip(row.reduce((sum, weight, c) => sum + weight * source[c]!, 0)));
      rgb.forEach((value, c) => {
        assert.ok(Math.abs(value - expected[c]!) <= 1, `${rgb} vs ${expected}`);
      });
    });
  });
});
