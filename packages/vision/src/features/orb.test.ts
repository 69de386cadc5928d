/**
 * ORB against OpenCV's own (fixtures made by scripts/features-reference.py), default parameters, same grey input.
 * Measured (OpenCV 5.0.0, four images): same count, all of OpenCV's 300 strongest at the same position and level
 * with the same angle, descriptors equal in 80% of keypoints and never more than 6 of 256 bits apart.
 * Required: count within 2%, >= 95% at the same position (0.01 px) and level with the angle within 1 degree,
 * >= 95% of those with descriptors within 16 bits (unrelated ORB descriptors differ by ~128).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detectKeypoints } from './detect-keypoints.ts';
import { angleDifference, loadReferences, loadRgb } from './opencv-reference.ts';

const popcount = (x: number) => {
  let n = 0;
  for (let v = x; v; v >>= 1) n += v & 1;
  return n;
};

describe('ORB against OpenCV', () => {
  for (const reference of loadReferences()) {
    test(`${reference.image}: same keypoints and descriptors as OpenCV`, async () => {
      const ours = await detectKeypoints(await loadRgb(reference.image), { detector: 'orb' });
      const ref = reference.orb;
      assert.ok(
        Math.abs(ours.keypoints.length - ref.count) / ref.count <= 0.02,
        `${ours.keypoints.length} vs ${ref.count}`,
      );
      let same = 0;
      let close = 0;
      ref.keypoints.forEach((r, i) => {
        const j = ours.keypoints.findIndex(
          (k) => Math.abs(k.x - r.x) < 0.01 && Math.abs(k.y - r.y) < 0.01 && k.octave === r.octave,
        );
        if (j < 0 || angleDifference(ours.keypoints[j]!.angle, r.angle) > 1) return;
        same++;
        let bits = 0;
        for (let b = 0; b < 32; b++) bits += popcount(ours.descriptors[j * 32 + b]! ^ ref.descriptors[i * 32 + b]!);
        if (bits <= 16) close++;
      });
      assert.ok(same / ref.keypoints.length >= 0.95, `${same}/${ref.keypoints.length} at OpenCV's positions`);
      assert.ok(close / same >= 0.95, `${close}/${same} descriptors within 16 bits`);
    });
  }
});
