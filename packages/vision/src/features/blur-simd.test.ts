import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SimdPlanes } from './blur-simd.ts';
import { blurPlane, gaussianHalfKernel } from './gaussian-blur.ts';

/** Deterministic pseudo-random grey levels 0-255 with fractions, like blurred pixels. */
function randomPlane(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 255;
  }
  return out;
}

describe('SimdPlanes.blur', () => {
  // SIFT's kernels at its defaults (the base blur 1.249 and the five layer steps) and a few odd sizes: planes
  // narrower than the kernel, widths not a multiple of 4, a single pixel.
  const cases: [number, number, number][] = [
    [37, 23, 1.249],
    [64, 48, 1.226],
    [61, 47, 1.545],
    [130, 7, 1.946],
    [33, 40, 2.452],
    [99, 101, 3.09],
    [5, 3, 2.452],
    [1, 1, 1.6],
    [2, 9, 3.09],
  ];
  for (const [width, height, sigma] of cases) {
    test(`${width} x ${height}, sigma ${sigma}: bit for bit what blurPlane gives`, () => {
      const half = gaussianHalfKernel(sigma);
      const n = width * height;
      const src = randomPlane(n, width * 1000 + height);
      const expected = new Float32Array(n);
      blurPlane(src, expected, width, height, half, new Float32Array(n), new Float32Array(width + 2 * half.length));
      // The planes sit back to back, so a read past a plane's end would land in the next one.
      const planes = new SimdPlanes(2 * n, width, height, half.length - 1);
      const [a, b] = [0, 1].map((i) => planes.floats.subarray(i * n, (i + 1) * n)) as [Float32Array, Float32Array];
      a.set(src);
      b.fill(-1);
      planes.blur(a, b, width, height, half);
      assert.deepEqual(a, src, 'the source is left as it was');
      let differing = 0;
      for (let i = 0; i < n; i++) if (!Object.is(b[i], expected[i])) differing++;
      assert.equal(differing, 0, `${differing} of ${n} pixels differ`);
      // In place, as SIFT's base image is blurred: the same.
      planes.blur(a, a, width, height, half);
      assert.deepEqual(a, expected);
    });
  }

  test('refuses planes that are not views of its memory, and sizes beyond what it reserved', () => {
    const planes = new SimdPlanes(300, 10, 10, 5);
    const half = gaussianHalfKernel(1.2);
    const inside = planes.floats.subarray(0, 100);
    assert.throws(() => planes.blur(new Float32Array(100), inside, 10, 10, half));
    assert.throws(() => planes.blur(inside, planes.floats.subarray(100, 200), 11, 9, half));
    assert.throws(() => planes.blur(inside, planes.floats.subarray(100, 200), 10, 11, half));
    assert.throws(() => planes.blur(inside, planes.floats.subarray(100, 200), 10, 10, gaussianHalfKernel(2)));
    assert.throws(() => new SimdPlanes(2 ** 29, 8192, 8192, 13), RangeError, 'no more than 2 GiB');
    assert.ok(planes.fits(300, 10, 10, 5));
    assert.ok(!planes.fits(301, 10, 10, 5));
  });
});
