import type { StageName } from '@imgpipe/contracts';
import { int, loadConfig, serviceSettings } from '@imgpipe/core';
import {
  createDatabase,
  getImage,
  migrate,
  ResultsCache,
  ResultsRepository,
  resultsStage,
  sweepExpired,
} from '@imgpipe/db';
import { runStageProcessUntilSignalled, startStageProcess } from '@imgpipe/stream';
import type { Logger } from '@imgpipe/telemetry';
import { webhookDispatcherFromEnv } from '@imgpipe/webhooks';
import { Redis } from 'ioredis';

const settings = {
  databaseUrl: serviceSettings.databaseUrl,
  redisUrl: serviceSettings.redisUrl,
  sweepIntervalMs: int('IMGPIPE_SWEEP_INTERVAL_MS', { default: 30_000, min: 100, max: 3_600_000 }),
  imageDeadlineMs: int('IMGPIPE_IMAGE_DEADLINE_MS', {
    default: 15 * 60_000,
    min: 1_000,
    description: 'how long an image may stay pending before the sweep fails its unfinished stages',
  }),
};

const STAGE_OF_EVENT: Record<string, StageName> = {
  ImagePreprocessed: 'preprocess',
  ObjectsDetected: 'detect',
  FacesDetected: 'faces',
  TextRecognized: 'ocr',
  ImageAnalyzed: 'aggregate',
};

/**
 * The results service: materialises every pipeline outcome into PostgreSQL and the latest view of each image into
 * Redis, and runs the deadline sweep so nothing stays pending forever.
 */
export async function runResults(): Promise<number> {
  const config = loadConfig(settings);
  const db = createDatabase({ url: config.databaseUrl });
  await migrate(db);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
  const cache = new ResultsCache(redis);
  const repository = new ResultsRepository(db, { defaultDeadlineMs: config.imageDeadlineMs });
  // Webhooks on completion: queued in PostgreSQL, sent in the background, signed and retried (packages/webhooks).
  let webhookLogger: Logger | undefined;
  const webhooks = webhookDispatcherFromEnv(db, {
    onError: (error) => webhookLogger?.warn({ err: (error as Error).message }, 'webhook delivery pass failed'),
    onDelivery: (outcome) => webhookLogger?.[outcome.ok ? 'info' : 'warn'](outcome, 'webhook attempt'),
  });

  const refresh = async (tenantId: string, imageId: string, stage?: StageName) => {
    const view = await getImage(db, tenantId, imageId);
    if (!view) return;
    await cache.setLatest(tenantId, imageId, view);
    await cache.publishProgress(tenantId, imageId, {
      imageId,
      status: view.status,
      updatedAt: view.updatedAt,
      ...(stage ? { stage, stageStatus: view.stages[stage].status } : {}),
    });
    await webhooks.onChange({ tenantId, imageId, status: view.status });
  };

  let sweepTimer: NodeJS.Timeout | undefined;
  const running = startStageProcess({
    service: 'results',
    createStage: async () =>
      webhooks.observe(
        resultsStage({
          repository,
          onChange: (write, eventType) => refresh(write.tenantId, write.imageId, STAGE_OF_EVENT[eventType]),
        }),
      ),
    onStop: async () => {
      await webhooks.stop();
      clearInterval(sweepTimer);
      await redis.quit();
      await db.destroy();
    },
  });
  const stageProcess = await running;
  webhookLogger = stageProcess.logger;
  webhooks.start();
  sweepTimer = setInterval(() => {
    sweepExpired(db, new Date())
      .then(async (expired) => {
        for (const { tenantId, imageId } of expired) await refresh(tenantId, imageId);
        if (expired.length > 0) {
          stageProcess.logger.warn({ count: expired.length }, 'deadline sweep failed stuck images');
        }
      })
      .catch((error: unknown) => stageProcess.logger.error({ err: (error as Error).message }, 'deadline sweep failed'));
  }, config.sweepIntervalMs);
  return runStageProcessUntilSignalled(running);
}
