import {
  consumerGroupFor,
  deadLetterTopicFor,
  RESULTS_INPUTS,
  STAGE_INPUTS,
  type WorkerStageName,
} from '@imgpipe/contracts';
import { measureGroupProgress } from '@imgpipe/stream/progress';
import type { Admin, Kafka } from 'kafkajs';

/**
 * A stage's throughput, lag and error rate, read from Kafka itself: the consumer group's committed offsets against
 * the end offsets of its input topics (lag, and the position that grows by one per message the stage finishes) and
 * the end offsets of its dead-letter topic (every message it gave up on). Kafka is the one source every replica of
 * every stage reports to, so nothing needs scraping: an API replica needs only the Kafka access it already has.
 */
export interface StageMetrics {
  /** Messages on the stage's input topics its group has not committed yet. */
  lag: number;
  /** Messages the stage's dead-letter topic has received (the sum of its partitions' end offsets). */
  deadLetters: number;
  /** Messages committed per second over `windowSeconds` (absent until the API has two readings). */
  throughputPerSecond?: number;
  /** Dead letters per message committed over `windowSeconds` (absent when nothing was committed). */
  errorRate?: number;
  windowSeconds?: number;
}

export interface StageReading {
  at: number;
  lag: number;
  position: bigint;
  deadLetters: number;
}

/** Readings older than this are dropped; rates cover the span from the oldest reading kept to the newest. */
export const METRICS_WINDOW_MS = 5 * 60_000;

/** The figures of the newest reading, with rates over the span from `oldest` (when there is a span). */
export function stageMetrics(oldest: StageReading, newest: StageReading): StageMetrics {
  const figures: StageMetrics = { lag: newest.lag, deadLetters: newest.deadLetters };
  const seconds = (newest.at - oldest.at) / 1000;
  if (seconds <= 0) return figures;
  const committed = Number(newest.position - oldest.position);
  const deadLettered = newest.deadLetters - oldest.deadLetters;
  return {
    ...figures,
    windowSeconds: Math.round(seconds),
    throughputPerSecond: Math.max(0, committed) / seconds,
    ...(committed > 0 ? { errorRate: Math.min(1, Math.max(0, deadLettered) / committed) } : {}),
  };
}

async function deadLetterCount(admin: Admin, topic: string): Promise<number> {
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, entry) => sum + Number(entry.high), 0);
  } catch {
    return 0; // the topic was never created: nothing was dead-lettered
  }
}

/** Reads the stages' figures from Kafka on demand and keeps recent readings in memory for the rates. */
export class StageMetricsSampler {
  readonly #kafka: Kafka;
  readonly #history = new Map<string, StageReading[]>();

  constructor(kafka: Kafka) {
    this.#kafka = kafka;
  }

  async read(stages: readonly (WorkerStageName | 'results')[]): Promise<Map<string, StageMetrics>> {
    const admin = this.#kafka.admin();
    await admin.connect();
    const out = new Map<string, StageMetrics>();
    try {
      for (const stage of stages) {
        const inputs = stage === 'results' ? RESULTS_INPUTS : STAGE_INPUTS[stage];
        const measured = await Promise.all([
          measureGroupProgress(admin, consumerGroupFor(stage), inputs),
          deadLetterCount(admin, deadLetterTopicFor(stage)),
        ]).catch(() => undefined); // e.g. an input topic not created yet: this stage has no figures, the others do
        if (!measured) continue;
        const [progress, deadLetters] = measured;
        const now = Date.now();
        const reading = { at: now, lag: progress.lag, position: progress.position, deadLetters };
        const kept = [...(this.#history.get(stage) ?? []), reading].filter((r) => now - r.at <= METRICS_WINDOW_MS);
        this.#history.set(stage, kept);
        out.set(stage, stageMetrics(kept[0]!, reading));
      }
    } finally {
      await admin.disconnect();
    }
    return out;
  }
}
