import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type BucketState,
  decisionFrom,
  rateLimitHeaders,
  refill,
  type TakeResult,
  takeToken,
} from './rate-limiter-bucket.ts';

/** Takes at the given times (ms), threading the stored state through. */
function takes(times: readonly number[], policy: { burst: number; perSecond: number }): TakeResult[] {
  let state: BucketState | undefined;
  return times.map((now) => {
    const result = takeToken(state, now, policy);
    state = result.state;
    return result;
  });
}

describe('token bucket arithmetic', () => {
  test('a new bucket is full: the burst passes at once, the next request waits for one token', () => {
    const results = takes([0, 0, 0, 0], { burst: 3, perSecond: 2 });
    assert.deepEqual(
      results.map((r) => [r.allowed, r.remaining, r.waitMs, r.fullMs]),
      [
        [true, 2, 0, 500],
        [true, 1, 0, 1000],
        [true, 0, 0, 1500],
        // Empty: one token takes 1000 / 2 = 500 ms; the whole bucket 1500 ms.
        [false, 0, 500, 1500],
      ],
    );
  });

  test('refill over time: elapsed ms x perSecond / 1000, capped at the burst', () => {
    const policy = { burst: 10, perSecond: 4 };
    assert.equal(refill(undefined, 123, policy), 10);
    assert.equal(refill({ tokens: 0, ts: 1000 }, 1250, policy), 1);
    assert.equal(refill({ tokens: 2.5, ts: 1000 }, 2000, policy), 6.5);
    assert.equal(refill({ tokens: 9, ts: 0 }, 60_000, policy), 10);
    // A clock that went backwards refills nothing (and takes nothing away).
    assert.equal(refill({ tokens: 3, ts: 5000 }, 4000, policy), 3);
  });

  test('a partly refilled bucket: allowed once a whole token is back, with the wait computed from the fraction', () => {
    const policy = { burst: 2, perSecond: 0.5 }; // one token per 2 s
    const results = takes([0, 0, 0, 1000, 1500, 2000], policy);
    assert.deepEqual(
      results.map((r) => [r.allowed, r.remaining, r.waitMs, r.fullMs]),
      [
        [true, 1, 0, 2000],
        [true, 0, 0, 4000],
        [false, 0, 2000, 4000],
        // 1 s later half a token is back: 1 s to wait, 3 s to full.
        [false, 0, 1000, 3000],
        [false, 0, 500, 2500],
        // 0.75 + 0.25: the token is whole again and taken.
        [true, 0, 0, 4000],
      ],
    );
    assert.equal(results[4]!.state.tokens, 0.75);
  });

  test('the stored state is the count after the take and the time of the take', () => {
    const [first, second] = takes([5000, 5400], { burst: 4, perSecond: 5 });
    assert.deepEqual(first!.state, { tokens: 3, ts: 5000 });
    // 400 ms at 5/s = 2 tokens back, capped at 4, minus the one taken.
    assert.deepEqual(second!.state, { tokens: 3, ts: 5400 });
  });

  test('waits are whole milliseconds, rounded up', () => {
    const [taken, refused] = takes([0, 0], { burst: 1, perSecond: 3 });
    assert.equal(taken!.fullMs, 334, '1000 / 3 ms until full');
    assert.equal(refused!.waitMs, 334);
  });

  test('a refused take keeps the refilled fraction (it is not lost while waiting)', () => {
    const [, refused] = takes([0, 100], { burst: 1, perSecond: 1 });
    assert.equal(refused!.allowed, false);
    assert.ok(Math.abs(refused!.state.tokens - 0.1) < 1e-12);
    assert.equal(refused!.waitMs, 900);
  });

  test('stored counts keep 14 significant digits, as Lua tostring() writes them', () => {
    const { state } = takeToken({ tokens: 0, ts: 0 }, 1, { burst: 5, perSecond: 1 / 3 });
    assert.equal(state.tokens, 0.00033333333333333);
  });
});

describe('decision and headers', () => {
  const policy = { burst: 100, perSecond: 50 };

  test('allowed: no retry, the reset rounded up to seconds, the policy window burst / rate', () => {
    const decision = decisionFrom({ allowed: true, remaining: 37, waitMs: 0, fullMs: 1260 }, policy);
    assert.deepEqual(decision, {
      allowed: true,
      limit: 100,
      remaining: 37,
      retryAfterSeconds: 0,
      resetSeconds: 2,
      policy: '100;w=2',
    });
    assert.deepEqual(rateLimitHeaders(decision), {
      'ratelimit-limit': '100',
      'ratelimit-remaining': '37',
      'ratelimit-reset': '2',
      'ratelimit-policy': '100;w=2',
    });
  });

  test('the reset is in whole seconds, rounded up', () => {
    const reset = (fullMs: number) =>
      decisionFrom({ allowed: true, remaining: 1, waitMs: 0, fullMs }, policy).resetSeconds;
    assert.deepEqual([reset(0), reset(1), reset(999), reset(1000), reset(1001)], [0, 1, 1, 1, 2]);
  });

  test('refused: Retry-After is the wait rounded up, at least 1 s', () => {
    const refused = (waitMs: number) => decisionFrom({ allowed: false, remaining: 0, waitMs, fullMs: 2000 }, policy);
    assert.equal(refused(20).retryAfterSeconds, 1);
    assert.equal(refused(0).retryAfterSeconds, 1);
    assert.equal(refused(1000).retryAfterSeconds, 1);
    assert.equal(refused(1001).retryAfterSeconds, 2);
    assert.equal(rateLimitHeaders(refused(2500))['retry-after'], '3');
  });

  test('the policy window is at least 1 s and rounds up', () => {
    const window = (burst: number, perSecond: number) =>
      decisionFrom({ allowed: true, remaining: 0, waitMs: 0, fullMs: 0 }, { burst, perSecond }).policy;
    assert.equal(window(30, 5), '30;w=6');
    assert.equal(window(2, 0.5), '2;w=4');
    assert.equal(window(10, 3), '10;w=4');
    assert.equal(window(5, 50), '5;w=1');
  });
});

test('a take of several tokens takes as many whole ones as there are, up to the number asked', () => {
  const policy = { burst: 5, perSecond: 2 };
  const three = takeToken(undefined, 0, policy, 3);
  assert.deepEqual([three.granted, three.remaining, three.state.tokens], [3, 2, 2]);
  // 2 left, 250 ms later 2.5: a lease of 10 gets the 2 whole ones, 0.5 stays.
  const rest = takeToken(three.state, 250, policy, 10);
  assert.deepEqual([rest.allowed, rest.granted, rest.remaining, rest.state.tokens], [true, 2, 0, 0.5]);
  // 0.5 is not a token: refused, and a whole one is there 250 ms later.
  const refused = takeToken(rest.state, 250, policy, 4);
  assert.deepEqual([refused.allowed, refused.granted, refused.waitMs], [false, 0, 250]);
});
