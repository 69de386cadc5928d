import type { ImageStatus, Stage, StageName } from '@imgpipe/contracts';
import { type ConfigOf, int, serviceSettings } from '@imgpipe/core';
import type { Logger } from '@imgpipe/telemetry';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { createDatabase } from './database.ts';
import { sweepExpired } from './deadline-sweep.ts';
import { migrateDirect } from './database-urls.ts';
import { getImages } from './queries.ts';
import { createRedis, ResultsCache } from './results-cache.ts';
import { ResultsRepository } from './results-repository.ts';
import { type ImageTouched, resultsStage } from './results-stage.ts';
import type { Database } from './schema.ts';

/** The results service's own settings (the stage-process settings of @imgpipe/stream come on top). */
export const resultsServiceSettings = {
  databaseUrl: serviceSettings.databaseUrl,
  databaseDirectUrl: serviceSettings.databaseDirectUrl,
  redisUrl: serviceSettings.redisUrl,
  sweepIntervalMs: int('IMGPIPE_SWEEP_INTERVAL_MS', { default: 30_000, min: 100, max: 3_600_000 }),
  imageDeadlineMs: int('IMGPIPE_IMAGE_DEADLINE_MS', {
    default: 15 * 60_000,
    min: 1_000,
    description: 'how long an image may stay pending before the sweep fails its unfinished stages',
  }),
};

export type ResultsServiceConfig = ConfigOf<typeof resultsServiceSettings>;

/** What changed: an image's row moved (an event was materialised, or the deadline sweep settled it). */
export interface ResultsChange {
  tenantId: string;
  imageId: string;
  status: ImageStatus;
}

/** Told after each change is in PostgreSQL and Redis (e.g. the webhook dispatcher); a throw fails the message. */
export type ResultsChangeListener = (change: ResultsChange) => Promise<void>;

/**
 * The results service's logic, apart from its Kafka wiring: materialise each event through the results stage, then
 * refresh the image's cached view, publish its progress and tell the change listeners; and every sweepIntervalMs
 * settle images past their deadline the same way. apps/results only composes this with the stage process.
 */
export class ResultsService {
  readonly db: Kysely<Database>;
  readonly stage: Stage;
  readonly #redis: Redis;
  readonly #cache: ResultsCache;
  readonly #listeners: ResultsChangeListener[] = [];
  readonly #sweepIntervalMs: number;
  #sweepTimer: NodeJS.Timeout | undefined;

  private constructor(
    db: Kysely<Database>,
    redis: Redis,
    config: Pick<ResultsServiceConfig, 'sweepIntervalMs' | 'imageDeadlineMs'>,
  ) {
    this.db = db;
    this.#redis = redis;
    this.#cache = new ResultsCache(redis);
    this.#sweepIntervalMs = config.sweepIntervalMs;
    const repository = new ResultsRepository(db, { defaultDeadlineMs: config.imageDeadlineMs });
    this.stage = resultsStage({
      repository,
      onChange: (images) => this.refreshMany(images),
    });
  }

  /**
   * Connects to PostgreSQL (bringing its schema up to date over IMGPIPE_DATABASE_DIRECT_URL, the primary itself) and
   * Redis. Every read and write of the sink goes to the primary (IMGPIPE_DATABASE_URL, PgBouncer in production).
   */
  static async open(
    config: Omit<ResultsServiceConfig, 'databaseDirectUrl'> & { databaseDirectUrl?: string | undefined },
  ): Promise<ResultsService> {
    await migrateDirect(config, 'imgpipe-results-migrate');
    const db = createDatabase({ url: config.databaseUrl, applicationName: 'imgpipe-results' });
    // Its errors are handled (a Redis restart must not print or crash); commands fail as retriable CACHE_UNAVAILABLE.
    const redis = createRedis(config.redisUrl);
    return new ResultsService(db, redis, config);
  }

  onChange(listener: ResultsChangeListener): void {
    this.#listeners.push(listener);
  }

  /** Re-reads an image, caches its view, publishes its progress (naming `stage` when one stage changed), tells listeners. */
  refresh(tenantId: string, imageId: string, stage?: StageName): Promise<void> {
    return this.refreshMany([{ tenantId, imageId, ...(stage ? { stage } : {}) }]);
  }

  /**
   * refresh for many images at once (every image a batch changed): one read of all their views after the commit,
   * one Redis pipeline for all cache entries and progress notifications, then the listeners once per image.
   */
  async refreshMany(images: readonly ImageTouched[]): Promise<void> {
    if (images.length === 0) return;
    const views = await getImages(this.db, images);
    const updates = images.flatMap(({ tenantId, imageId, stage }) => {
      const view = views.get(imageId.toLowerCase());
      if (!view) return [];
      const progress = {
        imageId,
        status: view.status,
        updatedAt: view.updatedAt,
        ...(stage ? { stage, stageStatus: view.stages[stage].status } : {}),
      };
      return [{ tenantId, imageId, view, progress }];
    });
    await this.#cache.setLatestAndPublish(updates);
    for (const { tenantId, imageId, view } of updates) {
      for (const listener of this.#listeners) await listener({ tenantId, imageId, status: view.status });
    }
  }

  /** Starts the deadline sweep: nothing stays pending forever (ARCHITECTURE principle 5). */
  startSweep(logger: Logger): void {
    if (this.#sweepTimer) return;
    this.#sweepTimer = setInterval(() => {
      sweepExpired(this.db, new Date())
        .then(async (expired) => {
          await this.refreshMany(expired);
          if (expired.length > 0) logger.warn({ count: expired.length }, 'deadline sweep failed stuck images');
        })
        .catch((error: unknown) => logger.error({ err: (error as Error).message }, 'deadline sweep failed'));
    }, this.#sweepIntervalMs);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    await this.#redis.quit();
    await this.db.destroy();
  }
}
