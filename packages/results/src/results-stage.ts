import {
  askedAnalyses,
  type BatchItem,
  consumerGroupFor,
  type DeadLetter,
  type DecodedMessage,
  deadLetterTopicFor,
  type EventMap,
  type ImageUploaded,
  RESULTS_INPUTS,
  type Stage,
  STAGES,
  type StageName,
  type StageOutcome,
  type StageReport,
  stageOfEvent,
} from '@imgpipe/contracts';
import { ImgpipeError, isErrorCode, toImgpipeError } from '@imgpipe/core';
import { extractTraceContext, inSpan, recordSpan } from '@imgpipe/telemetry';
import type { ResultsRepository, ResultsWrite, WriteResult } from './results-repository.ts';

/** An image whose rows a write changed: the results service refreshes its view and tells listeners. */
export interface ImageTouched {
  tenantId: string;
  imageId: string;
  /** The stage of the latest event that changed the image, for progress notifications. */
  stage?: StageName;
}

/** What the results service does after writes changed images: refresh their cache entries, tell live listeners. */
export type ResultsListener = (images: ImageTouched[]) => Promise<void>;

function reportOf(outcome: StageOutcome): StageReport {
  return {
    status: outcome.status,
    ...(outcome.error ? { error: outcome.error } : {}),
    ...(outcome.model ? { model: outcome.model } : {}),
    ...(outcome.durationMs !== undefined ? { durationMs: outcome.durationMs } : {}),
  };
}

/** The write an ImageUploaded asks for: the image's pending row and its stages. */
export function uploadWrite(event: ImageUploaded): ResultsWrite {
  return {
    kind: 'upload',
    upload: {
      imageId: event.imageId,
      tenantId: event.tenantId,
      analyses: askedAnalyses(event),
      occurredAt: new Date(event.occurredAt),
      size: event.size,
      sha256: event.sha256,
      attributes: event.attributes,
      renditions: event.renditions,
      ...(event.ocrModel ? { ocrModel: event.ocrModel } : {}),
      ...(event.ocrLanguages?.length ? { ocrLanguages: event.ocrLanguages } : {}),
      ...(event.source ? { sourceName: event.source } : {}),
      ...(event.contentType ? { contentType: event.contentType } : {}),
      ...(event.blob ? { blob: { bucket: event.blob.bucket, key: event.blob.key } } : {}),
    },
  };
}

/**
 * Records an upload: the image's row (pending) and its stages (pending, or skipped when not asked for). The one way
 * an ImageUploaded reaches the `images` table, whether the results service consumed it or the ingest API just
 * published it (so the API can answer GET /images/{id} at once); idempotent, so both may happen in either order.
 */
export async function recordImageUploaded(repository: ResultsRepository, event: ImageUploaded): Promise<WriteResult> {
  const { upload } = uploadWrite(event) as Extract<ResultsWrite, { kind: 'upload' }>;
  return repository.recordUpload(upload);
}

/**
 * The write an event asks for: every pipeline event, and every dead letter that names an image (undefined for one
 * that names none: undecodable bytes have nothing to record). Throws CODEC_INVALID_PAYLOAD for another event type.
 */
export function toResultsWrite(message: DecodedMessage): ResultsWrite | undefined {
  switch (message.eventType) {
    case 'ImageUploaded':
      return uploadWrite(message.value as EventMap['ImageUploaded']);
    case 'ImagePreprocessed': {
      const event = message.value as EventMap['ImagePreprocessed'];
      if (event.status === 'failed' && event.error) {
        return failure(event.imageId, event.tenantId, 'preprocess', event.error);
      }
      return {
        kind: 'stage',
        outcome: {
          stage: 'preprocess',
          imageId: event.imageId,
          tenantId: event.tenantId,
          report: reportOf(event),
          occurredAt: new Date(event.occurredAt),
          ...(event.image ? { info: event.image } : {}),
        },
      };
    }
    case 'ObjectsDetected': {
      const event = message.value as EventMap['ObjectsDetected'];
      return { kind: 'stage', outcome: { stage: 'detect', ...common(event), objects: event.objects } };
    }
    case 'FacesDetected': {
      const event = message.value as EventMap['FacesDetected'];
      return { kind: 'stage', outcome: { stage: 'faces', ...common(event), faces: event.faces } };
    }
    case 'TextRecognized': {
      const event = message.value as EventMap['TextRecognized'];
      return { kind: 'stage', outcome: { stage: 'ocr', ...common(event), text: event.text } };
    }
    case 'ImageAnalyzed': {
      const { tenantId, occurredAt: _occurredAt, ...analysis } = message.value as EventMap['ImageAnalyzed'];
      return { kind: 'analysis', analysis, tenantId };
    }
    case 'DeadLetter': {
      const letter = message.value as DeadLetter;
      const { imageId, tenantId, stage } = letter;
      if (!imageId || !tenantId || !(STAGES as readonly string[]).includes(stage) || !isErrorCode(letter.errorCode)) {
        return undefined;
      }
      return failure(imageId, tenantId, stage as StageName, { code: letter.errorCode, message: letter.errorMessage });
    }
    default:
      throw new ImgpipeError('CODEC_INVALID_PAYLOAD', `results does not take ${message.eventType}`);
  }
}

