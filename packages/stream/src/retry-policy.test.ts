import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, DEFAULT_RETRY_POLICY } from './retry-policy.ts';

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
