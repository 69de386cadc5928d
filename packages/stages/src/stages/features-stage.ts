import { createHash } from 'node:crypto';
import {
  consumerGroupFor,
  deadLetterTopicFor,
  type FeaturesExtracted,
  type FeatureSummary,
  type ImagePreprocessed,
  type ModelIdentity,
  type OutputEvent,
  requestsFeatures,
  STAGE_INPUTS,
  STAGE_OUTPUTS,
  type Stage,
} from '@imgpipe/contracts';
import { type ConfigOf, int, oneOf } from '@imgpipe/core';
import {
  DETECTORS,
  decodeFeatureImage,
  detectKeypointsHandler,
  encodeFeatures,
  FEATURES_CODEC_VERSION,
  type FeatureImage,
  type FeatureOptions,
  featureParamsKey,
  normalizeFeatureOptions,
  type StageExecutor,
} from '@imgpipe/vision/features';
import { featuresKey } from '@imgpipe/storage';
import type { ImgpipeError } from '@imgpipe/core';
import type { RenditionStore } from './transform-stage.ts';
import { expectEvent } from './expect-event.ts';
import { type ImageEventHead, imageEvent } from './image-event.ts';

/** The features stage's detector, its size and how many keypoints the result lists (one set per deployment). */
export const featuresStageSettings = {
  detector: oneOf('IMGPIPE_FEATURES_DETECTOR', DETECTORS, {
    default: 'sift',
    description: 'Keypoint detector of the features stage (analyses=features): sift or orb',
  }),
  nfeatures: int('IMGPIPE_FEATURES_NFEATURES', {
    default: 0,
    min: 0,
    max: 100_000,
    description:
      "The features stage's nfeatures (best n by response); 0 keeps the detector's default (SIFT: all, ORB: 500)",
  }),
  maxSide: int('IMGPIPE_FEATURES_MAX_SIDE', {
    default: 1280,
    min: 64,
    max: 1920,
    description:
      'Long side the features stage detects at (a larger original is downscaled; coordinates stay the original)',
  }),
  topKeypoints: int('IMGPIPE_FEATURES_TOP_KEYPOINTS', {
    default: 50,
    min: 0,
    max: 5000,
    description: 'Strongest keypoints listed in the result (every one is in the stored record in S3)',
  }),
};
export type FeaturesStageConfig = ConfigOf<typeof featuresStageSettings>;

/** The detector options a features stage configuration stands for, normalised (defaults filled in). */
export function featureOptionsOf(config: Pick<FeaturesStageConfig, 'detector' | 'nfeatures'>): FeatureOptions {
  return normalizeFeatureOptions({
    detector: config.detector,
    params: config.nfeatures > 0 ? { nfeatures: config.nfeatures } : {},
  });
}

export interface FeaturesStageDeps {
  blobs: RenditionStore;
  /** The worker pool detection runs on (createWorkerPool, or createInProcessExecutor in tests). */
  executor: StageExecutor;
  config: FeaturesStageConfig;
}

/**
 * What decides the stored record's bytes: the canonical options and the detection size. Its digest is the object
 * key's variant and the stage's "model" SHA-256, so equal options always name the same object.
 */
export function featuresVariant(options: FeatureOptions, maxSide: number): string {
  return createHash('sha256')
    .update(`${featureParamsKey(options)}:maxSide=${maxSide}`)
    .digest('hex');
}

/** The identity results carry for the features stage: the detector, the code's version and the options' digest. */
export function featuresModel(options: FeatureOptions, maxSide: number): ModelIdentity {
  return {
    name: options.detector,
    version: `imgpipe-features-${FEATURES_CODEC_VERSION}`,
    sha256: featuresVariant(options, maxSide),
  };
}

function extracted(event: ImagePreprocessed, fields: Omit<FeaturesExtracted, keyof ImageEventHead>): OutputEvent {
  return imageEvent<FeaturesExtracted>(event, STAGE_OUTPUTS.features, 'FeaturesExtracted', fields);
}

/**
 * A synthetic image at the stage's full size: 32-px squares in two greys with a gradient across them, so SIFT and
 * ORB find corners at every octave as they would in a photo. Its size, not its content, sets a detection's buffers.
 */
