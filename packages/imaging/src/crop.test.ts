import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { applyRecipe } from './apply.ts';
import { cropAround } from './crop.ts';
import { parseRecipe } from './grammar/parse.ts';
import { sharp } from './sharp-instance.ts';
import { seededRandom } from './testing/random-recipe.ts';
import { decode, greyImage, pixel, QUADRANT_COLOURS, quadrants, toPng } from './testing/images.ts';
import { readShared } from './testing/shared.ts';

const square = await toPng(quadrants(100, 100));
const { topLeft: RED, topRight: GREEN, bottomLeft: BLUE, bottomRight: WHITE } = QUADRANT_COLOURS;

async function run(recipe: string, input: Uint8Array = square, options: Parameters<typeof applyRecipe>[2] = {}) {
  const output = await applyRecipe(input, parseRecipe(`${recipe}/format:png`), options);
  return decode(output.bytes, { channels: 3 });
}

function corners(image: Awaited<ReturnType<typeof run>>) {
  const right = image.width - 1;
  const bottom = image.height - 1;
  return [pixel(image, 0, 0), pixel(image, right, 0), pixel(image, 0, bottom), pixel(image, right, bottom)];
}

describe('crop boxes and gravities on four coloured quadrants', () => {
  test('a box in pixels and in fractions', async () => {
    const topLeft = await run('crop:0:0:50:50');
    assert.deepEqual([topLeft.width, topLeft.height], [50, 50]);
    assert.deepEqual(corners(topLeft), [[...RED], [...RED], [...RED], [...RED]]);
    const bottomRight = await run('crop:0.5:0.5:0.5:0.5');
    assert.deepEqual(corners(bottomRight), [[...WHITE], [...WHITE], [...WHITE], [...WHITE]]);
  });

  test('a box partly outside is clipped; one wholly outside is refused', async () => {
    const clipped = await run('crop:80:90:50:50');
    assert.deepEqual([clipped.width, clipped.height], [20, 10]);
    await assert.rejects(run('crop:100:0:10:10'), (error: unknown) => {
      return error instanceof ImgpipeError && error.code === 'TRANSFORM_CROP_OUTSIDE_IMAGE' && error.httpStatus === 422;
    });
  });

  test('a size at each corner gravity takes that corner', async () => {
    const expectations: [string, readonly number[]][] = [
      ['north-west', RED],
      ['north-east', GREEN],
      ['south-west', BLUE],
      ['south-east', WHITE],
    ];
    for (const [gravity, colour] of expectations) {
      const image = await run(`crop:40x40:${gravity}`);
      assert.deepEqual(corners(image), [[...colour], [...colour], [...colour], [...colour]], gravity);
    }
    const centre = await run('crop:0.5x0.5');
    assert.deepEqual([centre.width, centre.height], [50, 50]);
    assert.deepEqual(corners(centre), [[...RED], [...GREEN], [...BLUE], [...WHITE]]);
    const wide = await run('crop:60x:south'); // a missing side keeps the image's
    assert.deepEqual([wide.width, wide.height], [60, 100]);
  });

  test('smart crops where there is something to see, without scaling', async () => {
    // Flat grey with a busy checkerboard near the bottom right.
    const busy = await toPng(
      greyImage(200, 160, (x, y) =>
        x >= 140 && x < 190 && y >= 100 && y < 150 ? (((x >> 2) + (y >> 2)) % 2 === 0 ? 0 : 255) : 128,
      ),
    );
    const image = await run('crop:60x60:smart', busy);
    assert.deepEqual([image.width, image.height], [60, 60]);
    const values = new Set(image.data);
    assert.ok(values.has(0) && values.has(255), 'the crop holds the checkerboard');
  });
});

