import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '@imgpipe/core';
import { bilinearSampling, letterboxPixelsInJs } from './letterbox.ts';
import { letterboxKernel, type PlanarTarget } from './letterbox-wasm.ts';

/** Random RGB bytes, width x height. */
function pixels(width: number, height: number, seed: number) {
  const random = seededRandom(seed);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(random() * 256);
  return { data, width, height };
}

const cases = [
  // [source w, h] -> [resized w, h] in [tensor w, h] at [padX, padY]
  { source: [640, 426], resized: [640, 426], tensor: [640, 448], pad: [0, 0], what: 'YuNet: copied, padded below' },
  {
    source: [37, 23],
    resized: [37, 23],
    tensor: [40, 31],
    pad: [1, 4],
    what: 'copied, width not a multiple of 4, centred',
  },
  { source: [640, 426], resized: [416, 277], tensor: [416, 416], pad: [0, 0], what: 'YOLOX: downscaled' },
  { source: [33, 50], resized: [61, 92], tensor: [64, 96], pad: [1, 2], what: 'upscaled' },
  { source: [5, 300], resized: [2, 128], tensor: [8, 128], pad: [3, 0], what: 'a sliver' },
] as const;

test('the WebAssembly letterbox writes exactly what the JavaScript one does: copies, resizes, orders, scales, padding', () => {
  let seed = 1;
  for (const c of cases) {
    for (const order of [
      [2, 1, 0],
      [0, 1, 2],
    ] as const) {
      for (const scale of [1, 1 / 255]) {
        const source = pixels(c.source[0], c.source[1], seed++);
        const base = {
          width: c.tensor[0],
          height: c.tensor[1],
          resizedWidth: c.resized[0],
          resizedHeight: c.resized[1],
          padX: c.pad[0],
          padY: c.pad[1],
          order,
          scale,
          pad: 114 * scale,
        };
        const size = 3 * base.width * base.height;
        const expected: PlanarTarget = { ...base, tensor: new Float32Array(size).fill(Number.NaN) };
        const actual: PlanarTarget = { ...base, tensor: new Float32Array(size).fill(Number.NaN) };
        letterboxPixelsInJs(source, expected);
        letterboxKernel().run(source, actual, bilinearSampling(source, base.resizedWidth, base.resizedHeight));
        const label = `${c.what}, order ${order.join('')}, scale ${scale.toFixed(4)}`;
        assert.ok(!expected.tensor.some(Number.isNaN), `${label}: the reference writes every element`);
        const first = actual.tensor.findIndex((value, i) => !Object.is(value, expected.tensor[i]));
        assert.equal(first, -1, `${label}: element ${first} is ${actual.tensor[first]}, not ${expected.tensor[first]}`);
      }
    }
  }
});

test('a larger image after a smaller one: the kernel grows its memory and stays exact', () => {
  const small = pixels(64, 48, 99);
  const large = pixels(1920, 1280, 100);
  for (const source of [small, large, small]) {
    const base = {
      width: 640,
      height: 640,
      resizedWidth: 640,
      resizedHeight: Math.round((640 * source.height) / source.width),
      padX: 0,
      padY: 0,
      order: [2, 1, 0] as const,
      scale: 1,
      pad: 114,
    };
    const expected: PlanarTarget = { ...base, tensor: new Float32Array(3 * 640 * 640) };
    const actual: PlanarTarget = { ...base, tensor: new Float32Array(3 * 640 * 640) };
    letterboxPixelsInJs(source, expected);
    letterboxKernel().run(source, actual, bilinearSampling(source, base.resizedWidth, base.resizedHeight));
    assert.deepEqual(actual.tensor, expected.tensor);
  }
});
