import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ImgpipeError } from '@imgpipe/core';
import type { Admin, Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';

/**
 * The stage control channel: one compacted Kafka topic that carries, per stage, whether it is paused and which
 * model its workers run. Every stage process reads it from the beginning with its own consumer group that never
 * commits (so it always sees the whole compacted state), and keeps watching it; `imgpipe stage pause|resume` and
 * the admin API write to it.
 *
 * Why Kafka and not a PostgreSQL or Redis flag: every worker already talks to Kafka and to nothing else in common
 * (only the results service reaches PostgreSQL, only aggregate Redis), so the channel adds no dependency to any
 * worker; a change reaches every replica within one fetch instead of one polling interval, with no polling load;
 * and compaction keeps the latest record per key for good, so a worker started or restarted while its stage is
 * paused reads that before it consumes anything. The cost: each worker holds one extra short-lived consumer group
 * (deleted when it stops), and the topic is an internal one the workers create (compacted, one partition) if the
 * cluster does not have it yet, as Kafka Connect and the schema registry do for theirs.
 */
export const CONTROL_TOPIC = 'imgpipe.control';

export interface ModelIdentityRecord {
  name: string;
  version: string;
  sha256: string;
}

export interface PauseRecord {
  kind: 'pause';
  stage: string;
  paused: boolean;
  /** Epoch milliseconds. */
  at: number;
  by?: string;
}

export interface ModelRecord {
  kind: 'model';
  stage: string;
  model: ModelIdentityRecord;
  at: number;
  host: string;
}

export type ControlRecord = PauseRecord | ModelRecord;

export interface ControlState {
  pauses: Map<string, PauseRecord>;
  models: Map<string, ModelRecord>;
}

/** The compaction key of a record: the latest pause and the latest model of each stage survive. */
export function controlKey(record: Pick<ControlRecord, 'kind' | 'stage'>): string {
  return `${record.kind}/${record.stage}`;
}

/** A control record from a message value; undefined for anything else (a foreign or damaged record is ignored). */
export function parseControlRecord(value: Buffer | null): ControlRecord | undefined {
  if (!value || value.length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const record = parsed as Record<string, unknown>;
  if (typeof record.stage !== 'string' || typeof record.at !== 'number') return undefined;
  if (record.kind === 'pause' && typeof record.paused === 'boolean') return record as unknown as PauseRecord;
  if (record.kind === 'model') {
    const model = record.model as Record<string, unknown> | undefined;
    if (typeof model?.name === 'string' && typeof model.version === 'string' && typeof model.sha256 === 'string') {
      return record as unknown as ModelRecord;
    }
  }
  return undefined;
}

export function emptyControlState(): ControlState {
  return { pauses: new Map(), models: new Map() };
}

/** Folds one record into the state (later records replace earlier ones of the same key, as compaction does). */
export function applyControlRecord(state: ControlState, record: ControlRecord): void {
  if (record.kind === 'pause') state.pauses.set(record.stage, record);
  else state.models.set(record.stage, record);
}

/** Creates the control topic if the cluster lacks it: compacted, one partition (its order is the order of changes). */
export async function ensureControlTopic(admin: Admin, replicationFactor = 1): Promise<void> {
  if ((await admin.listTopics()).includes(CONTROL_TOPIC)) return;
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: CONTROL_TOPIC,
          numPartitions: 1,
          replicationFactor,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'min.compaction.lag.ms', value: '60000' },
          ],
        },
      ],
    });
  } catch (error) {
    // Another process created it meanwhile.
    if (!(await admin.listTopics()).includes(CONTROL_TOPIC)) throw error;
  }
}

/** Writes control records (acks from every in-sync replica, so a pause that was acknowledged is not lost). */
export async function publishControl(producer: Producer, records: readonly ControlRecord[]): Promise<void> {
  await producer.send({
    topic: CONTROL_TOPIC,
    acks: -1,
    messages: records.map((record) => ({ key: controlKey(record), value: JSON.stringify(record) })),
  });
}

/**
 * Follows the control topic from its beginning with a consumer group of its own that commits nothing: `start`
 * resolves once everything the topic held when it began has been read, then every later record is applied as it
 * comes and reported to `onRecord`.
 */
export class ControlWatcher {
  readonly state = emptyControlState();
  readonly #kafka: Kafka;
  readonly #groupId: string;
  readonly #onRecord: (record: ControlRecord) => void;
  #consumer: Consumer | undefined;

  constructor(options: { kafka: Kafka; name: string; onRecord?: (record: ControlRecord) => void }) {
    this.#kafka = options.kafka;
    this.#groupId = `imgpipe.control.${options.name}.${hostname()}.${process.pid}.${randomUUID().slice(0, 8)}`;
    this.#onRecord = options.onRecord ?? (() => {});
  }

  get groupId(): string {
    return this.#groupId;
  }

  async start(timeoutMs = 30_000): Promise<void> {
    const admin = this.#kafka.admin();
    await admin.connect();
    let end: bigint;
    try {
      await ensureControlTopic(admin);
      const [offsets] = await admin.fetchTopicOffsets(CONTROL_TOPIC);
      end = offsets && BigInt(offsets.high) > BigInt(offsets.low) ? BigInt(offsets.high) : 0n;
    } finally {
      await admin.disconnect();
    }
    const consumer = this.#kafka.consumer({
      groupId: this.#groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 500,
    });
    this.#consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [CONTROL_TOPIC], fromBeginning: true });
    let caughtUp: () => void = () => {};
    const reachedEnd = new Promise<void>((resolve) => {
      caughtUp = resolve;
    });
    if (end === 0n) caughtUp();
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        this.#apply(message);
        if (BigInt(message.offset) + 1n >= end) caughtUp();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ImgpipeError(
              'KAFKA_UNAVAILABLE',
              `the control topic ${CONTROL_TOPIC} was not read within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([reachedEnd, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Leaves and deletes the watcher's consumer group (it holds no offsets worth keeping). */
  async stop(): Promise<void> {
    const consumer = this.#consumer;
    this.#consumer = undefined;
    if (!consumer) return;
    await consumer.disconnect().catch(() => {});
    const admin = this.#kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([this.#groupId]);
    } catch {
      // the broker expires an empty group by itself
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  #apply(message: KafkaMessage): void {
    const record = parseControlRecord(message.value);
    if (!record) return;
    applyControlRecord(this.state, record);
    this.#onRecord(record);
  }
}

/** The control topic's current state, read to its end once (for the CLI and the admin API). */
export async function readControlState(kafka: Kafka, name = 'reader'): Promise<ControlState> {
  const watcher = new ControlWatcher({ kafka, name });
  try {
    await watcher.start();
    return watcher.state;
  } finally {
    await watcher.stop();
  }
}
