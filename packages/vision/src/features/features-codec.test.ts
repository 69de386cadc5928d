import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { detectKeypoints, type Features } from './detect-keypoints.ts';
import { decodeFeatures, encodeFeatures } from './features-codec.ts';
import { loadRgb } from './opencv-reference.ts';

const image = await loadRgb('photos/chelsea.png');
const sift = await detectKeypoints(image, { detector: 'sift', params: { nfeatures: 200 } });
const orb = await detectKeypoints(image, { detector: 'orb', params: { nfeatures: 150, scoreType: 'fast' } });

function withoutTimings({ timings: _, ...rest }: Features) {
  return rest;
}

const f32 = Math.fround;

describe('features codec', () => {
  for (const features of [sift, orb]) {
    test(`${features.detector}: a round trip gives back every keypoint (float32) and descriptor exactly`, () => {
      const bytes = encodeFeatures(features);
      const perKeypoint = features.detector === 'sift' ? 152 : 56;
      const params = new TextEncoder().encode(JSON.stringify(features.params)).length;
      assert.equal(bytes.length, 24 + params + features.keypoints.length * perKeypoint);
      assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), 'IPKF');
      assert.equal(bytes[4], 1, 'version byte');
      const back = decodeFeatures(bytes);
      const expected = withoutTimings(features);
      assert.deepEqual(back, {
        ...expected,
        keypoints: expected.keypoints.map((k) => ({
          x: f32(k.x),
          y: f32(k.y),
          size: f32(k.size),
          angle: f32(k.angle),
          response: f32(k.response),
          octave: k.octave,
        })),
      });
    });
  }

  test('rejects what is not a features record, versions it does not know and cut-off bytes', () => {
    const bytes = encodeFeatures(sift);
    const fails = (input: Uint8Array, code: string) =>
      assert.throws(
        () => decodeFeatures(input),
        (error: unknown) => error instanceof ImgpipeError && error.code === code,
      );
    fails(bytes.subarray(0, 10), 'CODEC_TRUNCATED');
    fails(bytes.subarray(0, bytes.length - 1), 'CODEC_TRUNCATED');
    fails(Uint8Array.from([...bytes, 0]), 'CODEC_INVALID_PAYLOAD');
    const magic = Uint8Array.from(bytes);
    magic[0] = 0x58;
    fails(magic, 'CODEC_INVALID_PAYLOAD');
    const version = Uint8Array.from(bytes);
    version[4] = 2;
    fails(version, 'CODEC_INVALID_PAYLOAD');
    const detector = Uint8Array.from(bytes);
    detector[5] = 2; // says ORB, carries 128-byte rows
    fails(detector, 'CODEC_INVALID_PAYLOAD');
  });

  test('refuses descriptors that are not whole numbers 0-255 rather than storing them lossily', () => {
    const broken = { ...sift, descriptors: Float32Array.from(sift.descriptors, (v, i) => (i === 7 ? v + 0.5 : v)) };
    assert.throws(() => encodeFeatures(broken), /not a whole number/);
  });
});
