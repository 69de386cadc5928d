import { ANALYSES, type ModelIdentity, WORKER_STAGES, type WorkerStageName } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import {
  aggregateStage,
  analysisStage,
  createVisionEngine,
  featureOptionsOf,
  featuresModel,
  featuresStage,
  preprocessStage,
  RedisAggregateStore,
  transformStage,
  warmUpFeatures,
} from '@imgpipe/stages';
import { blobStoreFor } from '@imgpipe/storage';
import { createInProcessExecutor, createWorkerPool } from '@imgpipe/vision/features';
import { type DependencyCheck, runStageProcessUntilSignalled, type Stage, startStageProcess } from '@imgpipe/stream';
import type { Logger } from '@imgpipe/telemetry';
import { Redis } from 'ioredis';
import { loadWorkerConfig, type WorkerConfig } from './config.ts';
import { giveVisionStageHeapRoom } from './old-generation-growth.ts';

export function isStageName(value: string): value is WorkerStageName {
  return (WORKER_STAGES as readonly string[]).includes(value);
}

/** Runs one pipeline stage as its own consumer group until SIGTERM. */
export async function runWorker(stageName: string): Promise<number> {
  if (!isStageName(stageName)) {
    throw new ImgpipeError(
      'CONFIG_INVALID',
      `unknown stage '${stageName}': expected one of ${WORKER_STAGES.join(', ')}`,
    );
  }
  const config = loadWorkerConfig();
  const closers: (() => Promise<unknown>)[] = [];
  // The model the stage's warm-up ran: announced on the control topic (`imgpipe reprocess --missing` compares).
  const models: { current?: ModelIdentity } = {};
  const checks: Record<string, DependencyCheck> = {};
  return runStageProcessUntilSignalled(
    startStageProcess({
      service: stageName,
      config: config.process,
      checks,
      createStage: (logger) => createStage(stageName, config.stages, { closers, checks, logger, models }),
      model: () => models.current,
      onStop: async () => {
        await Promise.allSettled(closers.map((close) => close()));
      },
    }),
  );
}

/**
 * The stage's handler over its clients (vision engine and S3, or Redis for aggregate); `closers` release them and
 * `checks` probe them for readiness.
 */
async function createStage(
  stageName: WorkerStageName,
  config: WorkerConfig['stages'],
  {
    closers,
    checks,
    logger,
    models,
  }: {
    closers: (() => Promise<unknown>)[];
    checks: Record<string, DependencyCheck>;
    logger: Logger;
    models: { current?: ModelIdentity };
  },
): Promise<Stage> {
  if (stageName === 'aggregate') {
    // A command fails fast while Redis is away (the stage runner classes that CACHE_UNAVAILABLE and retries the
    // message with backoff until the image's deadline); the client reconnects by itself, forever.
    const redis = new Redis(config.redisUrl, {
      lazyConnect: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 5_000,
      retryStrategy: (times) => Math.min(times * 200, 2_000),
    });
    watchRedis(redis, logger);
    closers.push(() => redis.quit());
    checks['redis'] = () => redis.ping();
    return aggregateStage({ store: new RedisAggregateStore(redis) });
  }
  const blobs = blobStoreFor(config.storage);
  closers.push(async () => blobs.close());
  checks['s3'] = () => blobs.ping();
  // Renditions need sharp and S3 only: no vision engine, no models.
  if (stageName === 'transform') {
    return transformStage({ blobs, presets: config.transform.presets, limits: { ...config.transform.limits } });
  }
  // Keypoints need sharp, S3 and a worker pool of their own: no models.
  if (stageName === 'features') {
    const workers = config.vision.workers;
    const executor = workers === 0 ? createInProcessExecutor() : createWorkerPool({ size: workers });
    closers.push(() => executor.close());
    await warmUpFeatures(executor, config.features);
    const stage = featuresStage({ blobs, executor, config: config.features });
    models.current = featuresModel(featureOptionsOf(config.features), config.features.maxSide);
    return stage;
  }
  giveVisionStageHeapRoom();
  const vision = await createVisionEngine({ config: config.vision });
  closers.push(() => vision.close());
  models.current = (await vision.warmUp([stageName]))[stageName as (typeof ANALYSES)[number]];
  if (stageName === 'preprocess') return preprocessStage({ blobs, vision });
  if ((ANALYSES as readonly string[]).includes(stageName)) {
    return analysisStage(stageName as (typeof ANALYSES)[number], { blobs, vision });
  }
  throw new ImgpipeError('CONFIG_INVALID', `stage '${stageName}' has no worker`);
}

/**
 * Without an 'error' listener ioredis prints every failed reconnection; with one that throws nothing the process
 * rides the outage out. Logged once when the connection is lost and once when it is back.
 */
function watchRedis(redis: Redis, logger: Logger): void {
  let lost = false;
  redis.on('error', (error: Error) => {
    if (lost) return;
    lost = true;
    logger.warn({ err: error.message }, 'Redis unavailable; reconnecting');
  });
  redis.on('ready', () => {
    if (!lost) return;
    lost = false;
    logger.info('Redis connection is back');
  });
}
