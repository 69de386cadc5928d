/** What a run of requests took: its wall time and each request's latency (ms). */
export interface LoopResult {
  seconds: number;
  latencies: number[];
}

/** `count` calls of `work`, `concurrency` at a time (closed loop: each caller waits for its answer). */
export async function closedLoop(concurrency: number, count: number, work: () => Promise<void>): Promise<LoopResult> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < count) {
        const begin = performance.now();
        await work();
        latencies.push(performance.now() - begin);
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latencies };
}

/**
 * `rate` calls per second for `seconds`, each on its schedule whether or not earlier ones answered (open loop), with
 * latency from when each was due, so a late send counts against the server (no coordinated omission).
 */
export async function openLoop(rate: number, seconds: number, work: () => Promise<void>): Promise<LoopResult> {
  const count = Math.round(rate * seconds);
  const latencies: number[] = [];
  const started = performance.now();
  const sent: Promise<void>[] = [];
  for (let index = 0; index < count; index += 1) {
    const due = started + (index * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sent.push(work().then(() => void latencies.push(performance.now() - due)));
  }
  await Promise.all(sent);
  return { seconds: (performance.now() - started) / 1000, latencies };
}
