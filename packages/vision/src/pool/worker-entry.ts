/** The worker thread of the pool: imports the named handler once and runs one task at a time. */
import { parentPort } from 'node:worker_threads';
import { resolveHandler } from './handler-ref.ts';
import type { TaskMessage, TaskReply } from './worker-protocol.ts';
import { toWireError } from './wire-error.ts';

if (!parentPort) throw new Error('worker-entry.ts must run as a worker thread');
const port = parentPort;

port.on('message', async (task: TaskMessage) => {
  let reply: TaskReply;
  try {
    const fn = await resolveHandler({ module: task.module, name: task.name });
    reply = { id: task.id, ok: true, value: await fn(...task.args) };
  } catch (error) {
    reply = { id: task.id, ok: false, error: toWireError(error) };
  }
  try {
    port.postMessage(reply);
  } catch (error) {
    port.postMessage({ id: task.id, ok: false, error: toWireError(error) } satisfies TaskReply);
  }
});
