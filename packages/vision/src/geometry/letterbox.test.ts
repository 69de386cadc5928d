import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NormalizedImage } from '../preprocess/normalized-image.ts';
import { type LetterboxSpec, letterbox } from './letterbox.ts';
import { borrowFloat32, returnFloat32 } from './tensor-buffers.ts';

/** An image whose every pixel is (r, g, b), or whose pixels come from `pixel(x, y)`. */
function image(
  width: number,
  height: number,
  pixel: (x: number, y: number) => [number, number, number],
  original = { width, height },
): NormalizedImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 3);
  }
  return { data, width, height, originalWidth: original.width, originalHeight: original.height };
}

/** A centred image with nothing to pad gets a padding of -0 (Math.round(-0.1)): numerically none. */
function noPadding(value: number): void {
  assert.ok(value === 0, `${value} is no padding`);
}

const raw: Omit<LetterboxSpec, 'placement'> = { padValue: 114, channelOrder: 'rgb', divisor: 1 };

/** The tensor as [channel][y][x] numbers, to compare with a hand-written expectation. */
function planes(tensor: Float32Array, width: number, height: number): number[][][] {
  return [0, 1, 2].map((c) =>
    Array.from({ length: height }, (_, y) =>
      Array.from(tensor.subarray(c * width * height + y * width, c * width * height + (y + 1) * width)),
    ),
  );
}

