import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SimdPlanes } from './blur-simd.ts';
import { gaussianHalfKernel } from './gaussian-blur.ts';

describe('extremum scan in WebAssembly', () => {
  test('finds exactly the pixels beyond the threshold that are >= or <= all 26 DoG neighbours', () => {
    const width = 61;
    const height = 47;
    const n = width * height;
    const planes = new SimdPlanes(5 * n, width, height, 8);
    const plane = (i: number) => planes.floats.subarray(i * n, (i + 1) * n);
    const noise = plane(4);
    let s = 777;
    const random = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
    // Blobs of 2-5 pixels, bright and dark, on a noisy grey: extrema at their scales (plain noise has none).
    for (let i = 0; i < n; i++) noise[i] = 128 + random() * 20;
    for (let k = 0; k < 150; k++) {
      const size = 2 + Math.floor(random() * 4);
      const x0 = Math.floor(random() * (width - size));
      const y0 = Math.floor(random() * (height - size));
      const value = random() < 0.5 ? 0 : 255;
      for (let y = y0; y < y0 + size; y++) noise.fill(value, y * width + x0, y * width + x0 + size);
    }
    // Four Gaussian planes of growing blur, and a plateau (DoG 0 in it, never beyond a threshold).
    const g = [0, 1, 2, 3].map(plane);
    planes.blur(noise, g[0]!, width, height, gaussianHalfKernel(1));
    for (let i = 1; i < 4; i++) planes.blur(g[i - 1]!, g[i]!, width, height, gaussianHalfKernel(0.8 + 0.3 * i));
    for (const q of g) q.fill(100, 20 * width + 10, 20 * width + 30);

    // Independently: the DoG cube around each pixel, compared in three nested loops.
    const dog = (layer: number, p: number) => g[layer + 1]![p]! - g[layer]![p]!;
    const expected = (threshold: number, r: number, c: number) => {
      const val = dog(1, r * width + c);
      if (!(Math.abs(val) > threshold)) return false;
      for (let layer = 0; layer <= 2; layer++) {
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const v = dog(layer, (r + dy) * width + c + dx);
            if (val > 0 ? v > val : v < val) return false;
          }
        }
      }
      return true;
    };
    let total = 0;
    for (const threshold of [0, 0.5, 1.7]) {
      for (let r = 5; r < height - 5; r++) {
        const count = planes.extremaRow(
          g[0]!.byteOffset,
          g[1]!.byteOffset,
          g[2]!.byteOffset,
          g[3]!.byteOffset,
          width * 4,
          r * width * 4,
          5,
          width - 5,
          threshold,
          planes.extremaColumns.byteOffset,
        );
        const found = [...planes.extremaColumns.subarray(0, count)];
        const want: number[] = [];
        for (let c = 5; c < width - 5; c++) if (expected(threshold, r, c)) want.push(c);
        assert.deepEqual(found, want, `row ${r}, threshold ${threshold}`);
        total += count;
      }
    }
    assert.ok(total > 30, `only ${total} extrema in the test planes`);
  });
});
