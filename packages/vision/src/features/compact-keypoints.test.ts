import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '@imgpipe/core';
import { compactKeypoints, float32Keypoints, shortestFloat32 } from './compact-keypoints.ts';

test('shortestFloat32 reads back as the same float32, with no more digits than needed', () => {
  const random = seededRandom(20261130);
  const scales = [1e-6, 1e-3, 0.1, 1, 360, 4000, 1e7];
  for (let i = 0; i < 20_000; i++) {
    const value = Math.fround((random() - 0.2) * scales[i % scales.length]!);
    const short = shortestFloat32(value);
    assert.equal(Math.fround(short), value, `${value} -> ${short}`);
    // Significant digits: no sign, exponent, point, or leading and trailing zeros.
    const digits = (text: string) => text.replace(/^-|e.*$|\./g, '').replace(/^0+|0+$/g, '').length;
    const shown = String(short);
    // One digit fewer would not identify the float32 (the search is from the shortest up).
    const fewer = digits(shown) - 1;
    if (fewer >= 1) assert.notEqual(Math.fround(Number(value.toPrecision(fewer))), value, `${value}: ${shown}`);
    assert.ok(digits(shown) <= 9, shown);
  }
  assert.equal(shortestFloat32(Math.fround(321.2816162109375)), 321.28162);
  assert.equal(shortestFloat32(Math.fround(0.1)), 0.1);
  assert.equal(shortestFloat32(0), 0);
  assert.equal(shortestFloat32(-0), -0);
  assert.equal(shortestFloat32(Number.NaN), Number.NaN);
});

test('compactKeypoints keeps every field, each equal as a float32', () => {
  const point = {
    x: Math.fround(581.6099243164062),
    y: Math.fround(398.92645263671875),
    size: Math.fround(2.597975492477417),
    angle: Math.fround(212.9071502685547),
    response: Math.fround(0.06395330280065536),
    octave: 9962239,
  };
  const [compact] = compactKeypoints([point]);
  assert.deepEqual(compact, {
    x: 581.6099,
    y: 398.92645,
    size: 2.5979755,
    angle: 212.90715,
    response: 0.0639533,
    octave: 9962239,
  });
  for (const field of ['x', 'y', 'size', 'angle', 'response'] as const) {
    assert.equal(Math.fround(compact![field]), point[field], field);
  }
  assert.ok(JSON.stringify(compact).length < JSON.stringify(point).length * 0.75);
  assert.deepEqual(float32Keypoints(JSON.parse(JSON.stringify([compact]))), [point]);
});
