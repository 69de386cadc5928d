import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ImgpipeError } from '@imgpipe/core';
import { parseRecipe } from '@imgpipe/imaging';
import sharp from 'sharp';
import { TransformPool } from './transform-pool.ts';

const pool = new TransformPool(2);
after(() => pool.close());

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 100, b: 50 } } })
    .png()
    .toBuffer();

test('runs a recipe in a worker thread and returns the encoded bytes', async () => {
  const result = await pool.run(await png(64, 48), parseRecipe('resize:32x/format:webp'));
  assert.equal(result.format, 'webp');
  assert.equal(result.bytes.subarray(8, 12).toString('latin1'), 'WEBP');
  assert.ok(Buffer.isBuffer(result.bytes));
  const meta = await sharp(result.bytes).metadata();
  assert.deepEqual([meta.width, meta.height], [32, 24]);
});

test('errors come back with their catalogue code', async () => {
  await assert.rejects(
    pool.run(Buffer.from('not an image'), parseRecipe('flip')),
    (error: unknown) => error instanceof ImgpipeError && error.code === 'IMAGE_UNSUPPORTED_FORMAT',
  );
  await assert.rejects(
    pool.run(await png(10, 10), parseRecipe('crop:50:50:5:5')),
    (error: unknown) => error instanceof ImgpipeError && error.code === 'TRANSFORM_CROP_OUTSIDE_IMAGE',
  );
});

test("JavaScript pixel steps (edge, pixelate, BMP) do not hold the caller's event loop", async () => {
  const input = await png(3000, 2000);
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const started = performance.now();
  await Promise.all([
    pool.run(input, parseRecipe('edge/pixelate:4/format:bmp')),
    pool.run(input, parseRecipe('edge:laplacian/format:png')),
  ]);
  const elapsed = performance.now() - started;
  histogram.disable();
  const maxMs = histogram.max / 1e6;
  // Not a timing assertion on the work: the loop's longest stall is compared with the work's own duration.
  assert.ok(
    maxMs < elapsed / 2,
    `event loop stalled ${maxMs.toFixed(0)} ms during ${elapsed.toFixed(0)} ms of transforms`,
  );
});
