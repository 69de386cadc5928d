/**
 * Packing steps into sharp pipelines must not change what a recipe does. The reference here runs the recipe one
 * operation at a time, each a separate transform through a lossless PNG: no packing at all. Random recipes must give
 * the same pixels packed as unpacked (to within the rounding of 8-bit intermediates), and the common recipes must
 * need one pipeline.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyRecipe } from './apply.ts';
import { formatOperation } from './grammar/format.ts';
import { parseRecipe } from './grammar/parse.ts';
import { initialState, planRecipe } from './plan.ts';
import { type PixelOp, recipeParts } from './recipe.ts';
import { sharp } from './sharp-instance.ts';
import { decode } from './testing/images.ts';
import { seededRandom } from './testing/random-recipe.ts';
import { readShared } from './testing/shared.ts';

const context = { limits: { maxOutputPixels: 1e8 }, detections: {} };
const pipelines = (recipe: string) =>
  planRecipe(recipeParts(parseRecipe(recipe)).pixelOps, initialState({ width: 768, height: 576 }, false), context)
    .pipelines;

describe('pipelines per recipe', () => {
  const cases: [string, number][] = [
    ['resize:800x600:cover/sharpen/format:webp:80', 1],
    ['crop:10:10:500:400/resize:300x/sharpen/format:webp', 1], // extract before, resize, sharpen
    ['resize:300x/crop:10:10:100:100/blur/sepia/brightness:1.1/contrast:1.2', 1],
    [
      'rotate:90/resize:300x300:contain/median/threshold/gaussian-blur:2/saturation:2/sharpen/gamma:2/contrast:1.1/auto-level/clahe/negate',
      1,
    ],
    ['emboss/negate', 2], // negate and gamma assume 8-bit values; convolve leaves floats
    ['sepia/gamma:1.8', 2],
    ['resize:300x300:contain:0:lanczos3:centre:ffffff00/blur', 2], // alpha added mid-pipeline is not premultiplied
    ['flip/resize:300x', 1],
    ['flip/crop:0:0:10:10', 2], // sharp would crop before mirroring
    ['rotate:90/flip', 2], // sharp mirrors before rotating
    ['blur/resize:300x', 2], // sharp blurs after resizing
    ['resize:300x/resize:200x', 2],
    ['sepia/grayscale', 2], // one recomb per pipeline
    ['emboss/clahe', 2], // CLAHE needs 8-bit input
    ['edge', 2], // done in JavaScript between two pipelines
    ['resize:300x/edge/format:webp', 2],
    ['pixelate/edge', 3],
    ['rotate:10/crop:100x100', 2], // the crop needs the rotation's real size
  ];
  for (const [recipe, count] of cases) {
    test(`${recipe}: ${count}`, () => assert.equal(pipelines(recipe), count));
  }
});

/** A random recipe of operations that work on any image and need no detections. */
function randomPixelRecipe(random: () => number): string {
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)]!;
  const gravity = () => pick(['centre', 'north', 'south-east', 'west', 'north-west']);
  const makers: (() => string)[] = [
    () =>
      `resize:${int(20, 160)}x${int(20, 160)}:${pick(['inside', 'outside', 'cover', 'contain', 'fill'])}:${pick([0, 1])}:${pick(['lanczos3', 'cubic', 'nearest'])}:${gravity()}:${pick(['ff0000', '00ff0080'])}`,
    () => `resize:${int(20, 160)}x`,
    () => `crop:${int(0, 30)}:${int(0, 30)}:${int(10, 80)}:${int(10, 80)}`,
    () => `crop:0.${int(3, 9)}x0.${int(3, 9)}:${gravity()}`,
    () => `rotate:${pick([90, 180, 270, int(1, 359)])}:${pick(['000000', 'ffffff'])}`,
    () => 'flip',
    () => 'flop',
    () => `blur:${int(1, 3)}`,
    () => `gaussian-blur:${int(1, 4)}`,
    () => `median:${pick([3, 5])}`,
    () => `sharpen:${int(1, 3)}`,
    () => `edge:${pick(['sobel', 'laplacian'])}`,
    () => 'emboss',
    () => 'contour',
    () => 'grayscale',
    () => 'sepia',
    () => 'negate',
    () => `threshold:${int(60, 200)}`,
    () => `pixelate:${int(2, 9)}`,
    () => `brightness:${pick([0.7, 1.3])}`,
    () => `contrast:${pick([0.6, 1.4])}`,
    () => `saturation:${pick([0.5, 1.8])}`,
    () => `hue:${int(10, 350)}`,
    () => `gamma:${pick([0.6, 1.8])}`,
    () => `sharpness:${pick([0, 2])}`,
    () => 'auto-level',
    () => `clahe:${int(4, 16)}:${int(4, 16)}`,
  ];
  return Array.from({ length: int(2, 5) }, () => pick(makers)()).join('/');
}

