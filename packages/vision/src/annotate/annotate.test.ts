import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sharp } from '../sharp-instance.ts';
import type { NormalizedImage } from '../preprocess/normalized-image.ts';
import { annotateImage, KEYPOINT_COLOUR } from './annotate.ts';

/** A grey (128) normalised image of a `scale` times larger original. */
function greyImage(width: number, height: number, scale = 1): NormalizedImage {
  return {
    data: new Uint8Array(width * height * 3).fill(128),
    width,
    height,
    originalWidth: width * scale,
    originalHeight: height * scale,
  };
}

async function pixels(png: Uint8Array) {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
  return { info, at, data };
}

const GREY = [128, 128, 128];
// The colour, parsed here rather than trusted: #ff00ff.
const KEYPOINT_RGB = [1, 3, 5].map((i) => Number.parseInt(KEYPOINT_COLOUR.slice(i, i + 2), 16));
const isKeypointColour = (rgb: number[]) => rgb.every((value, i) => Math.abs(value - KEYPOINT_RGB[i]!) <= 8);

function keypoint(x: number, y: number, size: number, angle: number) {
  return { x, y, size, angle, response: 0.05, octave: 0 };
}

describe('annotateImage', () => {
  test('keypoints: a circle of radius size/2 around (x, y) and a line along the angle (0 right, 90 down)', async () => {
    assert.deepEqual(KEYPOINT_RGB, [255, 0, 255]);
    const r = 30;
    // Pixel centres at whole numbers, as OpenCV reports keypoints.
    const a = { x: 50, y: 60, angle: 0 };
    const b = { x: 150, y: 60, angle: 90 };
    const png = await annotateImage(greyImage(200, 120), {
      keypoints: [keypoint(a.x, a.y, 2 * r, a.angle), keypoint(b.x, b.y, 2 * r, b.angle)],
    });
    const { info, at } = await pixels(png);
    assert.deepEqual([info.width, info.height], [200, 120]);
    for (const { x, y } of [a, b]) {
      // On the circle: its leftmost, topmost and (for a) bottommost pixels, (for b) its rightmost.
      for (const [px, py] of [
        [x - r, y],
        [x, y - r],
        [x === a.x ? x : x + r, x === a.x ? y + r : y],
      ] as const) {
        assert.ok(isKeypointColour(at(px, py)), `(${px}, ${py}) on the circle around (${x}, ${y}): ${at(px, py)}`);
      }
      // Inside the circle away from the line, and the centre's mirror image of the line, untouched.
      assert.deepEqual(at(x - r / 2, y), GREY, `(${x - r / 2}, ${y})`);
      assert.deepEqual(at(x, y - r / 2), GREY, `(${x}, ${y - r / 2})`);
    }
    // OpenCV's angle convention, written out rather than computed: angle 0 ends at (x + r, y), angle 90 at
    // (x, y + r) (clockwise in image coordinates, y down).
    const ends = [
      { from: a, to: { x: a.x + r, y: a.y }, away: { x: a.x, y: a.y + r / 2 } },
      { from: b, to: { x: b.x, y: b.y + r }, away: { x: b.x + r / 2, y: b.y } },
    ];
    for (const { from, to, away } of ends) {
      for (const t of [0.3, 0.5, 0.8]) {
        const px = Math.round(from.x + (to.x - from.x) * t);
        const py = Math.round(from.y + (to.y - from.y) * t);
        assert.ok(isKeypointColour(at(px, py)), `(${px}, ${py}) on the line of angle ${from.angle}: ${at(px, py)}`);
      }
      assert.deepEqual(at(away.x, away.y), GREY, `no line towards (${away.x}, ${away.y}) for angle ${from.angle}`);
      // The line stops at the circle: 5 px beyond its end is untouched.
      const beyond = { x: to.x + (to.x - from.x) / 6, y: to.y + (to.y - from.y) / 6 };
      assert.deepEqual(at(beyond.x, beyond.y), GREY, `beyond the end (${beyond.x}, ${beyond.y})`);
    }
    // Far from both keypoints nothing changes.
    for (const [px, py] of [
      [100, 10],
      [100, 110],
      [3, 3],
      [196, 116],
    ] as const) {
      assert.deepEqual(at(px, py), GREY, `(${px}, ${py}) far from any keypoint`);
    }
  });

  test('keypoints in original pixels land scaled on a downscaled output', async () => {
    // A 200x120 normalised copy of a 400x240 original: a keypoint at (100, 120) of size 120 draws at about
    // (50, 60) with radius 30 in the output.
    const png = await annotateImage(greyImage(200, 120, 2), { keypoints: [keypoint(100, 120, 120, 0)] });
    const { info, at } = await pixels(png);
    assert.deepEqual([info.width, info.height], [200, 120]);
    assert.ok(isKeypointColour(at(20, 60)), `left of the circle: ${at(20, 60)}`);
    assert.ok(isKeypointColour(at(65, 60)), `on the line: ${at(65, 60)}`);
    assert.deepEqual(at(35, 60), GREY, 'inside the circle');
    assert.deepEqual(at(150, 60), GREY, 'far away');
  });

  test('no keypoints asked, none drawn', async () => {
    for (const annotations of [{}, { keypoints: [] }]) {
      const { data } = await pixels(await annotateImage(greyImage(40, 30), annotations));
      assert.ok(
        data.every((value) => value === 128),
        'every pixel untouched',
      );
    }
  });

  test('draws boxes in original-pixel space onto a scaled normalised image', async () => {
    // A 100x50 grey normalised image of a 200x100 original; a box at x=100..180 (original) lands at 50..90.
    const image: NormalizedImage = {
      data: new Uint8Array(100 * 50 * 3).fill(128),
      width: 100,
      height: 50,
      originalWidth: 200,
      originalHeight: 100,
    };
    const png = await annotateImage(image, {
      objects: [
        {
          label: 'cat',
          classId: 15,
          confidence: 0.9,
          box: { x: 100, y: 40, width: 80, height: 40 },
          boxNormalized: { left: 0.5, top: 0.4, width: 0.4, height: 0.4 },
        },
      ],
    });
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [100, 50]);
    const pixel = (x: number, y: number) => [...data.subarray((y * 100 + x) * 3, (y * 100 + x) * 3 + 3)];
    assert.notDeepEqual(pixel(50, 35), [128, 128, 128], 'the left edge of the box is drawn');
    assert.deepEqual(pixel(70, 30), [128, 128, 128], 'inside the box stays untouched');
    assert.deepEqual(pixel(10, 45), [128, 128, 128], 'outside stays untouched');
  });

  test('encodes JPEG from original bytes, auto-oriented', async () => {
    const jpeg = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#fff' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const out = await annotateImage(jpeg, { faces: [] }, { format: 'jpeg' });
    const metadata = await sharp(out).metadata();
    assert.equal(metadata.format, 'jpeg');
    assert.deepEqual([metadata.width, metadata.height], [20, 40]);
  });
});
