import { setTimeout as delay } from 'node:timers/promises';
import { ImgpipeError } from '@imgpipe/core';
import {
  extractTraceContext,
  injectTraceContext,
  inSpan,
  type Logger,
  linkFromHeaders,
  traceIdOf,
  tracer,
} from '@imgpipe/telemetry';
import { type Context, type Link, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type {
  Admin,
  Consumer,
  EachBatchPayload,
  EachMessagePayload,
  Kafka,
  KafkaMessage,
  Message,
  Producer,
} from 'kafkajs';
import { ConsumerHealth } from './consumer-health.ts';
import { deadLetterHeaders, toDeadLetter } from './dead-letter.ts';
import type { DecodedMessage, MessageCodec } from './message-codec.ts';
import { registerLagGauge, stageMetrics } from './metrics.ts';
import { classifyFailure, DEFAULT_RETRY_POLICY, type RetryPolicy, retryDelay, shouldRetry } from './retry-policy.ts';
import type { BatchContext, BatchItem, BatchResult, OutputEvent, Stage, StageContext } from './stage.ts';

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
  /**
   * For a stage with handleBatch: the most messages handed to it at once (a larger fetch is split, committing and
   * heartbeating between the pieces). 0 consumes one message at a time even where the stage can batch.
   */
  batchMaxMessages?: number;
}

export const DEFAULT_BATCH_MAX_MESSAGES = 500;

/** One partition's messages handed to a batch handler, and how far they are done (applied or dead-lettered). */
interface BatchRun {
  topic: string;
  partition: number;
  entries: { message: KafkaMessage; decoded?: DecodedMessage; decodeError?: ImgpipeError }[];
  heartbeat: () => Promise<void>;
  logger: Logger;
  /** Messages [0, done) are handled: their offsets may be committed. */
  done: number;
  /** The batch span, linked from the spans that continue each message's trace. */
  link: Link | undefined;
}

/**
 * Runs one stage as a Kafka consumer group. For each message: decode, call the handler, produce its outputs with
 * the same key, and only then commit the input offset (at-least-once delivery; sinks make effects idempotent).
 * Transient failures retry with backoff while that partition waits; deterministic ones, and transient ones out of
 * attempts, go to the stage's dead-letter topic with the original bytes and headers, so a poison message never
 * blocks its partition. Heartbeats continue during long handlers, so slow inference causes no rebalance.
 *
 * A stage with `handleBatch` is consumed in batches (kafkajs eachBatch): whatever one fetch returned for a
 * partition (nothing waits for a batch to fill), at most batchMaxMessages at a time, with the same guarantees.
 * Undecodable messages and messages the handler refuses are dead-lettered while the rest of the batch applies; a
 * transient failure retries the whole batch with backoff while the partition waits; a batch that fails for another
 * reason, or runs out of attempts, is split in halves until the message at fault is alone and dead-lettered. Offsets
 * are committed only past messages that were applied or dead-lettered. Each batch is one `process` span linked to
 * every message's context (the OTel messaging convention for batches); each output continues the trace of the
 * message it came from.
 */
export class StageRunner {
  readonly health = new ConsumerHealth();
  readonly #options: Required<Omit<StageRunnerOptions, 'retry'>> & { retry: RetryPolicy };
  readonly #consumer: Consumer;
  readonly #producer: Producer;
  readonly #admin: Admin;
  readonly #abort = new AbortController();
  #inFlight = 0;
  #paused = false;

