import type { Redis } from 'ioredis';

/**
 * A token bucket per key in Redis: `burst` tokens, refilled at `perSecond`. One Lua script reads, refills, takes and
 * writes atomically using the server's clock, so every API replica shares the same buckets.
 */
const TAKE_TOKEN = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate / 1000)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate) + 1000)
local wait = 0
if allowed == 0 then wait = math.ceil((1 - tokens) * 1000 / rate) end
local full = math.ceil((capacity - tokens) * 1000 / rate)
return {allowed, math.floor(tokens), wait, full}
`;

export interface BucketPolicy {
  /** Bucket size: requests allowed at once after a quiet spell. */
  burst: number;
  /** Tokens added per second: the sustained rate. */
  perSecond: number;
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until a request would be allowed (0 when allowed). */
  retryAfterSeconds: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** RateLimit-Policy value, e.g. `100;w=2`. */
  policy: string;
}

type TakeToken = (key: string, capacity: number, rate: number) => Promise<[number, number, number, number]>;

export class RateLimiter {
  readonly #redis: Redis & { imgpipeTakeToken?: TakeToken };

  constructor(redis: Redis) {
    this.#redis = redis as Redis & { imgpipeTakeToken?: TakeToken };
    if (!this.#redis.imgpipeTakeToken) redis.defineCommand('imgpipeTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN });
  }

  async take(key: string, policy: BucketPolicy): Promise<RateDecision> {
    const [allowed, remaining, waitMs, fullMs] = await this.#redis.imgpipeTakeToken!(
      `imgpipe:ratelimit:${key}`,
      policy.burst,
      policy.perSecond,
    );
    return {
      allowed: allowed === 1,
      limit: policy.burst,
      remaining,
      retryAfterSeconds: allowed === 1 ? 0 : Math.max(1, Math.ceil(waitMs / 1000)),
      resetSeconds: Math.ceil(fullMs / 1000),
      policy: `${policy.burst};w=${Math.max(1, Math.ceil(policy.burst / policy.perSecond))}`,
    };
  }
}

/** The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers), plus Retry-After when refused. */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  return {
    'ratelimit-limit': String(decision.limit),
    'ratelimit-remaining': String(decision.remaining),
    'ratelimit-reset': String(decision.resetSeconds),
    'ratelimit-policy': decision.policy,
    ...(decision.allowed ? {} : { 'retry-after': String(decision.retryAfterSeconds) }),
  };
}