function failure(
  imageId: string,
  tenantId: string,
  stage: StageName,
  error: NonNullable<StageReport['error']>,
): ResultsWrite {
  return { kind: 'stage', outcome: { imageId, tenantId, stage, report: { status: 'failed', error } } };
}

const DB_ATTRIBUTES = { 'db.system.name': 'postgresql', 'db.operation.name': 'upsert' } as const;

/**
 * results: materialises every pipeline event (and every dead letter that names an image) into PostgreSQL through
 * idempotent upserts. It emits nothing; its effects are the rows, so replays converge. In batches (the Kafka
 * runtime's default for it) a whole batch is one transaction, and each changed image is refreshed once.
 */
export function resultsStage(deps: { repository: ResultsRepository; onChange?: ResultsListener }): Stage {
  const { repository } = deps;

  return {
    name: 'results',
    groupId: consumerGroupFor('results'),
    inputs: RESULTS_INPUTS,
    deadLetterTopic: deadLetterTopicFor('results'),

    async handle(message, ctx) {
      const write = toResultsWrite(message);
      if (!write) return [];
      const result = await inSpan(
        `upsert ${message.eventType}`,
        { ...DB_ATTRIBUTES, 'imgpipe.event_type': message.eventType },
        () => repository.apply([write]),
      );
      const refused = result.rejected[0];
      if (refused) throw refused.error;
      // A redelivery may follow an attempt whose write committed but whose refresh failed: refresh it anyway.
      const image = result.images[0];
      if (image && (image.changed || ctx.attempt > 1)) {
        const stage = stageOfEvent(message.eventType);
        await deps.onChange?.([{ tenantId: image.tenantId, imageId: image.imageId, ...(stage ? { stage } : {}) }]);
      }
      return [];
    },

    async handleBatch(items, ctx) {
      const writes: ResultsWrite[] = [];
      const itemOf: number[] = [];
      const rejected: { item: number; error: ImgpipeError }[] = [];
      items.forEach((item, index) => {
        try {
          const write = toResultsWrite(item.message);
          if (!write) return;
          writes.push(write);
          itemOf.push(index);
        } catch (error) {
          rejected.push({ item: index, error: toImgpipeError(error) });
        }
      });
      const startTime = Date.now();
      const result = await repository.apply(writes);
      const endTime = Date.now();
      for (const { index, error } of result.rejected) rejected.push({ item: itemOf[index]!, error });
      const refused = new Set(result.rejected.map((entry) => entry.index));
      // One trace per image still ends at its row: a span per message, timed as the batch's transaction.
      writes.forEach((_write, index) => {
        if (refused.has(index)) return;
        const item = items[itemOf[index]!]!;
        recordSpan(
          `upsert ${item.message.eventType}`,
          { ...DB_ATTRIBUTES, 'imgpipe.event_type': item.message.eventType, 'db.operation.batch.size': writes.length },
          { parent: extractTraceContext(item.headers), startTime, endTime },
        );
      });
      await deps.onChange?.(touchedImages(items, writes, itemOf, result, ctx.attempt > 1));
      return { outputs: [], rejected };
    },
  };
}

/**
 * The images to refresh after a batch, once each: those a write changed (all that were written to, on a
 * redelivery, since an earlier attempt may have committed without refreshing), each with the stage of its latest
 * changing event.
 */
function touchedImages(
  items: readonly BatchItem[],
  writes: readonly ResultsWrite[],
  itemOf: readonly number[],
  result: Awaited<ReturnType<ResultsRepository['apply']>>,
  redelivered: boolean,
): ImageTouched[] {
  const touched = new Map<string, ImageTouched>();
  for (const image of result.images) {
    if (image.changed || redelivered) touched.set(image.imageId, { tenantId: image.tenantId, imageId: image.imageId });
  }
  writes.forEach((write, index) => {
    if (!result.changed[index] && !redelivered) return;
    const imageId = (
      write.kind === 'upload'
        ? write.upload.imageId
        : write.kind === 'stage'
          ? write.outcome.imageId
          : write.analysis.imageId
    ).toLowerCase();
    const entry = touched.get(imageId);
    const stage = stageOfEvent(items[itemOf[index]!]!.message.eventType);
    if (entry && stage) entry.stage = stage;
  });
  return [...touched.values()];
}

function common(event: EventMap['ObjectsDetected'] | EventMap['FacesDetected'] | EventMap['TextRecognized']) {
  return {
    imageId: event.imageId,
    tenantId: event.tenantId,
    report: reportOf(event),
    occurredAt: new Date(event.occurredAt),
  };
}
