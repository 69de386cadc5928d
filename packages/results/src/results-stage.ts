import {
  consumerGroupFor,
  type DeadLetter,
  deadLetterTopicFor,
  type EventMap,
  type ImageUploaded,
  RESULTS_INPUTS,
  requestedAnalyses,
  type Stage,
  STAGES,
  type StageName,
  type StageOutcome,
  type StageReport,
} from '@imgpipe/contracts';
import { ImgpipeError, isErrorCode } from '@imgpipe/core';
import { inSpan } from '@imgpipe/telemetry';
import type { ResultsRepository, WriteResult } from './results-repository.ts';

/** What the results service does after a write changed something: refresh the cache, tell live listeners. */
export type ResultsListener = (write: WriteResult, eventType: string) => Promise<void>;

function reportOf(outcome: StageOutcome): StageReport {
  return {
    status: outcome.status,
    ...(outcome.error ? { error: outcome.error } : {}),
    ...(outcome.model ? { model: outcome.model } : {}),
    ...(outcome.durationMs !== undefined ? { durationMs: outcome.durationMs } : {}),
  };
}

/**
 * Records an upload: the image's row (pending) and its stages (pending, or skipped when not asked for). The one way
 * an ImageUploaded reaches the `images` table, whether the results service consumed it or the ingest API just
 * published it (so the API can answer GET /images/{id} at once); idempotent, so both may happen in either order.
 */
export function recordImageUploaded(repository: ResultsRepository, event: ImageUploaded): Promise<WriteResult> {
  return repository.recordUpload({
    imageId: event.imageId,
    tenantId: event.tenantId,
    analyses: requestedAnalyses(event),
    occurredAt: new Date(event.occurredAt),
    size: event.size,
    sha256: event.sha256,
    ...(event.source ? { sourceName: event.source } : {}),
    ...(event.contentType ? { contentType: event.contentType } : {}),
    ...(event.blob ? { blob: { bucket: event.blob.bucket, key: event.blob.key } } : {}),
  });
}

/**
 * results: materialises every pipeline event (and every dead letter that names an image) into PostgreSQL through
 * idempotent upserts. It emits nothing; its effects are the rows, so replays converge.
 */
export function resultsStage(deps: { repository: ResultsRepository; onChange?: ResultsListener }): Stage {
  const { repository } = deps;

  async function write(message: { eventType: string; value: unknown }): Promise<WriteResult | undefined> {
    switch (message.eventType) {
      case 'ImageUploaded':
        return recordImageUploaded(repository, message.value as EventMap['ImageUploaded']);
      case 'ImagePreprocessed': {
        const event = message.value as EventMap['ImagePreprocessed'];
        if (event.status === 'failed' && event.error) {
          return repository.recordFailure(event.imageId, event.tenantId, 'preprocess', event.error);
        }
        return repository.recordStage({
          stage: 'preprocess',
          imageId: event.imageId,
          tenantId: event.tenantId,
          report: reportOf(event),
          occurredAt: new Date(event.occurredAt),
          ...(event.image ? { info: event.image } : {}),
        });
      }
      case 'ObjectsDetected': {
        const event = message.value as EventMap['ObjectsDetected'];
        return repository.recordStage({ stage: 'detect', ...common(event), objects: event.objects });
      }
      case 'FacesDetected': {
        const event = message.value as EventMap['FacesDetected'];
        return repository.recordStage({ stage: 'faces', ...common(event), faces: event.faces });
      }
      case 'TextRecognized': {
        const event = message.value as EventMap['TextRecognized'];
        return repository.recordStage({ stage: 'ocr', ...common(event), text: event.text });
      }
      case 'ImageAnalyzed': {
        const { tenantId, occurredAt: _occurredAt, ...analysis } = message.value as EventMap['ImageAnalyzed'];
        return repository.recordAnalysis(analysis, tenantId);
      }
      case 'DeadLetter': {
        const letter = message.value as DeadLetter;
        const { imageId, tenantId, stage } = letter;
        if (!imageId || !tenantId || !(STAGES as readonly string[]).includes(stage) || !isErrorCode(letter.errorCode)) {
          return undefined; // a letter that names no image (undecodable bytes) has nothing to record
        }
        return repository.recordFailure(imageId, tenantId, stage as StageName, {
          code: letter.errorCode,
          message: letter.errorMessage,
        });
      }
      default:
        throw new ImgpipeError('CODEC_INVALID_PAYLOAD', `results does not take ${message.eventType}`);
    }
  }

  return {
    name: 'results',
    groupId: consumerGroupFor('results'),
    inputs: RESULTS_INPUTS,
    deadLetterTopic: deadLetterTopicFor('results'),
    async handle(message) {
      const result = await inSpan(
        `upsert ${message.eventType}`,
        { 'db.system.name': 'postgresql', 'db.operation.name': 'upsert', 'imgpipe.event_type': message.eventType },
        () => write(message),
      );
      if (result?.changed) await deps.onChange?.(result, message.eventType);
      return [];
    },
  };
}

function common(event: EventMap['ObjectsDetected'] | EventMap['FacesDetected'] | EventMap['TextRecognized']) {
  return {
    imageId: event.imageId,
    tenantId: event.tenantId,
    report: reportOf(event),
    occurredAt: new Date(event.occurredAt),
  };
}
