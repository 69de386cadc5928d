import type { ImageStatus, StageName, StageStatus } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import { Redis } from 'ioredis';
import type { ImageView } from './queries.ts';

export interface ProgressEvent {
  imageId: string;
  status: ImageStatus;
  /** The stage whose news this is, when one stage changed. */
  stage?: StageName;
  stageStatus?: StageStatus;
  /** The image's version (ImageView.updatedAt) after the change. */
  updatedAt: string;
}

export interface ResultsCacheOptions {
  /** How long a cached view lives; the database stays the source of truth. Default 7 days. */
  ttlSeconds?: number;
}

export const DEFAULT_CACHE_TTL_SECONDS = 7 * 24 * 60 * 60;

export function imageKey(tenantId: string, imageId: string): string {
  return `imgpipe:${tenantId}:image:${imageId.toLowerCase()}`;
}

/** The pub/sub channel of one image's progress; SSE for one image SUBSCRIBEs to it. */
export function progressChannel(tenantId: string, imageId: string): string {
  return `${imageKey(tenantId, imageId)}:progress`;
}

/** PSUBSCRIBE pattern for every image of a tenant. */
export function tenantProgressPattern(tenantId: string): string {
  return `imgpipe:${tenantId.replace(/[*?[\]\\]/g, '\\$&')}:image:*:progress`;
}

/**
 * Stores the view unless the cache already holds a newer one (by updatedAt, an ISO instant that sorts as text):
 * results replicas read views concurrently, and a slow one must not put an older view back.
 */
const SET_IF_NEWER = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, view = pcall(cjson.decode, current)
  if ok and type(view) == 'table' and type(view.updatedAt) == 'string' and view.updatedAt > ARGV[2] then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
`;

/** ioredis sends a defined command as EVALSHA, loading the script on each connection once (pipelines too). */
const SET_IF_NEWER_COMMAND = 'imgpipeSetViewIfNewer';

type ScriptedRedis = { [SET_IF_NEWER_COMMAND]: (key: string, view: string, updatedAt: string, ttl: number) => unknown };

/** One image's refresh: its view for the cache and its progress notification. */
export interface ViewUpdate {
  tenantId: string;
  imageId: string;
  view: ImageView;
  progress: ProgressEvent;
}

/** The latest view of each image in Redis, and progress notifications for live subscribers. */
export class ResultsCache {
  readonly #redis: Redis;
  readonly #ttlSeconds: number;

  constructor(redis: Redis, options: ResultsCacheOptions = {}) {
    this.#redis = redis;
    this.#ttlSeconds = options.ttlSeconds ?? DEFAULT_CACHE_TTL_SECONDS;
    if (!(SET_IF_NEWER_COMMAND in redis))
      redis.defineCommand(SET_IF_NEWER_COMMAND, { numberOfKeys: 1, lua: SET_IF_NEWER });
  }

  /**
   * Stores each view (unless the cache has a newer one) and publishes each progress event, all in one pipeline: one
   * round trip for a whole batch. Throws CACHE_UNAVAILABLE if any command failed.
   */
  async setLatestAndPublish(updates: readonly ViewUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    const pipeline = this.#redis.pipeline();
    for (const { tenantId, imageId, view, progress } of updates) {
      (pipeline as unknown as ScriptedRedis)[SET_IF_NEWER_COMMAND](
        imageKey(tenantId, imageId),
        JSON.stringify(view),
        view.updatedAt,
        this.#ttlSeconds,
      );
      pipeline.publish(progressChannel(tenantId, imageId), JSON.stringify(progress));
    }
    const results = await withCacheErrors(() => pipeline.exec());
    const failed = results?.find(([error]) => error);
    if (failed?.[0]) {
      throw new ImgpipeError('CACHE_UNAVAILABLE', `Redis: ${failed[0].message}`, { cause: failed[0] });
    }
  }

  /** True if stored, false if the cache already had a newer view. */
  async setLatest(tenantId: string, imageId: string, view: ImageView): Promise<boolean> {
    const stored = await withCacheErrors(() =>
      this.#redis.eval(
        SET_IF_NEWER,
        1,
        imageKey(tenantId, imageId),
        JSON.stringify(view),
        view.updatedAt,
        this.#ttlSeconds,
      ),
    );
    return stored === 1;
  }

  /**
   * The cached view, or undefined for none, and for a view cached by an older version that lacks a field every view
   * now has (`attributes`, `requestedRenditions`): readers then take the view from PostgreSQL, so no reader serves a view short of the
   * contract, and the next refresh replaces it.
   */
  async getLatest(tenantId: string, imageId: string): Promise<ImageView | undefined> {
    const json = await withCacheErrors(() => this.#redis.get(imageKey(tenantId, imageId)));
    if (json === null) return undefined;
    const view = JSON.parse(json) as Partial<ImageView>;
    return view.attributes === undefined || view.requestedRenditions === undefined ? undefined : (view as ImageView);
  }

  async forget(tenantId: string, imageId: string): Promise<void> {
    await withCacheErrors(() => this.#redis.del(imageKey(tenantId, imageId)));
  }

  /** Returns how many subscribers received the event. */
  publishProgress(tenantId: string, imageId: string, event: ProgressEvent): Promise<number> {
    return withCacheErrors(() => this.#redis.publish(progressChannel(tenantId, imageId), JSON.stringify(event)));
  }
}

/** A Redis client for IMGPIPE_REDIS_URL: a command fails (CACHE_UNAVAILABLE) after two reconnection attempts. */
export function createRedis(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, connectTimeout: 5_000 });
  // Connection errors reach callers through their commands; without a listener ioredis would also print each one.
  redis.on('error', () => {});
  return redis;
}

async function withCacheErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ImgpipeError('CACHE_UNAVAILABLE', `Redis: ${message}`, { cause: error });
  }
}
