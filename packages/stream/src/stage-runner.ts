import { setTimeout as delay } from 'node:timers/promises';
import { ImgpipeError, toImgpipeError } from '@imgpipe/core';
import { extractTraceContext, injectTraceContext, inSpan, type Logger, traceIdOf } from '@imgpipe/telemetry';
import { SpanKind } from '@opentelemetry/api';
import type { Admin, Consumer, EachMessagePayload, Kafka, Message, Producer } from 'kafkajs';
import { ConsumerHealth } from './consumer-health.ts';
import { deadLetterHeaders, toDeadLetter } from './dead-letter.ts';
import type { DecodedMessage, MessageCodec } from './message-codec.ts';
import { registerLagGauge, stageMetrics } from './metrics.ts';
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.ts';
import type { OutputEvent, Stage, StageContext } from './stage.ts';

export interface StageRunnerOptions {
  kafka: Kafka;
  codec: MessageCodec;
  stage: Stage;
  logger: Logger;
  /** Partitions processed at once; within a partition messages run one at a time, so order per key holds. */
  concurrency?: number;
  retry?: RetryPolicy;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Start a new consumer group at the earliest offset (KEDA's offsetResetPolicy must match). */
  fromBeginning?: boolean;
}

/**
 * Runs one stage as a Kafka consumer group. For each message: decode, call the handler, produce its outputs with
 * the same key, and only then commit the input offset (at-least-once delivery; sinks make effects idempotent).
 * Transient failures retry with backoff while that partition waits; deterministic ones, and transient ones out of
 * attempts, go to the stage's dead-letter topic with the original bytes and headers, so a poison message never
 * blocks its partition. Heartbeats continue during long handlers, so slow inference causes no rebalance.
 */
export class StageRunner {
  readonly health = new ConsumerHealth();
  readonly #options: Required<Omit<StageRunnerOptions, 'retry'>> & { retry: RetryPolicy };
  readonly #consumer: Consumer;
  readonly #producer: Producer;
  readonly #admin: Admin;
  readonly #abort = new AbortController();
  #inFlight = 0;

