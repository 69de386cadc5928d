import { consumerGroupFor, deadLetterTopicFor, type ImageAnalyzed, STAGE_INPUTS, TOPICS } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import type { Stage } from '@imgpipe/contracts';
import type { AggregateStore, PartName } from '../aggregate/aggregate-store.ts';
import { isComplete, joinAnalysis } from '../aggregate/join-analysis.ts';

const PARTS: Record<string, PartName> = {
  ImagePreprocessed: 'preprocessed',
  ObjectsDetected: 'detect',
  FacesDetected: 'faces',
  TextRecognized: 'ocr',
};

/**
 * aggregate: joins an image's preprocess outcome with each analysis it asked for and emits ImageAnalyzed once all
 * have arrived (or at once when preprocessing failed). The join state is durable, so a restart loses nothing.
 */
export function aggregateStage(deps: { store: AggregateStore }): Stage {
  return {
    name: 'aggregate',
    groupId: consumerGroupFor('aggregate'),
    inputs: STAGE_INPUTS.aggregate,
    deadLetterTopic: deadLetterTopicFor('aggregate'),
    async handle(message) {
      const part = PARTS[message.eventType];
      if (!part) throw new ImgpipeError('CODEC_INVALID_PAYLOAD', `aggregate does not take ${message.eventType}`);
      const started = performance.now();
      const event = message.value as { imageId: string; tenantId: string };
      const { parts, emitted } = await deps.store.add(event.imageId, part, message.value);
      if (emitted || !isComplete(parts)) return [];
      const analysis: ImageAnalyzed = {
        ...joinAnalysis(event.imageId, parts, Math.round(performance.now() - started)),
        tenantId: event.tenantId,
        occurredAt: Date.now(),
      };
      return [{ topic: TOPICS.analyzed, eventType: 'ImageAnalyzed', key: event.imageId, value: analysis }];
    },
    async onOutputsDurable(_message, outputs) {
      for (const output of outputs) await deps.store.markEmitted(output.key);
    },
  };
}
