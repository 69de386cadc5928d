/**
 * The contract between a stage handler and whatever runs it (ARCHITECTURE principle 1): the Kafka runtime
 * (@imgpipe/stream) and the in-process runner (@imgpipe/stages) both call the same `Stage.handle`. Types only, so a
 * handler package depends on neither runtime.
 */
import type { ImgpipeError } from '@imgpipe/core';
import type { Logger } from '@imgpipe/telemetry';

/** An event as a runner hands it to a handler: its type name (e.g. ImageUploaded) and its decoded value. */
export interface DecodedMessage<T = unknown> {
  /** The event's type name, e.g. ImageUploaded. */
  eventType: string;
  value: T;
}

export interface MessageSource {
  topic: string;
  partition: number;
  offset: string;
  key: string | undefined;
}

export interface StageContext {
  readonly logger: Logger;
  /** 1 on first delivery to the handler, counting retries within this process. */
  readonly attempt: number;
  readonly source: MessageSource;
  /** Aborted when the process is shutting down; long work may stop early and let the message be redelivered. */
  readonly signal: AbortSignal;
}

/** An event a stage emits: produced to `topic` keyed by `key` (the image id) before the input is committed. */
export interface OutputEvent {
  topic: string;
  eventType: string;
  key: string;
  value: unknown;
  /** Extra Kafka headers; the runtime adds the trace context itself. */
  headers?: Record<string, string>;
}

/** Kafka message headers as the runtime received them (W3C trace context among them). */
export type MessageHeaders = Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;

/** One message of a batch: the decoded event, where it came from, and its headers. */
export interface BatchItem {
  readonly message: DecodedMessage;
  readonly source: MessageSource;
  /** Absent in-process; a handler continues each message's trace from them (extractTraceContext). */
  readonly headers?: MessageHeaders;
}

export interface BatchContext {
  readonly logger: Logger;
  /**
   * 1 on the first delivery of these messages to the handler, more when an earlier call with some of them failed
   * in this process (its effects may or may not have been applied: a handler refreshes derived state then).
   */
  readonly attempt: number;
  readonly signal: AbortSignal;
}

/** What a batch handler did: outputs by the item they continue, and items it refused (the rest was applied). */
export interface BatchResult {
  /** Produced before the batch's offsets are committed; each continues the trace of its `item`. */
  readonly outputs: readonly { readonly item: number; readonly event: OutputEvent }[];
  /** Items that can never apply (deterministic errors), left out of the batch's effects: they are dead-lettered. */
  readonly rejected?: readonly { readonly item: number; readonly error: ImgpipeError }[];
}

/**
 * A stage is a function from one input event to output events (ARCHITECTURE principle 1). The Kafka runtime and the
 * in-process runner both call it. Sinks (the results service) are stages whose effects are idempotent writes and
 * whose output is empty.
 */
export interface Stage {
  /** Stage or service name: preprocess, detect, faces, ocr, aggregate, results. */
  readonly name: string;
  readonly groupId: string;
  readonly inputs: readonly string[];
  readonly deadLetterTopic: string;
  handle(message: DecodedMessage, ctx: StageContext): Promise<OutputEvent[]>;
  /**
   * Called once a message has failed for good (deterministic error, or retries exhausted), before it is
   * dead-lettered: lets the stage publish a failed outcome so the image's other stages and its aggregate go on.
   */
  onFailure?(message: DecodedMessage, error: ImgpipeError, ctx: StageContext): Promise<OutputEvent[]>;
  /** Called after the handler's outputs are durable in Kafka and before the input is committed. */
  onOutputsDurable?(message: DecodedMessage, outputs: OutputEvent[], ctx: StageContext): Promise<void>;
  /**
   * Optional: the same work for many messages at once (messages of one partition, in order). A Kafka runtime that finds it consumes in batches: it hands over whatever one fetch
   * returned, commits the batch's offsets only after this resolved and its outputs are durable, retries the whole
   * batch on transient errors, and isolates a message that keeps failing by splitting the batch. Its effects must
   * equal those of `handle` called for each message in order.
   */
  handleBatch?(items: readonly BatchItem[], ctx: BatchContext): Promise<BatchResult>;
  /** Batch counterpart of onOutputsDurable: called once the batch's outputs are durable, before its commit. */
  onBatchOutputsDurable?(
    items: readonly BatchItem[],
    outputs: BatchResult['outputs'],
    ctx: BatchContext,
  ): Promise<void>;
}
