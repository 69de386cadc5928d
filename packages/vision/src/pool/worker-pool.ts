/**
 * A pool of worker threads running stage handlers (see handler-ref.ts) off the main event loop.
 *
 * API:
 *   const pool = createWorkerPool({ size?: number });   // size defaults to the CPUs available (cgroup-aware)
 *   await pool.run(handlerRef, ...args);                // queued FIFO; one task per worker at a time
 *   await pool.close();                                 // lets queued work finish, then terminates the threads
 *
 * Why threads and not just async: onnxruntime-node 1.30 runs InferenceSession.run synchronously on the calling
 * thread (the promise only defers the start with setImmediate), so inference on the main thread blocks the event
 * loop for the whole run. Each worker keeps its own model sessions (per-thread caches in models/).
 * Arguments and results are structured-cloned; ImgpipeErrors cross the boundary with their code and details.
 * A worker that dies fails its task with STAGE_INTERNAL and is replaced; the queue keeps going.
 */
import { Worker } from 'node:worker_threads';
import { ImgpipeError } from '@imgpipe/core';
import { availableCpus } from '../cpu.ts';
import type { StageExecutor } from './executor.ts';
import type { HandlerArgs, HandlerRef, HandlerResult, StageFunction } from './handler-ref.ts';
import { fromWireError } from './wire-error.ts';
import type { TaskMessage, TaskReply } from './worker-protocol.ts';

export interface WorkerPoolOptions {
  /** Worker threads; defaults to the CPUs this process may use. */
  size?: number;
}

export interface WorkerPool extends StageExecutor {
  readonly mode: 'worker-pool';
  /** Threads started so far, tasks running and waiting. */
  stats(): { workers: number; running: number; queued: number };
}

interface Task {
  message: TaskMessage;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  task: Task | undefined;
}

const WORKER_ENTRY = new URL('./worker-entry.ts', import.meta.url);

export function createWorkerPool(options: WorkerPoolOptions = {}): WorkerPool {
  const size = Math.max(1, Math.floor(options.size ?? availableCpus()));
  const slots: Slot[] = [];
  const queue: Task[] = [];
  let nextId = 1;
  let closing: Promise<void> | undefined;
  let drained: (() => void) | undefined;

  function spawn(): Slot {
    const worker = new Worker(WORKER_ENTRY, { name: 'imgpipe-vision' });
    const slot: Slot = { worker, task: undefined };
    worker.on('message', (reply: TaskReply) => {
      const task = slot.task;
      if (!task || task.message.id !== reply.id) return;
      slot.task = undefined;
      if (reply.ok) task.resolve(reply.value);
      else task.reject(fromWireError(reply.error));
      dispatch();
    });
    worker.on('error', (error) => fail(slot, `a vision worker thread crashed: ${error.message}`, error));
    worker.on('exit', (code) => fail(slot, `a vision worker thread exited with code ${code}`));
    slots.push(slot);
    return slot;
  }

  function fail(slot: Slot, message: string, cause?: unknown): void {
    const index = slots.indexOf(slot);
    if (index < 0) return;
    slots.splice(index, 1);
    const task = slot.task;
    slot.task = undefined;
    task?.reject(new ImgpipeError('STAGE_INTERNAL', message, cause === undefined ? undefined : { cause }));
    dispatch();
  }

  function dispatch(): void {
    while (queue.length > 0) {
      const slot =
        slots.find((candidate) => candidate.task === undefined) ?? (slots.length < size ? spawn() : undefined);
      if (!slot) break;
      const task = queue.shift()!;
      slot.task = task;
      slot.worker.ref();
      try {
        slot.worker.postMessage(task.message);
      } catch (error) {
        slot.task = undefined;
        task.reject(
          new ImgpipeError('STAGE_INTERNAL', `could not send a task to a worker: ${(error as Error).message}`),
        );
      }
    }
    // Idle threads must not keep a finished CLI process alive.
    for (const slot of slots) if (slot.task === undefined) slot.worker.unref();
    if (drained && queue.length === 0 && slots.every((slot) => slot.task === undefined)) drained();
  }

  return {
    mode: 'worker-pool',
    concurrency: size,
    run<F extends StageFunction>(handler: HandlerRef<F>, ...args: HandlerArgs<F>): Promise<HandlerResult<F>> {
      if (closing) return Promise.reject(new ImgpipeError('STAGE_INTERNAL', 'the vision worker pool is closed'));
      return new Promise<HandlerResult<F>>((resolve, reject) => {
        queue.push({
          message: { id: nextId++, module: handler.module, name: handler.name, args },
          resolve: resolve as (value: unknown) => void,
          reject,
        });
        dispatch();
      });
    },
    close() {
      closing ??= (async () => {
        if (queue.length > 0 || slots.some((slot) => slot.task !== undefined)) {
          await new Promise<void>((resolve) => {
            drained = resolve;
          });
        }
        const workers = slots.splice(0).map((slot) => slot.worker);
        await Promise.all(workers.map((worker) => worker.terminate()));
      })();
      return closing;
    },
    stats() {
      return {
        workers: slots.length,
        running: slots.filter((slot) => slot.task !== undefined).length,
        queued: queue.length,
      };
    },
  };
}
