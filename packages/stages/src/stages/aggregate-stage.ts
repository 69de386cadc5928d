import {
  consumerGroupFor,
  deadLetterTopicFor,
  type ImageAnalyzed,
  type OutputEvent,
  STAGE_INPUTS,
  type Stage,
  TOPICS,
} from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import type { AggregateStore, JoinState, PartName, PartUpdate } from '../aggregate/aggregate-store.ts';
import { analysisDigest, isComplete, joinAnalysis } from '../aggregate/join-analysis.ts';

const PARTS: Record<string, PartName> = {
  ImagePreprocessed: 'preprocessed',
  ObjectsDetected: 'detect',
  FacesDetected: 'faces',
  TextRecognized: 'ocr',
  ImageTransformed: 'transform',
  FeaturesExtracted: 'features',
};

function partOf(eventType: string): PartName {
  const part = PARTS[eventType];
  if (!part) throw new ImgpipeError('CODEC_INVALID_PAYLOAD', `aggregate does not take ${eventType}`);
  return part;
}

/**
 * ImageAnalyzed for an image whose join state is complete and whose joined result differs from what was last
 * emitted for it (nothing emitted yet, or a stage re-run changed an outcome); nothing otherwise, so a replayed part
 * emits nothing once its image's result is durable.
 */
function analyzed(imageId: string, tenantId: string, state: JoinState, started: number): OutputEvent[] {
  if (!isComplete(state.parts)) return [];
  const joined = joinAnalysis(imageId, state.parts, Math.round(performance.now() - started));
  if (state.emitted === analysisDigest(joined)) return [];
  const analysis: ImageAnalyzed = { ...joined, tenantId, occurredAt: Date.now() };
  return [{ topic: TOPICS.analyzed, eventType: 'ImageAnalyzed', key: imageId, value: analysis }];
}

function emittedOf(output: OutputEvent): { imageId: string; digest: string } {
  return { imageId: output.key, digest: analysisDigest(output.value as ImageAnalyzed) };
}

/**
 * aggregate: joins an image's preprocess outcome with each analysis it asked for (and the transform stage's renditions
 * when it asked for some) and emits ImageAnalyzed once all
 * have arrived (or at once when preprocessing failed), and again whenever a later outcome changes the joined result
 * (a stage re-run by reprocess: its labels, objects and textInObjects follow the new outcome; the results sink keeps
 * the latest analysis). The join state is durable, so a restart loses nothing. In
 * batches, the join states of every image in the batch are written and read back in one Redis MULTI, each complete
 * image is emitted once (continuing the trace of its last part in the batch), and all are marked emitted in one
 * pipeline once their ImageAnalyzed events are durable.
 */
export function aggregateStage(deps: { store: AggregateStore }): Stage {
  return {
    name: 'aggregate',
    groupId: consumerGroupFor('aggregate'),
    inputs: STAGE_INPUTS.aggregate,
    deadLetterTopic: deadLetterTopicFor('aggregate'),
    async handle(message) {
      const part = partOf(message.eventType);
      const started = performance.now();
      const event = message.value as { imageId: string; tenantId: string };
      const state = await deps.store.add(event.imageId, part, message.value);
      return analyzed(event.imageId, event.tenantId, state, started);
    },
    async onOutputsDurable(_message, outputs) {
      await deps.store.markEmittedMany(outputs.map(emittedOf));
    },
    async handleBatch(items) {
      const started = performance.now();
      const updates: PartUpdate[] = [];
      const rejected: { item: number; error: ImgpipeError }[] = [];
      // The last item of each image in the batch: the one whose arrival completed it, whose trace the output continues.
      const last = new Map<string, { item: number; tenantId: string }>();
      items.forEach(({ message }, item) => {
        try {
          const part = partOf(message.eventType);
          const event = message.value as { imageId: string; tenantId: string };
          updates.push({ imageId: event.imageId, part, value: message.value });
          last.set(event.imageId, { item, tenantId: event.tenantId });
        } catch (error) {
          rejected.push({ item, error: error as ImgpipeError });
        }
      });
      const states = await deps.store.addMany(updates);
      const outputs = [...last]
        .sort(([, a], [, b]) => a.item - b.item)
        .flatMap(([imageId, { item, tenantId }]) =>
          analyzed(imageId, tenantId, states.get(imageId)!, started).map((event) => ({ item, event })),
        );
      return { outputs, rejected };
    },
    async onBatchOutputsDurable(_items, outputs) {
      await deps.store.markEmittedMany(outputs.map((output) => emittedOf(output.event)));
    },
  };
}
