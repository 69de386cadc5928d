import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { threadId } from 'node:worker_threads';
import { ImgpipeError } from '@imgpipe/core';
import type * as handlers from '../testing/pool-handlers.ts';
import { createInProcessExecutor, type StageExecutor } from './executor.ts';
import { handlerRef } from './handler-ref.ts';
import { createWorkerPool } from './worker-pool.ts';

const module = new URL('../testing/pool-handlers.ts', import.meta.url);
const sum = handlerRef<typeof handlers.sum>(module, 'sum');
const reverseBytes = handlerRef<typeof handlers.reverseBytes>(module, 'reverseBytes');
const failWith = handlerRef<typeof handlers.failWith>(module, 'failWith');
const throwPlain = handlerRef<typeof handlers.throwPlain>(module, 'throwPlain');
const exitThread = handlerRef<typeof handlers.exitThread>(module, 'exitThread');
const spin = handlerRef<typeof handlers.spin>(module, 'spin');

async function withPool<T>(size: number, body: (pool: ReturnType<typeof createWorkerPool>) => Promise<T>): Promise<T> {
  const pool = createWorkerPool({ size });
  try {
    return await body(pool);
  } finally {
    await pool.close();
  }
}

describe('executors', () => {
  test('the same handler gives the same result in process and on a worker thread', async () => {
    const inProcess: StageExecutor = createInProcessExecutor();
    await withPool(1, async (pool) => {
      const here = await inProcess.run(sum, [1, 2, 3]);
      const there = await pool.run(sum, [1, 2, 3]);
      assert.equal(here.total, 6);
      assert.equal(there.total, 6);
      assert.equal(here.threadId, threadId);
      assert.notEqual(there.threadId, threadId);
      const bytes = Uint8Array.from([1, 2, 3, 4]);
      assert.deepEqual(await pool.run(reverseBytes, bytes), await inProcess.run(reverseBytes, bytes));
      assert.deepEqual([...bytes], [1, 2, 3, 4], 'arguments are copied, not moved');
    });
  });

  test('ImgpipeErrors keep their code, retriable flag and details across the thread boundary', async () => {
    await withPool(1, async (pool) => {
      await assert.rejects(pool.run(failWith, 'STAGE_TRANSIENT', 'try later'), (error: unknown) => {
        assert.ok(error instanceof ImgpipeError);
        assert.equal(error.code, 'STAGE_TRANSIENT');
        assert.equal(error.retriable, true);
        assert.equal(error.message, 'try later');
        assert.deepEqual(error.details, { reason: 'test' });
        return true;
      });
      await assert.rejects(pool.run(throwPlain, 'plain failure'), { name: 'TypeError', message: 'plain failure' });
    });
  });

  test('a worker that dies fails only its task with STAGE_INTERNAL; the pool replaces it', async () => {
    await withPool(1, async (pool) => {
      const dying = pool.run(exitThread);
      const next = pool.run(sum, [40, 2]);
      await assert.rejects(dying, { code: 'STAGE_INTERNAL' });
      assert.equal((await next).total, 42);
    });
  });

  test('tasks spread over the workers, and close() lets queued work finish', async () => {
    const pool = createWorkerPool({ size: 2 });
    const results = Array.from({ length: 6 }, () => pool.run(spin, 2_000_000));
    const threads = Array.from({ length: 4 }, (_, i) => pool.run(sum, [i]));
    assert.equal(pool.stats().workers, 2);
    await pool.close();
    assert.equal(new Set((await Promise.all(results)).map(String)).size, 1);
    assert.equal((await Promise.all(threads)).length, 4);
    await assert.rejects(pool.run(sum, [1]), { code: 'STAGE_INTERNAL' });
  });
});
