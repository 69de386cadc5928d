import { ImgpipeError, type KafkaConnection } from '@imgpipe/core';
import { createKafka } from '@imgpipe/stream';
import { createLogger } from '@imgpipe/telemetry';
import type { Admin } from 'kafkajs';

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
    return await createMissing(admin, specs, options.replicationFactor ?? 1);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** How long `createMissing` keeps retrying what a broker that has just started answers as retriable. */
const SETTLE_MS = 60_000;

/**
 * Creates the missing topics and reads back their partition counts. A broker that has just started (or is busy
 * creating the topics it was just asked for) answers some requests with retriable errors: UNKNOWN_TOPIC_OR_PARTITION
 * for a topic whose metadata has not reached it yet, LEADER_NOT_AVAILABLE, NOT_CONTROLLER. kafkajs retries only some
 * of them inside createTopics, so the whole step is retried here until SETTLE_MS; creating is idempotent (a topic
 * created by an earlier attempt is listed as present and left alone).
 */
export async function createMissing(
  admin: Pick<Admin, 'listTopics' | 'createTopics' | 'fetchTopicMetadata'>,
  specs: readonly TopicSpec[],
  replicationFactor: number,
  settle: { deadlineMs?: number; pauseMs?: number } = {},
): Promise<TopicOutcome[]> {
  const existing = new Set(await admin.listTopics());
  const deadline = Date.now() + (settle.deadlineMs ?? SETTLE_MS);
  for (let attempt = 1; ; attempt += 1) {
    try {
      const present = attempt === 1 ? existing : new Set(await admin.listTopics());
      const missing = specs.filter((spec) => !present.has(spec.name));
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((spec) => ({
            topic: spec.name,
            numPartitions: spec.partitions,
            replicationFactor,
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
    } catch (error) {
      if (!isRetriable(error) || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min((settle.pauseMs ?? 250) * attempt, 2_000)));
    }
  }
}

/**
 * Worth another attempt: what kafkajs marks retriable, the two metadata errors of a topic still being set up, and a
 * topic that exists already (created by an earlier attempt, not yet listed then). kafkajs reports a createTopics
 * refusal per topic inside an aggregate error: retriable when every one is.
 */
function isRetriable(error: unknown): boolean {
  const { retriable, type, errors } = error as { retriable?: unknown; type?: unknown; errors?: unknown };
  if (Array.isArray(errors) && errors.length > 0) return errors.every(isRetriable);
  return (
    retriable === true ||
    type === 'UNKNOWN_TOPIC_OR_PARTITION' ||
    type === 'LEADER_NOT_AVAILABLE' ||
    type === 'TOPIC_ALREADY_EXISTS'
  );
}
