/**
 * Recipes on images smaller than their windows. libvips refuses a rank or CLAHE window larger than the image, and
 * such a refusal used to reach the client as a 500 (schemathesis found `clahe:151:94` on a 1x1 JPEG). Every recipe
 * the language accepts must either work on any image or be refused with a 4xx code.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { applyRecipe } from './apply.ts';
import { formatRecipe } from './grammar/format.ts';
import { parseRecipe } from './grammar/parse.ts';
import { sharp } from './sharp-instance.ts';
import { greyImage, rgbImage, toPng } from './testing/images.ts';
import { randomRecipe, seededRandom } from './testing/random-recipe.ts';

const inputs = async () => ({
  '1x1 grey PNG': await toPng(greyImage(1, 1, () => 77)),
  '2x3 RGB PNG': await toPng(rgbImage(2, 3, (x, y) => [x * 90, y * 60, 100])),
  '1x40 RGB PNG': await toPng(rgbImage(1, 40, (_x, y) => [y * 5, 10, 200])),
  '3x2 RGBA PNG': await sharp({
    create: { width: 3, height: 2, channels: 4, background: { r: 10, g: 200, b: 30, alpha: 0.5 } },
  })
    .png()
    .toBuffer(),
  '17x9 JPEG': await sharp({ create: { width: 17, height: 9, channels: 3, background: '#808080' } })
    .jpeg()
    .toBuffer(),
});

describe('recipes on tiny images', () => {
  test('windows wider than the image: clahe and median work on a 1x1 and a 1x40 image', async () => {
    for (const [name, bytes] of Object.entries(await inputs())) {
      for (const recipe of ['clahe:256:256:100/sepia/flip', 'median:15', 'rotate:33/clahe:256:3/median:15']) {
        const out = await applyRecipe(bytes, parseRecipe(recipe));
        assert.ok(out.bytes.length > 0, `${recipe} on ${name}`);
      }
    }
  });

  test('400 random recipes on five tiny images: each works or is refused with a 4xx code, never a 500', async () => {
    const images = Object.entries(await inputs());
    const random = seededRandom(20261130);
    const failures: string[] = [];
    let worked = 0;
    for (let i = 0; i < 400; i++) {
      const recipe = randomRecipe(random, 3);
      const [name, bytes] = images[i % images.length]!;
      try {
        await applyRecipe(bytes, recipe, { detections: { faces: [], objects: [] } });
        worked++;
      } catch (error) {
        const status = error instanceof ImgpipeError ? error.httpStatus : 500;
        if (status >= 500) failures.push(`${formatRecipe(recipe)} on ${name}: ${(error as Error).message}`);
      }
    }
    assert.deepEqual(failures, []);
    assert.ok(worked > 200, `only ${worked} of 400 recipes worked: the generator should mostly draw usable ones`);
  });
});
