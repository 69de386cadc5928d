import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stageMetrics } from './stage-metrics.ts';

describe('stageMetrics', () => {
  const at = (seconds: number, position: bigint, deadLetters: number, lag = 3) => ({
    at: 1_000_000 + seconds * 1000,
    lag,
    position,
    deadLetters,
  });

  test('one reading: lag and dead letters, no rates', () => {
    assert.deepEqual(stageMetrics(at(0, 10n, 2), at(0, 10n, 2)), { lag: 3, deadLetters: 2 });
  });

  test('two readings: messages committed per second and dead letters per message over the span', () => {
    // 120 messages committed in 60 s, 6 of them dead-lettered.
    assert.deepEqual(stageMetrics(at(0, 1000n, 4), at(60, 1120n, 10, 7)), {
      lag: 7,
      deadLetters: 10,
      windowSeconds: 60,
      throughputPerSecond: 2,
      errorRate: 0.05,
    });
  });

  test('nothing committed over the span: throughput 0 and no error rate', () => {
    assert.deepEqual(stageMetrics(at(0, 50n, 1), at(30, 50n, 1)), {
      lag: 3,
      deadLetters: 1,
      windowSeconds: 30,
      throughputPerSecond: 0,
    });
  });
});
