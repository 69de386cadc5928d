import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeCtc, parseDictionary } from './ctc-decode.ts';

// Classes: 0 blank, 1 'a', 2 'b', 3 ' ' (the appended space).
const characters = parseDictionary('a\nb\n');

/** One row per timestep: [winner class, its probability, optional space probability]. */
function steps(rows: [number, number, number?][]): Float32Array {
  const data = new Float32Array(rows.length * 4);
  rows.forEach(([best, p, space = 0], t) => {
    data[t * 4 + 3] = space;
    data[t * 4 + best] = p;
  });
  return data;
}

describe('CTC decoding', () => {
  test('the dictionary gets the space class appended', () => {
    assert.deepEqual(characters, ['a', 'b', ' ']);
  });

  test('collapses repeats, drops blanks, keeps a letter repeated across a blank', () => {
    const data = steps([
      [1, 0.9],
      [1, 0.95],
      [0, 0.9],
      [1, 0.8],
      [2, 0.7],
      [0, 0.9],
    ]);
    const decoded = decodeCtc(data, 0, 6, 4, characters);
    assert.equal(decoded.text, 'aab');
    assert.deepEqual(
      decoded.chars.map((c) => [c.char, c.firstStep, c.lastStep]),
      [
        ['a', 0, 1],
        ['a', 3, 3],
        ['b', 4, 4],
      ],
    );
    assert.ok(Math.abs(decoded.confidence - (0.95 + 0.8 + 0.7) / 3) < 1e-6);
  });

  test('infers a space from the space probability in a blank run, without counting it in the confidence', () => {
    const data = steps([
      [1, 0.9],
      [0, 0.8, 0.15],
      [2, 0.9],
      [0, 0.9, 0.005],
      [1, 0.9],
    ]);
    assert.equal(decodeCtc(data, 0, 5, 4, characters).text, 'aba', 'plain greedy decoding by default');
    const decoded = decodeCtc(data, 0, 5, 4, characters, 0.03);
    assert.equal(decoded.text, 'a ba');
    assert.ok(decoded.chars[1]!.inferred);
    assert.ok(Math.abs(decoded.confidence - 0.9) < 1e-6);
  });

  test('decodes the requested item of a batch', () => {
    const data = new Float32Array([...steps([[1, 0.9]]), ...steps([[2, 0.9]])]);
    assert.equal(decodeCtc(data, 1, 1, 4, characters).text, 'b');
  });
});