describe('geometry moves pixels where it says', () => {
  test('rotate:90 is clockwise, flip mirrors top to bottom, flop left to right', async () => {
    assert.deepEqual(corners(await run('rotate:90')), [[...BLUE], [...RED], [...WHITE], [...GREEN]]);
    assert.deepEqual(corners(await run('rotate:-90')), [[...GREEN], [...WHITE], [...RED], [...BLUE]]);
    assert.deepEqual(corners(await run('flip')), [[...BLUE], [...WHITE], [...RED], [...GREEN]]);
    assert.deepEqual(corners(await run('flop')), [[...GREEN], [...RED], [...WHITE], [...BLUE]]);
  });

  test('order is kept when sharp would reorder: flip then crop, crop then rotate, resize then flop', async () => {
    assert.deepEqual(corners(await run('flip/crop:0:0:50:50'))[0], [...BLUE]);
    assert.deepEqual(corners(await run('flop/crop:0:0:50:50'))[0], [...GREEN]);
    assert.deepEqual(corners(await run('rotate:90/crop:0:0:50:50'))[0], [...BLUE]);
    assert.deepEqual(corners(await run('crop:0:0:50:100/rotate:90')), [[...BLUE], [...RED], [...BLUE], [...RED]]);
    assert.deepEqual(corners(await run('resize:50x/flop/crop:0:0:20:20'))[0], [...GREEN]);
  });

  test('a free rotation grows to the bounding box, with the background in the corners', async () => {
    const image = await run('rotate:45:ffff00');
    const side = 100 * Math.SQRT2;
    assert.ok(
      Math.abs(image.width - side) <= 1 && Math.abs(image.height - side) <= 1,
      `${image.width}x${image.height}`,
    );
    assert.deepEqual(pixel(image, 0, 0), [255, 255, 0]);
    // A crop after it needs its real size: the centre is the image's centre (all four colours meet there).
    const centre = await run('rotate:45:ffff00/crop:4x4');
    assert.deepEqual([centre.width, centre.height], [4, 4]);
  });

  test('after a free rotation and a step in JavaScript, a crop still knows the real size', async () => {
    const image = await run('rotate:33:ffffff/edge/crop:0.5x0.5:south-east');
    const whole = await run('rotate:33:ffffff');
    assert.deepEqual([image.width, image.height], [Math.round(whole.width / 2), Math.round(whole.height / 2)]);
  });

  test('auto-orient turns an EXIF-rotated photo upright; auto-orient:0 leaves it', async () => {
    const sideways = await sharp(readShared('images', 'photos', 'dog.jpg'))
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const upright = await applyRecipe(sideways, parseRecipe('format:png'));
    assert.deepEqual([upright.width, upright.height], [576, 768]);
    const untouched = await applyRecipe(sideways, parseRecipe('auto-orient:0/format:png'));
    assert.deepEqual([untouched.width, untouched.height], [768, 576]);
  });
});

