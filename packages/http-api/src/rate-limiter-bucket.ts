/**
 * The token-bucket arithmetic of the rate limiter, as plain functions. The Redis Lua script in rate-limiter.ts does
 * the same steps atomically on the server (a test runs both on the same inputs and compares); these functions are
 * what the unit tests drive, and what turns the script's answer into a decision.
 */

export interface BucketPolicy {
  /** Bucket size: requests allowed at once after a quiet spell. */
  burst: number;
  /** Tokens added per second: the sustained rate. */
  perSecond: number;
}

/** A bucket as stored: tokens left (fractional) and when they were counted, in milliseconds. */
export interface BucketState {
  tokens: number;
  ts: number;
}

/** What one take returns: the script's reply `{granted, remaining, waitMs, fullMs}`, and the state it stores. */
export interface TakeResult {
  allowed: boolean;
  /** Tokens taken: up to the number asked for, as many whole ones as there are (0 when refused). */
  granted: number;
  /** Whole tokens left after this take. */
  remaining: number;
  /** Milliseconds until one token is there (0 when allowed). */
  waitMs: number;
  /** Milliseconds until the bucket is full again. */
  fullMs: number;
  state: BucketState;
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

/** Tokens after refilling since `state.ts` at `perSecond`, capped at the burst; a new bucket starts full. */
export function refill(state: BucketState | undefined, now: number, policy: BucketPolicy): number {
  if (!state) return policy.burst;
  const elapsed = Math.max(0, now - state.ts);
  return Math.min(policy.burst, state.tokens + (elapsed * policy.perSecond) / 1000);
}

/**
 * A take of up to `want` tokens at time `now` (milliseconds): refill, then take as many whole tokens as are there, up
 * to `want` (a request takes one; an API replica leases a few ahead for a busy key, rate-limiter.ts).
 */
export function takeToken(state: BucketState | undefined, now: number, policy: BucketPolicy, want = 1): TakeResult {
  let tokens = refill(state, now, policy);
  const granted = tokens >= 1 ? Math.min(want, Math.floor(tokens)) : 0;
  const allowed = granted > 0;
  tokens -= granted;
  const rate = policy.perSecond;
  return {
    allowed,
    granted,
    remaining: Math.floor(tokens),
    waitMs: allowed ? 0 : Math.ceil(((1 - tokens) * 1000) / rate),
    fullMs: Math.ceil(((policy.burst - tokens) * 1000) / rate),
    // Redis keeps the count as Lua's tostring() writes it: 14 significant digits.
    state: { tokens: Number(tokens.toPrecision(14)), ts: now },
  };
}

/** The decision the API acts on, from the script's reply (or takeToken's result). */
export function decisionFrom(
  taken: Pick<TakeResult, 'allowed' | 'remaining' | 'waitMs' | 'fullMs'>,
  policy: BucketPolicy,
): RateDecision {
  return {
    allowed: taken.allowed,
    limit: policy.burst,
    remaining: taken.remaining,
    retryAfterSeconds: taken.allowed ? 0 : Math.max(1, Math.ceil(taken.waitMs / 1000)),
    resetSeconds: Math.ceil(taken.fullMs / 1000),
    policy: `${policy.burst};w=${Math.max(1, Math.ceil(policy.burst / policy.perSecond))}`,
  };
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
