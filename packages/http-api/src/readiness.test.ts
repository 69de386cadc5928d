import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkReadiness } from './readiness.ts';

const ok = async () => 'fine';
const down = async () => {
  throw new Error('connection refused');
};

test('ready when every check passes', async () => {
  const report = await checkReadiness({ kafka: ok, redis: ok }, { optional: ['redis'] });
  assert.deepEqual({ ready: report.ready, degraded: report.degraded }, { ready: true, degraded: false });
});

test('an optional dependency down: still ready, but degraded, with its error', async () => {
  const report = await checkReadiness({ kafka: ok, redis: down }, { optional: ['redis'] });
  assert.deepEqual({ ready: report.ready, degraded: report.degraded }, { ready: true, degraded: true });
  assert.equal(report.checks['redis']?.ok, false);
  assert.equal(report.checks['redis']?.error, 'connection refused');
});

test('a required dependency down, or one that does not answer in time: not ready', async () => {
  assert.equal((await checkReadiness({ kafka: down, redis: ok }, { optional: ['redis'] })).ready, false);
  const hanging = () => new Promise(() => {});
  const report = await checkReadiness({ postgres: hanging }, { timeoutMs: 20 });
  assert.equal(report.ready, false);
  assert.match(report.checks['postgres']?.error ?? '', /no answer within 20 ms/);
});
