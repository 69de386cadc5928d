/**
 * Every limit and every bad input answers its code, before the work it protects against: a pixel bomb is refused
 * from its header, an oversized output from the plan, without decoding a pixel.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { applyRecipe } from './apply.ts';
import { parseRecipe } from './grammar/parse.ts';
import { DEFAULT_TRANSFORM_LIMITS, loadTransformLimits, type TransformLimits } from './limits.ts';
import { sharp } from './sharp-instance.ts';
import { pixelBombPng, rgbImage, toPng } from './testing/images.ts';
import { readShared } from './testing/shared.ts';
import { validateRecipe } from './validate.ts';

const dog = readShared('images', 'photos', 'dog.jpg');

async function assertCode(work: Promise<unknown>, code: string, status: number) {
  await assert.rejects(work, (error: unknown) => {
    assert.ok(error instanceof ImgpipeError, `not an ImgpipeError: ${error}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.httpStatus, status);
    return true;
  });
}

const transform = (input: Uint8Array, recipe: string, limits?: Partial<TransformLimits>) =>
  applyRecipe(input, parseRecipe(recipe), limits ? { limits } : {});

describe('input limits and bad inputs', () => {
  test('zero bytes: IMAGE_EMPTY', () => assertCode(transform(new Uint8Array(0), 'resize:10x'), 'IMAGE_EMPTY', 422));

  test('a truncated JPEG: IMAGE_TRUNCATED', () =>
    assertCode(transform(readShared('images', 'broken', 'truncated.jpg'), 'resize:10x'), 'IMAGE_TRUNCATED', 422));

  test('a JPEG cut in half (header intact): IMAGE_TRUNCATED when decoding', () =>
    assertCode(transform(dog.subarray(0, Math.floor(dog.length / 2)), 'resize:100x'), 'IMAGE_TRUNCATED', 422));

  test('text, and a BMP: IMAGE_UNSUPPORTED_FORMAT', async () => {
    await assertCode(transform(Buffer.from('hello, not an image'), 'flip'), 'IMAGE_UNSUPPORTED_FORMAT', 415);
    await assertCode(transform(Buffer.from('BM\0\0\0\0\0\0\0\0'), 'flip'), 'IMAGE_UNSUPPORTED_FORMAT', 415);
  });

  test('a PNG declaring 30000x30000 pixels: IMAGE_TOO_MANY_PIXELS from the header, in milliseconds', async () => {
    const bomb = pixelBombPng();
    assert.ok(bomb.length < 1000, `the bomb is ${bomb.length} bytes`);
    const rssBefore = process.memoryUsage().rss;
    await assertCode(transform(bomb, 'resize:10x'), 'IMAGE_TOO_MANY_PIXELS', 422);
    // 900 megapixels would need gigabytes if decoded.
    assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024);
  });

  test('more bytes than maxInputBytes: IMAGE_TOO_LARGE', () =>
    assertCode(transform(dog, 'flip', { maxInputBytes: dog.length - 1 }), 'IMAGE_TOO_LARGE', 413));

  test('more pixels than maxInputPixels: IMAGE_TOO_MANY_PIXELS', () =>
    assertCode(transform(dog, 'flip', { maxInputPixels: 768 * 576 - 1 }), 'IMAGE_TOO_MANY_PIXELS', 422));

  test('an animated GIF with more frames than maxFrames: IMAGE_TOO_MANY_FRAMES; within the limit, its first frame', async () => {
    const frames = await Promise.all(
      [10, 60, 120, 200, 250].map((red) =>
        sharp({ create: { width: 8, height: 6, channels: 3, background: { r: red, g: 0, b: 0 } } })
          .png()
          .toBuffer(),
      ),
    );
    const gif = await sharp(frames, { join: { animated: true } })
      .gif()
      .toBuffer();
    await assertCode(transform(gif, 'flip', { maxFrames: 4 }), 'IMAGE_TOO_MANY_FRAMES', 422);
    const first = await transform(gif, 'format:png', { maxFrames: 5 });
    assert.deepEqual([first.width, first.height], [8, 6]);
  });
});

describe('recipe and output limits', () => {
  test('an output larger than maxOutputPixels: TRANSFORM_OUTPUT_TOO_MANY_PIXELS, before decoding', async () => {
    await assertCode(transform(dog, 'resize:20000x20000:fill:1'), 'TRANSFORM_OUTPUT_TOO_MANY_PIXELS', 422);
    await assertCode(
      transform(dog, 'resize:1000x', { maxOutputPixels: 768 * 576 - 1 }),
      'TRANSFORM_OUTPUT_TOO_MANY_PIXELS',
      422,
    );
    // An intermediate counts too, even when a later step makes it small again.
    await assertCode(
      transform(dog, 'resize:9000x:inside:1/resize:100x', { maxOutputPixels: 10_000_000 }),
      'TRANSFORM_OUTPUT_TOO_MANY_PIXELS',
      422,
    );
    // Even an input that is not an image of that size yet: the truncated bytes are never decoded.
    await assertCode(
      transform(dog.subarray(0, 30_000), 'resize:20000x20000:fill:1'),
      'TRANSFORM_OUTPUT_TOO_MANY_PIXELS',
      422,
    );
  });

  test('more operations than maxOperations: RECIPE_TOO_MANY_OPERATIONS; settings do not count', async () => {
    const recipe = parseRecipe('flip/flop/flip/format:png/metadata:strip');
    assert.doesNotThrow(() => validateRecipe(recipe, { maxOperations: 3 }));
    await assertCode(transform(dog, 'flip/flop/flip/flop', { maxOperations: 3 }), 'RECIPE_TOO_MANY_OPERATIONS', 400);
    const many = Array.from({ length: DEFAULT_TRANSFORM_LIMITS.maxOperations + 1 }, () => 'negate').join('/');
    await assertCode(transform(dog, many), 'RECIPE_TOO_MANY_OPERATIONS', 400);
  });

  test('blur sigma and kernel windows above the limits: RECIPE_KERNEL_TOO_LARGE', async () => {
    await assertCode(transform(dog, 'gaussian-blur:51'), 'RECIPE_KERNEL_TOO_LARGE', 400);
    await assertCode(transform(dog, 'gaussian-blur:10', { maxBlurSigma: 5 }), 'RECIPE_KERNEL_TOO_LARGE', 400);
    await assertCode(transform(dog, 'blur:8'), 'RECIPE_KERNEL_TOO_LARGE', 400); // 17x17 > 15
    await assertCode(transform(dog, 'median:17'), 'RECIPE_KERNEL_TOO_LARGE', 400);
    await assertCode(transform(dog, 'median:7', { maxKernelSize: 5 }), 'RECIPE_KERNEL_TOO_LARGE', 400);
    const fine = await transform(dog, 'blur:7/median:15/gaussian-blur:50/resize:64x/format:png');
    assert.equal(fine.width, 64);
  });

  test('the limits come from the environment, with the preprocessing caps shared', () => {
    assert.deepEqual(loadTransformLimits({}), DEFAULT_TRANSFORM_LIMITS);
    const limits = loadTransformLimits({
      IMGPIPE_MAX_IMAGE_BYTES: '1000',
      IMGPIPE_MAX_IMAGE_PIXELS: '2000',
      IMGPIPE_TRANSFORM_MAX_OUTPUT_PIXELS: '3000',
      IMGPIPE_TRANSFORM_MAX_OPERATIONS: '4',
      IMGPIPE_TRANSFORM_MAX_BLUR_SIGMA: '2.5',
      IMGPIPE_TRANSFORM_MAX_KERNEL_SIZE: '7',
      IMGPIPE_TRANSFORM_MAX_FRAMES: '9',
    });
    assert.deepEqual(limits, {
      maxInputBytes: 1000,
      maxInputPixels: 2000,
      maxOutputPixels: 3000,
      maxOperations: 4,
      maxBlurSigma: 2.5,
      maxKernelSize: 7,
      maxFrames: 9,
    });
    assert.throws(() => loadTransformLimits({ IMGPIPE_TRANSFORM_MAX_KERNEL_SIZE: 'big' }), /CONFIG|whole number/);
  });

  test('an empty recipe re-encodes the image as it is', async () => {
    const input = await toPng(rgbImage(5, 4, () => [9, 8, 7]));
    const output = await transform(input, '');
    assert.deepEqual([output.format, output.width, output.height], ['png', 5, 4]);
  });
});
