import { type ConfigOf, serviceSettings } from '@imgpipe/core';
import { storageSettings } from '@imgpipe/storage';
import { visionSettings } from '@imgpipe/vision';

/**
 * What the stage handlers run on in a worker process: the vision engine (models, limits, threads), the blob store,
 * and Redis for the aggregate stage's join state. A worker loads these with its stage-process settings, at once.
 */
export const stagesSettings = {
  vision: visionSettings,
  storage: storageSettings,
  redisUrl: serviceSettings.redisUrl,
};

export type StagesConfig = ConfigOf<typeof stagesSettings>;
