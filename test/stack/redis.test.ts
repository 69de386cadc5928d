import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { config } from './support.ts';

describe('redis (the local stack cache)', () => {
  test('answers PING and round-trips a value with a TTL', async () => {
    const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
    await redis.connect();
    try {
      assert.equal(await redis.ping(), 'PONG');
      const key = `imgpipe:test:${randomUUID()}`;
      assert.equal(await redis.set(key, JSON.stringify({ status: 'completed' }), 'EX', 60), 'OK');
      assert.deepEqual(JSON.parse((await redis.get(key)) ?? 'null'), { status: 'completed' });
      const ttl = await redis.ttl(key);
      assert.ok(ttl > 0 && ttl <= 60, `ttl ${ttl}`);
      assert.equal(await redis.del(key), 1);
      assert.equal(await redis.get(key), null);
    } finally {
      redis.disconnect();
    }
  });
});
