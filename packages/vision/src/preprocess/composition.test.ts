import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compositionMeasures, horizonTilt, symmetry, thirdsDistance, visualWeightCenter } from './composition.ts';
import type { GreyImage } from './grey-image.ts';
import { sobel } from './sobel.ts';

function paint(width: number, height: number, grey: (x: number, y: number) => number): GreyImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = grey(x, y);
  return { data, width, height };
}

/** A bright disc of radius r centred on (cx, cy), in pixels, on a dark ground. */
function blob(width: number, height: number, cx: number, cy: number, r: number): GreyImage {
  return paint(width, height, (x, y) => ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r ? 230 : 20));
}

/**
 * Bright sky over dark ground, the boundary through the centre tilted by `degrees`, rising from left to right when
 * positive (y grows downwards, so the boundary's y falls as x grows).
 */
function horizon(width: number, height: number, degrees: number, shift = 0): GreyImage {
  const slope = Math.tan((degrees * Math.PI) / 180);
  return paint(width, height, (x, y) => {
    const boundary = height / 2 + shift - (x + 0.5 - width / 2) * slope;
    return y + 0.5 < boundary ? 210 : 60;
  });
}

describe('composition: a flat field', () => {
  test('perfectly symmetric, no centre of weight, no horizon', () => {
    const flat = paint(64, 48, () => 90);
    assert.deepEqual(compositionMeasures(flat, sobel(flat)), { symmetry: 1 });
  });
});

describe('composition: rule of thirds', () => {
  test('thirdsDistance: 0 on an intersection, 0.5 at the centre, 1 at a corner', () => {
    assert.equal(thirdsDistance({ x: 2 / 3, y: 1 / 3 }), 0);
    // The centre is sqrt((1/6)^2 + (1/6)^2) = sqrt(2)/6 from every intersection; a corner sqrt(2)/3 from its own.
    assert.ok(Math.abs(thirdsDistance({ x: 0.5, y: 0.5 }) - 0.5) < 1e-12);
    assert.ok(Math.abs(thirdsDistance({ x: 1, y: 0 }) - 1) < 1e-12);
  });

  test('a bright blob on the upper-left intersection weighs there (distance ~0); at the centre, 0.5', () => {
    const onThirds = blob(300, 210, 100, 70, 14);
    const center = visualWeightCenter(onThirds);
    assert.ok(center);
    assert.ok(Math.abs(center.x - 1 / 3) < 0.01 && Math.abs(center.y - 1 / 3) < 0.01, JSON.stringify(center));
    const measures = compositionMeasures(onThirds, sobel(onThirds));
    assert.ok(measures.thirdsDistance! < 0.02, `thirds distance ${measures.thirdsDistance}`);

    const centred = blob(300, 210, 150, 105, 14);
    const middle = compositionMeasures(centred, sobel(centred));
    assert.ok(Math.abs(middle.thirdsDistance! - 0.5) < 0.02, `thirds distance ${middle.thirdsDistance}`);
  });

  test('a dark blob on a bright ground weighs where it is too', () => {
    const dark = paint(240, 240, (x, y) => ((x + 0.5 - 160) ** 2 + (y + 0.5 - 160) ** 2 <= 144 ? 15 : 235));
    const center = visualWeightCenter(dark)!;
    assert.ok(Math.abs(center.x - 2 / 3) < 0.01 && Math.abs(center.y - 2 / 3) < 0.01, JSON.stringify(center));
  });
});

describe('composition: left-right symmetry', () => {
  test('1 for a mirror image, 0 for black against white, in between for a half-strength difference', () => {
    assert.equal(symmetry(blob(200, 100, 100, 50, 30)), 1);
    assert.equal(symmetry(paint(10, 4, (x) => (x < 5 ? 0 : 255))), 0);
    // Left half 0, right half 51: every pixel differs from its mirror by 51 = 255 / 5.
    assert.ok(Math.abs(symmetry(paint(10, 4, (x) => (x < 5 ? 0 : 51))) - 0.8) < 1e-12);
  });
});

describe('composition: horizon tilt', () => {
  for (const degrees of [7, -4, 0, 15]) {
    test(`a horizon tilted by ${degrees}° is found within 1°`, () => {
      const tilt = horizonTilt(sobel(horizon(256, 192, degrees, 17)));
      assert.ok(tilt !== undefined, 'a horizon was found');
      assert.ok(Math.abs(tilt - degrees) < 1, `found ${tilt}°`);
    });
  }

  test('no horizon in a vertical step, in a flat field or in a short horizontal edge', () => {
    assert.equal(horizonTilt(sobel(paint(256, 192, (x) => (x < 128 ? 30 : 220)))), undefined);
    assert.equal(horizonTilt(sobel(paint(256, 192, () => 30))), undefined);
    // A bright bar across 40% of the width: a straight edge, but not across half of the image.
    const bar = paint(256, 192, (x, y) => (x >= 80 && x < 182 && y >= 90 && y < 110 ? 220 : 30));
    assert.equal(horizonTilt(sobel(bar)), undefined);
  });
});