  constructor(options: StageRunnerOptions) {
    this.#options = {
      concurrency: 2,
      sessionTimeoutMs: 30_000,
      heartbeatIntervalMs: 3_000,
      fromBeginning: true,
      batchMaxMessages: DEFAULT_BATCH_MAX_MESSAGES,
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
    // kafkajs restarts its consumer after retriable crashes only; after another (a restarted broker no longer knows
    // this member, ...) it stays stopped for good. Start it again, with backoff, unless the runner is stopping.
    this.#consumer.on(this.#consumer.events.CRASH, (event) => {
      if (!event.payload.restart && !this.#abort.signal.aborted) void this.#restartConsumer(event.payload.error);
    });
    // kafkajs forgets paused topics when it restarts its consumer group after a crash: pause again on each join.
    this.#consumer.on(this.#consumer.events.GROUP_JOIN, () => {
      if (this.#paused) this.#pauseTopics();
    });
  }

  /** True while the stage is paused (stage control): nothing is fetched, lag grows, nothing is lost. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Stops fetching the stage's inputs; work in hand finishes and is committed. Before start, starts paused. */
  pause(): void {
    this.#paused = true;
    this.#pauseTopics();
  }

  resume(): void {
    this.#paused = false;
    try {
      this.#consumer.resume(this.#options.stage.inputs.map((topic) => ({ topic })));
    } catch {
      // not running yet: start() will not pause
    }
  }

  #pauseTopics(): void {
    try {
      this.#consumer.pause(this.#options.stage.inputs.map((topic) => ({ topic })));
    } catch {
      // not running yet: start() pauses before the first fetch
    }
  }

  /** Resolves when a Kafka broker answers a metadata request (readiness: the consumer's state lags an outage). */
  async pingKafka(): Promise<void> {
    await this.#admin.describeCluster();
  }

  get groupId(): string {
    return this.#options.stage.groupId;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** True when the stage is consumed in batches (it has handleBatch and batching is not turned off). */
  get batching(): boolean {
    return this.#options.stage.handleBatch !== undefined && this.#options.batchMaxMessages > 0;
  }

  async start(): Promise<void> {
    const { stage, fromBeginning } = this.#options;
    await Promise.all([this.#producer.connect(), this.#admin.connect()]);
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: [...stage.inputs], fromBeginning });
    registerLagGauge(stage.name, () => this.#measureLag());
    await this.#run();
  }

  async #run(): Promise<void> {
    const { concurrency } = this.#options;
    const running = this.#consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: concurrency,
      ...(this.batching
        ? { eachBatchAutoResolve: false, eachBatch: (payload) => this.#processBatch(payload) }
        : { eachMessage: (payload) => this.#process(payload) }),
    });
    // run() creates its consumer group synchronously, before it joins and fetches: a paused stage starts paused.
    if (this.#paused) this.#pauseTopics();
    await running;
  }

  /** After a crash kafkajs will not restart from: connect, subscribe and run again until it works or we stop. */
  async #restartConsumer(crash: Error): Promise<void> {
    const { stage, fromBeginning, logger } = this.#options;
    let error = crash;
    for (let attempt = 1; !this.#abort.signal.aborted; attempt += 1) {
      const wait = Math.min(30_000, 1_000 * 2 ** (attempt - 1));
      logger.warn(
        { err: error.message, attempt, retryInMs: wait },
        'consumer stopped after a crash; starting it again',
      );
      await delay(wait, undefined, { signal: this.#abort.signal }).catch(() => {});
      if (this.#abort.signal.aborted) return;
      try {
        await this.#consumer.connect();
        await this.#consumer.subscribe({ topics: [...stage.inputs], fromBeginning });
        await this.#run();
        return;
      } catch (thrown) {
        error = thrown instanceof Error ? thrown : new Error(String(thrown));
        await this.#consumer.disconnect().catch(() => {});
      }
    }
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
        const outputs = await this.#withHeartbeats(payload.heartbeat, stage.handle(decoded, ctx));
        await this.#produce(outputs);
        if (outputs.length > 0) await stage.onOutputsDurable?.(decoded, outputs, ctx);
        stageMetrics.processed.inc({ stage: stage.name, outcome: 'ok' });
        return;
      } catch (thrown) {
        const error = classifyFailure(thrown);
        stageMetrics.failed.inc({ stage: stage.name, code: error.code });
        if (shouldRetry(retry, error, attempt, [message.timestamp]) && !this.#abort.signal.aborted) {
          const wait = retryDelay(retry, attempt, error);
          logger.warn(
            { code: error.code, attempt, retryInMs: wait, err: error.message },
            'transient failure, retrying',
          );
          await this.#withHeartbeats(
            payload.heartbeat,
            delay(wait, undefined, { signal: this.#abort.signal }).catch(() => {}),
          );
          if (this.#abort.signal.aborted) throw error; // shutting down: leave the message uncommitted for redelivery
          continue;
        }
        if (error.retriable && this.#abort.signal.aborted) throw error;
        await this.#fail(payload, decoded, error, ctx);
        stageMetrics.processed.inc({ stage: stage.name, outcome: 'dead_lettered' });
        return;
      }
    }
  }

  /** eachBatch: the fetch's messages of one partition, in pieces of at most batchMaxMessages. */
  async #processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const size = this.#options.batchMaxMessages;
    for (let start = 0; start < batch.messages.length; start += size) {
      if (!isRunning() || isStale() || this.#paused) return;
      const messages = batch.messages.slice(start, start + size);
      await this.#processChunk(batch.topic, batch.partition, messages, heartbeat);
      resolveOffset(messages.at(-1)!.offset);
      await heartbeat();
    }
  }

  async #processChunk(
    topic: string,
    partition: number,
    messages: KafkaMessage[],
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const { stage } = this.#options;
    const started = process.hrtime.bigint();
    const count = messages.length;
    this.#inFlight += count;
    stageMetrics.inFlight.inc({ stage: stage.name }, count);
    const first = messages[0]!.offset;
    const last = messages.at(-1)!.offset;
    const run: BatchRun = {
      topic,
      partition,
      entries: messages.map((message) => ({ message })),
      heartbeat,
      logger: this.#options.logger.child({ stage: stage.name, topic, partition, firstOffset: first, lastOffset: last }),
      done: 0,
      link: undefined,
    };
    try {
      await inSpan(
        `process ${topic}`,
        {
          'messaging.system': 'kafka',
          'messaging.operation.type': 'process',
          'messaging.destination.name': topic,
          'messaging.destination.partition.id': String(partition),
          'messaging.consumer.group.name': stage.groupId,
          'messaging.batch.message_count': count,
          'messaging.kafka.offset': Number(first),
          'imgpipe.stage': stage.name,
        },
        async (span) => {
          run.link = { context: span.spanContext() };
          await this.#applyRange(run, 0, count, 1, this.#options.retry.maxAttempts - 1);
        },
        {
          kind: SpanKind.CONSUMER,
          // A batch span starts its own trace and links each message's (their traces continue per message).
          parent: ROOT_CONTEXT,
          links: messages.flatMap((message) => linkFromHeaders(message.headers) ?? []),
        },
      );
    } finally {
      // Past every message applied or dead-lettered, and no further: a stop during retries leaves the rest.
      if (run.done > 0) await this.#commit(topic, partition, messages[run.done - 1]!.offset);
      this.#inFlight -= count;
      stageMetrics.inFlight.dec({ stage: stage.name }, count);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // Busy time per message stays comparable with one-at-a-time consumption: each message gets its share.
      for (let i = 0; i < run.done; i += 1) stageMetrics.duration.observe({ stage: stage.name }, seconds / count);
      stageMetrics.batchSize.observe({ stage: stage.name }, count);
      stageMetrics.batchDuration.observe({ stage: stage.name }, seconds);
    }
  }

  /**
   * Applies entries [lo, hi) as one batch: retries transient failures with backoff (`retriesLeft` more times) while
   * the partition waits; otherwise splits the range in halves, in order, down to single messages, which are
   * dead-lettered. Advances run.done as ranges finish.
   */
  async #applyRange(run: BatchRun, lo: number, hi: number, attempt: number, retriesLeft: number): Promise<void> {
    const { stage, retry } = this.#options;
    for (let delivery = attempt, left = retriesLeft; ; delivery += 1, left -= 1) {
      try {
        await this.#applyOnce(run, lo, hi, delivery);
        run.done = hi;
        return;
      } catch (thrown) {
        const error = classifyFailure(thrown);
        stageMetrics.failed.inc({ stage: stage.name, code: error.code });
        if (error.retriable && this.#abort.signal.aborted) throw error; // stopping: leave the rest for redelivery
        const size = hi - lo;
        const producedAt = run.entries.slice(lo, hi).map((entry) => entry.message.timestamp);
        if (shouldRetry(retry, error, retry.maxAttempts - left, producedAt)) {
          const wait = retryDelay(retry, retry.maxAttempts - left, error);
          run.logger.warn(
            { code: error.code, attempt: delivery, messages: size, retryInMs: wait, err: error.message },
            'transient batch failure, retrying',
          );
          await this.#withHeartbeats(
            run.heartbeat,
            delay(wait, undefined, { signal: this.#abort.signal }).catch(() => {}),
          );
          if (this.#abort.signal.aborted) throw error;
          continue;
        }
        if (size === 1) {
          await this.#failEntry(run, lo, error, delivery);
          run.done = hi;
          return;
        }
        run.logger.warn(
          { code: error.code, attempt: delivery, messages: size, err: error.message },
          'batch failed, splitting it to isolate the message at fault',
        );
        // After a transient failure out of attempts, each half gets one more try; otherwise full retries.
        const halvesRetries = error.retriable ? 0 : retry.maxAttempts - 1;
        const middle = lo + Math.ceil(size / 2);
        await this.#applyRange(run, lo, middle, delivery + 1, halvesRetries);
        await this.#applyRange(run, middle, hi, delivery + 1, halvesRetries);
        return;
      }
    }
  }

  /** One call of the batch handler for entries [lo, hi), its outputs produced, its refusals dead-lettered. */
  async #applyOnce(run: BatchRun, lo: number, hi: number, attempt: number): Promise<void> {
    const { stage } = this.#options;
    const indices: number[] = [];
    const failures: { index: number; error: ImgpipeError; decoded?: DecodedMessage }[] = [];
    for (let index = lo; index < hi; index += 1) {
      const entry = run.entries[index]!;
      if (!entry.decoded && !entry.decodeError) {
        try {
          entry.decoded = await this.#decode(entry.message.value);
        } catch (thrown) {
          const error = classifyFailure(thrown);
          if (error.retriable) throw error;
          entry.decodeError = error;
        }
      }
      if (entry.decoded) indices.push(index);
      else failures.push({ index, error: entry.decodeError! });
    }
    const items: BatchItem[] = indices.map((index) => {
      const { message, decoded } = run.entries[index]!;
      return {
        message: decoded!,
        source: { topic: run.topic, partition: run.partition, offset: message.offset, key: message.key?.toString() },
        headers: message.headers ?? {},
      };
    });
    const ctx: BatchContext = { logger: run.logger, attempt, signal: this.#abort.signal };
    const result: BatchResult =
      items.length > 0 ? await this.#withHeartbeats(run.heartbeat, stage.handleBatch!(items, ctx)) : { outputs: [] };
    await this.#produce(
      result.outputs.map((output) => output.event),
      result.outputs.map((output) => extractTraceContext(items[output.item]?.headers)),
      run.link,
    );
    if (result.outputs.length > 0) await stage.onBatchOutputsDurable?.(items, result.outputs, ctx);
    for (const { item, error } of result.rejected ?? []) {
      failures.push({ index: indices[item]!, error, decoded: items[item]!.message });
    }
    failures.sort((a, b) => a.index - b.index);
    for (const { index, error, decoded } of failures) {
      stageMetrics.failed.inc({ stage: stage.name, code: error.code });
      await this.#failEntry(run, index, error, attempt, decoded);
    }
    stageMetrics.processed.inc({ stage: stage.name, outcome: 'ok' }, items.length - (result.rejected?.length ?? 0));
  }

  /** Dead-letters one message of a batch (after its stage's onFailure outcome), in that message's own trace. */
  async #failEntry(
    run: BatchRun,
    index: number,
    error: ImgpipeError,
    attempt: number,
    decoded = run.entries[index]!.decoded,
  ): Promise<void> {
    const { message } = run.entries[index]!;
    const key = message.key?.toString();
    const ctx: StageContext = {
      logger: run.logger.child({ offset: message.offset, ...(key ? { imageId: key } : {}) }),
      attempt,
      signal: this.#abort.signal,
      source: { topic: run.topic, partition: run.partition, offset: message.offset, key },
    };
    await inSpan(
      `process ${run.topic}`,
      {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': run.topic,
        'messaging.kafka.offset': Number(message.offset),
        'imgpipe.stage': this.#options.stage.name,
        'imgpipe.dead_lettered': true,
      },
      () => this.#fail({ topic: run.topic, partition: run.partition, message }, decoded, error, ctx),
      {
        parent: extractTraceContext(message.headers),
        kind: SpanKind.CONSUMER,
        ...(run.link ? { links: [run.link] } : {}),
      },
    );
    stageMetrics.processed.inc({ stage: this.#options.stage.name, outcome: 'dead_lettered' });
  }

  async #fail(
    payload: { topic: string; partition: number; message: KafkaMessage },
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
  }

  async #decode(value: Buffer | null): Promise<DecodedMessage> {
    if (value === null || value.length === 0) {
      throw new ImgpipeError('CODEC_TRUNCATED', 'the message has no value (a tombstone or an empty record)');
    }
    return this.#options.codec.decode(value);
  }

  /**
   * Produces outputs (acks=all) in one request. `parents`, when given, are the contexts each output continues (the
   * trace of the batch message it came from): each gets a `create` span there, linked to `link` (the batch's span).
   */
  async #produce(outputs: readonly OutputEvent[], parents?: readonly Context[], link?: Link): Promise<void> {
    if (outputs.length === 0) return;
    const byTopic = new Map<string, Message[]>();
    for (const [index, output] of outputs.entries()) {
      const headers: Record<string, string | Buffer> = {};
      const parent = parents?.[index];
      if (parent) {
        const span = tracer().startSpan(
          `create ${output.topic}`,
          {
            kind: SpanKind.PRODUCER,
            attributes: { 'messaging.system': 'kafka', 'messaging.operation.type': 'create' },
            ...(link ? { links: [link] } : {}),
          },
          parent,
        );
        injectTraceContext(headers, trace.setSpan(parent, span));
        span.end();
      } else {
        injectTraceContext(headers);
      }
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
  async #withHeartbeats<T>(heartbeat: () => Promise<void>, work: Promise<T>): Promise<T> {
    const timer = setInterval(() => {
      heartbeat().catch((error: unknown) => {
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
