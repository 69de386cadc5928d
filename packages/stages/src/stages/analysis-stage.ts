import {
  type AnalysisName,
  consumerGroupFor,
  deadLetterTopicFor,
  type EventMap,
  type ImagePreprocessed,
  STAGE_INPUTS,
  STAGE_OUTPUTS,
  type StageOutcome,
} from '@imgpipe/contracts';
import type { OutputEvent, Stage } from '@imgpipe/contracts';
import { modelDuration } from '@imgpipe/telemetry';
import { requestedAnalyses } from '../aggregate/join-analysis.ts';
import type { BlobAccess } from '../blob-access.ts';
import type { ModelRun, OriginalSize, VisionEngine } from '../vision-engine.ts';
import { expectEvent } from './expect-event.ts';
import { imageEvent } from './image-event.ts';

type AnalysisEvent = 'ObjectsDetected' | 'FacesDetected' | 'TextRecognized';

interface AnalysisSpec<E extends AnalysisEvent> {
  eventType: E;
  run(
    vision: VisionEngine,
    normalized: Buffer,
    original: OriginalSize,
    source: () => Promise<Buffer>,
    event: ImagePreprocessed,
  ): Promise<ModelRun<unknown>>;
  /** The event's result fields, from a model's result (or the empty result of a failed or skipped run). */
  fields(result: unknown): Omit<EventMap[E], keyof StageOutcome | 'imageId' | 'tenantId' | 'occurredAt'>;
}

const SPECS: { [A in AnalysisName]: AnalysisSpec<AnalysisEvent> } = {
  detect: {
    eventType: 'ObjectsDetected',
    run: (vision, bytes, size) => vision.detectObjects(bytes, size),
    fields: (result) => ({ objects: (result as EventMap['ObjectsDetected']['objects'] | undefined) ?? [] }),
  },
  faces: {
    eventType: 'FacesDetected',
    run: (vision, bytes, size) => vision.detectFaces(bytes, size),
    fields: (result) => ({ faces: (result as EventMap['FacesDetected']['faces'] | undefined) ?? [] }),
  },
  ocr: {
    eventType: 'TextRecognized',
    // Small print is read from the original's pixels when it is larger than the normalised image; the upload may
    // name the model set and restrict the languages.
    run: (vision, bytes, size, source, event) =>
      vision.recognizeText(bytes, size, source, {
        ...(event.ocrModel ? { modelSet: event.ocrModel } : {}),
        ...(event.ocrLanguages?.length ? { languages: event.ocrLanguages } : {}),
      }),
    fields: (result) => ({
      text: (result as EventMap['TextRecognized']['text'] | undefined) ?? { fullText: '', lines: [] },
    }),
  },
};

/**
 * detect, faces and ocr: ImagePreprocessed -> ObjectsDetected | FacesDetected | TextRecognized. Each reads the
 * normalised image from storage and runs one model. An image whose preprocessing failed, or that did not ask for
 * this analysis, gets no event: aggregate knows not to wait for it.
 */
export function analysisStage(name: AnalysisName, deps: { blobs: BlobAccess; vision: VisionEngine }): Stage {
  const spec = SPECS[name];

  function outcome(event: ImagePreprocessed, status: StageOutcome, result: unknown): OutputEvent {
    return imageEvent(event, STAGE_OUTPUTS[name], spec.eventType, { ...status, ...spec.fields(result) });
  }

  return {
    name,
    groupId: consumerGroupFor(name),
    inputs: STAGE_INPUTS[name],
    deadLetterTopic: deadLetterTopicFor(name),
    async handle(message) {
      const event = expectEvent(message, 'ImagePreprocessed');
      if (event.status !== 'completed' || !event.derivatives || !event.image) return [];
      if (!requestedAnalyses(event).includes(name)) return [];
      const started = performance.now();
      const normalized = await deps.blobs.get(event.derivatives.normalized);
      const inference = performance.now();
      const size = { width: event.image.width, height: event.image.height };
      const run = await spec.run(deps.vision, normalized, size, () => deps.blobs.get(event.original), event);
      modelDuration.observe({ model: run.model.name }, (performance.now() - inference) / 1000);
      const durationMs = Math.round(performance.now() - started);
      return [outcome(event, { status: 'completed', model: run.model, durationMs }, run.result)];
    },
    async onFailure(message, error) {
      if (message.eventType !== 'ImagePreprocessed') return [];
      const event = message.value as ImagePreprocessed;
      return [outcome(event, { status: 'failed', error: { code: error.code, message: error.message } }, undefined)];
    },
  };
}
