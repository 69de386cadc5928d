import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import {
  backoffDelay,
  classifyFailure,
  DEFAULT_RETRY_POLICY,
  isDependencyUnavailable,
  retryDelay,
  shouldRetry,
} from './retry-policy.ts';

test('backoff doubles per attempt within jitter bounds and is capped', () => {
  const policy = { maxAttempts: 10, initialDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(
    backoffDelay(policy, 1, () => 0),
    50,
  );
  assert.equal(
    backoffDelay(policy, 1, () => 1),
    100,
  );
  assert.equal(
    backoffDelay(policy, 3, () => 1),
    400,
  );
  assert.equal(
    backoffDelay(policy, 8, () => 1),
    1000,
  );
  assert.equal(
    backoffDelay(policy, 8, () => 0),
    500,
  );
});

test('the default policy retries a few times before dead-lettering', () => {
  assert.ok(DEFAULT_RETRY_POLICY.maxAttempts >= 3);
});

const POLICY = { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 30_000, unavailableRetryMs: 60_000 };

/** An error as a client library throws it: a name, a code, maybe a wrapped cause. */
function raw(name: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(Object.defineProperty(new Error(message), 'name', { value: name }), extra);
}

test('dependency failures from client libraries are classed as their dependency being unavailable', () => {
  const cases: [unknown, string][] = [
    [raw('MaxRetriesPerRequestError', 'Reached the max retries per request limit (which is 3).'), 'CACHE_UNAVAILABLE'],
    [new Error('Connection is closed.'), 'CACHE_UNAVAILABLE'],
    [raw('error', 'terminating connection due to administrator command', { code: '57P01' }), 'DATABASE_UNAVAILABLE'],
    [raw('error', 'the database system is starting up', { code: '57P03' }), 'DATABASE_UNAVAILABLE'],
    [raw('error', 'connection failure', { code: '08006' }), 'DATABASE_UNAVAILABLE'],
    [new Error('Connection terminated unexpectedly'), 'DATABASE_UNAVAILABLE'],
    [new Error('Client has encountered a connection error and is not queryable'), 'DATABASE_UNAVAILABLE'],
    [raw('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092'), 'KAFKA_UNAVAILABLE'],
    [
      raw('KafkaJSNumberOfRetriesExceeded', 'retries exceeded', {
        originalError: raw('KafkaJSRequestTimeoutError', 'Request Produce(key: 0, version: 7) timed out'),
      }),
      'KAFKA_UNAVAILABLE',
    ],
    [
      raw('InternalError', 'We encountered an internal error', { $metadata: { httpStatusCode: 503 } }),
      'STORAGE_UNAVAILABLE',
    ],
  ];
  for (const [error, code] of cases) {
    const classified = classifyFailure(error);
    assert.equal(classified.code, code, (error as Error).message);
    assert.ok(classified.retriable && isDependencyUnavailable(classified), `${code} is retried as unavailable`);
  }
  // A bare socket failure names no dependency: transient, and retried as unavailable.
  const socket = classifyFailure(
    new TypeError('fetch failed', { cause: raw('Error', 'connect', { code: 'ECONNREFUSED' }) }),
  );
  assert.equal(socket.code, 'STAGE_TRANSIENT');
  assert.ok(isDependencyUnavailable(socket));
  // A dependency failure a stage wrapped as STAGE_INTERNAL is still one.
  const wrapped = new ImgpipeError('STAGE_INTERNAL', 'aggregate failed', {
    cause: raw('MaxRetriesPerRequestError', 'x'),
  });
  assert.equal(classifyFailure(wrapped).code, 'CACHE_UNAVAILABLE');
});

test('deterministic failures stay deterministic', () => {
  assert.equal(
    classifyFailure(new TypeError("Cannot read properties of undefined (reading 'x')")).code,
    'STAGE_INTERNAL',
  );
  assert.equal(classifyFailure(new TypeError('x')).retriable, false);
  const tooLarge = raw('KafkaJSNonRetriableError', 'too large', {
    cause: raw('KafkaJSProtocolError', 'The request included a message larger than the max message size', {
      type: 'MESSAGE_TOO_LARGE',
    }),
  });
  assert.equal(classifyFailure(tooLarge).retriable, false);
  assert.equal(classifyFailure(raw('error', 'duplicate key', { code: '23505' })).retriable, false);
  assert.equal(classifyFailure(raw('NoSuchKey', 'gone', { $metadata: { httpStatusCode: 404 } })).retriable, false);
  const corrupt = new ImgpipeError('IMAGE_CORRUPT');
  assert.equal(classifyFailure(corrupt), corrupt);
});

test('an unavailable dependency is retried past maxAttempts until the deadline; other transient failures are not', () => {
  const now = 1_000_000;
  const unavailable = new ImgpipeError('CACHE_UNAVAILABLE');
  const transient = new ImgpipeError('MODEL_INFERENCE_FAILED');
  const fresh = [String(now - 1_000)];
  assert.equal(shouldRetry(POLICY, transient, 2, fresh, now), true);
  assert.equal(shouldRetry(POLICY, transient, 3, fresh, now), false, 'out of attempts');
  assert.equal(shouldRetry(POLICY, unavailable, 3, fresh, now), true);
  assert.equal(shouldRetry(POLICY, unavailable, 500, fresh, now), true, 'attempts do not count while unavailable');
  assert.equal(shouldRetry(POLICY, unavailable, 3, [String(now - 60_000)], now), false, 'past the deadline');
  assert.equal(shouldRetry(POLICY, unavailable, 1, [String(now - 60_000)], now), true, 'maxAttempts still apply');
  assert.equal(
    shouldRetry(POLICY, unavailable, 3, [String(now - 60_000), String(now - 10)], now),
    true,
    'a batch retries while its newest message has time',
  );
  assert.equal(shouldRetry(POLICY, unavailable, 3, ['garbage'], now), true, 'no timestamp: counted from now');
  assert.equal(shouldRetry(POLICY, new ImgpipeError('IMAGE_CORRUPT'), 1, fresh, now), false);
});

test('while a dependency is unavailable the wait between retries stays short', () => {
  const policy = { ...POLICY, unavailableMaxDelayMs: 2_000 };
  assert.equal(
    retryDelay(policy, 40, new ImgpipeError('KAFKA_UNAVAILABLE'), () => 1),
    2_000,
  );
  assert.equal(
    retryDelay(policy, 40, new ImgpipeError('MODEL_INFERENCE_FAILED'), () => 1),
    30_000,
  );
});
