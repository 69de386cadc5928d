import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createInProcessExecutor,
  decodeFeatureImage,
  detectKeypoints,
  float32Keypoints,
  normalizeFeatureOptions,
} from '@imgpipe/vision/features';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { DependencyBreakers } from './dependency-breakers.ts';
import { FeaturesService } from './features-service.ts';
import { checkImage } from './image-intake.ts';

test('with Redis unreachable the features are computed anyway (X-Cache bypass), and after the circuit opens too', async () => {
  // Nothing listens on port 1: every command fails at once.
  const redis = new Redis('redis://127.0.0.1:1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  const breakers = new DependencyBreakers({
    failureThreshold: 2,
    openMs: 60_000,
    redisTimeoutMs: 1_000,
    databaseTimeoutMs: 1_000,
    storageTimeoutMs: 1_000,
  });
  const service = new FeaturesService({ redis, breakers, executor: createInProcessExecutor(), ttlSeconds: 60 });
  const noise = { type: 'gaussian', mean: 128, sigma: 50 } as const;
  const bytes = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#808080', noise } })
    .png()
    .toBuffer();
  const options = { detector: 'orb', params: { nfeatures: 50 } } as const;
  const expected = await detectKeypoints(await decodeFeatureImage(bytes, { maxSide: 320 }), options);
  assert.ok(expected.keypoints.length > 10, `${expected.keypoints.length} keypoints`);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await service.detect(checkImage(bytes, 10_000_000), normalizeFeatureOptions(options), 320);
      assert.equal(result.cache, 'bypass');
      const body = JSON.parse(result.body.toString('utf8'));
      assert.equal(body.cached, false);
      assert.deepEqual(float32Keypoints(body.keypoints), float32Keypoints(expected.keypoints));
    }
    assert.equal(breakers.redis.snapshot().state, 'open');
  } finally {
    redis.disconnect();
  }
});
