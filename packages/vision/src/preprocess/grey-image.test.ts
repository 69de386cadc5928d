import assert from 'node:assert/strict';
import { test } from 'node:test';
import { halve } from './grey-image.ts';

test('halve: 2x2 box averages (rounded half up), an odd last column dropped, a side of 1 kept', () => {
  const image = { data: Uint8Array.from([0, 10, 200, 201, 99, 20, 30, 202, 203, 99]), width: 5, height: 2 };
  // Boxes {0, 10, 20, 30} -> 15 and {200, 201, 202, 203} -> 201.5 -> 202; column 4 (99, 99) is dropped.
  assert.deepEqual(halve(image), { data: Uint8Array.from([15, 202]), width: 2, height: 1 });
  assert.deepEqual(halve({ data: Uint8Array.from([10, 21, 30, 40]), width: 4, height: 1 }), {
    data: Uint8Array.from([16, 35]),
    width: 2,
    height: 1,
  });
});
