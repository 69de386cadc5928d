import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import type { ImageView } from './queries.ts';
import {
  createRedis,
  DEFAULT_CACHE_TTL_SECONDS,
  imageKey,
  type ProgressEvent,
  progressChannel,
  ResultsCache,
  tenantProgressPattern,
} from './results-cache.ts';
import { sampleAnalysis, settings, testTenant } from './test-fixtures.ts';

let redis: Redis;
let subscriber: Redis;
const tenantId = testTenant('cache');

before(() => {
  redis = createRedis(settings.redisUrl);
  subscriber = createRedis(settings.redisUrl);
});

after(async () => {
  const keys = await redis.keys(`imgpipe:${tenantId}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  subscriber.disconnect();
});

function view(imageId: string, updatedAt: string): ImageView {
  return {
    ...sampleAnalysis(imageId),
    tenantId,
    requestedAnalyses: ['detect', 'faces', 'ocr'],
    requestedRenditions: [],
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt,
  };
}

describe('ResultsCache', () => {
  test('stores the latest view under a tenant-scoped key with a TTL and reads it back', async () => {
    const cache = new ResultsCache(redis);
    const imageId = randomUUID();
    const latest = view(imageId, '2026-01-01T00:00:01.000Z');
    assert.equal(await cache.setLatest(tenantId, imageId, latest), true);
    assert.deepEqual(await cache.getLatest(tenantId, imageId), latest);
    assert.equal(await cache.getLatest(testTenant('cache-other'), imageId), undefined);
    const ttl = await redis.ttl(imageKey(tenantId, imageId));
    assert.ok(ttl > DEFAULT_CACHE_TTL_SECONDS - 60 && ttl <= DEFAULT_CACHE_TTL_SECONDS, `ttl ${ttl}`);
    await cache.forget(tenantId, imageId);
    assert.equal(await cache.getLatest(tenantId, imageId), undefined);
  });

  test('a view cached by an older version, without attributes, reads as a miss (readers go to PostgreSQL)', async () => {
    const cache = new ResultsCache(redis);
    const imageId = randomUUID();
    const { attributes: _dropped, ...older } = view(imageId, '2026-01-01T00:00:00.000Z');
    await redis.set(imageKey(tenantId, imageId), JSON.stringify(older));
    assert.equal(await cache.getLatest(tenantId, imageId), undefined);
    const current = view(imageId, '2026-01-01T00:00:01.000Z');
    assert.equal(await cache.setLatest(tenantId, imageId, current), true, 'the next refresh replaces it');
    assert.deepEqual((await cache.getLatest(tenantId, imageId))?.attributes, current.attributes);
  });

  test('a view cached before renditions existed, without requestedRenditions, reads as a miss', async () => {
    const cache = new ResultsCache(redis);
    const imageId = randomUUID();
    const { requestedRenditions: _dropped, renditions: _too, ...older } = view(imageId, '2026-01-01T00:00:00.000Z');
    await redis.set(imageKey(tenantId, imageId), JSON.stringify(older));
    assert.equal(await cache.getLatest(tenantId, imageId), undefined);
    const current = view(imageId, '2026-01-01T00:00:01.000Z');
    assert.equal(await cache.setLatest(tenantId, imageId, current), true);
    assert.deepEqual((await cache.getLatest(tenantId, imageId))?.requestedRenditions, []);
  });

  test('never replaces a newer view with an older one', async () => {
    const cache = new ResultsCache(redis, { ttlSeconds: 60 });
    const imageId = randomUUID();
    const newer = view(imageId, '2026-01-01T00:00:02.000Z');
    await cache.setLatest(tenantId, imageId, newer);
    assert.equal(await cache.setLatest(tenantId, imageId, view(imageId, '2026-01-01T00:00:01.000Z')), false);
    assert.deepEqual(await cache.getLatest(tenantId, imageId), newer);
    const newest = { ...view(imageId, '2026-01-01T00:00:03.000Z'), status: 'partial' as const };
    assert.equal(await cache.setLatest(tenantId, imageId, newest), true);
    assert.equal((await cache.getLatest(tenantId, imageId))?.status, 'partial');
  });

  test('publishes progress to the image channel and the tenant pattern', async () => {
    const cache = new ResultsCache(redis);
    const imageId = randomUUID();
    await subscriber.subscribe(progressChannel(tenantId, imageId));
    await subscriber.psubscribe(tenantProgressPattern(tenantId));
    const direct = once(subscriber, 'message');
    const byPattern = once(subscriber, 'pmessage');
    const event: ProgressEvent = {
      imageId,
      status: 'pending',
      stage: 'detect',
      stageStatus: 'completed',
      updatedAt: '2026-01-01T00:00:01.000Z',
    };
    assert.equal(await cache.publishProgress(tenantId, imageId, event), 2);
    const [channel, message] = (await direct) as [string, string];
    assert.equal(channel, progressChannel(tenantId, imageId));
    assert.deepEqual(JSON.parse(message), event);
    const [, patternChannel, patternMessage] = (await byPattern) as [string, string, string];
    assert.equal(patternChannel, progressChannel(tenantId, imageId));
    assert.deepEqual(JSON.parse(patternMessage), event);
  });

  test('an unreachable Redis is a retriable CACHE_UNAVAILABLE', async () => {
    const unreachable = createRedis('redis://127.0.0.1:1/0');
    unreachable.on('error', () => {});
    try {
      await assert.rejects(new ResultsCache(unreachable).getLatest(tenantId, randomUUID()), {
        code: 'CACHE_UNAVAILABLE',
        retriable: true,
      });
    } finally {
      unreachable.disconnect();
    }
  });
});
