import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { createWorkerPool } from '../pool/worker-pool.ts';
import { pixelBombPng } from '../testing/png-fixtures.ts';
import { readShared } from '../testing/shared.ts';
import { decodeFeatureImage } from './decode-feature-image.ts';
import { detectKeypoints, detectKeypointsHandler } from './detect-keypoints.ts';
import { toGrey } from './grey.ts';
import { loadRgb } from './opencv-reference.ts';

const rgb = await loadRgb('photos/chelsea.png');

describe('detectKeypoints', () => {
  test('the worker pool gives exactly what this thread gives', async () => {
    const pool = createWorkerPool({ size: 1 });
    try {
      for (const detector of ['sift', 'orb'] as const) {
        const here = await detectKeypoints(rgb, { detector, params: { nfeatures: 300 } });
        const there = await pool.run(detectKeypointsHandler, rgb, { detector, params: { nfeatures: 300 } });
        assert.deepEqual(there.keypoints, here.keypoints);
        assert.deepEqual([...there.descriptors], [...here.descriptors]);
        assert.equal(there.descriptors.constructor, here.descriptors.constructor);
      }
    } finally {
      await pool.close();
    }
  });

  test('keypoints come strongest first with their descriptors moved along', async () => {
    const all = await detectKeypoints(rgb, { detector: 'sift' });
    const responses = all.keypoints.map((k) => k.response);
    assert.deepEqual(
      responses,
      [...responses].sort((a, b) => b - a),
    );
    // nfeatures keeps OpenCV's best by response: the same keypoints and descriptors as the head of the full list.
    const top = await detectKeypoints(rgb, { detector: 'sift', params: { nfeatures: 50 } });
    assert.ok(top.keypoints.length >= 50 && top.keypoints.length <= 52, `${top.keypoints.length}`);
    assert.deepEqual(top.keypoints.slice(0, 50), all.keypoints.slice(0, 50));
    assert.deepEqual([...top.descriptors.subarray(0, 50 * 128)], [...all.descriptors.subarray(0, 50 * 128)]);
  });

  test('grey, RGB and RGBA pixels of one image give the same keypoints', async () => {
    const grey = toGrey(rgb);
    const rgba = new Uint8Array(rgb.width * rgb.height * 4);
    for (let i = 0; i < rgb.width * rgb.height; i++) rgba.set([...rgb.data.subarray(i * 3, i * 3 + 3), 255], i * 4);
    const fromRgb = await detectKeypoints(rgb, { detector: 'orb' });
    assert.deepEqual(
      (await detectKeypoints({ data: grey, width: rgb.width, height: rgb.height }, { detector: 'orb' })).keypoints,
      fromRgb.keypoints,
    );
    assert.deepEqual(
      (await detectKeypoints({ data: rgba, width: rgb.width, height: rgb.height }, { detector: 'orb' })).keypoints,
      fromRgb.keypoints,
    );
  });

  test('coordinates of a downscaled copy are reported in the original image, pixel centre to pixel centre', async () => {
    const own = await detectKeypoints(rgb, { detector: 'orb' });
    const scaled = await detectKeypoints(
      { ...rgb, originalWidth: rgb.width * 2, originalHeight: rgb.height * 2 },
      { detector: 'orb' },
    );
    assert.equal(scaled.width, rgb.width * 2);
    own.keypoints.forEach((k, i) => {
      const s = scaled.keypoints[i]!;
      assert.equal(s.x, (k.x + 0.5) * 2 - 0.5);
      assert.equal(s.y, (k.y + 0.5) * 2 - 0.5);
      assert.equal(s.size, k.size * 2);
    });
  });

  test('decodeFeatureImage detects on a copy no larger than maxSide and keypoints land in the original', async () => {
    const bytes = readShared('images', 'photos', 'kite.jpg'); // 1352 x 900
    const image = await decodeFeatureImage(bytes, { maxSide: 640 });
    assert.deepEqual([image.width, image.height, image.originalWidth, image.originalHeight], [640, 426, 1352, 900]);
    const features = await detectKeypoints(image, { detector: 'orb' });
    assert.deepEqual([features.width, features.height], [1352, 900]);
    const xs = features.keypoints.map((k) => k.x);
    assert.ok(Math.max(...xs) > 640 && Math.max(...xs) < 1352, 'keypoints spread over the original width');
    const full = await decodeFeatureImage(bytes, { maxSide: 0 });
    assert.deepEqual([full.width, full.height], [1352, 900]);
    await assert.rejects(decodeFeatureImage(new Uint8Array(0)), { code: 'IMAGE_EMPTY' });
    await assert.rejects(decodeFeatureImage(Uint8Array.from([1, 2, 3, 4])), { code: 'IMAGE_UNSUPPORTED_FORMAT' });
    // A 30000 x 30000 PNG of a few hundred bytes is refused from its header, and the limit is the caller's.
    await assert.rejects(decodeFeatureImage(new Uint8Array(pixelBombPng())), { code: 'IMAGE_TOO_MANY_PIXELS' });
    await assert.rejects(decodeFeatureImage(bytes, { maxPixels: 1_000_000 }), { code: 'IMAGE_TOO_MANY_PIXELS' });
  });

  test('refuses too many pixels, malformed pixels and bad parameters with their codes', async () => {
    const code = (expected: string) => (error: unknown) => error instanceof ImgpipeError && error.code === expected;
    await assert.rejects(detectKeypoints(rgb, { maxPixels: 1000 }), code('IMAGE_TOO_MANY_PIXELS'));
    await assert.rejects(detectKeypoints({ data: new Uint8Array(10), width: 3, height: 3 }), code('REQUEST_INVALID'));
    await assert.rejects(detectKeypoints(rgb, { params: { nfeatures: -1 } }), code('REQUEST_INVALID'));
    await assert.rejects(detectKeypoints(rgb, { detector: 'akaze' }), code('REQUEST_INVALID'));
  });

  test('a flat image has no keypoints, a tiny one neither, without failing', async () => {
    for (const detector of ['sift', 'orb'] as const) {
      const flat = await detectKeypoints(
        { data: new Uint8Array(200 * 100).fill(128), width: 200, height: 100 },
        { detector },
      );
      assert.equal(flat.keypoints.length, 0);
      assert.equal(flat.descriptors.length, 0);
      const tiny = await detectKeypoints(
        { data: Uint8Array.from([0, 255, 255, 0]), width: 2, height: 2 },
        { detector },
      );
      assert.equal(tiny.keypoints.length, 0);
    }
  });
});
