import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeBmp } from '../testing/bmp-reader.ts';
import { encodeBmp } from './bmp.ts';

describe('encodeBmp', () => {
  test('odd widths (row padding), bottom-up rows and BGR order decode back to the same pixels', () => {
    for (const [width, height] of [
      [1, 1],
      [2, 3],
      [3, 2],
      [5, 4],
      [7, 7],
    ] as const) {
      const data = new Uint8Array(width * height * 3).map((_, i) => (i * 37 + 11) % 256);
      const decoded = decodeBmp(encodeBmp({ data, width, height, channels: 3 }));
      assert.equal(decoded.width, width);
      assert.equal(decoded.height, height);
      assert.deepEqual([...decoded.data], [...data], `${width}x${height}`);
    }
  });

  test('the first row written is the bottom one, blue first', () => {
    const bytes = encodeBmp({
      data: new Uint8Array([10, 20, 30, 40, 50, 60]), // top pixel (10,20,30), bottom pixel (40,50,60)
      width: 1,
      height: 2,
      channels: 3,
    });
    assert.deepEqual([...bytes.subarray(54, 58)], [60, 50, 40, 0]);
    assert.deepEqual([...bytes.subarray(58, 62)], [30, 20, 10, 0]);
  });

  test('grey pixels become equal red, green and blue; alpha is refused', () => {
    const decoded = decodeBmp(encodeBmp({ data: new Uint8Array([0, 128, 255]), width: 3, height: 1, channels: 1 }));
    assert.deepEqual([...decoded.data], [0, 0, 0, 128, 128, 128, 255, 255, 255]);
    assert.throws(() => encodeBmp({ data: new Uint8Array(4), width: 1, height: 1, channels: 4 }));
  });
});
