import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { loadConfig, serviceSettings } from '@imgpipe/core';
import { createRedis } from '@imgpipe/results';
import { RateLimiter, TAKE_TOKEN } from './rate-limiter.ts';
import { type BucketState, decisionFrom, takeToken } from './rate-limiter-bucket.ts';

/**
 * The Lua script and takeToken are two writings of one algorithm: run both on the same inputs (the script gets the
 * time as ARGV[3] instead of the server's clock) and compare every answer and the stored state. Needs Redis.
 */
const redis = createRedis(loadConfig({ redisUrl: serviceSettings.redisUrl }).redisUrl);
const keys: string[] = [];
after(async () => {
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

function newKey(): string {
  const key = `imgpipe:ratelimit:test:${randomUUID()}`;
  keys.push(key);
  return key;
}

/** A fixed pseudo-random sequence of request times: bursts, short gaps and long pauses. */
function times(seed: number, count: number): number[] {
  let state = seed;
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const out: number[] = [];
  let now = 1_700_000_000_000 + Math.floor(next() * 1000);
  for (let i = 0; i < count; i++) {
    const r = next();
    now += r < 0.4 ? 0 : r < 0.8 ? Math.floor(next() * 700) : Math.floor(next() * 20_000);
    out.push(now);
  }
  return out;
}

describe('the rate limiter script agrees with the token-bucket arithmetic', () => {
  const policies = [
    { burst: 3, perSecond: 2 },
    { burst: 2, perSecond: 0.5 },
    { burst: 100, perSecond: 50 },
    { burst: 5, perSecond: 1 / 3 },
    { burst: 10, perSecond: 7 },
  ];

  for (const [index, policy] of policies.entries()) {
    test(`burst ${policy.burst}, ${policy.perSecond.toFixed(3)}/s: 120 takes at the same times`, async () => {
      const key = newKey();
      let state: BucketState | undefined;
      for (const now of times(index + 1, 120)) {
        const expected = takeToken(state, now, policy);
        state = expected.state;
        const reply = (await redis.eval(TAKE_TOKEN, 1, key, policy.burst, policy.perSecond, now)) as number[];
        assert.deepEqual(
          reply,
          [expected.allowed ? 1 : 0, expected.remaining, expected.waitMs, expected.fullMs],
          `at ${now}`,
        );
        const stored = await redis.hgetall(key);
        assert.deepEqual({ tokens: Number(stored['tokens']), ts: Number(stored['ts']) }, expected.state, `at ${now}`);
      }
      const ttl = await redis.pttl(key);
      assert.ok(ttl > 0 && ttl <= Math.ceil((policy.burst * 1000) / policy.perSecond) + 1000, `expiry ${ttl} ms`);
    });
  }

  test('RateLimiter.take with the server clock: the first takes of a new bucket are what the arithmetic says', async () => {
    const limiter = new RateLimiter(redis);
    const name = `test:${randomUUID()}`;
    keys.push(`imgpipe:ratelimit:${name}`);
    const policy = { burst: 2, perSecond: 0.001 }; // so slow that the real clock adds nothing measurable
    let state: BucketState | undefined;
    for (let i = 0; i < 3; i++) {
      const expected = takeToken(state, 0, policy);
      state = { ...expected.state, ts: 0 };
      const decision = await limiter.take(name, policy);
      // Whole seconds in the decision: the few milliseconds between takes do not show.
      assert.deepEqual(decision, decisionFrom(expected, policy), `take ${i + 1}`);
    }
  });
});
