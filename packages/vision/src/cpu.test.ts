import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, test } from 'node:test';
import { deriveInferenceThreads } from './config.ts';
import { availableCpus, cpuShare } from './cpu.ts';

describe('the CPU share and the threads derived from it', () => {
  test('IMGPIPE_CPUS sets the share (never above the CPUs the scheduler gives); workers round it up', () => {
    assert.equal(cpuShare({ IMGPIPE_CPUS: '0.5' }), 0.5);
    assert.equal(availableCpus({ IMGPIPE_CPUS: '0.5' }), 1);
    assert.equal(availableCpus({ IMGPIPE_CPUS: '1' }), 1);
    assert.equal(cpuShare({ IMGPIPE_CPUS: '4096' }), availableParallelism());
    assert.ok(cpuShare({}) > 0 && cpuShare({}) <= availableParallelism());
  });

  test('a share that is not a positive number is a configuration error', () => {
    for (const value of ['0', '-1', 'two', 'NaN']) {
      assert.throws(
        () => cpuShare({ IMGPIPE_CPUS: value }),
        (error: Error & { code?: string }) => error.code === 'CONFIG_INVALID' && error.message.includes(value),
      );
    }
  });

  test('intra-op threads are the share over the workers, rounded down, at least 1; an explicit count wins', () => {
    const derived = { inferenceThreads: 0 };
    assert.equal(deriveInferenceThreads(derived, 2, 2), 1, '2 CPUs, 2 workers');
    assert.equal(deriveInferenceThreads(derived, 1, 2), 2, '2 CPUs, 1 worker');
    assert.equal(deriveInferenceThreads(derived, 0, 4), 4, 'inference on the main thread takes the whole share');
    assert.equal(deriveInferenceThreads(derived, 1, 1.5), 1, 'a 1.5-CPU quota does not get 2 threads');
    assert.equal(deriveInferenceThreads(derived, 2, 6), 3);
    assert.equal(deriveInferenceThreads(derived, 1, 0.33), 1, 'a third of a CPU still runs one thread');
    assert.equal(deriveInferenceThreads(derived, 3, 3), 1, 'no float error: 3 / 3 is 1');
    assert.equal(deriveInferenceThreads({ inferenceThreads: 3 }, 2, 2), 3);
  });
});
