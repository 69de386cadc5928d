import {
  CircuitBreaker,
  CircuitBreakerGroup,
  type CircuitSnapshot,
  type CircuitState,
  type ErrorCode,
  ImgpipeError,
} from '@imgpipe/core';
import { toDatabaseError } from '@imgpipe/results';

export interface BreakerSettings {
  /** Failures in a row that open a circuit. */
  failureThreshold: number;
  /** How long an open circuit fails fast before one probe is let through. */
  openMs: number;
  /** Longest a Redis command may take before it counts as a failure. */
  redisTimeoutMs: number;
  /** Longest a PostgreSQL query may take before it counts as a failure. */
  databaseTimeoutMs: number;
  /** Longest an S3 call may take before it counts as a failure. */
  storageTimeoutMs: number;
}

export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = {
  failureThreshold: 5,
  openMs: 10_000,
  redisTimeoutMs: 1_000,
  databaseTimeoutMs: 10_000,
  storageTimeoutMs: 30_000,
};

/** What the breakers report in /readyz and the metrics: one entry per breaker, a count per state. */
export interface BreakerReport {
  name: string;
  counts: Record<CircuitState, number>;
  /** Single breakers: their snapshot; groups: their circuits that are not closed. */
  detail: CircuitSnapshot | CircuitSnapshot[];
}

function unavailable(code: ErrorCode, what: string) {
  return {
    openError: (breaker: CircuitBreaker) =>
      new ImgpipeError(
        code,
        `${what} failed ${breaker.consecutiveFailures} times in a row; not tried again for ${Math.ceil(breaker.retryAfterMs() / 1000)} s`,
        {
          details: { circuit: 'open', breaker: breaker.name, retryAfterSeconds: breaker.snapshot().retryAfterSeconds },
        },
      ),
    timeoutError: (breaker: CircuitBreaker) =>
      new ImgpipeError(code, `${what} did not answer in time (${breaker.name})`, {
        details: { breaker: breaker.name },
      }),
    /** Only the dependency's own unavailability counts; a refusal (404, a reused key, ...) says it is healthy. */
    isFailure: (error: unknown) => !(error instanceof ImgpipeError) || error.code === code,
  };
}

/**
 * The API's circuit breakers on its request path: Redis (rate limits, the result cache, idempotency keys, upload
 * claims, progress streams), PostgreSQL (the primary, and the read pool's replica apart), S3, and one per host for URL fetches. While a circuit is open, calls fail
 * at once with the dependency's 503 code and a Retry-After; callers that can do without the dependency degrade
 * instead (reads fall back from Redis to PostgreSQL; rate limits fail open or closed as configured).
 */
export class DependencyBreakers {
  readonly redis: CircuitBreaker;
  readonly postgres: CircuitBreaker;
  /**
   * The read pool's server (IMGPIPE_DATABASE_READ_URL, a streaming replica): a circuit of its own, so a replica
   * outage opens this one alone and never refuses what needs the primary (uploads, one image, keys). Without a
   * replica the read pool is the primary's and this circuit is never used (it stays closed).
   */
  readonly postgresRead: CircuitBreaker;
  readonly s3: CircuitBreaker;
  /** URL ingest, per host (host:port). */
  readonly egress: CircuitBreakerGroup;

  constructor(settings: BreakerSettings = DEFAULT_BREAKER_SETTINGS, now?: () => number) {
    const common = { failureThreshold: settings.failureThreshold, openMs: settings.openMs, ...(now ? { now } : {}) };
    this.redis = new CircuitBreaker('redis', {
      ...common,
      callTimeoutMs: settings.redisTimeoutMs,
      ...unavailable('CACHE_UNAVAILABLE', 'Redis'),
    });
    this.postgres = new CircuitBreaker('postgres', {
      ...common,
      callTimeoutMs: settings.databaseTimeoutMs,
      ...unavailable('DATABASE_UNAVAILABLE', 'PostgreSQL'),
    });
    this.postgresRead = new CircuitBreaker('postgres-read', {
      ...common,
      callTimeoutMs: settings.databaseTimeoutMs,
      ...unavailable('DATABASE_UNAVAILABLE', 'The PostgreSQL replica'),
    });
    this.s3 = new CircuitBreaker('s3', {
      ...common,
      callTimeoutMs: settings.storageTimeoutMs,
      ...unavailable('STORAGE_UNAVAILABLE', 'Object storage'),
    });
    this.egress = new CircuitBreakerGroup('egress', {
      ...common,
      maxKeys: 1000,
      ...unavailable('URL_HOST_UNAVAILABLE', 'The host'),
      // A fetch that failed to connect, timed out or got a 5xx is a failure of the host (see IngestService.fetchUrl).
      isFailure: (error: unknown) => error instanceof ImgpipeError && error.code === 'URL_FETCH_FAILED',
    });
  }

  /** A Redis call; CACHE_UNAVAILABLE when Redis fails, is too slow, or its circuit is open. */
  cache<T>(work: () => Promise<T>): Promise<T> {
    return this.redis.run(async () => {
      try {
        return await work();
      } catch (error) {
        if (error instanceof ImgpipeError) throw error;
        throw new ImgpipeError('CACHE_UNAVAILABLE', `Redis: ${(error as Error).message}`, { cause: error });
      }
    });
  }

  /** A PostgreSQL call; DATABASE_UNAVAILABLE when it cannot be reached, is too slow, or its circuit is open. */
  database<T>(work: () => Promise<T>): Promise<T> {
    return this.postgres.run(async () => {
      try {
        return await work();
      } catch (error) {
        throw toDatabaseError(error);
      }
    });
  }

  /** A call to the read pool's replica; DATABASE_UNAVAILABLE when it cannot be reached, is too slow, or its circuit is open. */
  replica<T>(work: () => Promise<T>): Promise<T> {
    return this.postgresRead.run(async () => {
      try {
        return await work();
      } catch (error) {
        throw toDatabaseError(error);
      }
    });
  }

  /** An S3 call; STORAGE_UNAVAILABLE when it fails, is too slow, or its circuit is open. */
  storage<T>(work: () => Promise<T>): Promise<T> {
    return this.s3.run(work);
  }

  report(): BreakerReport[] {
    const single = (breaker: CircuitBreaker): BreakerReport => {
      const snapshot = breaker.snapshot();
      const counts: Record<CircuitState, number> = { closed: 0, open: 0, 'half-open': 0 };
      counts[snapshot.state] = 1;
      return { name: breaker.name, counts, detail: snapshot };
    };
    return [
      single(this.redis),
      single(this.postgres),
      single(this.postgresRead),
      single(this.s3),
      { name: this.egress.name, counts: this.egress.counts(), detail: this.egress.unhealthy() },
    ];
  }
}
