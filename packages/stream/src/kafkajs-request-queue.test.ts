import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { PENDING_CHECK_INTERVAL_MS, scheduleCheckPendingRequests } from './kafkajs-request-queue.ts';
import { createTestTopic, testKafka } from '../../../test/support/kafka.ts';

/** A queue as kafkajs's RequestQueue holds it, recording when its pending requests are checked. */
function fakeQueue(pending: number, throttledUntil: number) {
  const checks: number[] = [];
  const queue = {
    pending: Array.from({ length: pending }, () => ({})),
    throttledUntil,
    throttleCheckTimeoutId: null as ReturnType<typeof setTimeout> | null,
    checkPendingRequests() {
      checks.push(performance.now());
    },
    scheduleCheckPendingRequests,
  };
  return { queue, checks };
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('kafkajs request queue: a timer only while requests wait', () => {
  test('nothing waiting, not throttled: no timer (kafkajs armed a negative one, which ran every millisecond)', () => {
    const { queue } = fakeQueue(0, -1);
    queue.scheduleCheckPendingRequests();
    assert.equal(queue.throttleCheckTimeoutId, null);
  });

  test('requests waiting for an in-flight slot are checked after the interval', async () => {
    const { queue, checks } = fakeQueue(2, -1);
    const armed = performance.now();
    queue.scheduleCheckPendingRequests();
    assert.notEqual(queue.throttleCheckTimeoutId, null);
    queue.scheduleCheckPendingRequests(); // a second call keeps the one timer
    await settle(PENDING_CHECK_INTERVAL_MS * 5);
    assert.equal(checks.length, 1);
    assert.ok(checks[0]! - armed >= PENDING_CHECK_INTERVAL_MS - 1, `checked after ${checks[0]! - armed} ms`);
    assert.equal(queue.throttleCheckTimeoutId, null);
  });

  test('requests waiting out a broker throttle are checked when it ends', async () => {
    const { queue, checks } = fakeQueue(1, Date.now() + 60);
    const armed = performance.now();
    queue.scheduleCheckPendingRequests();
    await settle(150);
    assert.equal(checks.length, 1);
    assert.ok(checks[0]! - armed >= 55, `checked after ${checks[0]! - armed} ms, before the throttle ended`);
  });

  test('a real producer whose requests queued: every send completes, then its connection stays quiet', async () => {
    const kafka = testKafka('imgpipe-queue-test');
    const queue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as {
      prototype: { checkPendingRequests(): void };
    };
    const original = queue.prototype.checkPendingRequests;
    let checks = 0;
    queue.prototype.checkPendingRequests = function (this: unknown) {
      checks += 1;
      original.call(this);
    };
    const topic = await createTestTopic(kafka, 'request-queue');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    try {
      await producer.connect();
      // One request in flight at a time: the other sends wait in the queue, which arms kafkajs's check.
      const sent = await Promise.all(
        Array.from({ length: 20 }, (_, i) => producer.send({ topic, messages: [{ value: `m${i}` }] })),
      );
      assert.equal(sent.length, 20);
      assert.ok(checks > 0, 'the sends queued (the test would prove nothing otherwise)');
      await settle(100);
      const before = checks;
      await settle(500);
      // kafkajs 2.2.4 unmended: about 450 checks in these 500 ms.
      assert.ok(checks - before <= 2, `${checks - before} queue checks in 500 ms with nothing to send`);
    } finally {
      queue.prototype.checkPendingRequests = original;
      await producer.disconnect();
    }
  });
});
