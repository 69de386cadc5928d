import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type GroupProgress, StallDetector } from './stall-detector.ts';

function harness(stallAfterMs = 1000) {
  let now = 0;
  let paused = false;
  let progress: GroupProgress = { lag: 0, position: 0n };
  const detector = new StallDetector({
    stage: 'unit',
    stallAfterMs,
    measure: async () => progress,
    paused: () => paused,
    now: () => now,
  });
  return {
    detector,
    at: async (ms: number, next: GroupProgress, isPaused = false) => {
      now = ms;
      progress = next;
      paused = isPaused;
      await detector.check();
      return detector.stalled;
    },
  };
}

test('lag with no committed progress for the stall time is stalled, and progress clears it', async () => {
  const { at } = harness(1000);
  assert.equal(await at(0, { lag: 5, position: 10n }), false);
  assert.equal(await at(999, { lag: 7, position: 10n }), false, 'not yet the stall time');
  assert.equal(await at(1000, { lag: 7, position: 10n }), true);
  assert.equal(await at(1500, { lag: 6, position: 11n }), false, 'a commit is progress');
  assert.equal(await at(2400, { lag: 6, position: 11n }), false);
  assert.equal(await at(2500, { lag: 6, position: 11n }), true);
});

test('no lag is never stalled, however long nothing is committed', async () => {
  const { at } = harness(1000);
  assert.equal(await at(0, { lag: 0, position: 3n }), false);
  assert.equal(await at(5000, { lag: 0, position: 3n }), false);
  // Lag appears: the clock runs from the last check that found none, not from the last commit long ago.
  assert.equal(await at(5500, { lag: 2, position: 3n }), false);
  assert.equal(await at(5999, { lag: 2, position: 3n }), false);
  assert.equal(await at(6000, { lag: 2, position: 3n }), true);
});

test('a paused stage is not stalled, and resuming starts a fresh window', async () => {
  const { at } = harness(1000);
  assert.equal(await at(0, { lag: 4, position: 1n }), false);
  assert.equal(await at(5000, { lag: 9, position: 1n }, true), false);
  assert.equal(await at(5900, { lag: 9, position: 1n }), false);
  assert.equal(await at(6000, { lag: 9, position: 1n }), true);
});

test('a failed measurement keeps the verdict and says why', async () => {
  let fail = false;
  let now = 0;
  const detector = new StallDetector({
    stage: 'unit-error',
    stallAfterMs: 100,
    measure: async () => {
      if (fail) throw new Error('broker away');
      return { lag: 1, position: 0n };
    },
    paused: () => false,
    now: () => now,
  });
  await detector.check();
  now = 200;
  await detector.check();
  assert.equal(detector.stalled, true);
  fail = true;
  await detector.check();
  assert.equal(detector.stalled, true);
  assert.equal(detector.report().error, 'broker away');
});
