import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sharp } from '../sharp-instance.ts';
import { readShared } from '../testing/shared.ts';
import { decodeFeatureImage } from './decode-feature-image.ts';
import { detectKeypoints } from './detect-keypoints.ts';
import { matchFeatures } from './match-features.ts';
import { keypointsSvg, matchPicture } from './match-picture.ts';

describe('pictures of keypoints and matches', () => {
  test('keypointsSvg draws each keypoint as a circle of its size with its orientation', () => {
    const svg = keypointsSvg([{ x: 10, y: 20, size: 8, angle: 90, response: 1, octave: 0 }]);
    assert.match(svg, /<circle cx="10" cy="20" r="4" /);
    // 90 degrees clockwise in image coordinates points down: the tip is below the centre.
    assert.match(svg, /<line x1="10" y1="20" x2="10" y2="24" /);
  });

  test('an image matched with itself: side by side at one height, inliers joined by green lines', async () => {
    const bytes = readShared('images', 'photos', 'chelsea.png'); // 451 x 300
    const features = await detectKeypoints(await decodeFeatureImage(bytes), { detector: 'orb' });
    const found = matchFeatures(features, features, { ratio: 1 });
    assert.ok(found.inliers.length > 100);
    const png = await matchPicture(
      { bytes, keypoints: features.keypoints },
      { bytes, keypoints: features.keypoints },
      found,
    );
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [451 + 8 + 451, 300]);
    // Matches of an image with itself are horizontal lines: each crosses the dark 8-pixel gap at its keypoint's y.
    const green = found.inliers.filter((m) => {
      const y = Math.round(features.keypoints[m.queryIndex]!.y);
      const p = (y * info.width + 455) * info.channels;
      return data[p + 1]! > 150 && data[p]! < 120;
    }).length;
    assert.ok(green / found.inliers.length > 0.9, `${green}/${found.inliers.length} lines seen in the gap`);
  });
});
