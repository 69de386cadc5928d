/**
 * The benchmark's HTTP client, in a worker thread of its own: clients of a real API run elsewhere, so the API's event
 * loop should not also pay for building requests and reading answers. The main thread asks for a run (closed loop at
 * a concurrency, or open loop at a rate) and gets back the latencies.
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

export interface ClientSetup {
  url: string;
  token: string;
  image: Uint8Array;
}

export type ClientRun =
  | { kind: 'closed'; concurrency: number; count: number }
  | { kind: 'open'; rate: number; seconds: number };

export interface ClientResult {
  seconds: number;
  latencies: number[];
  error?: string;
}

const { url, token, image } = workerData as ClientSetup;
// Every request carries different bytes (a suffix after the JPEG's end), so none is a duplicate.
const unique = () => Buffer.concat([image, Buffer.from(randomUUID())]);

async function upload(): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg' },
    body: unique(),
  });
  if (response.status !== 202) throw new Error(`upload answered ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

async function closed(concurrency: number, count: number): Promise<ClientResult> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < count) {
        const begin = performance.now();
        await upload();
        latencies.push(performance.now() - begin);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latencies };
}

/** Each request on its schedule whether or not earlier ones answered; latency from when it was due. */
async function open(rate: number, seconds: number): Promise<ClientResult> {
  const count = Math.round(rate * seconds);
  const latencies: number[] = [];
  const started = performance.now();
  const sent: Promise<void>[] = [];
  for (let index = 0; index < count; index += 1) {
    const due = started + (index * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sent.push(upload().then(() => void latencies.push(performance.now() - due)));
  }
  await Promise.all(sent);
  return { seconds: (performance.now() - started) / 1000, latencies };
}

parentPort!.on('message', (run: ClientRun) => {
  const work = run.kind === 'closed' ? closed(run.concurrency, run.count) : open(run.rate, run.seconds);
  work.then(
    (result) => parentPort!.postMessage(result),
    (error: unknown) => parentPort!.postMessage({ seconds: 0, latencies: [], error: String(error) }),
  );
});
