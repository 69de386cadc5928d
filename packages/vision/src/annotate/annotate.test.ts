import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sharp } from '../sharp-instance.ts';
import type { NormalizedImage } from '../preprocess/normalized-image.ts';
import { annotateImage } from './annotate.ts';

describe('annotateImage', () => {
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
