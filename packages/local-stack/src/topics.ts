import { ImgpipeError, type KafkaConnection } from '@imgpipe/core';
import { createKafka } from '@imgpipe/stream';
import { createLogger } from '@imgpipe/telemetry';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly retentionMs: number;
}

export interface TopicOutcome extends TopicSpec {
  readonly state: 'created' | 'exists';
  /** The partition count the topic really has (an existing topic keeps its own). */
  readonly actualPartitions: number;
}

/**
 * Pipeline topics keep a week, which is enough to replay or redrive; dead-letter topics keep a month, so a failure
 * found late can still be inspected and redriven.
 */
export function retentionFor(topic: string): number {
  return topic.endsWith('.dlq') ? 30 * DAY_MS : 7 * DAY_MS;
}

export function topicSpecs(names: readonly string[], partitions: number): TopicSpec[] {
  return names.map((name) => ({ name, partitions, retentionMs: retentionFor(name) }));
}

/** Creates each topic that is missing; existing topics are left as they are. Replication factor 1 (one broker). */
export async function ensureTopics(
  connection: KafkaConnection,
  specs: readonly TopicSpec[],
  options: { replicationFactor?: number } = {},
): Promise<TopicOutcome[]> {
  const brokers = connection.kafkaBrokers;
  const admin = createKafka({
    connection,
    clientId: 'imgpipe-topics',
    logger: createLogger('imgpipe-topics', 'silent'),
    tuning: { connectionTimeout: 5000, requestTimeout: 30_000, retry: { retries: 3 } },
  }).admin();
  try {
    await admin.connect();
  } catch (error) {
    throw new ImgpipeError('KAFKA_UNAVAILABLE', `cannot reach Kafka at ${brokers}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((spec) => ({
          topic: spec.name,
          numPartitions: spec.partitions,
          replicationFactor: options.replicationFactor ?? 1,
          configEntries: [{ name: 'retention.ms', value: String(spec.retentionMs) }],
        })),
      });
    }
    const metadata = await admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.name) });
    const partitionCounts = new Map(metadata.topics.map((topic) => [topic.name, topic.partitions.length]));
    return specs.map((spec) => ({
      ...spec,
      state: existing.has(spec.name) ? 'exists' : 'created',
      actualPartitions: partitionCounts.get(spec.name) ?? 0,
    }));
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
