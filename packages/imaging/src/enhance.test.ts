import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyRecipe } from './apply.ts';
import { parseRecipe } from './grammar/parse.ts';
import type { RawImage } from './raw-image.ts';
import { decode, greyImage, rgbImage, toPng } from './testing/images.ts';

const ramp = greyImage(256, 2, (x) => x);
const colours = rgbImage(
  3,
  1,
  (x) =>
    (
      [
        [220, 60, 40],
        [40, 180, 90],
        [120, 120, 120],
      ] as [number, number, number][]
    )[x]!,
);

async function run(recipe: string, input: RawImage, channels: 1 | 3): Promise<number[]> {
  const output = await applyRecipe(await toPng(input), parseRecipe(`${recipe}/format:png`));
  return [...(await decode(output.bytes, { channels })).data];
}

function assertEach(
  actual: number[],
  expected: (value: number, index: number) => number,
  tolerance: number,
  label: string,
) {
  actual.forEach((value, index) => {
    const want = expected(value, index);
    assert.ok(Math.abs(value - want) <= tolerance, `${label}: at ${index} got ${value}, want ${want}`);
  });
}

describe('enhancements against their formulas', () => {
  test('contrast: factor x (v - 128) + 128, clipped', async () => {
    for (const factor of [0, 0.5, 1.5]) {
      const out = await run(`contrast:${factor}`, ramp, 1);
      assertEach(out, (_, i) => Math.min(255, Math.max(0, factor * ((i % 256) - 128) + 128)), 1, `contrast ${factor}`);
    }
  });

  test('gamma: 255 x (v / 255) ^ (1 / gamma), brightening and darkening', async () => {
    for (const gamma of [2.2, 0.5]) {
      const out = await run(`gamma:${gamma}`, ramp, 1);
      assertEach(out, (_, i) => 255 * ((i % 256) / 255) ** (1 / gamma), 1, `gamma ${gamma}`);
    }
  });

  test('brightness scales lightness: 1 unchanged, 2 brighter, 0 black', async () => {
    assertEach(await run('brightness:1', ramp, 1), (_, i) => i % 256, 1, 'brightness 1');
    const brighter = await run('brightness:2', ramp, 1);
    assert.ok(
      brighter.every((value, i) => value >= (i % 256) - 1),
      'brightness 2 never darker',
    );
    assert.ok(brighter[100]! > 150, `brightness 2 of 100: ${brighter[100]}`);
    assert.ok(
      (await run('brightness:0', ramp, 1)).every((value) => value <= 1),
      'brightness 0 black',
    );
  });

  test('saturation: 0 makes grey, 1 keeps the colour; hue: 0 and 360 are no change', async () => {
    const grey = await run('saturation:0', colours, 3);
    for (let x = 0; x < 3; x++) {
      const [r, g, b] = grey.slice(x * 3, x * 3 + 3) as [number, number, number];
      assert.ok(Math.max(r, g, b) - Math.min(r, g, b) <= 2, `saturation 0 pixel ${x}: ${r},${g},${b}`);
    }
    assertEach(await run('saturation:1', colours, 3), (_, i) => colours.data[i]!, 2, 'saturation 1');
    assertEach(await run('hue:360', colours, 3), (_, i) => colours.data[i]!, 2, 'hue 360');
    const turned = await run('hue:180', colours, 3);
    assert.ok(turned[1]! > turned[0]!, `hue 180 turns red towards cyan: ${turned.slice(0, 3)}`);
  });

  test('auto-level stretches a dull image to the full range', async () => {
    const dull = greyImage(100, 10, (x) => 100 + Math.floor(x / 2)); // 100..149
    const out = await run('auto-level:0:100', dull, 1);
    // libvips stretches lightness (L*) between histogram percentiles; its darkest bin lands a few levels above 0.
    assert.ok(Math.min(...out) <= 10 && Math.max(...out) >= 250, `range ${Math.min(...out)}..${Math.max(...out)}`);
    for (let i = 1; i < 100; i++) assert.ok(out[i]! >= out[i - 1]!, 'order kept');
  });

  test('clahe raises local contrast in a flat-ish region', async () => {
    const soft = greyImage(64, 64, (x, y) => 120 + ((x + y) % 8));
    const spread = (values: number[]) => Math.max(...values) - Math.min(...values);
    const out = await run('clahe:16:16:3', soft, 1);
    assert.ok(spread(out) > spread([...soft.data]), `spread ${spread(out)} vs ${spread([...soft.data])}`);
  });

  test('clahe: a window larger than the image is the whole image (libvips would refuse it)', async () => {
    const soft = greyImage(20, 12, (x, y) => 100 + ((x * 3 + y * 5) % 40));
    const whole = await run('clahe:20:12:3', soft, 1);
    assert.deepEqual(await run('clahe:151:94:3', soft, 1), whole);
    assert.deepEqual(await run('clahe:151:5:3', soft, 1), await run('clahe:20:5:3', soft, 1));
    const pixel = greyImage(1, 1, () => 77);
    assert.equal((await run('clahe:151:94:87/sepia/flip', pixel, 1)).length, 1);
  });

  test('clahe after a free rotation, whose planned size may be a pixel more than the real one', async () => {
    const soft = greyImage(9, 7, (x, y) => 90 + ((x + 2 * y) % 30));
    const out = await run('rotate:33/clahe:256:256:2', soft, 1);
    assert.ok(out.length > 63, `a rotated image of ${out.length} pixels`);
  });
});
