import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CircuitBreaker, CircuitBreakerGroup, type CircuitState } from './circuit-breaker.ts';

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

const fail = () => Promise.reject(new Error('down'));
const ok = () => Promise.resolve('fine');

describe('CircuitBreaker', () => {
  test('opens after the threshold of failures in a row, then fails fast without calling', async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker('redis', {
      failureThreshold: 3,
      openMs: 5_000,
      now: clock.now,
      openError: (b) => new Error(`open: ${b.name}`),
    });
    for (let i = 0; i < 2; i++) await assert.rejects(breaker.run(fail), /down/);
    assert.equal(breaker.state, 'closed', 'two failures are under the threshold');
    await assert.rejects(breaker.run(fail), /down/);
    assert.equal(breaker.state, 'open');
    let called = 0;
    await assert.rejects(
      breaker.run(async () => {
        called++;
        return 'x';
      }),
      /open: redis/,
    );
    assert.equal(called, 0, 'an open circuit does not call the dependency');
    assert.deepEqual(breaker.snapshot(), {
      name: 'redis',
      state: 'open',
      consecutiveFailures: 3,
      retryAfterSeconds: 5,
    });
  });

  test('a success in between resets the count: only failures in a row open it', async () => {
    const breaker = new CircuitBreaker('pg', { failureThreshold: 2, now: fakeClock().now });
    await assert.rejects(breaker.run(fail));
    assert.equal(await breaker.run(ok), 'fine');
    await assert.rejects(breaker.run(fail));
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.consecutiveFailures, 1);
  });

  test('after openMs one probe goes through: its success closes the circuit', async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker('s3', { failureThreshold: 1, openMs: 10_000, now: clock.now });
    await assert.rejects(breaker.run(fail));
    clock.advance(9_999);
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.retryAfterMs(), 1);
    clock.advance(1);
    assert.equal(breaker.state, 'half-open');

    // While the probe is under way, other calls fail fast.
    let release!: (value: string) => void;
    const probe = breaker.run(() => new Promise<string>((resolve) => (release = resolve)));
    await assert.rejects(breaker.run(ok), /circuit s3 is open/);
    release('back');
    assert.equal(await probe, 'back');
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.consecutiveFailures, 0);
    assert.equal(await breaker.run(ok), 'fine');
  });

  test("a failed probe opens the circuit for another openMs, counted from the probe's failure", async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker('egress', { failureThreshold: 2, openMs: 1_000, now: clock.now });
    await assert.rejects(breaker.run(fail));
    await assert.rejects(breaker.run(fail));
    clock.advance(5_000);
    assert.equal(breaker.state, 'half-open');
    await assert.rejects(breaker.run(fail), /down/, 'the probe itself reaches the dependency');
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.retryAfterMs(), 1_000);
    clock.advance(999);
    await assert.rejects(breaker.run(ok), /is open/);
  });

  test('errors that isFailure rejects pass through and count as a success', async () => {
    const breaker = new CircuitBreaker('pg', {
      failureThreshold: 1,
      now: fakeClock().now,
      isFailure: (error) => (error as Error).message !== 'not found',
    });
    await assert.rejects(
      breaker.run(() => Promise.reject(new Error('not found'))),
      /not found/,
    );
    assert.equal(breaker.state, 'closed');
    await assert.rejects(breaker.run(fail));
    assert.equal(breaker.state, 'open');
  });

  test('a call slower than callTimeoutMs fails with timeoutError and counts as a failure', async () => {
    const breaker = new CircuitBreaker('redis', {
      failureThreshold: 1,
      callTimeoutMs: 20,
      timeoutError: (b) => new Error(`${b.name} timed out`),
    });
    const hanging = new Promise<string>(() => {});
    await assert.rejects(
      breaker.run(() => hanging),
      /redis timed out/,
    );
    assert.equal(breaker.state, 'open');
  });

  test('a probe that never reports back does not keep the circuit open for ever', () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker('lost', { failureThreshold: 1, openMs: 100, now: clock.now });
    breaker.acquire();
    breaker.failure();
    clock.advance(100);
    breaker.acquire(); // the probe, never finished
    assert.throws(() => breaker.acquire(), /is open/);
    clock.advance(100);
    assert.doesNotThrow(() => breaker.acquire(), 'a new probe once the old one is overdue');
    breaker.success();
    assert.equal(breaker.state, 'closed');
  });

  test('reports every change of state once, in order', async () => {
    const clock = fakeClock();
    const breaker = new CircuitBreaker('seen', { failureThreshold: 1, openMs: 100, now: clock.now });
    const changes: string[] = [];
    breaker.onStateChange((state: CircuitState, previous: CircuitState) => changes.push(`${previous}->${state}`));
    await assert.rejects(breaker.run(fail));
    await assert.rejects(breaker.run(ok));
    clock.advance(100);
    await breaker.run(ok);
    assert.deepEqual(changes, ['closed->open', 'open->half-open', 'half-open->closed']);
  });

  test('refuses nonsense settings', () => {
    assert.throws(() => new CircuitBreaker('x', { failureThreshold: 0 }), RangeError);
    assert.throws(() => new CircuitBreaker('x', { openMs: 0 }), RangeError);
  });
});

describe('CircuitBreakerGroup', () => {
  test('one breaker per key: a failing host opens only its own circuit', async () => {
    const group = new CircuitBreakerGroup('egress', { failureThreshold: 1, now: fakeClock().now });
    await assert.rejects(group.for('bad.example').run(fail));
    assert.equal(group.for('bad.example').state, 'open');
    assert.equal(await group.for('good.example').run(ok), 'fine');
    assert.deepEqual(group.counts(), { closed: 1, open: 1, 'half-open': 0 });
    assert.deepEqual(
      group.unhealthy().map((snapshot) => snapshot.name),
      ['egress:bad.example'],
    );
  });

  test('keeps at most maxKeys, forgetting healthy ones before unhealthy ones', async () => {
    const group = new CircuitBreakerGroup('hooks', { failureThreshold: 1, maxKeys: 3, now: fakeClock().now });
    await assert.rejects(group.for('down').run(fail));
    for (const host of ['a', 'b', 'c', 'd']) await group.for(host).run(ok);
    const counts = group.counts();
    assert.equal(counts.closed + counts.open + counts['half-open'], 3);
    assert.equal(group.for('down').state, 'open', 'the open circuit is remembered');
  });
});
