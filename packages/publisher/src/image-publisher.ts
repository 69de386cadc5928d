import { createHash, randomUUID } from 'node:crypto';
import {
  type UploadAnalysisName,
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
import { ProduceBatcher } from './produce-batcher.ts';

/** Where the publisher stores originals: the S3 BlobStore in the API and `imgpipe produce`, memory in tests. */
export interface BlobWriter {
  /** The bucket `put` writes to: an event names its original before the bytes are stored. */
  readonly bucket: string;
  put(key: string, bytes: Uint8Array, contentType: string, sha256?: string): Promise<BlobRef>;
}

export interface PublishRequest {
  bytes: Buffer;
  tenantId: string;
  sourceName?: string;
  contentType?: string;
  analyses?: UploadAnalysisName[];
  /** Inline the bytes in the event instead of storing them first (only up to INLINE_IMAGE_MAX_BYTES). */
  inline?: boolean;
  imageId?: string;
  callbackUrl?: string;
  attributes?: Record<string, string>;
  /** Rendition presets the transform stage renders (names of IMGPIPE_RENDITION_PRESETS). */
  renditions?: string[];
  /** The bytes' SHA-256 when the caller has already computed it (the API hashes while checking the upload). */
  sha256?: string;
  /** The OCR model set to read the image with (ImageUploaded.ocrModel); absent: the deployment's. */
  ocrModel?: string;
  /** Languages to restrict OCR to (ImageUploaded.ocrLanguages); absent or empty: none. */
  ocrLanguages?: string[];
}

/**
 * Puts an image where the pipeline can read it and produces ImageUploaded, keyed by image id, in the registry's
 * wire format: what the ingest API, `imgpipe produce` and any other system's producer do.
 *
 * `publish` is `compose` then `deliver`; the API calls them apart so that it can record the image in PostgreSQL
 * while the original is stored and the event produced.
 */
export class ImagePublisher {
  readonly #produce: ProduceBatcher;
  readonly #codec: EventCodec;
  readonly #blobs: BlobWriter;

  constructor(deps: { producer: Pick<Producer, 'sendBatch'>; codec: EventCodec; blobs: BlobWriter }) {
    this.#produce = new ProduceBatcher(deps.producer);
    this.#codec = deps.codec;
    this.#blobs = deps.blobs;
  }

  async publish(request: PublishRequest): Promise<ImageUploaded> {
    const event = this.compose(request);
    await this.deliver(event, request.bytes);
    return event;
  }

  /** The ImageUploaded this request becomes, naming where its original will be stored; nothing is written. */
  compose(request: PublishRequest): ImageUploaded {
    const sha256 = request.sha256 ?? createHash('sha256').update(request.bytes).digest('hex');
    const contentType = request.contentType ?? 'application/octet-stream';
    const size = request.bytes.byteLength;
    if (request.inline && size > INLINE_IMAGE_MAX_BYTES) {
      throw new ImgpipeError(
        'IMAGE_TOO_LARGE',
        `${size} bytes is over the inline limit of ${INLINE_IMAGE_MAX_BYTES}; store it instead`,
      );
    }
    return {
      imageId: request.imageId ?? randomUUID(),
      tenantId: request.tenantId,
      occurredAt: Date.now(),
      sha256,
      size,
      contentType,
      analyses: request.analyses ?? [],
      attributes: request.attributes ?? {},
      renditions: request.renditions ?? [],
      ...(request.sourceName ? { source: request.sourceName } : {}),
      ...(request.callbackUrl ? { callbackUrl: request.callbackUrl } : {}),
      ...(request.ocrModel ? { ocrModel: request.ocrModel } : {}),
      ...(request.ocrLanguages?.length ? { ocrLanguages: request.ocrLanguages } : {}),
      ...(request.inline
        ? { inline: request.bytes }
        : {
            blob: {
              bucket: this.#blobs.bucket,
              key: originalKey(request.tenantId, sha256),
              sha256,
              size,
              contentType,
            },
          }),
    };
  }

  /**
   * Stores the composed event's original (unless inline), then produces the event (acks from all replicas), in one
   * request with the other uploads being produced at the same moment (ProduceBatcher).
   */
  async deliver(event: ImageUploaded, bytes: Uint8Array): Promise<void> {
    await inSpan(
      `send ${TOPICS.uploaded}`,
      {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': TOPICS.uploaded,
        'imgpipe.image_id': event.imageId,
      },
      async () => {
        if (event.blob) await this.#blobs.put(event.blob.key, bytes, event.blob.contentType, event.blob.sha256);
        const headers: Record<string, string> = {};
        injectTraceContext(headers);
        const value = await this.#codec.encode('ImageUploaded', event);
        await this.#produce.send(TOPICS.uploaded, { key: event.imageId, value, headers });
      },
      { kind: SpanKind.PRODUCER },
    );
  }
}