  constructor(options: StageRunnerOptions) {
    this.#options = {
      concurrency: 2,
      sessionTimeoutMs: 30_000,
      heartbeatIntervalMs: 3_000,
      fromBeginning: true,
      ...options,
      retry: options.retry ?? DEFAULT_RETRY_POLICY,
    };
    const { kafka, stage, sessionTimeoutMs, heartbeatIntervalMs } = this.#options;
    this.#consumer = kafka.consumer({
      groupId: stage.groupId,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: heartbeatIntervalMs,
      rebalanceTimeout: Math.max(60_000, sessionTimeoutMs * 2),
      allowAutoTopicCreation: false,
    });
    this.#producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    this.#admin = kafka.admin();
    this.health.watch(this.#consumer);
  }

  get groupId(): string {
    return this.#options.stage.groupId;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  async start(): Promise<void> {
    const { stage, concurrency, fromBeginning } = this.#options;
    await Promise.all([this.#producer.connect(), this.#admin.connect()]);
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: [...stage.inputs], fromBeginning });
    registerLagGauge(stage.name, () => this.#measureLag());
    await this.#consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: concurrency,
      eachMessage: (payload) => this.#process(payload),
    });
  }

  /**
   * Graceful stop: no new fetches, in-flight handlers finish (or the deadline passes), their offsets are committed,
   * and the consumer leaves the group so its partitions move at once instead of after the session timeout.
   */
  async stop(deadlineMs = 25_000): Promise<{ timedOut: boolean }> {
    this.health.stopping();
    this.#abort.abort();
    const stopped = (async () => {
      await this.#consumer.disconnect();
      await Promise.all([this.#producer.disconnect(), this.#admin.disconnect()]);
    })();
    const outcome = await Promise.race([stopped.then(() => 'stopped' as const), delay(deadlineMs, 'timeout' as const)]);
    return { timedOut: outcome === 'timeout' };
  }

  async #process(payload: EachMessagePayload): Promise<void> {
    const { stage } = this.#options;
    const { topic, partition, message } = payload;
    const started = process.hrtime.bigint();
    this.#inFlight += 1;
    stageMetrics.inFlight.inc({ stage: stage.name });
    try {
      await inSpan(
        `process ${topic}`,
        {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': topic,
          'messaging.destination.partition.id': String(partition),
          'messaging.consumer.group.name': stage.groupId,
          'messaging.kafka.offset': Number(message.offset),
          ...(message.key ? { 'messaging.kafka.message.key': message.key.toString() } : {}),
          'imgpipe.stage': stage.name,
        },
        () => this.#processInSpan(payload),
        { parent: extractTraceContext(message.headers), kind: SpanKind.CONSUMER },
      );
      await this.#commit(topic, partition, message.offset);
    } finally {
      this.#inFlight -= 1;
      stageMetrics.inFlight.dec({ stage: stage.name });
      stageMetrics.duration.observe({ stage: stage.name }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  async #processInSpan(payload: EachMessagePayload): Promise<void> {
    const { stage, retry } = this.#options;
    const { topic, partition, message } = payload;
    const key = message.key?.toString();
    const logger = this.#options.logger.child({
      stage: stage.name,
      topic,
      partition,
      offset: message.offset,
      ...(key ? { imageId: key } : {}),
    });
    let decoded: DecodedMessage | undefined;
    for (let attempt = 1; ; attempt += 1) {
      const ctx: StageContext = {
        logger,
        attempt,
        signal: this.#abort.signal,
        source: { topic, partition, offset: message.offset, key },
      };
      try {
        decoded ??= await this.#decode(message.value);
        const outputs = await this.#withHeartbeats(payload, stage.handle(decoded, ctx));
        await this.#produce(outputs);
        if (outputs.length > 0) await stage.onOutputsDurable?.(decoded, outputs, ctx);
        stageMetrics.processed.inc({ stage: stage.name, outcome: 'ok' });
        return;
      } catch (thrown) {
        const error = toImgpipeError(thrown);
        stageMetrics.failed.inc({ stage: stage.name, code: error.code });
        const outOfAttempts = attempt >= retry.maxAttempts;
        if (error.retriable && !outOfAttempts && !this.#abort.signal.aborted) {
          const wait = backoffDelay(retry, attempt);
          logger.warn(
            { code: error.code, attempt, retryInMs: wait, err: error.message },
            'transient failure, retrying',
          );
          await this.#withHeartbeats(
            payload,
            delay(wait, undefined, { signal: this.#abort.signal }).catch(() => {}),
          );
          if (this.#abort.signal.aborted) throw error; // shutting down: leave the message uncommitted for redelivery
          continue;
        }
        if (error.retriable && this.#abort.signal.aborted) throw error;
        await this.#fail(payload, decoded, error, ctx);
        return;
      }
    }
  }

  async #fail(
    payload: EachMessagePayload,
    decoded: DecodedMessage | undefined,
    error: ImgpipeError,
    ctx: StageContext,
  ): Promise<void> {
    const { stage } = this.#options;
    ctx.logger.error({ code: error.code, attempt: ctx.attempt, err: error.message }, 'message failed, dead-lettering');
    const outcomes = decoded && stage.onFailure ? await stage.onFailure(decoded, error, ctx) : [];
    const letter = toDeadLetter({
      stage: stage.name,
      error,
      attempt: ctx.attempt,
      traceId: traceIdOf(),
      tenantId: tenantOf(decoded),
      topic: payload.topic,
      partition: payload.partition,
      message: payload.message,
    });
    await this.#produce([
      ...outcomes,
      {
        topic: stage.deadLetterTopic,
        eventType: 'DeadLetter',
        key: ctx.source.key ?? '',
        value: letter,
        headers: deadLetterHeaders(letter),
      },
    ]);
    stageMetrics.deadLettered.inc({ stage: stage.name, code: error.code });
    stageMetrics.processed.inc({ stage: stage.name, outcome: 'dead_lettered' });
  }

  async #decode(value: Buffer | null): Promise<DecodedMessage> {
    if (value === null || value.length === 0) {
      throw new ImgpipeError('CODEC_TRUNCATED', 'the message has no value (a tombstone or an empty record)');
    }
    return this.#options.codec.decode(value);
  }

  async #produce(outputs: OutputEvent[]): Promise<void> {
    if (outputs.length === 0) return;
    const byTopic = new Map<string, Message[]>();
    for (const output of outputs) {
      const headers: Record<string, string | Buffer> = {};
      injectTraceContext(headers);
      Object.assign(headers, output.headers);
      const value = await this.#options.codec.encode(output.eventType, output.value);
      const messages = byTopic.get(output.topic) ?? [];
      messages.push({ key: output.key, value, headers });
      byTopic.set(output.topic, messages);
    }
    await inSpan(
      `send ${[...byTopic.keys()].join(',')}`,
      {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.batch.message_count': outputs.length,
      },
      () =>
        this.#producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        }),
      { kind: SpanKind.PRODUCER },
    );
  }

  async #commit(topic: string, partition: number, offset: string): Promise<void> {
    await this.#consumer.commitOffsets([{ topic, partition, offset: (BigInt(offset) + 1n).toString() }]);
  }

  /** Keeps the group session alive while `work` runs, however long it takes. */
  async #withHeartbeats<T>(payload: EachMessagePayload, work: Promise<T>): Promise<T> {
    const timer = setInterval(() => {
      payload.heartbeat().catch((error: unknown) => {
        this.#options.logger.warn({ err: (error as Error).message }, 'heartbeat failed during long work');
      });
    }, this.#options.heartbeatIntervalMs);
    try {
      return await work;
    } finally {
      clearInterval(timer);
    }
  }

  async #measureLag(): Promise<{ topic: string; partition: number; lag: number }[]> {
    const { stage } = this.#options;
    const committed = await this.#admin.fetchOffsets({ groupId: stage.groupId, topics: [...stage.inputs] });
    const lags: { topic: string; partition: number; lag: number }[] = [];
    for (const { topic, partitions } of committed) {
      const watermarks = new Map((await this.#admin.fetchTopicOffsets(topic)).map((entry) => [entry.partition, entry]));
      for (const { partition, offset } of partitions) {
        const { high = '0', low = '0' } = watermarks.get(partition) ?? {};
        // A partition the group never committed on starts from the low watermark (fromBeginning).
        const position = Number(offset) < 0 ? Number(low) : Number(offset);
        lags.push({ topic, partition, lag: Math.max(0, Number(high) - position) });
      }
    }
    return lags;
  }
}

function tenantOf(decoded: DecodedMessage | undefined): string | undefined {
  const value = decoded?.value as { tenantId?: unknown } | undefined;
  return typeof value?.tenantId === 'string' ? value.tenantId : undefined;
}
