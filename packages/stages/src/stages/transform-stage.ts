import {
  consumerGroupFor,
  deadLetterTopicFor,
  type ImagePreprocessed,
  type ImageTransformed,
  type OutputEvent,
  type Rendition,
  STAGE_INPUTS,
  STAGE_OUTPUTS,
  type Stage,
} from '@imgpipe/contracts';
import type { ImgpipeError } from '@imgpipe/core';
import {
  applyRecipe,
  formatRecipe,
  type RenditionPresets,
  renditionVariant,
  resolveRenditions,
  type TransformLimits,
  validateRecipe,
} from '@imgpipe/imaging';
import { renditionKey } from '@imgpipe/storage';
import type { BlobRef } from '../blob-access.ts';
import { expectEvent } from './expect-event.ts';
import { type ImageEventHead, imageEvent } from './image-event.ts';

/** Object storage as the transform stage uses it: the original read, each rendition written with its facts. */
export interface RenditionStore {
  get(ref: Pick<BlobRef, 'bucket' | 'key'> & { sha256?: string }): Promise<Buffer>;
  put(
    key: string,
    bytes: Uint8Array,
    contentType: string,
    sha256?: string,
    metadata?: Record<string, string>,
  ): Promise<unknown>;
}

export interface TransformStageDeps {
  blobs: RenditionStore;
  presets: RenditionPresets;
  limits: TransformLimits;
}

/**
 * The renditions an ImagePreprocessed asks for: preset names and inline `name=recipe` entries (a batch's ad-hoc
 * recipe); none in a join written before renditions existed.
 */
function asked(event: ImagePreprocessed): readonly string[] {
  return event.renditions ?? [];
}

function transformed(event: ImagePreprocessed, fields: Omit<ImageTransformed, keyof ImageEventHead>): OutputEvent {
  return imageEvent<ImageTransformed>(event, STAGE_OUTPUTS.transform, 'ImageTransformed', fields);
}

/**
 * transform: renders the rendition presets an upload asked for (ImagePreprocessed.renditions: preset names, or an
 * inline `name=recipe`, as a batch with an ad-hoc recipe asks) from the original
 * with the recipe engine, stores each in S3 under the rendition cache's key (the original's SHA-256 and the digest of
 * the normalised recipe: GET /v1/images/{id}/renditions/{recipe} serves it as a hit) with the metadata that route
 * reads, and emits ImageTransformed, which the aggregate joins into ImageAnalyzed. An image that asked for none, or
 * whose preprocessing failed, costs one decode and emits nothing. The original, not the normalised image, is the
 * input, so a preset's rendition is byte for byte the one the renditions route renders for the same recipe.
 *
 * An unknown preset (a direct producer's, or configurations that disagree) or a recipe over the limits is
 * deterministic: the stage publishes a failed ImageTransformed (the image ends partial) and dead-letters the input.
 */
export function transformStage(deps: TransformStageDeps): Stage {
  return {
    name: 'transform',
    groupId: consumerGroupFor('transform'),
    inputs: STAGE_INPUTS.transform,
    deadLetterTopic: deadLetterTopicFor('transform'),
    async handle(message, ctx) {
      const event = expectEvent(message, 'ImagePreprocessed');
      if (asked(event).length === 0 || event.status !== 'completed') return [];
      const started = performance.now();
      const presets = resolveRenditions(asked(event), deps.presets).map((preset) => {
        const recipe = validateRecipe(preset.recipe, deps.limits);
        return { name: preset.name, recipe, canonical: formatRecipe(recipe) };
      });
      const original = await deps.blobs.get(event.original);
      const renditions: Rendition[] = [];
      for (const preset of presets) {
        ctx.signal.throwIfAborted();
        const result = await applyRecipe(original, preset.recipe, { limits: deps.limits });
        const key = renditionKey(event.tenantId, event.original.sha256, renditionVariant(preset.canonical));
        await deps.blobs.put(key, result.bytes, result.contentType, undefined, {
          width: String(result.width),
          height: String(result.height),
          format: result.format,
          recipe: preset.canonical,
        });
        renditions.push({
          name: preset.name,
          recipe: preset.canonical,
          key,
          format: result.format,
          width: result.width,
          height: result.height,
          bytes: result.bytes.byteLength,
        });
      }
      return [
        transformed(event, {
          status: 'completed',
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          renditions,
        }),
      ];
    },
    async onFailure(message, error: ImgpipeError) {
      if (message.eventType !== 'ImagePreprocessed') return [];
      const event = message.value as ImagePreprocessed;
      if (asked(event).length === 0) return [];
      return [
        transformed(event, {
          status: 'failed',
          error: { code: error.code, message: error.message },
          renditions: [],
        }),
      ];
    },
  };
}