async function unpacked(input: Uint8Array, ops: readonly PixelOp[]): Promise<Uint8Array> {
  let bytes = input;
  for (const op of ops) {
    bytes = (await applyRecipe(bytes, parseRecipe(`${formatOperation(op)}/format:png/metadata:strip`))).bytes;
  }
  return bytes;
}

async function assertSameResult(input: Uint8Array, recipe: string): Promise<'compared' | 'refused'> {
  const { pixelOps } = recipeParts(parseRecipe(recipe));
  const outcome = await Promise.allSettled([
    applyRecipe(input, parseRecipe(`${recipe}/format:png/metadata:strip`)),
    unpacked(input, pixelOps),
  ]);
  if (outcome.some((result) => result.status === 'rejected')) {
    // A crop that misses a small intermediate image: both ways must refuse it alike.
    const codes = outcome.map((result) =>
      result.status === 'rejected' ? (result.reason as { code?: string }).code : 'ok',
    );
    assert.deepEqual(codes, ['TRANSFORM_CROP_OUTSIDE_IMAGE', 'TRANSFORM_CROP_OUTSIDE_IMAGE'], recipe);
    return 'refused';
  }
  const [packed, reference] = outcome.map((result) => (result as PromiseFulfilledResult<unknown>).value) as [
    Awaited<ReturnType<typeof applyRecipe>>,
    Uint8Array,
  ];
  const a = await decode(packed.bytes, { channels: 4 });
  const b = await decode(reference, { channels: 4 });
  assert.deepEqual([a.width, a.height], [b.width, b.height], `${recipe}: size`);
  let total = 0;
  let large = 0;
  for (let p = 0; p < a.data.length; p++) {
    const difference = Math.abs(a.data[p]! - b.data[p]!);
    total += difference;
    if (difference > 32) large++;
  }
  const mean = total / a.data.length;
  // Float intermediates inside one pipeline round differently from 8-bit ones between pipelines: a level here and
  // there (CLAHE amplifies that up to its slope), never a moved, mirrored or missing feature, which would differ by
  // tens of levels on many pixels.
  const tolerance = recipe.includes('clahe') ? 6 : 1.5;
  assert.ok(
    mean < tolerance && large / a.data.length < 0.02,
    `${recipe}: mean difference ${mean.toFixed(2)}, ${large} values off by more than 32`,
  );
  return 'compared';
}

describe('packing does not change the result', () => {
  // A small photo, so the comparisons are fast; PNG so the input is exact.
  const photo = sharp(readShared('images', 'photos', 'chelsea.png'))
    .resize(120, 80)
    .png()
    .toBuffer();

  test('each packing rule, on the recipes it exists for', async () => {
    for (const recipe of [
      'flip/crop:0:0:60:30', // sharp crops before mirroring unless a rotation is pending
      'flop/crop:10:5:60:30',
      'rotate:90/flip/crop:0:0:30:30',
      'flip/resize:60x40:cover:0:lanczos3:north', // mirroring before a positioned crop
      'rotate:30:808080/gamma:0.6', // sharp's darkening LUT would run before the corners are filled
      'grayscale/sepia', // one recomb, one convolve per pipeline
      'emboss/blur',
      'emboss/negate',
      'sepia/gamma:1.8',
      'sharpness:2/clahe:8:8',
      'resize:100x100:contain:0:lanczos3:centre:00ff0080/emboss',
      'rotate:20:ff000080/blur:2',
      'blur:2/resize:60x',
      'resize:60x/resize:80x40:fill',
      'crop:0.5x0.5:south-east/rotate:45/crop:20x20',
    ]) {
      assert.equal(await assertSameResult(await photo, recipe), 'compared', recipe);
    }
  });

  test('80 random recipes: packed and one-operation-at-a-time give the same pixels', async () => {
    const random = seededRandom(2025);
    let packedPipelines = 0;
    let unpackedPipelines = 0;
    for (let i = 0; i < 80; i++) {
      const recipe = randomPixelRecipe(random);
      if ((await assertSameResult(await photo, recipe)) === 'refused') continue;
      const { pixelOps } = recipeParts(parseRecipe(recipe));
      packedPipelines += planRecipe(pixelOps, initialState({ width: 120, height: 80 }, false), context).pipelines;
      unpackedPipelines += pixelOps.length;
    }
    assert.ok(
      packedPipelines < unpackedPipelines,
      `packing saved pipelines: ${packedPipelines} vs ${unpackedPipelines}`,
    );
  });
});
