import { createHash } from 'node:crypto';
import { ImgpipeError } from '@imgpipe/core';
import type { Redis } from 'ioredis';
import type { DependencyBreakers } from './dependency-breakers.ts';

export interface StoredResponse {
  statusCode: number;
  body: unknown;
  location?: string;
}

type Entry = { state: 'in-flight'; fingerprint: string } | ({ state: 'done'; fingerprint: string } & StoredResponse);

export type IdempotencyClaim = { kind: 'new' } | { kind: 'replay'; response: StoredResponse };

/** What the Idempotency-Key header may hold, for the route schemas: 1-255 visible ASCII characters, maybe quoted. */
export const IDEMPOTENCY_KEY_PATTERN = '^(?:[\\x21-\\x7e]{1,255}|"[\\x21-\\x7e]{1,255}")$';

/** How long a claimed key blocks a concurrent retry before the claim is presumed dead. */
const IN_FLIGHT_MS = 60_000;

/**
 * Idempotency-Key (draft-ietf-httpapi-idempotency-key-header) in Redis, per tenant: the first request claims the key,
 * a retry with the same key and the same request gets the first response again, the same key with a different
 * request is 422, and a retry while the first is still running is 409. A failed request releases its key.
 * Redis calls go through its circuit breaker: without Redis a key cannot be honoured, so such a request is 503.
 */
export class IdempotencyStore {
  readonly #redis: Redis;
  readonly #ttlMs: number;
  readonly #cache: <T>(work: () => Promise<T>) => Promise<T>;

  constructor(redis: Redis, options: { ttlSeconds: number; breakers?: DependencyBreakers }) {
    this.#redis = redis;
    this.#ttlMs = options.ttlSeconds * 1000;
    const breakers = options.breakers;
    this.#cache = breakers ? (work) => breakers.cache(work) : (work) => work();
  }

  /** The header's value (IDEMPOTENCY_KEY_PATTERN) as a key, or REQUEST_INVALID: 1-255 visible ASCII characters, quotes allowed. */
  static parseKey(header: string | string[] | undefined): string | undefined {
    if (header === undefined) return undefined;
    const raw = (Array.isArray(header) ? header[0] : header)?.trim() ?? '';
    const key = raw.length >= 3 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
      throw new ImgpipeError('REQUEST_INVALID', 'Idempotency-Key must be 1-255 visible ASCII characters');
    }
    return key;
  }

  static fingerprint(...parts: unknown[]): string {
    return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  }

  #redisKey(tenantId: string, key: string): string {
    return `imgpipe:${tenantId}:idempotency:${createHash('sha256').update(key).digest('hex')}`;
  }

  claim(tenantId: string, key: string, fingerprint: string): Promise<IdempotencyClaim> {
    return this.#cache(() => this.#claim(tenantId, key, fingerprint));
  }

  async #claim(tenantId: string, key: string, fingerprint: string): Promise<IdempotencyClaim> {
    const redisKey = this.#redisKey(tenantId, key);
    const entry: Entry = { state: 'in-flight', fingerprint };
    const claimed = await this.#redis.set(redisKey, JSON.stringify(entry), 'PX', IN_FLIGHT_MS, 'NX');
    if (claimed === 'OK') return { kind: 'new' };
    const existingText = await this.#redis.get(redisKey);
    if (existingText === null) return this.#claim(tenantId, key, fingerprint);
    const existing = JSON.parse(existingText) as Entry;
    if (existing.fingerprint !== fingerprint) {
      throw new ImgpipeError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different request');
    }
    if (existing.state === 'in-flight') {
      throw new ImgpipeError(
        'IDEMPOTENCY_KEY_IN_FLIGHT',
        'the first request with this Idempotency-Key is still running',
      );
    }
    const { state: _state, fingerprint: _fingerprint, ...response } = existing;
    return { kind: 'replay', response };
  }

  async complete(tenantId: string, key: string, fingerprint: string, response: StoredResponse): Promise<void> {
    const entry: Entry = { state: 'done', fingerprint, ...response };
    await this.#cache(() => this.#redis.set(this.#redisKey(tenantId, key), JSON.stringify(entry), 'PX', this.#ttlMs));
  }

  async release(tenantId: string, key: string): Promise<void> {
    await this.#cache(() => this.#redis.del(this.#redisKey(tenantId, key)));
  }
}
