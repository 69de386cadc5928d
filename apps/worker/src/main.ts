import { ANALYSES, type ModelIdentity, type StageName, STAGES } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import {
  aggregateStage,
  analysisStage,
  createVisionEngine,
  preprocessStage,
  RedisAggregateStore,
} from '@imgpipe/stages';
import { blobStoreFor } from '@imgpipe/storage';
import { runStageProcessUntilSignalled, type Stage, startStageProcess } from '@imgpipe/stream';
import { Redis } from 'ioredis';
import { loadWorkerConfig, type WorkerConfig } from './config.ts';

export function isStageName(value: string): value is StageName {
  return (STAGES as readonly string[]).includes(value);
}

/** Runs one pipeline stage as its own consumer group until SIGTERM. */
export async function runWorker(stageName: string): Promise<number> {
  if (!isStageName(stageName)) {
    throw new ImgpipeError('CONFIG_INVALID', `unknown stage '${stageName}': expected one of ${STAGES.join(', ')}`);
  }
  const config = loadWorkerConfig();
  const closers: (() => Promise<unknown>)[] = [];
  // The model the stage's warm-up ran: announced on the control topic (`imgpipe reprocess --missing` compares).
  const models: { current?: ModelIdentity } = {};
  return runStageProcessUntilSignalled(
    startStageProcess({
      service: stageName,
      config: config.process,
      createStage: () => createStage(stageName, config.stages, closers, models),
      model: () => models.current,
      onStop: async () => {
        await Promise.allSettled(closers.map((close) => close()));
      },
    }),
  );
}

/** The stage's handler over its clients (vision engine and S3, or Redis for aggregate); `closers` release them. */
async function createStage(
  stageName: StageName,
  config: WorkerConfig['stages'],
  closers: (() => Promise<unknown>)[],
  models: { current?: ModelIdentity },
): Promise<Stage> {
  if (stageName === 'aggregate') {
    const redis = new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
    closers.push(() => redis.quit());
    return aggregateStage({ store: new RedisAggregateStore(redis) });
  }
  const blobs = blobStoreFor(config.storage);
  closers.push(async () => blobs.close());
  const vision = await createVisionEngine({ config: config.vision });
  closers.push(() => vision.close());
  models.current = (await vision.warmUp([stageName]))[stageName as (typeof ANALYSES)[number]];
  if (stageName === 'preprocess') return preprocessStage({ blobs, vision });
  if ((ANALYSES as readonly string[]).includes(stageName)) {
    return analysisStage(stageName as (typeof ANALYSES)[number], { blobs, vision });
  }
  throw new ImgpipeError('CONFIG_INVALID', `stage '${stageName}' has no worker`);
}
