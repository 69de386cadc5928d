import type { Redis } from 'ioredis';
import { type BucketPolicy, decisionFrom, type RateDecision } from './rate-limiter-bucket.ts';

export { type BucketPolicy, type RateDecision, rateLimitHeaders } from './rate-limiter-bucket.ts';

/**
 * A token bucket per key in Redis: `burst` tokens, refilled at `perSecond`. One Lua script reads, refills, takes and
 * writes atomically using the server's clock, so every API replica shares the same buckets. The script does what
 * takeToken in rate-limiter-bucket.ts does (rate-limiter.test.ts runs both on the same inputs); ARGV[3], a time in
 * milliseconds, replaces the server's clock for that test only.
 */
export const TAKE_TOKEN = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
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

type TakeTokenCommand = (
  key: string,
  capacity: number,
  rate: number,
  ...now: number[]
) => Promise<[number, number, number, number]>;

export class RateLimiter {
  readonly #redis: Redis & { imgpipeTakeToken?: TakeTokenCommand };

  constructor(redis: Redis) {
    this.#redis = redis as Redis & { imgpipeTakeToken?: TakeTokenCommand };
    if (!this.#redis.imgpipeTakeToken) redis.defineCommand('imgpipeTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN });
  }

  async take(key: string, policy: BucketPolicy): Promise<RateDecision> {
    const [allowed, remaining, waitMs, fullMs] = await this.#redis.imgpipeTakeToken!(
      `imgpipe:ratelimit:${key}`,
      policy.burst,
      policy.perSecond,
    );
    return decisionFrom({ allowed: allowed === 1, remaining, waitMs, fullMs }, policy);
  }
}
