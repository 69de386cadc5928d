import type { Redis } from 'ioredis';
import type { ImageParts } from './join-analysis.ts';

export type PartName = keyof ImageParts;

export interface JoinState {
  parts: ImageParts;
  /**
   * The digest (analysisDigest) of the ImageAnalyzed last emitted for the image, once it was durable; undefined while
   * none was. A state emitted by a version that recorded a time instead matches no digest: it is emitted once more.
   */
  emitted: string | undefined;
}

/** An image whose ImageAnalyzed is durable, with the digest of what it said. */
export interface EmittedAnalysis {
  imageId: string;
  digest: string;
}

/** One part of one image, as a batch records it. */
export interface PartUpdate {
  imageId: string;
  part: PartName;
  value: unknown;
}

/**
 * Durable per-image join state for the aggregate stage. `add` records one part atomically and returns every part
 * so far; `markEmitted` is called only after ImageAnalyzed is durable in Kafka, so a crash in between re-emits
 * (the results service's upsert absorbs it) rather than losing the result. It records what was emitted (a digest),
 * so a part that changes the joined result later (a re-run stage) emits again. The *Many forms do the same for a
 * batch in one round trip.
 */
export interface AggregateStore {
  add(imageId: string, part: PartName, value: unknown): Promise<JoinState>;
  /** Records the parts in order (a later part of the same image and name wins); the state of each image after all. */
  addMany(updates: readonly PartUpdate[]): Promise<Map<string, JoinState>>;
  markEmitted(emitted: EmittedAnalysis): Promise<void>;
  markEmittedMany(emitted: readonly EmittedAnalysis[]): Promise<void>;
}

const EMITTED = 'emitted';

export class RedisAggregateStore implements AggregateStore {
  readonly #redis: Redis;
  readonly #ttlSeconds: number;

  constructor(redis: Redis, options: { ttlSeconds?: number } = {}) {
    this.#redis = redis;
    this.#ttlSeconds = options.ttlSeconds ?? 7 * 24 * 3600;
  }

  async add(imageId: string, part: PartName, value: unknown): Promise<JoinState> {
    const state = (await this.addMany([{ imageId, part, value }])).get(imageId);
    return state ?? { parts: {}, emitted: undefined };
  }

  /**
   * One MULTI for the whole batch: per image, HSET of all its parts, EXPIRE and HGETALL. Each image's write and read
   * are atomic together, as in `add`, so two replicas joining the same image never lose a part: the later one sees
   * both and emits.
   */
  async addMany(updates: readonly PartUpdate[]): Promise<Map<string, JoinState>> {
    const byImage = new Map<string, Map<PartName, string>>();
    for (const { imageId, part, value } of updates) {
      const parts = byImage.get(imageId) ?? new Map<PartName, string>();
      parts.set(part, JSON.stringify(value));
      byImage.set(imageId, parts);
    }
    const states = new Map<string, JoinState>();
    if (byImage.size === 0) return states;
    const multi = this.#redis.multi();
    for (const [imageId, parts] of byImage) {
      const key = stateKey(imageId);
      multi.hset(key, Object.fromEntries(parts)).expire(key, this.#ttlSeconds).hgetall(key);
    }
    const results = await multi.exec();
    if (!results) throw new Error('aggregate store: the MULTI was discarded');
    [...byImage.keys()].forEach((imageId, index) => {
      const [error, fields] = results[index * 3 + 2] ?? [];
      if (error) throw error;
      states.set(imageId, toJoinState((fields ?? {}) as Record<string, string>));
    });
    return states;
  }

  async markEmitted(emitted: EmittedAnalysis): Promise<void> {
    await this.markEmittedMany([emitted]);
  }

  async markEmittedMany(emitted: readonly EmittedAnalysis[]): Promise<void> {
    if (emitted.length === 0) return;
    const pipeline = this.#redis.pipeline();
    for (const { imageId, digest } of emitted) pipeline.hset(stateKey(imageId), EMITTED, digest);
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
  }
}

function toJoinState(fields: Record<string, string>): JoinState {
  const parts: ImageParts = {};
  for (const [field, json] of Object.entries(fields)) {
    if (field !== EMITTED) (parts as Record<string, unknown>)[field] = JSON.parse(json);
  }
  return { parts, emitted: fields[EMITTED] };
}

export class MemoryAggregateStore implements AggregateStore {
  readonly #state = new Map<string, JoinState>();

  async add(imageId: string, part: PartName, value: unknown): Promise<JoinState> {
    const entry = this.#state.get(imageId) ?? { parts: {}, emitted: undefined };
    (entry.parts as Record<string, unknown>)[part] = value;
    this.#state.set(imageId, entry);
    return { parts: { ...entry.parts }, emitted: entry.emitted };
  }

  async addMany(updates: readonly PartUpdate[]): Promise<Map<string, JoinState>> {
    const states = new Map<string, JoinState>();
    for (const { imageId, part, value } of updates) states.set(imageId, await this.add(imageId, part, value));
    return states;
  }

  async markEmitted({ imageId, digest }: EmittedAnalysis): Promise<void> {
    const entry = this.#state.get(imageId);
    if (entry) entry.emitted = digest;
  }

  async markEmittedMany(emitted: readonly EmittedAnalysis[]): Promise<void> {
    for (const entry of emitted) await this.markEmitted(entry);
  }
}

function stateKey(imageId: string): string {
  return `imgpipe:aggregate:${imageId}`;
}
