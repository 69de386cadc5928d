/**
 * SIFT against OpenCV's own (fixtures made by scripts/features-reference.py with opencv-python-headless): same grey
 * input, same default parameters. Thresholds are set from measurement (OpenCV 5.0.0, four images):
 *   count:      measured within 1 keypoint (<= 0.2%)            -> required within 2%
 *   located:    measured 300/300 of OpenCV's strongest 300 have one of ours within 1.5 px and one octave
 *                                                               -> required >= 95% (the issue asks 80%)
 *   orientation: measured 100% within 10 degrees              -> required >= 95%
 *   descriptors: measured L2 distance 0 for >= 90% of pairs; unrelated pairs ~ 400-500
 *                                                               -> required p90 of pairs < 5% of unrelated median,
 *                and matching OpenCV's descriptors against all of ours (ratio 0.8) lands on the corresponding
 *                keypoint for >= 90%.
 * A broken pyramid (sigma 1.8 instead of 1.6) or no orientation assignment fails these (checked by hand, see
 * docs/features.md).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { detectKeypoints } from './detect-keypoints.ts';
import { toGrey } from './grey.ts';
import { matchDescriptors } from './match-descriptors.ts';
import { angleDifference, loadReferences, loadRgb } from './opencv-reference.ts';

const references = loadReferences();

describe('SIFT against OpenCV', () => {
  test('there are reference fixtures for at least three images', () => {
    assert.ok(references.length >= 3, `found ${references.length}`);
  });

  for (const reference of references) {
    test(`${reference.image}: same keypoints, orientations and descriptors as OpenCV`, async () => {
      const rgb = await loadRgb(reference.image);
      const grey = toGrey(rgb);
      assert.equal(
        createHash('sha256').update(grey).digest('hex'),
        reference.grey.sha256,
        'the grey pixels differ from the ones OpenCV saw: the comparison would be meaningless',
      );
      const ours = await detectKeypoints(rgb, { detector: 'sift' });
      const ref = reference.sift;
      assert.deepEqual(ours.params, ref.params);

      const countError = Math.abs(ours.keypoints.length - ref.count) / ref.count;
      assert.ok(countError <= 0.02, `count ${ours.keypoints.length} vs OpenCV's ${ref.count}`);

      // Pair each of OpenCV's strongest keypoints with our nearest one of similar scale.
      const pairs: { ref: number; ours: number }[] = [];
      let orientationOk = 0;
      ref.keypoints.forEach((r, i) => {
        let best = -1;
        let bestScore = Number.POSITIVE_INFINITY;
        ours.keypoints.forEach((k, j) => {
          const distance = Math.hypot(k.x - r.x, k.y - r.y);
          if (distance > 1.5 || Math.abs(Math.log2(k.size / r.size)) > 1) return;
          const score = distance + angleDifference(k.angle, r.angle) / 10;
          if (score < bestScore) {
            bestScore = score;
            best = j;
          }
        });
        if (best < 0) return;
        pairs.push({ ref: i, ours: best });
        if (angleDifference(ours.keypoints[best]!.angle, r.angle) <= 10) orientationOk++;
      });
      const located = pairs.length / ref.keypoints.length;
      assert.ok(located >= 0.95, `only ${pairs.length}/${ref.keypoints.length} of OpenCV's keypoints found`);
      assert.ok(
        orientationOk / pairs.length >= 0.95,
        `orientation within 10 degrees for ${orientationOk}/${pairs.length}`,
      );

      const distance = (i: number, j: number) => {
        let s = 0;
        for (let k = 0; k < 128; k++) {
          const d = ref.descriptors[i * 128 + k]! - ours.descriptors[j * 128 + k]!;
          s += d * d;
        }
        return Math.sqrt(s);
      };
      const paired = pairs.map((p) => distance(p.ref, p.ours)).sort((a, b) => a - b);
      const unrelated = pairs
        .map((p, i) => distance(p.ref, pairs[(i + Math.floor(pairs.length / 2)) % pairs.length]!.ours))
        .sort((a, b) => a - b);
      const p90 = paired[Math.floor(paired.length * 0.9)]!;
      const unrelatedMedian = unrelated[unrelated.length >> 1]!;
      assert.ok(unrelatedMedian > 100, `unrelated descriptors should be far apart (median ${unrelatedMedian})`);
      assert.ok(p90 < 0.05 * unrelatedMedian, `p90 distance of pairs ${p90} vs unrelated median ${unrelatedMedian}`);

      const matches = matchDescriptors(
        { descriptorType: 'float32', descriptorSize: 128, descriptors: Float32Array.from(ref.descriptors) },
        ours,
        { ratio: 0.8 },
      );
      const expected = new Map(pairs.map((p) => [p.ref, p.ours]));
      const agreeing = matches.filter((m) => {
        const want = expected.get(m.queryIndex);
        if (want === undefined) return false;
        const a = ours.keypoints[m.trainIndex]!;
        const b = ours.keypoints[want]!;
        // A keypoint with two orientations has two descriptors at one place: either is the same correspondence.
        return m.trainIndex === want || (a.x === b.x && a.y === b.y && angleDifference(a.angle, b.angle) < 1);
      }).length;
      assert.ok(agreeing / ref.keypoints.length >= 0.9, `${agreeing}/${ref.keypoints.length} matched as OpenCV's`);
    });
  }
});
