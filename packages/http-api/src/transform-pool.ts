/**
 * Transforms off the event loop. libvips work is already asynchronous (sharp runs it on libuv's threads), but some
 * steps of a recipe are JavaScript on raw pixels (edge detection, pixelate, the BMP encoder, flattening alpha), and
 * one of those on a large image would hold the API's event loop for as long as it takes. So every transform runs
 * in a small pool of worker threads: one request per thread at a time, the rest queued in order. Errors cross back
 * with their catalogue code; a thread that dies fails its request with TRANSFORM_FAILED and is replaced.
 */
import { Worker } from 'node:worker_threads';
import { ImgpipeError, isErrorCode } from '@imgpipe/core';
import type { ApplyOptions, Detections, Recipe, TransformResult } from '@imgpipe/imaging';

export interface TransformTask {
  id: number;
  input: Uint8Array;
  recipe: Recipe;
  options: Omit<ApplyOptions, 'detections'> & { detections?: Detections };
}

export type TransformReply =
  | { id: number; ok: true; result: TransformResult }
  | { id: number; ok: false; error: { code?: string; message: string; details?: Record<string, unknown> } };

interface Pending {
  task: TransformTask;
  resolve(result: TransformResult): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  pending: Pending | undefined;
}

const ENTRY = new URL('./transform-worker.ts', import.meta.url);

export class TransformPool {
  readonly size: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Pending[] = [];
  #nextId = 1;
  #closed = false;

  constructor(size: number) {
    this.size = Math.max(1, Math.floor(size));
  }

  run(input: Uint8Array, recipe: Recipe, options: TransformTask['options'] = {}): Promise<TransformResult> {
    if (this.#closed) return Promise.reject(new ImgpipeError('TRANSFORM_FAILED', 'the transform pool is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ task: { id: this.#nextId++, input, recipe, options }, resolve, reject });
      this.#dispatch();
    });
  }

  /** Threads started, requests running and waiting. */
  stats(): { workers: number; running: number; queued: number } {
    return {
      workers: this.#slots.length,
      running: this.#slots.filter((slot) => slot.pending).length,
      queued: this.#queue.length,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const pending of this.#queue.splice(0)) {
      pending.reject(new ImgpipeError('TRANSFORM_FAILED', 'the API is stopping'));
    }
    await Promise.all(this.#slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  #spawn(): Slot {
    const slot: Slot = { worker: new Worker(ENTRY, { name: 'imgpipe-transform' }), pending: undefined };
    slot.worker.on('message', (reply: TransformReply) => {
      const pending = slot.pending;
      if (!pending || pending.task.id !== reply.id) return;
      slot.pending = undefined;
      if (reply.ok)
        pending.resolve({
          ...reply.result,
          bytes: Buffer.from(reply.result.bytes.buffer, reply.result.bytes.byteOffset, reply.result.bytes.byteLength),
        });
      else pending.reject(fromWire(reply.error));
      this.#dispatch();
    });
    slot.worker.on('error', (error) => this.#lost(slot, `a transform thread crashed: ${error.message}`));
    slot.worker.on('exit', (code) => this.#lost(slot, `a transform thread exited with code ${code}`));
    this.#slots.push(slot);
    return slot;
  }

  #lost(slot: Slot, message: string): void {
    const index = this.#slots.indexOf(slot);
    if (index < 0) return;
    this.#slots.splice(index, 1);
    slot.pending?.reject(new ImgpipeError('TRANSFORM_FAILED', message));
    slot.pending = undefined;
    this.#dispatch();
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      const slot =
        this.#slots.find((candidate) => !candidate.pending) ??
        (this.#slots.length < this.size ? this.#spawn() : undefined);
      if (!slot) break;
      const pending = this.#queue.shift()!;
      slot.pending = pending;
      slot.worker.ref();
      slot.worker.postMessage(pending.task);
    }
    for (const slot of this.#slots) if (!slot.pending) slot.worker.unref();
  }
}

function fromWire(error: { code?: string; message: string; details?: Record<string, unknown> }): Error {
  if (error.code && isErrorCode(error.code)) {
    return new ImgpipeError(error.code, error.message, error.details ? { details: error.details } : undefined);
  }
  return new ImgpipeError('TRANSFORM_FAILED', `the transform failed: ${error.message}`);
}
