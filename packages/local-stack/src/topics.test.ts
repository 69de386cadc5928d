import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retentionFor, topicSpecs } from './topics.ts';

test('pipeline topics keep 7 days, dead-letter topics 30 days, all with the asked partition count', () => {
  const specs = topicSpecs(['images.uploaded', 'imgpipe.ocr.dlq'], 6);
  assert.deepEqual(specs, [
    { name: 'images.uploaded', partitions: 6, retentionMs: 7 * 86_400_000 },
    { name: 'imgpipe.ocr.dlq', partitions: 6, retentionMs: 30 * 86_400_000 },
  ]);
  assert.equal(retentionFor('images.analyzed'), 604_800_000);
});
