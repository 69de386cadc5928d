import type { Redis } from 'ioredis';
import type { ImageParts } from './join-analysis.ts';

export type PartName = keyof ImageParts;

/**
 * Durable per-image join state for the aggregate stage. `add` records one part atomically and returns every part
 * so far; `markEmitted` is called only after ImageAnalyzed is durable in Kafka, so a crash in between re-emits
 * (the results service's upsert absorbs it) rather than losing the result.
 */
export interface AggregateStore {
  add(imageId: string, part: PartName, value: unknown): Promise<{ parts: ImageParts; emitted: boolean }>;
  markEmitted(imageId: string): Promise<void>;
}

const EMITTED = 'emitted';

export class RedisAggregateStore implements AggregateStore {
  readonly #redis: Redis;
  readonly #ttlSeconds: number;

  constructor(redis: Redis, options: { ttlSeconds?: number } = {}) {
    this.#redis = redis;
    this.#ttlSeconds = options.ttlSeconds ?? 7 * 24 * 3600;
  }

  async add(imageId: string, part: PartName, value: unknown): Promise<{ parts: ImageParts; emitted: boolean }> {
    const key = stateKey(imageId);
    const results = await this.#redis
      .multi()
      .hset(key, part, JSON.stringify(value))
      .expire(key, this.#ttlSeconds)
      .hgetall(key)
      .exec();
    const fields = (results?.[2]?.[1] ?? {}) as Record<string, string>;
    const parts: ImageParts = {};
    for (const [field, json] of Object.entries(fields)) {
      if (field !== EMITTED) (parts as Record<string, unknown>)[field] = JSON.parse(json);
    }
    return { parts, emitted: fields[EMITTED] !== undefined };
  }

  async markEmitted(imageId: string): Promise<void> {
    await this.#redis.hset(stateKey(imageId), EMITTED, String(Date.now()));
  }
}

export class MemoryAggregateStore implements AggregateStore {
  readonly #state = new Map<string, { parts: ImageParts; emitted: boolean }>();

  async add(imageId: string, part: PartName, value: unknown): Promise<{ parts: ImageParts; emitted: boolean }> {
    const entry = this.#state.get(imageId) ?? { parts: {}, emitted: false };
    (entry.parts as Record<string, unknown>)[part] = value;
    this.#state.set(imageId, entry);
    return { parts: { ...entry.parts }, emitted: entry.emitted };
  }

  async markEmitted(imageId: string): Promise<void> {
    const entry = this.#state.get(imageId);
    if (entry) entry.emitted = true;
  }
}

function stateKey(imageId: string): string {
  return `imgpipe:aggregate:${imageId}`;
}
