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

describe('CTC decoding: edges', () => {
  test('dictionaries: with or without a final newline, CRLF, empty', () => {
    assert.deepEqual(parseDictionary('a\nb'), ['a', 'b', ' ']);
    assert.deepEqual(parseDictionary('a\r\nb\r\n'), ['a', 'b', ' ']);
    assert.deepEqual(parseDictionary('x\n'), ['x', ' ']);
    assert.deepEqual(parseDictionary(''), [' ']);
  });

  test('nothing read: empty text, confidence 0', () => {
    const decoded = decodeCtc(
      steps([
        [0, 0.9],
        [0, 0.8],
      ]),
      0,
      2,
      4,
      characters,
    );
    assert.deepEqual(decoded, { text: '', confidence: 0, chars: [], steps: 2 });
  });

  test('a repeated character keeps its highest probability and its steps stop at the blank run', () => {
    const data = steps([
      [1, 0.9],
      [1, 0.6],
      [0, 0.9],
      [0, 0.9],
      [2, 0.4],
      [2, 0.7],
      [2, 0.5],
    ]);
    const decoded = decodeCtc(data, 0, 7, 4, characters);
    assert.deepEqual(
      decoded.chars.map((c) => [c.char, c.confidence, c.firstStep, c.lastStep]),
      [
        ['a', Math.fround(0.9), 0, 1],
        ['b', Math.fround(0.7), 4, 6],
      ],
    );
  });

  test('a tie between classes goes to the lower class index (the first maximum)', () => {
    const data = new Float32Array([0.1, 0.45, 0.45, 0]);
    assert.equal(decodeCtc(data, 0, 1, 4, characters).text, 'a');
  });

  test('batch items are read from their own slice of the tensor', () => {
    // Two items of three steps: "ab " and "ba".
    const data = new Float32Array([
      ...steps([
        [1, 0.9],
        [2, 0.9],
        [3, 0.9],
      ]),
      ...steps([
        [2, 0.9],
        [0, 0.9],
        [1, 0.9],
      ]),
    ]);
    assert.equal(decodeCtc(data, 0, 3, 4, characters).text, 'ab ');
    assert.equal(decodeCtc(data, 1, 3, 4, characters).text, 'ba');
    assert.equal(decodeCtc(data, 0, 1, 4, characters).text, 'a', 'stops after its own steps');
  });

  test('an inferred space: the highest space probability of the gap, at the step before the next character', () => {
    const data = steps([
      [1, 0.9],
      [0, 0.7, 0.3],
      [0, 0.9, 0.01],
      [2, 0.9],
    ]);
    const decoded = decodeCtc(data, 0, 4, 4, characters, 0.25);
    assert.equal(decoded.text, 'a b');
    assert.deepEqual(decoded.chars[1], {
      char: ' ',
      confidence: Math.fround(0.3),
      firstStep: 2,
      lastStep: 2,
      inferred: true,
    });
    assert.equal(decodeCtc(data, 0, 4, 4, characters, 0.31).text, 'ab', 'under the threshold');
    assert.equal(
      decodeCtc(
        steps([
          [1, 0.9],
          [0, 0.5, 0.25],
          [2, 0.9],
        ]),
        0,
        3,
        4,
        characters,
        0.25,
      ).text,
      'a b',
      'at it',
    );
  });

  test('no inferred space next to a space read outright, nor before the first character', () => {
    const data = steps([
      [0, 0.6, 0.4],
      [1, 0.9],
      [3, 0.8],
      [0, 0.6, 0.4],
      [2, 0.9],
    ]);
    assert.equal(decodeCtc(data, 0, 5, 4, characters, 0.1).text, 'a b');
  });

  test('without a space class nothing is inferred, whatever the last class or the blank says', () => {
    // Classes: 0 blank, 1 'a', 2 'b'; the dictionary has no space.
    const noSpace = ['a', 'b'];
    const data = new Float32Array([0.1, 0.9, 0, 0.6, 0, 0.4, 0.9, 0.05, 0.05, 0.1, 0.1, 0.8]);
    assert.equal(decodeCtc(data, 0, 4, 3, noSpace, 0.05).text, 'ab');
    const again = new Float32Array([0.1, 0.9, 0, 0.6, 0, 0.4, 0.9, 0.05, 0.05, 0.1, 0.8, 0.1]);
    assert.equal(decodeCtc(again, 0, 4, 3, noSpace, 0.05).text, 'aa');
    // A space that is not the last class is an ordinary character, not the space class.
    assert.equal(decodeCtc(data, 0, 4, 3, [' ', 'b'], 0.05).text, ' b');
  });

  test('a mask keeps the argmax to the allowed classes: a disallowed winner gives way to the best allowed one', () => {
    // 'b' wins each step, 'a' is second; with 'b' disallowed the same steps read 'a'.
    const data = new Float32Array(2 * 4);
    for (const t of [0, 1]) {
      data[t * 4 + 2] = 0.7;
      data[t * 4 + 1] = 0.2;
      data[t * 4] = 0.1;
    }
    assert.equal(decodeCtc(data, 0, 2, 4, characters).text, 'b');
    const decoded = decodeCtc(data, 0, 2, 4, characters, 1, Uint8Array.from([1, 1, 0, 1]));
    assert.equal(decoded.text, 'a');
    assert.equal(decoded.chars[0]!.confidence, data[1]);
  });
});