describe('letterbox', () => {
  // 3x2 pixels, each channel telling where the pixel is: r = 10 + x, g = 20 + y, b = 30 + x + 3y.
  const small = image(3, 2, (x, y) => [10 + x, 20 + y, 30 + x + 3 * y], { width: 6, height: 4 });

  test('no resize needed: pixels copied in place, padding right and below (top-left), planar RGB', async () => {
    const input = await letterbox(small, { ...raw, maxSide: 10, multiple: 4, placement: 'top-left' });
    assert.equal(input.width, 4);
    assert.equal(input.height, 4);
    const P = 114;
    assert.deepEqual(planes(input.tensor, 4, 4), [
      [
        [10, 11, 12, P],
        [10, 11, 12, P],
        [P, P, P, P],
        [P, P, P, P],
      ],
      [
        [20, 20, 20, P],
        [21, 21, 21, P],
        [P, P, P, P],
        [P, P, P, P],
      ],
      [
        [30, 31, 32, P],
        [33, 34, 35, P],
        [P, P, P, P],
        [P, P, P, P],
      ],
    ]);
    assert.deepEqual(input.toOriginal, {
      padX: 0,
      padY: 0,
      scaleX: 2,
      scaleY: 2,
      originalWidth: 6,
      originalHeight: 4,
    });
  });

  test('centred: padding split evenly, an odd pixel going right and below; BGR; values divided', async () => {
    const input = await letterbox(small, {
      maxSide: 10,
      multiple: 6,
      placement: 'center',
      padValue: 0,
      channelOrder: 'bgr',
      divisor: 2,
    });
    assert.equal(input.width, 6);
    assert.equal(input.height, 6);
    // 3 columns of padding: 1 left, 2 right; 4 rows: 2 above, 2 below.
    assert.equal(input.toOriginal.padX, 1);
    assert.equal(input.toOriginal.padY, 2);
    const [first, second, third] = planes(input.tensor, 6, 6);
    assert.deepEqual(first![2], [0, 15, 15.5, 16, 0, 0], 'blue first, halved');
    assert.deepEqual(first![3], [0, 16.5, 17, 17.5, 0, 0]);
    assert.deepEqual(second![2], [0, 10, 10, 10, 0, 0], 'then green');
    assert.deepEqual(third![3], [0, 5, 5.5, 6, 0, 0], 'then red');
    for (const row of [0, 1, 4, 5]) assert.deepEqual(first![row], [0, 0, 0, 0, 0, 0]);
  });

  test('a padding of 1 goes right; of 3 goes 1 left and 2 right', async () => {
    const oneWide = await letterbox(
      image(3, 3, () => [1, 2, 3]),
      { ...raw, width: 4, height: 3, placement: 'center' },
    );
    noPadding(oneWide.toOriginal.padX);
    const threeWide = await letterbox(
      image(3, 3, () => [1, 2, 3]),
      { ...raw, width: 6, height: 3, placement: 'center' },
    );
    assert.equal(threeWide.toOriginal.padX, 1);
    const threeHigh = await letterbox(
      image(3, 3, () => [1, 2, 3]),
      { ...raw, width: 3, height: 6, placement: 'center' },
    );
    assert.equal(threeHigh.toOriginal.padY, 1);
    noPadding(threeHigh.toOriginal.padX);
  });

  test('fixed size: scaled to fit by the tighter side, uniform pixels stay uniform, the rest is padding', async () => {
    const wide = image(100, 50, () => [200, 100, 50], { width: 400, height: 200 });
    const input = await letterbox(wide, { ...raw, width: 64, height: 64, placement: 'top-left', divisor: 255 });
    assert.equal(input.width, 64);
    assert.equal(input.height, 64);
    assert.deepEqual(input.toOriginal, {
      padX: 0,
      padY: 0,
      scaleX: 400 / 64,
      scaleY: 200 / 32,
      originalWidth: 400,
      originalHeight: 200,
    });
    const [r, g, b] = planes(input.tensor, 64, 64);
    const f = (value: number) => Math.fround(value * (1 / 255));
    for (const y of [0, 31]) {
      assert.deepEqual(new Set(r![y]), new Set([f(200)]), `row ${y}`);
      assert.deepEqual(new Set(g![y]), new Set([f(100)]));
      assert.deepEqual(new Set(b![y]), new Set([f(50)]));
    }
    for (const y of [32, 63]) assert.deepEqual(new Set(r![y]), new Set([f(114)]), `padding row ${y}`);
  });

  test('fixed size, centred, taller than wide', async () => {
    const tall = image(30, 90, () => [9, 9, 9]);
    const input = await letterbox(tall, { ...raw, width: 64, height: 32, placement: 'center' });
    // ratio = min(64/30, 32/90): 90 -> 32, 30 -> round(10.67) = 11; padX = round(26.5 - 0.1) = 26.
    assert.equal(input.toOriginal.scaleX, 30 / 11);
    assert.equal(input.toOriginal.scaleY, 90 / 32);
    assert.equal(input.toOriginal.padX, 26);
    noPadding(input.toOriginal.padY);
    const [r] = planes(input.tensor, 64, 32);
    assert.deepEqual(r![5]!.slice(25, 38), [114, ...new Array(11).fill(9), 114]);
  });

  test('a column resized in height only is resized, not copied', async () => {
    // 1 x 1000, dark at the top and light at the bottom, into 64 x 64: 1 x 64 after resizing.
    const column = image(1, 1000, (_, y) => {
      const v = Math.floor((y * 255) / 999);
      return [v, v, v];
    });
    const input = await letterbox(column, { ...raw, width: 64, height: 64, placement: 'top-left' });
    assert.deepEqual([input.toOriginal.scaleX, input.toOriginal.scaleY], [1, 1000 / 64]);
    const [r] = planes(input.tensor, 64, 64);
    assert.ok(r![63]![0]! > 240, `the last row is the bottom of the column (${r![63]![0]})`);
    assert.ok(r![0]![0]! < 15, `the first row is its top (${r![0]![0]})`);
    assert.equal(r![0]![1], 114, 'padding beside it');
  });

  test('downscaling samples as OpenCV INTER_LINEAR: half-pixel centres, edges clamped', async () => {
    // 4x1 red ramp 0, 100, 200, 250 into 2x1 (fixed 2x2, top-left): source x = (dst + 0.5) * 2 - 0.5 = 0.5, 2.5,
    // so 50 and 225. 1x4 green ramp into 1x2 the same way down the rows. cv2.resize(..., (2, 1)) gives 50, 225.
    const row = image(4, 1, (x) => [[0, 100, 200, 250][x]!, 0, 0]);
    const across = await letterbox(row, { ...raw, width: 2, height: 2, placement: 'top-left' });
    const [r] = planes(across.tensor, 2, 2);
    assert.deepEqual(r, [
      [50, 225],
      [114, 114],
    ]);
    const column = image(1, 4, (_, y) => [0, [10, 20, 40, 80][y]!, 0]);
    const down = await letterbox(column, { ...raw, width: 2, height: 2, placement: 'top-left' });
    const [, g] = planes(down.tensor, 2, 2);
    assert.deepEqual(g, [
      [15, 114],
      [60, 114],
    ]);
    // Upscaling is never asked of dynamic sizes; a fixed size enlarges, clamping at the edges: 2 -> 4 samples at
    // -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
    const up = await letterbox(
      image(2, 1, (x) => [[0, 100][x]!, 0, 0]),
      { ...raw, width: 4, height: 4, placement: 'top-left' },
    );
    assert.deepEqual(planes(up.tensor, 4, 4)[0]![0], [0, 25, 75, 100]);
  });

  test('a reused tensor buffer gets its padding written again', async () => {
    const spec: LetterboxSpec = { ...raw, width: 8, height: 8, placement: 'center' };
    const first = await letterbox(
      image(8, 4, () => [1, 2, 3]),
      spec,
    );
    first.tensor.fill(-1);
    returnFloat32(first.tensor);
    const second = await letterbox(
      image(8, 4, () => [1, 2, 3]),
      spec,
    );
    assert.equal(second.tensor, first.tensor, 'the returned buffer was reused');
    const [r, g, b] = planes(second.tensor, 8, 8);
    for (const y of [0, 1, 6, 7]) assert.deepEqual(r![y], new Array(8).fill(114), `padding row ${y}`);
    for (const y of [2, 3, 4, 5]) assert.deepEqual([r![y]![0], g![y]![7], b![y]![3]], [1, 2, 3], `image row ${y}`);
    // Views into a larger buffer are never kept (they would hand out memory someone else holds).
    const view = new Float32Array(16).subarray(4, 12);
    returnFloat32(view);
    assert.notEqual(borrowFloat32(8), view);
  });

  test('a sliver keeps at least one pixel on each side', async () => {
    const sliver = image(1000, 1, () => [7, 7, 7]);
    const fixed = await letterbox(sliver, { ...raw, width: 64, height: 64, placement: 'center' });
    assert.equal(fixed.toOriginal.scaleY, 1);
    assert.equal(fixed.toOriginal.padY, 31);
    const dynamic = await letterbox(sliver, { ...raw, maxSide: 100, multiple: 32, placement: 'top-left' });
    assert.deepEqual([dynamic.width, dynamic.height], [128, 32]);
    assert.equal(dynamic.toOriginal.scaleY, 1);
    const column = await letterbox(
      image(1, 1000, () => [7, 7, 7]),
      { ...raw, maxSide: 100, placement: 'top-left' },
    );
    assert.deepEqual([column.width, column.height], [1, 100]);
  });

  test('dynamic size: long side capped at maxSide, never enlarged, padded up to the multiple', async () => {
    const big = image(100, 50, () => [1, 1, 1]);
    const capped = await letterbox(big, { ...raw, maxSide: 40, multiple: 32, placement: 'center' });
    assert.deepEqual([capped.width, capped.height], [64, 32]);
    assert.deepEqual([capped.toOriginal.scaleX, capped.toOriginal.scaleY], [100 / 40, 50 / 20]);
    assert.deepEqual([capped.toOriginal.padX, capped.toOriginal.padY], [12, 6]);
    const notEnlarged = await letterbox(big, { ...raw, maxSide: 400, multiple: 32, placement: 'top-left' });
    assert.deepEqual([notEnlarged.width, notEnlarged.height], [128, 64]);
    assert.deepEqual([notEnlarged.toOriginal.scaleX, notEnlarged.toOriginal.scaleY], [1, 1]);
    const tall = await letterbox(
      image(50, 100, () => [1, 1, 1]),
      { ...raw, maxSide: 40, multiple: 32, placement: 'top-left' },
    );
    assert.deepEqual([tall.width, tall.height], [32, 64]);
    assert.deepEqual([tall.toOriginal.scaleX, tall.toOriginal.scaleY], [50 / 20, 100 / 40]);
  });

  test('dynamic size without maxSide or multiple: the image as it is', async () => {
    const input = await letterbox(
      image(7, 5, () => [3, 3, 3]),
      { ...raw, placement: 'center' },
    );
    assert.deepEqual([input.width, input.height], [7, 5]);
    noPadding(input.toOriginal.padX);
    noPadding(input.toOriginal.padY);
  });

  test('only width, or only height, given: the dynamic path', async () => {
    const input = await letterbox(
      image(7, 5, () => [3, 3, 3]),
      { ...raw, width: 64, placement: 'top-left' },
    );
    assert.deepEqual([input.width, input.height], [7, 5]);
  });
});
