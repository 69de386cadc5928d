import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { ImagePreprocessed, ObjectsDetected } from '@imgpipe/contracts';
import { loadConfig, serviceSettings } from '@imgpipe/core';
import type { StageContext } from '@imgpipe/contracts';
import { createLogger } from '@imgpipe/telemetry';
import { Redis } from 'ioredis';
import { type AggregateStore, MemoryAggregateStore, RedisAggregateStore } from '../aggregate/aggregate-store.ts';
import { aggregateStage } from './aggregate-stage.ts';

const model = { name: 'm', version: '1', sha256: 'a'.repeat(64) };
const ctx: StageContext = {
  logger: createLogger('aggregate-test', 'silent'),
  attempt: 1,
  source: { topic: 't', partition: 0, offset: '0', key: undefined },
  signal: new AbortController().signal,
};

function events(imageId: string) {
  const envelope = { imageId, tenantId: 't', occurredAt: 1 };
  const preprocessed: ImagePreprocessed = {
    ...envelope,
    status: 'completed',
    analyses: ['detect'],
    original: { bucket: 'b', key: 'k', sha256: 'c'.repeat(64), size: 1, contentType: 'image/png' },
  };
  const detected: ObjectsDetected = { ...envelope, status: 'completed', model, objects: [] };
  return [
    { eventType: 'ImagePreprocessed', value: preprocessed },
    { eventType: 'ObjectsDetected', value: detected },
  ];
}

async function deliverAll(store: AggregateStore, imageId: string, times: number): Promise<number> {
  const stage = aggregateStage({ store });
  let emitted = 0;
  for (let round = 0; round < times; round += 1) {
    for (const message of events(imageId)) {
      const outputs = await stage.handle(message, ctx);
      emitted += outputs.length;
      if (outputs.length > 0) await stage.onOutputsDurable?.(message, outputs, ctx);
    }
  }
  return emitted;
}

describe('aggregate', () => {
  const { redisUrl } = loadConfig({ redisUrl: serviceSettings.redisUrl });
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  after(() => redis.quit());

  for (const [name, store] of [
    ['in memory', () => new MemoryAggregateStore()],
    ['in Redis', () => new RedisAggregateStore(redis, { ttlSeconds: 60 })],
  ] as const) {
    test(`emits ImageAnalyzed once, however often its parts are replayed (${name})`, async () => {
      assert.equal(await deliverAll(store(), randomUUID(), 3), 1);
    });
  }

  test('a part that arrives again before the emission was durable emits again (the results upsert absorbs it)', async () => {
    const store = new RedisAggregateStore(redis, { ttlSeconds: 60 });
    const imageId = randomUUID();
    const stage = aggregateStage({ store });
    const [preprocessed, detected] = events(imageId);
    assert.equal((await stage.handle(preprocessed!, ctx)).length, 0);
    assert.equal((await stage.handle(detected!, ctx)).length, 1, 'complete: emitted');
    // crash before onOutputsDurable: the input is redelivered
    const again = await stage.handle(detected!, ctx);
    assert.equal(again.length, 1, 'not lost');
    await stage.onOutputsDurable?.(detected!, again, ctx);
    assert.equal((await stage.handle(detected!, ctx)).length, 0, 'once durable, never again');
  });
});
