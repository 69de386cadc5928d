import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SimdPlanes } from './blur-simd.ts';
import { gaussianHalfKernel } from './gaussian-blur.ts';
import { DescriptorScratch, OrientationScratch, orientationHistogram } from './sift.ts';

describe('SIFT gradient histograms in WebAssembly', () => {
  const width = 97;
  const height = 83;
  const n = width * height;
  const planes = new SimdPlanes(2 * n, width, height, 8);
  const [noise, image] = [0, 1].map((i) => planes.floats.subarray(i * n, (i + 1) * n)) as [Float32Array, Float32Array];
  let s = 12345;
  const random = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  for (let i = 0; i < n; i++) noise[i] = random() * 255;
  // Blurred noise: gradients in every direction, like an image's.
  planes.blur(noise, image, width, height, gaussianHalfKernel(1.6));
  const copy = Float32Array.from(image); // the same pixels outside the module's memory: the TypeScript loops

  test('orientation histograms: bit for bit what the TypeScript loop gives, anywhere, at any window size', () => {
    const inWasm = new OrientationScratch(planes);
    const inTs = new OrientationScratch();
    for (let k = 0; k < 300; k++) {
      const px = Math.floor(random() * (width + 10)) - 5;
      const py = Math.floor(random() * (height + 10)) - 5;
      const radius = k % 50 === 0 ? 60 : 3 + Math.floor(random() * 14);
      const sigma = radius / 3;
      const a = orientationHistogram(image, width, height, px, py, radius, sigma, inWasm);
      const b = orientationHistogram(copy, width, height, px, py, radius, sigma, inTs);
      assert.equal(a, b, `keypoint ${k} at (${px}, ${py}), radius ${radius}`);
      assert.deepEqual(inWasm.hist, inTs.hist);
      if (a > 0)
        assert.ok(
          planes.orientationTemp.some((v) => v !== 0),
          'histogrammed in the module',
        );
    }
  });

  test('descriptors: bit for bit what the TypeScript loop gives, for keypoints anywhere, at any angle and scale', () => {
    const inWasm = new DescriptorScratch(planes);
    const inTs = new DescriptorScratch();
    let nonZero = 0;
    for (let k = 0; k < 300; k++) {
      // Centres everywhere, the borders included; scales from SIFT's smallest to windows wider than the image.
      const x = random() * (width + 10) - 5;
      const y = random() * (height + 10) - 5;
      const angle = k % 10 === 0 ? 90 * (k % 4) : random() * 360;
      const scale = k % 50 === 0 ? 20 : 1.5 + random() * 3;
      const a = new Float32Array(128);
      const b = new Float32Array(128);
      inWasm.describe(image, width, height, x, y, angle, scale, a, 0);
      inTs.describe(copy, width, height, x, y, angle, scale, b, 0);
      assert.deepEqual(a, b, `keypoint ${k} at (${x}, ${y}), angle ${angle}, scale ${scale}`);
      if (a.some((v) => v !== 0)) {
        nonZero++;
        // ... and the histogram was filled in the module's memory, not by the TypeScript loop.
        assert.ok(planes.descriptorHist.some((v) => v !== 0));
      }
    }
    assert.ok(nonZero > 250, `only ${nonZero} of 300 descriptors have any gradient`);
  });
});
