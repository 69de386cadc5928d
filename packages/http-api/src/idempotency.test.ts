import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { ImgpipeError, loadConfig, serviceSettings } from '@imgpipe/core';
import { createRedis } from '@imgpipe/results';
import { IdempotencyStore } from './idempotency.ts';
import { RateLimiter } from './rate-limiter.ts';

const redis = createRedis(loadConfig({ redisUrl: serviceSettings.redisUrl }).redisUrl);
after(() => redis.quit());

describe('IdempotencyStore against Redis', () => {
  const store = new IdempotencyStore(redis, { ttlSeconds: 60 });
  const tenant = `test-idem-${randomUUID().slice(0, 8)}`;

  test('claim, in flight, complete, replay, reuse', async () => {
    const key = randomUUID();
    assert.deepEqual(await store.claim(tenant, key, 'request-a'), { kind: 'new' });
    await assert.rejects(
      store.claim(tenant, key, 'request-a'),
      (error) =>
        error instanceof ImgpipeError && error.code === 'IDEMPOTENCY_KEY_IN_FLIGHT' && error.httpStatus === 409,
    );
    await store.complete(tenant, key, 'request-a', {
      statusCode: 202,
      body: { imageId: 'x' },
      location: '/v1/images/x',
    });
    assert.deepEqual(await store.claim(tenant, key, 'request-a'), {
      kind: 'replay',
      response: { statusCode: 202, body: { imageId: 'x' }, location: '/v1/images/x' },
    });
    await assert.rejects(
      store.claim(tenant, key, 'request-b'),
      (error) => error instanceof ImgpipeError && error.code === 'IDEMPOTENCY_KEY_REUSED',
    );
  });

  test('a released key can be claimed again', async () => {
    const key = randomUUID();
    await store.claim(tenant, key, 'first');
    await store.release(tenant, key);
    assert.deepEqual(await store.claim(tenant, key, 'second'), { kind: 'new' });
  });
});

describe('RateLimiter against Redis', () => {
  test('a bucket allows its burst, refuses with a wait, and reports the policy', async () => {
    const limiter = new RateLimiter(redis);
    const key = `test:${randomUUID()}`;
    const policy = { burst: 2, perSecond: 0.5 };
    const decisions = [
      await limiter.take(key, policy),
      await limiter.take(key, policy),
      await limiter.take(key, policy),
    ];
    assert.deepEqual(
      decisions.map((decision) => [decision.allowed, decision.remaining]),
      [
        [true, 1],
        [true, 0],
        [false, 0],
      ],
    );
    assert.ok(decisions[2]!.retryAfterSeconds >= 1 && decisions[2]!.retryAfterSeconds <= 2);
    assert.equal(decisions[0]!.policy, '2;w=4');
    assert.equal(decisions[0]!.limit, 2);
  });
});
