import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { exampleEvents, type ImagePreprocessed, type ImageUploaded, type StageContext } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import { createLogger } from '@imgpipe/telemetry';
import { MemoryBlobs } from '../blob-access.ts';
import type { VisionEngine } from '../vision-engine.ts';
import { preprocessStage } from './preprocess-stage.ts';

const ctx: StageContext = {
  logger: createLogger('preprocess-test', 'silent'),
  attempt: 1,
  source: { topic: 't', partition: 0, offset: '0', key: undefined },
  signal: new AbortController().signal,
};

const info = exampleEvents().ImagePreprocessed.image!;

/** Only preprocess is called; it fails for bytes starting with 0xff, as a decoder would on a corrupt image. */
const vision = {
  async preprocess(bytes: Buffer) {
    if (bytes[0] === 0xff) throw new ImgpipeError('IMAGE_CORRUPT', 'not an image');
    const stored = { bytes: Buffer.from('x'), contentType: 'image/png' };
    return { info, thumbnail: stored, normalized: stored };
  },
} as unknown as VisionEngine;

function upload(bytes: Buffer, attributes: Record<string, string>): ImageUploaded {
  return {
    imageId: '0b7c6f4e-3f2a-4d1e-9a51-7c2b8e1d4f60',
    tenantId: 't',
    occurredAt: 1,
    inline: bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: bytes.byteLength,
    analyses: ['detect'],
    attributes,
    renditions: [],
  };
}

describe('preprocess', () => {
  test("passes the producer's attributes on, whether the image is preprocessed or fails", async () => {
    const stage = preprocessStage({ blobs: new MemoryBlobs(), vision });
    const attributes = { order: 'A-17', note: 'two\nlines', ключ: 'значение' };

    const [done] = await stage.handle(
      { eventType: 'ImageUploaded', value: upload(Buffer.from([1, 2]), attributes) },
      ctx,
    );
    assert.equal((done!.value as ImagePreprocessed).status, 'completed');
    assert.deepEqual((done!.value as ImagePreprocessed).attributes, attributes);

    const corrupt = { eventType: 'ImageUploaded', value: upload(Buffer.from([0xff]), attributes) };
    const error = await stage.handle(corrupt, ctx).then(
      () => assert.fail('a corrupt image must fail'),
      (caught: ImgpipeError) => caught,
    );
    const [failed] = await stage.onFailure!(corrupt, error, ctx);
    assert.equal((failed!.value as ImagePreprocessed).status, 'failed');
    assert.deepEqual((failed!.value as ImagePreprocessed).attributes, attributes);

    const [none] = await stage.handle({ eventType: 'ImageUploaded', value: upload(Buffer.from([3]), {}) }, ctx);
    assert.deepEqual((none!.value as ImagePreprocessed).attributes, {});
  });
});
