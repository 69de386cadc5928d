/** A thread of the transform pool (transform-pool.ts): runs applyRecipe for one request at a time. */
import { parentPort } from 'node:worker_threads';
import { ImgpipeError } from '@imgpipe/core';
import { applyRecipe } from '@imgpipe/imaging';
import type { TransformReply, TransformTask } from './transform-pool.ts';

if (!parentPort) throw new Error('transform-worker.ts must run as a worker thread');
const port = parentPort;

port.on('message', async (task: TransformTask) => {
  let reply: TransformReply;
  try {
    const result = await applyRecipe(task.input, task.recipe, task.options);
    // sharp's buffers live outside the JavaScript heap and cannot be transferred: the reply copies them once.
    reply = { id: task.id, ok: true, result };
  } catch (error) {
    reply = {
      id: task.id,
      ok: false,
      error:
        error instanceof ImgpipeError
          ? { code: error.code, message: error.message, ...(error.details ? { details: { ...error.details } } : {}) }
          : { message: error instanceof Error ? error.message : String(error) },
    };
  }
  port.postMessage(reply);
});
