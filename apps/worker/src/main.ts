import { ANALYSES, type StageName, STAGES } from '@imgpipe/contracts';
import { ImgpipeError, loadConfig, serviceSettings } from '@imgpipe/core';
import {
  aggregateStage,
  analysisStage,
  createVisionEngine,
  preprocessStage,
  RedisAggregateStore,
} from '@imgpipe/stages';
import { blobStoreFromEnv } from '@imgpipe/storage';
import { runStageProcessUntilSignalled, type Stage, startStageProcess } from '@imgpipe/stream';
import { Redis } from 'ioredis';

export function isStageName(value: string): value is StageName {
  return (STAGES as readonly string[]).includes(value);
}

/** Runs one pipeline stage as its own consumer group until SIGTERM. */
export async function runWorker(stageName: string): Promise<number> {
  if (!isStageName(stageName)) {
    throw new ImgpipeError('CONFIG_INVALID', `unknown stage '${stageName}': expected one of ${STAGES.join(', ')}`);
  }
  const closers: (() => Promise<unknown>)[] = [];
  const createStage = async (): Promise<Stage> => {
    if (stageName === 'aggregate') {
      const { redisUrl } = loadConfig({ redisUrl: serviceSettings.redisUrl });
      const redis = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
      closers.push(() => redis.quit());
      return aggregateStage({ store: new RedisAggregateStore(redis) });
    }
    const blobs = blobStoreFromEnv();
    closers.push(async () => blobs.close());
    const vision = await createVisionEngine();
    closers.push(() => vision.close());
    await vision.warmUp([stageName]);
    if (stageName === 'preprocess') return preprocessStage({ blobs, vision });
    if ((ANALYSES as readonly string[]).includes(stageName)) {
      return analysisStage(stageName as (typeof ANALYSES)[number], { blobs, vision });
    }
    throw new ImgpipeError('CONFIG_INVALID', `stage '${stageName}' has no worker`);
  };
  return runStageProcessUntilSignalled(
    startStageProcess({
      service: stageName,
      createStage,
      onStop: async () => {
        await Promise.allSettled(closers.map((close) => close()));
      },
    }),
  );
}
