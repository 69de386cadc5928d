import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** How failed sign-ins slow down the next attempts of a username or a client IP. */
export interface LoginThrottlePolicy {
  /** Failures of one username before delays start. */
  userFreeFailures: number;
  /** Failures from one client IP before delays start (higher: many users may share an address). */
  ipFreeFailures: number;
  /** The first delay, doubled with each further failure. */
  delayMs: number;
  maxDelayMs: number;
  /** Failures are forgotten this long after the last one. */
  windowMs: number;
}

/**
 * The delay the n-th failure in a row imposes before the next attempt: none for the free ones, then delayMs, 2x,
 * 4x, ... up to maxDelayMs. The Lua script below computes the same (login-throttle.test.ts checks both).
 */
export function delayAfter(failures: number, freeFailures: number, policy: LoginThrottlePolicy): number {
  if (failures <= freeFailures) return 0;
  return Math.min(policy.maxDelayMs, policy.delayMs * 2 ** (failures - freeFailures - 1));
}

/** KEYS[1]: the counter; ARGV: free failures, delay, max delay, window (ms), optional now (ms, tests). */
export const RECORD_FAILURE = `
local now = tonumber(ARGV[5])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local free = tonumber(ARGV[1])
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local delay = 0
if failures > free then
  delay = math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * 2 ^ (failures - free - 1))
  redis.call('HSET', KEYS[1], 'until', now + delay)
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) + delay)
return {failures, math.floor(delay)}
`;

/** KEYS: the counters; ARGV[1]: optional now (ms). The longest wait any of them still imposes, in ms. */
export const CHECK_WAIT = `
local now = tonumber(ARGV[1])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local wait = 0
for _, key in ipairs(KEYS) do
  local until_ms = tonumber(redis.call('HGET', key, 'until'))
  if until_ms and until_ms - now > wait then wait = until_ms - now end
end
return math.ceil(wait)
`;

type Commands = Redis & {
  imgpipeLoginFailure?: (key: string, ...args: number[]) => Promise<[number, number]>;
  imgpipeLoginWait?: (...args: (string | number)[]) => Promise<number>;
};

/**
 * Growing delays after failed sign-ins, per username (of a tenant) and per client IP, kept in Redis so every API
 * replica shares them. After the free failures, each failure makes the next attempt wait (1 s, 2 s, 4 s, ... by
 * default); an attempt during the wait is refused (429 AUTH_LOGIN_THROTTLED with Retry-After) without checking the
 * password. A success clears the username's counter (not the IP's). Failures are counted whether or not the username
 * exists, so the throttle tells nothing about which accounts exist.
 */
export class LoginThrottle {
  readonly #redis: Commands;
  readonly #policy: LoginThrottlePolicy;

  constructor(redis: Redis, policy: LoginThrottlePolicy) {
    this.#redis = redis as Commands;
    this.#policy = policy;
    if (!this.#redis.imgpipeLoginFailure) {
      redis.defineCommand('imgpipeLoginFailure', { numberOfKeys: 1, lua: RECORD_FAILURE });
      redis.defineCommand('imgpipeLoginWait', { numberOfKeys: 2, lua: CHECK_WAIT });
    }
  }

  /** Milliseconds until the username and the IP may try again (0: now). */
  async wait(tenantId: string, username: string, ip: string, now?: number): Promise<number> {
    return Number(
      await this.#redis.imgpipeLoginWait!(userKey(tenantId, username), ipKey(ip), ...(now === undefined ? [] : [now])),
    );
  }

  /** Counts a failure against the username and the IP; the delay it imposes on each. */
  async fail(
    tenantId: string,
    username: string,
    ip: string,
    now?: number,
  ): Promise<{ userDelayMs: number; ipDelayMs: number }> {
    const policy = this.#policy;
    const at = now === undefined ? [] : [now];
    const [, userDelayMs] = await this.#redis.imgpipeLoginFailure!(
      userKey(tenantId, username),
      policy.userFreeFailures,
      policy.delayMs,
      policy.maxDelayMs,
      policy.windowMs,
      ...at,
    );
    const [, ipDelayMs] = await this.#redis.imgpipeLoginFailure!(
      ipKey(ip),
      policy.ipFreeFailures,
      policy.delayMs,
      policy.maxDelayMs,
      policy.windowMs,
      ...at,
    );
    return { userDelayMs, ipDelayMs };
  }

  async succeed(tenantId: string, username: string): Promise<void> {
    await this.#redis.del(userKey(tenantId, username));
  }
}

function userKey(tenantId: string, username: string): string {
  const digest = createHash('sha256').update(`${tenantId}\u0000${username}`).digest('hex').slice(0, 32);
  return `imgpipe:login:user:${digest}`;
}

function ipKey(ip: string): string {
  return `imgpipe:login:ip:${ip}`;
}
