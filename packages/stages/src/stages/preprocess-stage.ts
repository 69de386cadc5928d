import {
  type BlobRef,
  consumerGroupFor,
  deadLetterTopicFor,
  type ImagePreprocessed,
  type ImageUploaded,
  STAGE_INPUTS,
  TOPICS,
} from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import type { OutputEvent, Stage } from '@imgpipe/contracts';
import type { BlobAccess } from '../blob-access.ts';
import { derivativeKey, originalKey } from '@imgpipe/storage';
import type { VisionEngine } from '../vision-engine.ts';
import { expectEvent } from './expect-event.ts';

/**
 * preprocess: ImageUploaded -> ImagePreprocessed. Moves inline images into storage (claim check), checks the bytes
 * against the event's SHA-256, decodes once, and stores the thumbnail and the normalised model input.
 */
export function preprocessStage(deps: { blobs: BlobAccess; vision: VisionEngine }): Stage {
  async function original(event: ImageUploaded): Promise<{ ref: BlobRef; bytes: Buffer }> {
    if (event.blob) return { ref: event.blob, bytes: await deps.blobs.get(event.blob) };
    if (!event.inline) {
      throw new ImgpipeError('IMAGE_EMPTY', 'ImageUploaded has neither a blob reference nor inline bytes');
    }
    const contentType = event.contentType ?? 'application/octet-stream';
    const ref = await deps.blobs.put(originalKey(event.tenantId, event.sha256), event.inline, contentType);
    if (ref.sha256 !== event.sha256) {
      throw new ImgpipeError(
        'IMAGE_CHECKSUM_MISMATCH',
        `inline bytes have SHA-256 ${ref.sha256}, the event says ${event.sha256}`,
      );
    }
    return { ref, bytes: event.inline };
  }

  function outcome(
    event: ImageUploaded,
    fields: Partial<ImagePreprocessed> & Pick<ImagePreprocessed, 'status' | 'original'>,
  ): OutputEvent {
    const value: ImagePreprocessed = {
      imageId: event.imageId,
      tenantId: event.tenantId,
      occurredAt: Date.now(),
      analyses: event.analyses,
      ...(event.source ? { sourceName: event.source } : {}),
      attributes: event.attributes,
      renditions: event.renditions,
      ...(event.ocrModel ? { ocrModel: event.ocrModel } : {}),
      ...(event.ocrLanguages?.length ? { ocrLanguages: event.ocrLanguages } : {}),
      ...fields,
    };
    return { topic: TOPICS.preprocessed, eventType: 'ImagePreprocessed', key: event.imageId, value };
  }

  return {
    name: 'preprocess',
    groupId: consumerGroupFor('preprocess'),
    inputs: STAGE_INPUTS.preprocess,
    deadLetterTopic: deadLetterTopicFor('preprocess'),
    async handle(message) {
      const event = expectEvent(message, 'ImageUploaded');
      const started = performance.now();
      const { ref, bytes } = await original(event);
      const result = await deps.vision.preprocess(bytes);
      const [thumbnail, normalized] = await Promise.all([
        deps.blobs.put(
          derivativeKey(event.tenantId, event.imageId, 'thumbnail'),
          result.thumbnail.bytes,
          result.thumbnail.contentType,
        ),
        deps.blobs.put(
          derivativeKey(event.tenantId, event.imageId, 'normalized'),
          result.normalized.bytes,
          result.normalized.contentType,
        ),
      ]);
      return [
        outcome(event, {
          status: 'completed',
          original: ref,
          image: result.info,
          derivatives: { thumbnail, normalized },
          durationMs: Math.round(performance.now() - started),
        }),
      ];
    },
    async onFailure(message, error) {
      if (message.eventType !== 'ImageUploaded') return [];
      const event = message.value as ImageUploaded;
      const original: BlobRef = event.blob ?? {
        bucket: '',
        key: '',
        sha256: event.sha256,
        size: event.size,
        contentType: event.contentType ?? 'application/octet-stream',
      };
      return [outcome(event, { status: 'failed', original, error: { code: error.code, message: error.message } })];
    },
  };
}
