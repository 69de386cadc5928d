/**
 * Where stage handlers run. Two implementations with one contract, so the in-process runner (`imgpipe analyze`)
 * and the Kafka workers call the same handlers the same way:
 *   createInProcessExecutor()            runs the handler on this thread (tests, one-off CLI work);
 *   createWorkerPool({ size })           runs it on a worker thread, keeping this event loop free (pool/worker-pool.ts).
 *
 *   const result = await executor.run(detectObjectsHandler, image, options);
 */
import {
  type HandlerArgs,
  type HandlerRef,
  type HandlerResult,
  resolveHandler,
  type StageFunction,
} from './handler-ref.ts';

export interface StageExecutor {
  readonly mode: 'in-process' | 'worker-pool';
  /** How many handlers may run at once. */
  readonly concurrency: number;
  run<F extends StageFunction>(handler: HandlerRef<F>, ...args: HandlerArgs<F>): Promise<HandlerResult<F>>;
  /** Lets queued work finish, then frees threads. */
  close(): Promise<void>;
}

export function createInProcessExecutor(): StageExecutor {
  return {
    mode: 'in-process',
    concurrency: 1,
    async run(handler, ...args) {
      const fn = await resolveHandler(handler);
      return (await fn(...args)) as never;
    },
    async close() {},
  };
}
