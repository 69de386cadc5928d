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

    test(`burst ${policy.burst}, ${policy.perSecond.toFixed(3)}/s: 120 takes of 1 to 7 tokens at the same times`, async () => {
      const key = newKey();
      let state: BucketState | undefined;
      for (const [i, now] of times(index + 11, 120).entries()) {
        const want = 1 + ((i * 5) % 7);
        const expected = takeToken(state, now, policy, want);
        state = expected.state;
        const reply = (await redis.eval(TAKE_TOKEN, 1, key, policy.burst, policy.perSecond, now, want)) as number[];
        assert.deepEqual(reply, [expected.granted, expected.remaining, expected.waitMs, expected.fullMs], `at ${now}`);
        assert.ok(expected.granted <= want);
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

/** A limiter on its own connection whose Redis takes are counted (an API replica). */
function replica(options: ConstructorParameters<typeof RateLimiter>[1]): { limiter: RateLimiter; calls: () => number } {
  const connection = createRedis(loadConfig({ redisUrl: serviceSettings.redisUrl }).redisUrl);
  after(() => connection.quit());
  const limiter = new RateLimiter(connection, options);
  const command = connection as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const take = command['imgpipeTakeToken']!.bind(connection);
  let calls = 0;
  command['imgpipeTakeToken'] = (...args: unknown[]) => {
    calls += 1;
    return take(...args);
  };
  return { limiter, calls: () => calls };
}

describe('leases: a busy key takes tokens ahead and spends them in the process', () => {
  // 0.01 tokens/s: the real clock refills nothing whole during a test; a lease of 0.01 x 800 s = 8 tokens.
  const slow = { burst: 30, perSecond: 0.01 };
  const leasing = { leaseMs: 800_000, maxLease: 8 };

  test('two replicas spend exactly the bucket between them, in far fewer Redis calls than requests', async () => {
    const name = `test:${randomUUID()}`;
    keys.push(`imgpipe:ratelimit:${name}`);
    const a = replica(leasing);
    const b = replica(leasing);
    let allowed = 0;
    for (let i = 0; i < 80; i++) {
      const decision = await (i % 2 === 0 ? a : b).limiter.take(name, slow);
      if (decision.allowed) allowed += 1;
      else assert.ok(decision.retryAfterSeconds >= 1, 'a refusal says when to come back');
    }
    assert.equal(allowed, slow.burst, 'every token of the bucket, and not one more');
    const calls = a.calls() + b.calls();
    assert.ok(calls <= 14, `${calls} Redis calls for 80 requests`);
    // Refused here until a token can be there: no more calls.
    for (let i = 0; i < 10; i++) assert.equal((await a.limiter.take(name, slow)).allowed, false);
    assert.equal(a.calls() + b.calls(), calls);
  });

  test('a quiet key takes one token per request; the second take in a row leases', async () => {
    const name = `test:${randomUUID()}`;
    const key = `imgpipe:ratelimit:${name}`;
    keys.push(key);
    const { limiter, calls } = replica(leasing);
    const first = await limiter.take(name, slow);
    assert.equal(first.allowed, true);
    assert.equal(first.remaining, 29);
    assert.equal(Math.floor(Number(await redis.hget(key, 'tokens'))), 29, 'one token taken from Redis');
    const second = await limiter.take(name, slow);
    assert.equal(second.remaining, 28, 'the bucket (21) and the 7 tokens this process holds');
    assert.equal(Math.floor(Number(await redis.hget(key, 'tokens'))), 21, 'a lease of 8 taken from Redis');
    for (let i = 0; i < 7; i++) assert.equal((await limiter.take(name, slow)).allowed, true);
    assert.equal(calls(), 2, 'the lease served 7 requests without Redis');
    assert.equal(Math.floor(Number(await redis.hget(key, 'tokens'))), 21);
  });

  test('concurrent requests of one key wait for the take in flight instead of each calling Redis', async () => {
    const name = `test:${randomUUID()}`;
    keys.push(`imgpipe:ratelimit:${name}`);
    const { limiter, calls } = replica(leasing);
    await limiter.take(name, slow);
    const decisions = await Promise.all(Array.from({ length: 20 }, () => limiter.take(name, slow)));
    assert.equal(decisions.filter((decision) => decision.allowed).length, 20);
    assert.ok(calls() <= 4, `${calls()} Redis calls for 21 requests`);
  });

  test('a lease unspent within leaseMs is not used after it', async () => {
    const name = `test:${randomUUID()}`;
    const key = `imgpipe:ratelimit:${name}`;
    keys.push(key);
    let clock = 1_000;
    const { limiter, calls } = replica({ ...leasing, now: () => clock });
    await limiter.take(name, slow);
    await limiter.take(name, slow); // leases 8: 7 held here
    clock += leasing.leaseMs;
    const later = await limiter.take(name, slow);
    assert.equal(later.allowed, true);
    assert.equal(calls(), 3, 'asked Redis again: the held tokens expired');
  });
});
