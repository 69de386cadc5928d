import type { DecodedMessage } from '@imgpipe/contracts';

export type { DecodedMessage };

/**
 * How the runtime turns bytes into events and back. The schema-registry codec of @imgpipe/contracts implements it;
 * the runtime only needs these two operations, so it stays free of Avro and of the event catalogue.
 */
export interface MessageCodec {
  /** Throws ImgpipeError (CODEC_*) for bytes it cannot decode; retriable only when the registry is unreachable. */
  decode(bytes: Buffer): Promise<DecodedMessage>;
  encode(eventType: string, value: unknown): Promise<Buffer>;
}
