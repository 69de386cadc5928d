import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { redriveStages } from './image-redrive.ts';

describe('redriveStages', () => {
  test('a failed preprocess or aggregate re-runs preprocess alone (and with it every analysis)', () => {
    assert.deepEqual(redriveStages(['preprocess', 'detect', 'faces', 'ocr', 'aggregate']), ['preprocess']);
    assert.deepEqual(redriveStages(['aggregate']), ['preprocess']);
    assert.deepEqual(redriveStages(['ocr', 'aggregate']), ['preprocess']);
  });

  test('failed analyses are re-run each on its own, in pipeline order; nothing failed, nothing to run', () => {
    assert.deepEqual(redriveStages(['ocr', 'detect']), ['detect', 'ocr']);
    assert.deepEqual(redriveStages(['faces']), ['faces']);
    assert.deepEqual(redriveStages([]), []);
  });
});
