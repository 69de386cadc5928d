import type { Redis } from 'ioredis';
import { type BucketPolicy, decisionFrom, type RateDecision } from './rate-limiter-bucket.ts';

export { type BucketPolicy, type RateDecision, rateLimitHeaders } from './rate-limiter-bucket.ts';

/**
 * A token bucket per key in Redis: `burst` tokens, refilled at `perSecond`. One Lua script reads, refills, takes and
 * writes atomically using the server's clock, so every API replica shares the same buckets. It takes up to ARGV[4]
 * tokens (default 1), as many whole ones as there are. The script does what takeToken in rate-limiter-bucket.ts does
 * (rate-limiter.test.ts runs both on the same inputs); ARGV[3], a time in milliseconds, replaces the server's clock
 * for that test only (empty: the server's clock).
 */
export const TAKE_TOKEN = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local want = tonumber(ARGV[4]) or 1
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate / 1000)
local granted = 0
if tokens >= 1 then
  granted = math.min(want, math.floor(tokens))
  tokens = tokens - granted
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate) + 1000)
local wait = 0
if granted == 0 then wait = math.ceil((1 - tokens) * 1000 / rate) end
local full = math.ceil((capacity - tokens) * 1000 / rate)
return {granted, math.floor(tokens), wait, full}
`;

type TakeTokenCommand = (
  key: string,
  capacity: number,
  rate: number,
  now: number | '',
  want: number,
) => Promise<[number, number, number, number]>;

export interface LeaseOptions {
  /** How long tokens taken ahead stay usable in this process (ms); 0 takes every token from Redis. Default 100. */
  leaseMs?: number;
  /** The most tokens taken ahead at once. Default 32. */
  maxLease?: number;
  /** The clock (ms); tests move it by hand. */
  now?: () => number;
}

/** What this process holds for one key: tokens taken ahead, or a refusal that holds until a token can be there. */
interface Lease {
  tokens: number;
  /** Tokens left in Redis when the lease was taken, for RateLimit-Remaining. */
  bucketRemaining: number;
  fullMs: number;
  expiresAt: number;
  /** No whole token can be in the bucket before this time (the script's `wait`): refuse here until then. */
  refusedUntil: number;
  lastTakeAt: number;
  /** The Redis take in flight for this key: requests arriving meanwhile wait for it instead of sending their own. */
  pending?: Promise<void>;
}

/** Keys kept before expired ones are dropped. */
const PRUNE_AT = 10_000;

/**
 * Takes tokens from the shared buckets, with leases: a key this process sees again within `leaseMs` (a busy tenant)
 * takes up to `perSecond x leaseMs` tokens (at most `maxLease`) in one call and spends them here, so a busy API
 * replica makes one Redis call per lease instead of one per request. A quiet key takes exactly one token per request,
 * as without leases. A refusal is kept here for the script's `wait`: no token can be in the bucket before then, so
 * the requests in between are refused without asking Redis.
 *
 * Never more than the bucket allows: every token spent was taken from Redis first. The price: tokens a replica took
 * ahead and did not spend within `leaseMs` are lost (at most a tenth of a second's rate per replica and key), and a
 * replica may refuse while another still holds a few (RateLimit-Remaining counts the bucket and this replica's lease).
 */
export class RateLimiter {
  readonly #redis: Redis & { imgpipeTakeToken?: TakeTokenCommand };
  readonly #leaseMs: number;
  readonly #maxLease: number;
  readonly #now: () => number;
  readonly #leases = new Map<string, Lease>();

  constructor(redis: Redis, options: LeaseOptions = {}) {
    this.#redis = redis as Redis & { imgpipeTakeToken?: TakeTokenCommand };
    if (!this.#redis.imgpipeTakeToken) redis.defineCommand('imgpipeTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN });
    this.#leaseMs = options.leaseMs ?? 100;
    this.#maxLease = options.maxLease ?? 32;
    this.#now = options.now ?? Date.now;
  }

  async take(key: string, policy: BucketPolicy): Promise<RateDecision> {
    for (;;) {
      const now = this.#now();
      const lease = this.#leases.get(key);
      if (lease) {
        if (lease.tokens >= 1 && now < lease.expiresAt) {
          lease.tokens -= 1;
          lease.lastTakeAt = now;
          const remaining = lease.bucketRemaining + lease.tokens;
          return decisionFrom({ allowed: true, remaining, waitMs: 0, fullMs: lease.fullMs }, policy);
        }
        if (now < lease.refusedUntil) {
          lease.lastTakeAt = now;
          return decisionFrom(
            { allowed: false, remaining: 0, waitMs: lease.refusedUntil - now, fullMs: lease.fullMs },
            policy,
          );
        }
        if (lease.pending) {
          await lease.pending;
          continue;
        }
      }
      return await this.#fromRedis(key, policy, lease, now);
    }
  }

  async #fromRedis(key: string, policy: BucketPolicy, previous: Lease | undefined, now: number): Promise<RateDecision> {
    const busy = previous !== undefined && now - previous.lastTakeAt < this.#leaseMs;
    const want = busy
      ? Math.max(1, Math.min(this.#maxLease, Math.floor((policy.perSecond * this.#leaseMs) / 1000)))
      : 1;
    const lease: Lease = previous ?? {
      tokens: 0,
      bucketRemaining: 0,
      fullMs: 0,
      expiresAt: 0,
      refusedUntil: 0,
      lastTakeAt: now,
    };
    if (!previous) {
      if (this.#leases.size >= PRUNE_AT) this.#prune(now);
      this.#leases.set(key, lease);
    }
    let done: () => void = () => {};
    lease.pending = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      const [granted, remaining, waitMs, fullMs] = await this.#redis.imgpipeTakeToken!(
        `imgpipe:ratelimit:${key}`,
        policy.burst,
        policy.perSecond,
        '',
        want,
      );
      const answered = this.#now();
      lease.lastTakeAt = answered;
      lease.tokens = Math.max(0, granted - 1);
      lease.bucketRemaining = remaining;
      lease.fullMs = fullMs;
      lease.expiresAt = answered + this.#leaseMs;
      lease.refusedUntil = granted > 0 ? 0 : answered + waitMs;
      return decisionFrom({ allowed: granted > 0, remaining: remaining + lease.tokens, waitMs, fullMs }, policy);
    } finally {
      lease.pending = undefined;
      done();
    }
  }

  #prune(now: number): void {
    for (const [key, lease] of this.#leases) {
      if (
        !lease.pending &&
        now >= lease.expiresAt &&
        now >= lease.refusedUntil &&
        now - lease.lastTakeAt >= this.#leaseMs
      ) {
        this.#leases.delete(key);
      }
    }
  }
}
