import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { characterErrorRate, countErrors, levenshtein } from './character-error-rate.ts';

describe('character error rate', () => {
  test('levenshtein counts insertions, deletions and substitutions', () => {
    assert.equal(levenshtein('kitten', 'sitting'), 3);
    assert.equal(levenshtein('', 'abc'), 3);
    assert.equal(levenshtein('same', 'same'), 0);
  });

  test('lines are trimmed and whitespace runs collapsed; case and line breaks count', () => {
    assert.deepEqual(countErrors(['Total  due', 'EUR'], ['  Total due ', 'EUR']), { edits: 0, referenceLength: 13 });
    assert.equal(countErrors(['Total due'], ['total due']).edits, 1);
    assert.equal(countErrors(['a', 'b'], ['a b']).edits, 1);
    assert.equal(
      characterErrorRate([
        { edits: 1, referenceLength: 10 },
        { edits: 0, referenceLength: 10 },
      ]),
      0.05,
    );
  });
});