describe('crop around detections', () => {
  test('cropAround: contains every box, keeps the aspect, stays inside the image (500 random cases)', () => {
    const random = seededRandom(3);
    for (let i = 0; i < 500; i++) {
      const image = { width: 50 + Math.floor(random() * 2000), height: 50 + Math.floor(random() * 2000) };
      const boxes = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
        const width = 1 + Math.floor(random() * image.width * 0.3);
        const height = 1 + Math.floor(random() * image.height * 0.3);
        return {
          left: Math.floor(random() * (image.width - width)),
          top: Math.floor(random() * (image.height - height)),
          width,
          height,
        };
      });
      const aspect =
        random() < 0.5 ? ([1 + Math.floor(random() * 16), 1 + Math.floor(random() * 9)] as const) : undefined;
      const padding = Math.round(random() * 50) / 100;
      const crop = cropAround(boxes, image, { padding, ...(aspect ? { aspect } : {}) })!;
      const label = JSON.stringify({ image, boxes, aspect, padding, crop });
      assert.ok(crop.left >= 0 && crop.top >= 0, label);
      assert.ok(crop.left + crop.width <= image.width && crop.top + crop.height <= image.height, label);
      if (aspect) {
        // Each side is rounded to a whole pixel: the ratio is off by at most that much of each side.
        const ratio = aspect[0] / aspect[1];
        const rounding = ratio * (1 / crop.width + 1 / crop.height);
        assert.ok(Math.abs(crop.width / crop.height - ratio) <= rounding, label);
      }
      const unionRight = Math.max(...boxes.map((box) => box.left + box.width));
      const unionBottom = Math.max(...boxes.map((box) => box.top + box.height));
      const unionLeft = Math.min(...boxes.map((box) => box.left));
      const unionTop = Math.min(...boxes.map((box) => box.top));
      // Whenever a crop of that aspect could hold the union, it does (within a rounding pixel).
      const fits = !aspect || (unionRight - unionLeft) / (aspect[0] / aspect[1]) <= image.height;
      const fitsWide = !aspect || (unionBottom - unionTop) * (aspect[0] / aspect[1]) <= image.width;
      if (fits && fitsWide) {
        assert.ok(crop.left <= unionLeft + 1 && crop.top <= unionTop + 1, label);
        assert.ok(crop.left + crop.width >= unionRight - 1 && crop.top + crop.height >= unionBottom - 1, label);
      }
    }
  });

  test('no boxes: undefined', () => {
    assert.equal(cropAround([], { width: 10, height: 10 }, { padding: 0.1 }), undefined);
  });

  const astronaut = readShared('images', 'photos', 'astronaut.png'); // 512x512
  const face = { left: 180, top: 60, width: 80, height: 100 };

  test('crop:faces cuts the padded face box out of the photo', async () => {
    const output = await applyRecipe(astronaut, parseRecipe('crop:faces:0.25/format:png'), {
      detections: { faces: [face] },
    });
    // 80 x 1.5 = 120 wide, 100 x 1.5 = 150 high, centred on the face: left 180 - 20, top 60 - 25.
    assert.deepEqual([output.width, output.height], [120, 150]);
    const expected = await sharp(astronaut).extract({ left: 160, top: 35, width: 120, height: 150 }).raw().toBuffer();
    const actual = await sharp(output.bytes).raw().toBuffer();
    assert.ok(actual.equals(expected), 'the same pixels as cutting that box out');
  });

  test('detections follow earlier geometry: after halving, the face box is halved', async () => {
    const output = await applyRecipe(astronaut, parseRecipe('resize:256x/crop:faces:0/format:png'), {
      detections: async (needs) => {
        assert.deepEqual(needs, { faces: true, objects: false });
        return { faces: [face] };
      },
    });
    assert.deepEqual([output.width, output.height], [40, 50]);
    const expected = await sharp(astronaut)
      .resize(256)
      .extract({ left: 90, top: 30, width: 40, height: 50 })
      .raw()
      .toBuffer();
    assert.ok((await sharp(output.bytes).raw().toBuffer()).equals(expected));
  });

  test('detections follow a smart crop, wherever libvips put it, also across a step in JavaScript', async () => {
    const options = { detections: { faces: [face] } };
    const direct = await applyRecipe(astronaut, parseRecipe('crop:400x400:smart/crop:faces:0/format:png'), options);
    const across = await applyRecipe(
      astronaut,
      parseRecipe('crop:400x400:smart/negate/edge/crop:faces:0/format:png'),
      options,
    );
    assert.deepEqual([direct.width, direct.height], [80, 100]);
    assert.deepEqual([across.width, across.height], [80, 100]);
    // libvips cuts the 400x400 at 8,0 (its choice); the face cut after it is still the face.
    const expected = await sharp(astronaut)
      .extract({ ...face })
      .raw()
      .toBuffer();
    assert.ok((await sharp(direct.bytes).raw().toBuffer()).equals(expected));
  });

  test('crop:objects takes the labelled boxes only; an aspect is kept', async () => {
    const objects = [
      { left: 10, top: 10, width: 50, height: 50, label: 'cat' },
      { left: 300, top: 300, width: 100, height: 50, label: 'dog' },
    ];
    const output = await applyRecipe(astronaut, parseRecipe('crop:objects:dog:0:1x1/format:png'), {
      detections: { objects },
    });
    assert.deepEqual([output.width, output.height], [100, 100]);
  });

  test('without detections the recipe cannot run: TRANSFORM_DETECTIONS_UNAVAILABLE', async () => {
    await assert.rejects(applyRecipe(astronaut, parseRecipe('crop:faces')), (error: unknown) => {
      return error instanceof ImgpipeError && error.code === 'TRANSFORM_DETECTIONS_UNAVAILABLE';
    });
  });

  test('nothing detected: no crop, or the aspect cropped where libvips sees most interest', async () => {
    const kept = await applyRecipe(astronaut, parseRecipe('crop:faces/format:png'), { detections: { faces: [] } });
    assert.deepEqual([kept.width, kept.height], [512, 512]);
    const wide = await applyRecipe(astronaut, parseRecipe('crop:faces:0.1:2x1/format:png'), {
      detections: { faces: [] },
    });
    assert.deepEqual([wide.width, wide.height], [512, 256]);
  });
});