export function warmUpImage(maxSide: number): FeatureImage {
  const width = maxSide;
  const height = Math.round((maxSide * 3) / 4);
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const square = ((x >> 5) + (y >> 5)) & 1 ? 170 : 60;
      data[y * width + x] = square + Math.round((x / width) * 60);
    }
  }
  return { data, width, height, channels: 1 };
}

/**
 * Starts every thread of the stage's pool before the consumer joins, each detecting on a full-size image: a detector
 * that cannot run stops the process at start (as a missing model does for the model stages), and the threads' memory
 * is taken at start-up rather than the first time a backlog runs two images at once (in a soak, the pool's second
 * thread added 67 MiB of RSS 20 minutes in, after an S3 outage). Resolves with the keypoints each thread found.
 */
export async function warmUpFeatures(
  executor: StageExecutor,
  config: Pick<FeaturesStageConfig, 'detector' | 'nfeatures' | 'maxSide'>,
): Promise<number[]> {
  const image = warmUpImage(config.maxSide);
  const options = featureOptionsOf(config);
  const runs = Array.from({ length: executor.concurrency }, () => executor.run(detectKeypointsHandler, image, options));
  return (await Promise.all(runs)).map((features) => features.keypoints.length);
}

/**
 * features: finds the keypoints of an image whose upload asked for `features`, as `imgpipe features` and
 * POST /v1/features/detect do for the same bytes (the original decoded by decodeFeatureImage at the configured long
 * side, detection on the worker pool), stores every keypoint and descriptor in S3 (encodeFeatures) under a key from
 * the original's SHA-256 and the options, and emits FeaturesExtracted with the summary: count, detector, canonical
 * parameters, the strongest keypoints and the stored record's key. The aggregate joins it into ImageAnalyzed. An
 * image that did not ask, or whose preprocessing failed, emits nothing.
 *
 * A failure (an undecodable original, too many pixels) publishes a failed FeaturesExtracted (the image ends partial)
 * before the runtime dead-letters the input.
 */
export function featuresStage(deps: FeaturesStageDeps): Stage {
  const options = featureOptionsOf(deps.config);
  const { maxSide, topKeypoints } = deps.config;
  const model = featuresModel(options, maxSide);
  const variant = featuresVariant(options, maxSide);
  return {
    name: 'features',
    groupId: consumerGroupFor('features'),
    inputs: STAGE_INPUTS.features,
    deadLetterTopic: deadLetterTopicFor('features'),
    async handle(message, ctx) {
      const event = expectEvent(message, 'ImagePreprocessed');
      if (!requestsFeatures(event) || event.status !== 'completed') return [];
      const started = performance.now();
      const original = await deps.blobs.get(event.original);
      ctx.signal.throwIfAborted();
      const pixels = await decodeFeatureImage(original, { maxSide });
      const features = await deps.executor.run(detectKeypointsHandler, pixels, options);
      const record = encodeFeatures(features);
      const key = featuresKey(event.tenantId, event.original.sha256, variant);
      await deps.blobs.put(key, record, 'application/vnd.imgpipe.features', undefined, {
        detector: features.detector,
        params: featureParamsKey(options),
        'max-side': String(maxSide),
        count: String(features.keypoints.length),
      });
      const summary: FeatureSummary = {
        detector: features.detector,
        params: featureParamsKey(options),
        maxSide,
        width: features.width,
        height: features.height,
        count: features.keypoints.length,
        keypoints: features.keypoints.slice(0, topKeypoints).map(({ x, y, size, angle, response, octave }) => ({
          x,
          y,
          size,
          angle,
          response,
          octave,
        })),
        descriptorType: features.descriptorType,
        descriptorSize: features.descriptorSize,
        descriptorsKey: key,
        descriptorsBytes: record.byteLength,
      };
      return [
        extracted(event, {
          status: 'completed',
          model,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          features: summary,
        }),
      ];
    },
    async onFailure(message, error: ImgpipeError) {
      if (message.eventType !== 'ImagePreprocessed') return [];
      const event = message.value as ImagePreprocessed;
      if (!requestsFeatures(event)) return [];
      return [extracted(event, { status: 'failed', error: { code: error.code, message: error.message }, model })];
    },
  };
}
