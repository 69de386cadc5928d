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
}
