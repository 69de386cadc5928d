import { createHash, randomUUID } from 'node:crypto';
import {
  type AnalysisName,
  type BlobRef,
  type EventCodec,
  type ImageUploaded,
  INLINE_IMAGE_MAX_BYTES,
  TOPICS,
} from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import { originalKey } from '@imgpipe/storage';
import { injectTraceContext, inSpan } from '@imgpipe/telemetry';
import { SpanKind } from '@opentelemetry/api';
import type { Producer } from 'kafkajs';

/** Where the publisher stores originals: the S3 BlobStore in the API and `imgpipe produce`, memory in tests. */
export interface BlobWriter {
  put(key: string, bytes: Uint8Array, contentType: string): Promise<BlobRef>;
}

export interface PublishRequest {
  bytes: Buffer;
  tenantId: string;
  sourceName?: string;
  contentType?: string;
  analyses?: AnalysisName[];
  /** Inline the bytes in the event instead of storing them first (only up to INLINE_IMAGE_MAX_BYTES). */
  inline?: boolean;
  imageId?: string;
  callbackUrl?: string;
  attributes?: Record<string, string>;
}

/**
 * Puts an image where the pipeline can read it and produces ImageUploaded, keyed by image id, in the registry's
 * wire format: what the ingest API, `imgpipe produce` and any other system's producer do.
 */
export class ImagePublisher {
  readonly #producer: Producer;
  readonly #codec: EventCodec;
  readonly #blobs: BlobWriter;

  constructor(deps: { producer: Producer; codec: EventCodec; blobs: BlobWriter }) {
    this.#producer = deps.producer;
    this.#codec = deps.codec;
    this.#blobs = deps.blobs;
  }

  async publish(request: PublishRequest): Promise<ImageUploaded> {
    const imageId = request.imageId ?? randomUUID();
    return inSpan(
      `send ${TOPICS.uploaded}`,
      {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': TOPICS.uploaded,
        'imgpipe.image_id': imageId,
      },
      async () => {
        const sha256 = createHash('sha256').update(request.bytes).digest('hex');
        const contentType = request.contentType ?? 'application/octet-stream';
        if (request.inline && request.bytes.byteLength > INLINE_IMAGE_MAX_BYTES) {
          throw new ImgpipeError(
            'IMAGE_TOO_LARGE',
            `${request.bytes.byteLength} bytes is over the inline limit of ${INLINE_IMAGE_MAX_BYTES}; store it instead`,
          );
        }
        const event: ImageUploaded = {
          imageId,
          tenantId: request.tenantId,
          occurredAt: Date.now(),
          sha256,
          size: request.bytes.byteLength,
          contentType,
          analyses: request.analyses ?? [],
          attributes: request.attributes ?? {},
          ...(request.sourceName ? { source: request.sourceName } : {}),
          ...(request.callbackUrl ? { callbackUrl: request.callbackUrl } : {}),
          ...(request.inline
            ? { inline: request.bytes }
            : { blob: await this.#blobs.put(originalKey(request.tenantId, sha256), request.bytes, contentType) }),
        };
        const headers: Record<string, string> = {};
        injectTraceContext(headers);
        await this.#producer.send({
          topic: TOPICS.uploaded,
          acks: -1,
          messages: [{ key: imageId, value: await this.#codec.encode('ImageUploaded', event), headers }],
        });
        return event;
      },
      { kind: SpanKind.PRODUCER },
    );
  }
}
