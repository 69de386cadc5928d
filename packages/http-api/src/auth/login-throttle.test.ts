import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { loadConfig, serviceSettings } from '@imgpipe/core';
import { createRedis } from '@imgpipe/results';
import { delayAfter, LoginThrottle, type LoginThrottlePolicy } from './login-throttle.ts';

const POLICY: LoginThrottlePolicy = {
  userFreeFailures: 3,
  ipFreeFailures: 5,
  delayMs: 1000,
  maxDelayMs: 10_000,
  windowMs: 60_000,
};

describe('delayAfter', () => {
  test('nothing for the free failures, then 1 s doubling up to the maximum', () => {
    const delays = Array.from({ length: 10 }, (_, i) => delayAfter(i + 1, 3, POLICY));
    assert.deepEqual(delays, [0, 0, 0, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });
});

/** The Redis scripts against the real Redis, with the time given (ARGV) instead of the server's clock. Needs Redis. */
describe('LoginThrottle in Redis', () => {
  const redis = createRedis(loadConfig({ redisUrl: serviceSettings.redisUrl }).redisUrl);
  after(() => redis.quit());
  const throttle = new LoginThrottle(redis, POLICY);

  test('each failure past the free ones imposes delayAfter on the username; a success clears it', async () => {
    const tenant = `t-${randomUUID()}`;
    const ip = `test-${randomUUID()}`;
    const t0 = 1_700_000_000_000;
    for (let failure = 1; failure <= 7; failure++) {
      const now = t0 + failure * 60_000; // each attempt after the previous delay
      assert.equal(await throttle.wait(tenant, 'alice', ip, now), 0, `attempt ${failure} may go ahead`);
      const { userDelayMs } = await throttle.fail(tenant, 'alice', ip, now);
      assert.equal(userDelayMs, delayAfter(failure, POLICY.userFreeFailures, POLICY));
      assert.equal(await throttle.wait(tenant, 'alice', ip, now), userDelayMs);
      assert.equal(await throttle.wait(tenant, 'alice', ip, now + userDelayMs), 0);
    }
    // Another username from another IP is not slowed by alice's failures.
    assert.equal(await throttle.wait(tenant, 'bob', `test-${randomUUID()}`, t0 + 7 * 60_000), 0);
    await throttle.succeed(tenant, 'alice');
    const fresh = await throttle.fail(tenant, 'alice', `test-${randomUUID()}`, t0 + 8 * 60_000);
    assert.equal(fresh.userDelayMs, 0, 'the count starts again after a success');
  });

  test('failures of many usernames from one IP slow that IP down after its own free failures', async () => {
    const tenant = `t-${randomUUID()}`;
    const ip = `test-${randomUUID()}`;
    const now = 1_700_000_000_000;
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) delays.push((await throttle.fail(tenant, `user${i}`, ip, now)).ipDelayMs);
    assert.deepEqual(delays, [0, 0, 0, 0, 0, 1000, 2000]);
    assert.equal(await throttle.wait(tenant, 'someone-else', ip, now + 500), 1500);
  });
});
