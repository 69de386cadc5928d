import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FeaturesExtracted, ImagePreprocessed, StageContext } from '@imgpipe/contracts';
import { exampleEvents } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import { createLogger } from '@imgpipe/telemetry';
import {
  createInProcessExecutor,
  createWorkerPool,
  decodeFeatureImage,
  decodeFeatures,
  detectKeypoints,
} from '@imgpipe/vision/features';
import {
  type FeaturesStageConfig,
  featureOptionsOf,
  featuresStage,
  warmUpFeatures,
  warmUpImage,
} from './features-stage.ts';

const ctx: StageContext = {
  logger: createLogger('features-test', 'silent'),
  attempt: 1,
  source: { topic: 'images.preprocessed', partition: 0, offset: '0', key: undefined },
  signal: new AbortController().signal,
};

const sharedRoot =
  process.env['IMGPIPE_SHARED_DIR'] ?? fileURLToPath(new URL('../../../../../shared/', import.meta.url));
const photo = await readFile(join(sharedRoot, 'images/photos/chelsea.png'));
const sha256 = createHash('sha256').update(photo).digest('hex');

class MemoryStore {
  readonly objects = new Map<string, { bytes: Buffer; contentType: string; metadata: Record<string, string> }>();
  readonly original: Buffer;
  constructor(original: Buffer) {
    this.original = original;
  }
  async get() {
    return this.original;
  }
  async put(key: string, bytes: Uint8Array, contentType: string, _sha?: string, metadata: Record<string, string> = {}) {
    this.objects.set(key, { bytes: Buffer.from(bytes), contentType, metadata });
  }
}

function preprocessed(overrides: Partial<ImagePreprocessed> = {}): ImagePreprocessed {
  const event = exampleEvents().ImagePreprocessed;
  return {
    ...event,
    analyses: ['features'],
    original: { ...event.original, sha256, size: photo.byteLength, contentType: 'image/png' },
    ...overrides,
  };
}

// ORB keeps the test quick; the stage is the same for SIFT.
const config: FeaturesStageConfig = { detector: 'orb', nfeatures: 300, maxSide: 320, topKeypoints: 10 };
const executor = createInProcessExecutor();
const message = (value: ImagePreprocessed) => ({ eventType: 'ImagePreprocessed' as const, value });

describe('features stage', () => {
  test('the warm-up starts every thread of the pool, each finding what the module finds in process', async () => {
    const pool = createWorkerPool({ size: 2 });
    try {
      assert.equal(pool.stats().workers, 0, 'threads start lazily');
      const found = await warmUpFeatures(pool, config);
      assert.equal(pool.stats().workers, 2, 'both threads started before any image');
      const image = warmUpImage(config.maxSide);
      assert.deepEqual([image.width, image.height], [320, 240]);
      const expected = (await detectKeypoints(image, featureOptionsOf(config))).keypoints.length;
      assert.ok(expected > 50, `the synthetic image has corners to find (${expected})`);
      assert.deepEqual(found, [expected, expected]);
    } finally {
      await pool.close();
    }
  });

  test('finds the keypoints imgpipe features finds for the same bytes, stores them all, lists the strongest', async () => {
    const blobs = new MemoryStore(photo);
    const outputs = await featuresStage({ blobs, executor, config }).handle(message(preprocessed()), ctx);
    assert.equal(outputs.length, 1);
    assert.equal(outputs[0]!.topic, 'images.features');
    assert.equal(outputs[0]!.eventType, 'FeaturesExtracted');
    const event = outputs[0]!.value as FeaturesExtracted;
    assert.equal(event.status, 'completed');
    assert.equal(event.model?.name, 'orb');

    // The independent expectation: the in-process module on the same file at the same size and options.
    const expected = await detectKeypoints(await decodeFeatureImage(photo, { maxSide: 320 }), {
      detector: 'orb',
      params: { nfeatures: 300 },
    });
    const summary = event.features!;
    assert.equal(summary.count, expected.keypoints.length);
    assert.ok(summary.count > 100, `ORB found ${summary.count} keypoints on chelsea.png`);
    assert.equal(summary.detector, 'orb');
    assert.match(summary.params, /^orb:.*nfeatures=300/);
    assert.equal(summary.keypoints.length, 10);
    assert.deepEqual(
      summary.keypoints.map((k) => [k.x, k.y]),
      expected.keypoints.slice(0, 10).map((k) => [k.x, k.y]),
    );
    assert.deepEqual([summary.width, summary.height], [expected.width, expected.height]);

    const stored = blobs.objects.get(summary.descriptorsKey);
    assert.ok(stored, `nothing stored under ${summary.descriptorsKey}`);
    assert.ok(summary.descriptorsKey.includes(sha256), 'the key comes from the original SHA-256');
    assert.equal(summary.descriptorsBytes, stored.bytes.byteLength);
    const decoded = decodeFeatures(stored.bytes);
    assert.equal(decoded.keypoints.length, expected.keypoints.length);
    assert.deepEqual(Buffer.from(decoded.descriptors as Uint8Array), Buffer.from(expected.descriptors as Uint8Array));
  });

  test('the same options name the same object; other options another', async () => {
    const blobs = new MemoryStore(photo);
    const a = await featuresStage({ blobs, executor, config }).handle(message(preprocessed()), ctx);
    const b = await featuresStage({ blobs, executor, config: { ...config, nfeatures: 200 } }).handle(
      message(preprocessed()),
      ctx,
    );
    const keyOf = (outputs: typeof a) => (outputs[0]!.value as FeaturesExtracted).features!.descriptorsKey;
    const again = await featuresStage({ blobs, executor, config }).handle(message(preprocessed()), ctx);
    assert.equal(keyOf(a), keyOf(again));
    assert.notEqual(keyOf(a), keyOf(b));
    assert.equal(blobs.objects.size, 2);
  });

  test('images that did not ask, or whose preprocessing failed, cost nothing', async () => {
    const blobs = new MemoryStore(Buffer.alloc(0));
    const stage = featuresStage({ blobs, executor, config });
    assert.deepEqual(await stage.handle(message(preprocessed({ analyses: [] })), ctx), []);
    assert.deepEqual(await stage.handle(message(preprocessed({ analyses: ['detect', 'ocr'] })), ctx), []);
    assert.deepEqual(await stage.handle(message(preprocessed({ status: 'failed' })), ctx), []);
    assert.equal(blobs.objects.size, 0);
  });

  test('an undecodable original fails with its code, and the failure is published for images that asked', async () => {
    const stage = featuresStage({ blobs: new MemoryStore(Buffer.from('not an image at all')), executor, config });
    const error = await stage.handle(message(preprocessed()), ctx).then(
      () => assert.fail('expected a failure'),
      (caught: unknown) => caught as ImgpipeError,
    );
    assert.ok(error instanceof ImgpipeError);
    const failed = await stage.onFailure!(message(preprocessed()), error, ctx);
    assert.equal(failed.length, 1);
    const event = failed[0]!.value as FeaturesExtracted;
    assert.equal(event.status, 'failed');
    assert.equal(event.error?.code, error.code);
    assert.equal(event.features, undefined);
    assert.deepEqual(await stage.onFailure!(message(preprocessed({ analyses: [] })), error, ctx), []);
  });
});
