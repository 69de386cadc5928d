import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { matchDescriptors } from './match-descriptors.ts';

const floats = (rows: number[][]) => ({
  descriptorType: 'float32' as const,
  descriptorSize: rows[0]!.length,
  descriptors: Float32Array.from(rows.flat()),
});
const bits = (rows: number[][]) => ({
  descriptorType: 'binary' as const,
  descriptorSize: rows[0]!.length,
  descriptors: Uint8Array.from(rows.flat()),
});

describe('matchDescriptors', () => {
  test('L2: keeps a match whose nearest is clearly nearer than the second, drops an ambiguous one', () => {
    const query = floats([
      [0, 0],
      [10, 10],
    ]);
    const train = floats([
      [1, 0], // 1 from q0
      [9, 0], // 9 from q0
      [10, 12], // 2 from q1
      [12, 10], // 2 from q1: ambiguous
    ]);
    assert.deepEqual(matchDescriptors(query, train, { ratio: 0.75 }), [{ queryIndex: 0, trainIndex: 0, distance: 1 }]);
    assert.equal(matchDescriptors(query, train, { ratio: 1 }).length, 2);
  });

  test('Hamming for binary descriptors, and cross-check keeps only mutual best', () => {
    const query = bits([[0b0000_0000], [0b0000_0011]]);
    const train = bits([[0b0000_0001], [0b1111_1111]]);
    const all = matchDescriptors(query, train, { ratio: 1 });
    assert.deepEqual(
      all.map((m) => [m.queryIndex, m.trainIndex, m.distance]),
      [
        [0, 0, 1],
        [1, 0, 1],
      ],
    );
    // train 0's nearest query is q0 (tie with q1 resolved to the first), so q1 -> t0 is not mutual.
    assert.deepEqual(
      matchDescriptors(query, train, { ratio: 1, crossCheck: true }).map((m) => m.queryIndex),
      [0],
    );
  });

  test('nothing passes the ratio test against a single train descriptor; mismatched kinds are refused', () => {
    assert.deepEqual(matchDescriptors(floats([[0, 0]]), floats([[0, 1]])), []);
    assert.throws(() => matchDescriptors(floats([[0, 0]]), bits([[0, 0]])), /cannot match/);
  });
});
