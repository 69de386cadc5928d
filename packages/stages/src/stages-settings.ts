import { type ConfigOf, serviceSettings } from '@imgpipe/core';
import { renditionPresetSettings, transformLimitSettings } from '@imgpipe/imaging/recipe';
import { storageSettings } from '@imgpipe/storage';
import { visionSettings } from '@imgpipe/vision';
import { featuresStageSettings } from './stages/features-stage.ts';

/**
 * What the stage handlers run on in a worker process: the vision engine (models, limits, threads), the blob store,
 * Redis for the aggregate stage's join state, and the transform stage's rendition presets and recipe limits. A worker loads these with its stage-process settings, at once.
 */
export const stagesSettings = {
  vision: visionSettings,
  storage: storageSettings,
  redisUrl: serviceSettings.redisUrl,
  /** The transform stage's presets and recipe limits (shared with the API). */
  transform: { presets: renditionPresetSettings.presets, limits: transformLimitSettings },
  /** The features stage's detector, detection size and how many keypoints results list. */
  features: featuresStageSettings,
};

export type StagesConfig = ConfigOf<typeof stagesSettings>;
