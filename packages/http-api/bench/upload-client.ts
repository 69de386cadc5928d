/**
 * The benchmark's HTTP client, in a worker thread of its own: clients of a real API run elsewhere, so the API's event
 * loop should not also pay for building requests and reading answers. The main thread asks for a run (closed loop at
 * a concurrency, or open loop at a rate) and gets back the latencies. Requests go through http-post.ts's client.
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { httpPost, keepAliveAgent } from './http-post.ts';
import { closedLoop, type LoopResult, openLoop } from './load-loops.ts';

export interface ClientSetup {
  url: string;
  token: string;
  image: Uint8Array;
}

export type ClientRun =
  | { kind: 'closed'; concurrency: number; count: number }
  | { kind: 'open'; rate: number; seconds: number };

export interface ClientResult extends LoopResult {
  /** CPU time of this thread during the run: the load generator's share of the benchmark process. */
  clientCpuMs: number;
  error?: string;
}

const { url, token, image } = workerData as ClientSetup;
// Every request carries different bytes (a suffix after the JPEG's end), so none is a duplicate.
const unique = () => Buffer.concat([image, Buffer.from(randomUUID())]);

// Kept-alive connections, as many as the run keeps in flight (an open loop may need more than its rate's share).
const agent = keepAliveAgent(Number.POSITIVE_INFINITY);
const headers = { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg' };

async function upload(): Promise<void> {
  const response = await httpPost(agent, url, headers, unique());
  if (response.status !== 202) throw new Error(`upload answered ${response.status}: ${response.body.toString('utf8')}`);
}

const threadCpuMs = () => {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
};

parentPort!.on('message', (run: ClientRun) => {
  const cpuBefore = threadCpuMs();
  const work =
    run.kind === 'closed' ? closedLoop(run.concurrency, run.count, upload) : openLoop(run.rate, run.seconds, upload);
  work.then(
    (result) => parentPort!.postMessage({ ...result, clientCpuMs: threadCpuMs() - cpuBefore }),
    (error: unknown) => parentPort!.postMessage({ seconds: 0, latencies: [], clientCpuMs: 0, error: String(error) }),
  );
});
