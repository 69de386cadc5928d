/**
 * Sends the same request `count` times, one after another, from a worker thread of its own, so a benchmark's client
 * does not share the event loop of the API it measures (a real client runs elsewhere). Every answer must be 200 and,
 * when `expect` names a header, carry that header's value, so the figures cannot silently measure something else.
 * The client is node:http on one kept-alive connection: fetch (undici's web streams) spent more CPU per request
 * than the route it measured, on the same two cores.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { parentPort, Worker } from 'node:worker_threads';

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

/** One POST; resolves once the whole answer is read. */
function post(
  agent: Agent,
  request: RepeatedRequest,
): Promise<{ status: number; headers: IncomingHttpHeaders; bytes: number }> {
  return new Promise((resolve, reject) => {
    const sent = httpRequest(
      request.url,
      {
        method: 'POST',
        agent,
        headers: { ...request.headers, 'content-length': String(request.body.byteLength) },
      },
      (response) => {
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.byteLength;
        });
        response.once('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, bytes }));
        response.once('error', reject);
      },
    );
    sent.once('error', reject);
    sent.end(request.body);
  });
}

async function repeat(request: RepeatedRequest): Promise<RepeatedResult> {
  const latencies: number[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < request.count; i += 1) {
      const started = performance.now();
      const response = await post(agent, request);
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
