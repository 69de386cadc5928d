import { modelDuration } from '@imgpipe/telemetry';
import { Counter, Gauge, Histogram, register } from 'prom-client';

/**
 * The per-stage RED metrics every worker serves on /metrics. Registered once per process in prom-client's default
 * registry; the names are part of the operations contract (dashboards and alerts use them).
 */
function once<T>(name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}

export const stageMetrics = {
  processed: once(
    'imgpipe_messages_processed_total',
    () =>
      new Counter({
        name: 'imgpipe_messages_processed_total',
        help: 'Messages handled by a stage, by outcome (ok, failed, dead_lettered)',
        labelNames: ['stage', 'outcome'] as const,
      }),
  ),
  failed: once(
    'imgpipe_messages_failed_total',
    () =>
      new Counter({
        name: 'imgpipe_messages_failed_total',
        help: 'Handler failures (each attempt), by error code',
        labelNames: ['stage', 'code'] as const,
      }),
  ),
  deadLettered: once(
    'imgpipe_messages_dead_lettered_total',
    () =>
      new Counter({
        name: 'imgpipe_messages_dead_lettered_total',
        help: 'Messages sent to the dead-letter topic, by error code',
        labelNames: ['stage', 'code'] as const,
      }),
  ),
  duration: once(
    'imgpipe_processing_duration_seconds',
    () =>
      new Histogram({
        name: 'imgpipe_processing_duration_seconds',
        help: "Time from taking a message to committing it (in batches: the batch's time divided among its messages)",
        labelNames: ['stage'] as const,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      }),
  ),
  batchSize: once(
    'imgpipe_batch_messages',
    () =>
      new Histogram({
        name: 'imgpipe_batch_messages',
        help: 'Messages per batch handed to a batch handler (stages consumed in batches)',
        labelNames: ['stage'] as const,
        buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      }),
  ),
  batchDuration: once(
    'imgpipe_batch_duration_seconds',
    () =>
      new Histogram({
        name: 'imgpipe_batch_duration_seconds',
        help: 'Time from taking a batch to committing it (stages consumed in batches)',
        labelNames: ['stage'] as const,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      }),
  ),
  inFlight: once(
    'imgpipe_in_flight_messages',
    () =>
      new Gauge({
        name: 'imgpipe_in_flight_messages',
        help: 'Messages being processed now',
        labelNames: ['stage'] as const,
      }),
  ),
  /** Observed by the analysis handlers (@imgpipe/stages); defined in telemetry so handlers need no runtime. */
  modelDuration,
};

/** Consumer lag per partition, computed when Prometheus scrapes (high watermark minus committed offset). */
export function registerLagGauge(
  stage: string,
  measure: () => Promise<{ topic: string; partition: number; lag: number }[]>,
): void {
  const name = 'imgpipe_consumer_lag';
  const existing = register.getSingleMetric(name);
  if (existing) register.removeSingleMetric(name);
  new Gauge({
    name,
    help: "Messages in the stage's input partitions not yet committed by its consumer group",
    labelNames: ['stage', 'topic', 'partition'] as const,
    async collect() {
      this.reset();
      try {
        for (const { topic, partition, lag } of await measure()) {
          this.set({ stage, topic, partition: String(partition) }, lag);
        }
      } catch {
        // Lag is best-effort: a scrape during a broker outage reports no lag rather than failing the scrape.
      }
    },
  });
}
