/**
 * Sends the same request `count` times, one after another, from a worker thread of its own, so a benchmark's client
 * does not share the event loop of the API it measures (a real client runs elsewhere). Every answer must be 200 and,
 * when `expect` names a header, carry that header's value, so the figures cannot silently measure something else.
 * The client is http-post.ts's, on one kept-alive connection.
 */
import { parentPort, Worker } from 'node:worker_threads';
import { httpPost, keepAliveAgent } from './http-post.ts';

export interface RepeatedRequest {
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
  count: number;
  expect?: { header: string; value: string };
}

export interface RepeatedResult {
  latencies: number[];
  error?: string;
}

async function repeat(request: RepeatedRequest): Promise<RepeatedResult> {
  const latencies: number[] = [];
  const agent = keepAliveAgent(1);
  try {
    for (let i = 0; i < request.count; i += 1) {
      const started = performance.now();
      const response = await httpPost(agent, request.url, request.headers, request.body);
      latencies.push(performance.now() - started);
      if (response.status !== 200) return { latencies, error: `answered ${response.status}` };
      const { expect } = request;
      const got = response.headers[expect?.header.toLowerCase() ?? ''];
      if (expect && got !== expect.value) {
        return { latencies, error: `${expect.header}: ${String(got)}, expected ${expect.value}` };
      }
    }
    return { latencies };
  } finally {
    agent.destroy();
  }
}

/** Runs `request` in a new worker thread and returns each request's latency (ms). */
export async function repeatInWorker(request: RepeatedRequest): Promise<number[]> {
  const worker = new Worker(new URL(import.meta.url));
  try {
    const result = await new Promise<RepeatedResult>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage(request);
    });
    if (result.error) throw new Error(`POST ${new URL(request.url).pathname}: ${result.error}`);
    return result.latencies;
  } finally {
    await worker.terminate();
  }
}

parentPort?.on('message', (request: RepeatedRequest) => {
  repeat(request).then(
    (result) => parentPort!.postMessage(result),
    (error: unknown) => parentPort!.postMessage({ latencies: [], error: String(error) }),
  );
});
