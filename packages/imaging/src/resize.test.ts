import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyRecipe } from './apply.ts';
import { parseRecipe } from './grammar/parse.ts';
import { sharp } from './sharp-instance.ts';
import { seededRandom } from './testing/random-recipe.ts';
import { decode, pixel, rgbImage, toPng } from './testing/images.ts';
import { readShared } from './testing/shared.ts';

const dog = readShared('images', 'photos', 'dog.jpg'); // 768x576, 4:3
const portrait = await toPng(rgbImage(300, 500, (x, y) => [x % 256, y % 256, 128])); // 3:5

async function outputSize(input: Uint8Array, recipe: string) {
  const result = await applyRecipe(input, parseRecipe(`${recipe}/format:png`));
  const decoded = await sharp(result.bytes).metadata();
  assert.equal(result.width, decoded.width, `${recipe}: reported width`);
  assert.equal(result.height, decoded.height, `${recipe}: reported height`);
  return `${decoded.width}x${decoded.height}`;
}

describe('resize: output sizes worked out by hand', () => {
  const landscape: [string, string][] = [
    ['resize:400x300', '400x300'],
    ['resize:400x400', '400x300'], // inside: 400 wide binds, 576 * 400 / 768 = 300
    ['resize:400x400:outside', '533x400'], // 768 * 400 / 576 = 533.3
    ['resize:400x400:cover', '400x400'],
    ['resize:400x400:contain', '400x400'],
    ['resize:400x100:fill', '400x100'],
    ['resize:500x', '500x375'],
    ['resize:x100', '133x100'], // 768 * 100 / 576 = 133.3
    ['resize:1000x', '768x576'], // no enlargement by default
    ['resize:1000x:inside:1', '1000x750'],
    ['resize:1000x1000:cover', '768x576'], // cannot cover without enlarging: crops to what fits
    ['resize:1000x1000:cover:1', '1000x1000'],
    ['resize:1000x1000:contain', '1000x1000'], // padded to the whole box, the image unscaled inside
    ['resize:1000x300:fill', '768x300'], // each side at most the image's
    ['resize:1000x1000:fill:1', '1000x1000'],
    ['resize:300x1000:outside', '768x576'],
    ['resize:300x1000:outside:1', '1333x1000'], // 768 * 1000 / 576 = 1333.3
    ['resize:300x1000:cover:1', '300x1000'],
    ['resize:300x1000:inside', '300x225'],
    ['resize:300x1000:contain', '300x1000'],
  ];
  for (const [recipe, expected] of landscape) {
    test(`768x576 ${recipe} -> ${expected}`, async () => assert.equal(await outputSize(dog, recipe), expected));
  }

  const tall: [string, string][] = [
    ['resize:200x200', '120x200'], // 300 * 200 / 500
    ['resize:200x200:outside', '200x333'], // 500 * 200 / 300 = 333.3
    ['resize:200x200:cover', '200x200'],
    ['resize:200x200:contain', '200x200'],
    ['resize:100x', '100x167'], // 500 * 100 / 300 = 166.7
    ['resize:x50', '30x50'],
    ['resize:600x600:inside:1', '360x600'],
  ];
  for (const [recipe, expected] of tall) {
    test(`300x500 ${recipe} -> ${expected}`, async () => assert.equal(await outputSize(portrait, recipe), expected));
  }
});

describe('resize: every fit on random sizes keeps its promise', () => {
  test('60 random images and boxes', async () => {
    const random = seededRandom(11);
    const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
    for (let i = 0; i < 60; i++) {
      const W = int(8, 240);
      const H = int(8, 240);
      const w = int(4, 300);
      const h = int(4, 300);
      const enlarge = random() < 0.5;
      const fit = (['inside', 'outside', 'cover', 'contain', 'fill'] as const)[i % 5]!;
      const input = await toPng(rgbImage(W, H, () => [200, 100, 50]));
      const recipe = `resize:${w}x${h}:${fit}:${enlarge ? 1 : 0}`;
      const [outW, outH] = (await outputSize(input, recipe)).split('x').map(Number) as [number, number];
      const label = `${W}x${H} ${recipe} -> ${outW}x${outH}`;
      // The aspect ratio is kept to within the rounding of one side (except fill, which ignores it).
      const keepsAspect = (x: number, y: number) => Math.abs(x * H - y * W) <= Math.max(W, H);
      const grows = enlarge || (w <= W && h <= H) || (fit === 'outside' && (w <= W || h <= H));
      switch (fit) {
        case 'fill':
          assert.deepEqual([outW, outH], enlarge ? [w, h] : [Math.min(w, W), Math.min(h, H)], label);
          break;
        case 'contain':
          assert.deepEqual([outW, outH], [w, h], label);
          break;
        case 'inside': {
          assert.ok(keepsAspect(outW, outH), label);
          const scaled = enlarge || W > w || H > h;
          if (scaled) assert.ok(outW <= w && outH <= h && (outW === w || outH === h), label);
          else assert.deepEqual([outW, outH], [W, H], label);
          break;
        }
        case 'outside': {
          assert.ok(keepsAspect(outW, outH), label);
          if (enlarge || (W >= w && H >= h)) assert.ok(outW >= w && outH >= h && (outW === w || outH === h), label);
          else assert.deepEqual([outW, outH], [W, H], label);
          break;
        }
        case 'cover':
          if (enlarge || (W >= w && H >= h)) assert.deepEqual([outW, outH], [w, h], label);
          else assert.deepEqual([outW, outH], [Math.min(w, W), Math.min(h, H)], label);
          break;
      }
      assert.ok(grows || outW * outH <= Math.max(W * H, w * h), label);
    }
  });
});

describe('resize: where the image sits', () => {
  test('contain pads with the background at the position; cover keeps the part at the position', async () => {
    const centred = await decode(
      (await applyRecipe(dog, parseRecipe('resize:400x400:contain:0:lanczos3:centre:ff0000/format:png'))).bytes,
    );
    // 400x300 inside a 400x400 box: 50 red rows above and below.
    for (const y of [0, 49, 350, 399]) assert.deepEqual(pixel(centred, 200, y), [255, 0, 0], `row ${y}`);
    assert.notDeepEqual(pixel(centred, 200, 200), [255, 0, 0]);
    const north = await decode(
      (await applyRecipe(dog, parseRecipe('resize:400x400:contain:0:lanczos3:north:00ff00/format:png'))).bytes,
    );
    assert.notDeepEqual(pixel(north, 200, 10), [0, 255, 0]);
    for (const y of [300, 399]) assert.deepEqual(pixel(north, 200, y), [0, 255, 0], `row ${y}`);

    // A left half black, right half white: cover to a square keeps the side it is told to.
    const halves = await toPng(rgbImage(200, 100, (x) => (x < 100 ? [0, 0, 0] : [255, 255, 255])));
    const west = await decode(
      (await applyRecipe(halves, parseRecipe('resize:50x50:cover:0:lanczos3:west/format:png'))).bytes,
    );
    const east = await decode(
      (await applyRecipe(halves, parseRecipe('resize:50x50:cover:0:lanczos3:east/format:png'))).bytes,
    );
    assert.deepEqual(pixel(west, 25, 25), [0, 0, 0]);
    assert.deepEqual(pixel(east, 25, 25), [255, 255, 255]);
  });
});
