/**
 * Matching an image against transformed copies of itself made in the test (sharp: rotate, resize, JPEG): ratio-test
 * matches and a RANSAC homography must recover the transformation. The truth is the analytic map of each
 * transformation (rotation about the centre onto the expanded canvas, then scaling, pixel centres at +0.5); a
 * marker image pushed through the very same sharp pipeline checks that map to within 1 px first, so a wrong
 * expectation cannot pass or fail the detector. Tolerance: the image's corners projected by the found homography
 * within 3 px of the truth (the bar).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sharp } from '../sharp-instance.ts';
import { detectKeypoints } from './detect-keypoints.ts';
import { type Point, projectPoint } from './homography.ts';
import { matchFeatures } from './match-features.ts';
import { loadRgb } from './opencv-reference.ts';

interface Transform {
  label: string;
  angle: number;
  scale: number;
  jpegQuality?: number;
}

async function apply(rgb: { data: Uint8Array; width: number; height: number }, t: Transform) {
  const rotated = await sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } })
    .rotate(t.angle, { background: '#000' })
    .png()
    .toBuffer({ resolveWithObject: true });
  const width = Math.round(rotated.info.width * t.scale);
  let pipeline = sharp(rotated.data).resize({ width, height: Math.round(rotated.info.height * t.scale), fit: 'fill' });
  if (t.jpegQuality) pipeline = sharp(await pipeline.jpeg({ quality: t.jpegQuality }).toBuffer());
  const { data, info } = await pipeline.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    image: {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
    },
    rotated: { width: rotated.info.width, height: rotated.info.height },
  };
}

/** Where pixel p of the source lands: rotate clockwise (y down) about the centre, re-centre, scale. */
function truth(
  t: Transform,
  src: { width: number; height: number },
  rotated: { width: number; height: number },
  out: { width: number; height: number },
) {
  const theta = (t.angle * Math.PI) / 180;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const sx = out.width / rotated.width;
  const sy = out.height / rotated.height;
  return (p: Point): Point => {
    const x = p.x + 0.5 - src.width / 2;
    const y = p.y + 0.5 - src.height / 2;
    const rx = cos * x - sin * y + rotated.width / 2;
    const ry = sin * x + cos * y + rotated.height / 2;
    return { x: rx * sx - 0.5, y: ry * sy - 0.5 };
  };
}

/** Bright 5x5 squares on black, pushed through the same transform: their centroids must land where truth says. */
async function checkTruth(t: Transform, width: number, height: number) {
  const markers = [
    { x: 60, y: 50 },
    { x: width - 80, y: 70 },
    { x: width / 2, y: height / 2 },
    { x: 90, y: height - 60 },
  ].map((m) => ({ x: Math.round(m.x), y: Math.round(m.y) }));
  for (const marker of markers) {
    const data = new Uint8Array(width * height * 3);
    for (let dy = -2; dy <= 2; dy++)
      for (let dx = -2; dx <= 2; dx++)
        data.fill(
          255,
          ((marker.y + dy) * width + marker.x + dx) * 3,
          ((marker.y + dy) * width + marker.x + dx) * 3 + 3,
        );
    const { image, rotated } = await apply({ data, width, height }, { ...t, jpegQuality: undefined });
    let sum = 0;
    let cx = 0;
    let cy = 0;
    for (let y = 0; y < image.height; y++)
      for (let x = 0; x < image.width; x++) {
        const v = image.data[(y * image.width + x) * 3]!;
        if (v < 16) continue;
        sum += v;
        cx += v * x;
        cy += v * y;
      }
    const expected = truth(t, { width, height }, rotated, image)(marker);
    const error = Math.hypot(cx / sum - expected.x, cy / sum - expected.y);
    assert.ok(
      error <= 1,
      `${t.label}: the expected map is off by ${error.toFixed(2)} px at marker (${marker.x}, ${marker.y})`,
    );
  }
}

const CASES: (Transform & { detector: 'sift' | 'orb' })[] = [
  { label: 'rotated 90 degrees, scaled 0.5', angle: 90, scale: 0.5, detector: 'sift' },
  {
    label: 'rotated 30 degrees, scaled 0.6, JPEG quality 40',
    angle: 30,
    scale: 0.6,
    jpegQuality: 40,
    detector: 'sift',
  },
  { label: 'rotated 30 degrees, scaled 0.6, JPEG quality 40', angle: 30, scale: 0.6, jpegQuality: 40, detector: 'orb' },
];

describe('matching recovers known transformations', () => {
  for (const c of CASES) {
    test(`${c.detector}: ${c.label}`, async () => {
      const source = await loadRgb('coco/000000001532.jpg');
      await checkTruth(c, source.width, source.height);
      const { image, rotated } = await apply(source, c);
      const map = truth(c, source, rotated, image);
      const options = c.detector === 'orb' ? { detector: 'orb', params: { nfeatures: 2000 } } : { detector: 'sift' };
      const a = await detectKeypoints(source, options);
      const b = await detectKeypoints(image, options);
      const found = matchFeatures(a, b, { ratio: 0.8 });
      assert.ok(
        found.matched && found.homography,
        `${found.inliers.length} inliers of ${found.matches.length} matches`,
      );
      const corners = [
        { x: 0, y: 0 },
        { x: source.width - 1, y: 0 },
        { x: source.width - 1, y: source.height - 1 },
        { x: 0, y: source.height - 1 },
      ];
      for (const corner of corners) {
        const got = projectPoint(found.homography, corner);
        const want = map(corner);
        const error = Math.hypot(got.x - want.x, got.y - want.y);
        assert.ok(error <= 3, `corner (${corner.x}, ${corner.y}) lands ${error.toFixed(2)} px from the truth`);
      }
    });
  }
});
