/**
 * Circuit breakers for calls to a dependency (Redis, PostgreSQL, S3, a URL's host, a webhook receiver): after
 * `failureThreshold` failures in a row the circuit opens and calls fail at once with the caller's `openError`
 * instead of waiting on a dependency that is down; after `openMs` one probe call is let through (half-open); its
 * success closes the circuit, its failure opens it for another `openMs`.
 *
 *   const redis = new CircuitBreaker('redis', { failureThreshold: 5, openMs: 10_000, callTimeoutMs: 1_000 });
 *   const value = await redis.run(() => client.get(key));
 *
 * Only errors that `isFailure` accepts count (a 404 or a validation error says nothing about the dependency's
 * health); a call slower than `callTimeoutMs` counts as a failure and is answered with `timeoutError`.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

export const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'open', 'half-open'];

export interface CircuitBreakerOptions {
  /** Failures in a row that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long the circuit stays open before a probe is let through. Default 10 s. */
  openMs?: number;
  /** A call that has not settled by then is a failure (its late result is ignored). Default: no limit. */
  callTimeoutMs?: number;
  /** Which errors say the dependency is unwell; others pass through and count as a success. Default: all. */
  isFailure?: (error: unknown) => boolean;
  /** What a call gets while the circuit is open. Default: a plain Error naming the breaker. */
  openError?: (breaker: CircuitBreaker) => Error;
  /** What a call gets when it runs past `callTimeoutMs`. */
  timeoutError?: (breaker: CircuitBreaker) => Error;
  /** Milliseconds since some epoch; tests pass a fake clock. Default Date.now. */
  now?: () => number;
}

export interface CircuitSnapshot {
  name: string;
  state: CircuitState;
  consecutiveFailures: number;
  /** While open: seconds until the next probe may go through (at least 1). */
  retryAfterSeconds?: number;
}

type Listener = (state: CircuitState, previous: CircuitState, breaker: CircuitBreaker) => void;

export class CircuitBreaker {
  readonly name: string;
  readonly failureThreshold: number;
  readonly openMs: number;
  readonly #options: CircuitBreakerOptions;
  readonly #now: () => number;
  readonly #listeners: Listener[] = [];
  #failures = 0;
  #openedAt: number | undefined;
  #probing = false;
  #probeStartedAt = 0;
  #reported: CircuitState = 'closed';

  constructor(name: string, options: CircuitBreakerOptions = {}) {
    this.name = name;
    this.failureThreshold = options.failureThreshold ?? 5;
    this.openMs = options.openMs ?? 10_000;
    if (!Number.isInteger(this.failureThreshold) || this.failureThreshold < 1) {
      throw new RangeError(`failureThreshold must be a whole number of at least 1 (got ${this.failureThreshold})`);
    }
    if (!(this.openMs > 0)) throw new RangeError(`openMs must be positive (got ${this.openMs})`);
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Closed, open, or half-open once `openMs` has passed since it opened (whether or not a probe is running). */
  get state(): CircuitState {
    if (this.#openedAt === undefined) return 'closed';
    return this.#now() - this.#openedAt >= this.openMs ? 'half-open' : 'open';
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** Milliseconds until a call may go through: 0 unless open (or half-open with its probe under way). */
  retryAfterMs(): number {
    if (this.#openedAt === undefined) return 0;
    const left = this.#openedAt + this.openMs - this.#now();
    if (left > 0) return left;
    return this.#probing ? this.openMs : 0;
  }

  snapshot(): CircuitSnapshot {
    const state = this.state;
    return {
      name: this.name,
      state,
      consecutiveFailures: this.#failures,
      ...(state === 'closed' ? {} : { retryAfterSeconds: Math.max(1, Math.ceil(this.retryAfterMs() / 1000)) }),
    };
  }

  /** Called on every change of state (closed -> open -> half-open -> closed or open). */
  onStateChange(listener: Listener): () => void {
    this.#listeners.push(listener);
    return () => {
      const index = this.#listeners.indexOf(listener);
      if (index >= 0) this.#listeners.splice(index, 1);
    };
  }

  /**
   * Takes a slot for one call, or throws `openError` when the circuit is open (or half-open with its one probe
   * already under way). Every acquire must be followed by exactly one `success()` or `failure()`.
   */
  acquire(): void {
    const state = this.state;
    this.#report();
    if (state === 'closed') return;
    // A probe that never reported back (a caller that lost it) does not keep the circuit open for ever.
    const probeLost = this.#probing && this.#now() - this.#probeStartedAt >= this.openMs;
    if (state === 'half-open' && (!this.#probing || probeLost)) {
      this.#probing = true;
      this.#probeStartedAt = this.#now();
      return;
    }
    throw this.#options.openError?.(this) ?? new Error(`circuit ${this.name} is open`);
  }

  success(): void {
    this.#failures = 0;
    this.#openedAt = undefined;
    this.#probing = false;
    this.#report();
  }

  failure(): void {
    this.#failures++;
    const wasProbe = this.#probing;
    this.#probing = false;
    if (wasProbe || (this.#openedAt === undefined && this.#failures >= this.failureThreshold)) {
      this.#openedAt = this.#now();
    }
    this.#report();
  }

  /** Runs `work` through the breaker: fails fast while open, counts its outcome otherwise. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.acquire();
    let result: T;
    try {
      result = await this.#withTimeout(work);
    } catch (error) {
      const counts = this.#options.isFailure?.(error) ?? true;
      if (counts) this.failure();
      else this.success();
      throw error;
    }
    this.success();
    return result;
  }

  async #withTimeout<T>(work: () => Promise<T>): Promise<T> {
    const limit = this.#options.callTimeoutMs;
    if (limit === undefined) return work();
    let timer: NodeJS.Timeout | undefined;
    const pending = work();
    try {
      return await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            pending.catch(() => undefined);
            reject(this.#options.timeoutError?.(this) ?? new Error(`${this.name}: no answer within ${limit} ms`));
          }, limit);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  #report(): void {
    const state = this.state;
    if (state === this.#reported) return;
    const previous = this.#reported;
    this.#reported = state;
    for (const listener of [...this.#listeners]) listener(state, previous, this);
  }
}

/**
 * One breaker per key (a URL's host, a webhook receiver), created on first use with the same options. At most
 * `maxKeys` are kept: the least recently used closed ones are forgotten first, so a flood of distinct hosts cannot
 * grow memory without bound (a forgotten breaker was closed, so nothing is lost).
 */
export class CircuitBreakerGroup {
  readonly name: string;
  readonly #options: CircuitBreakerOptions & { maxKeys?: number };
  readonly #breakers = new Map<string, CircuitBreaker>();

  constructor(name: string, options: CircuitBreakerOptions & { maxKeys?: number } = {}) {
    this.name = name;
    this.#options = options;
  }

  for(key: string): CircuitBreaker {
    let breaker = this.#breakers.get(key);
    if (breaker) {
      // Most recently used last.
      this.#breakers.delete(key);
      this.#breakers.set(key, breaker);
      return breaker;
    }
    breaker = new CircuitBreaker(`${this.name}:${key}`, this.#options);
    this.#breakers.set(key, breaker);
    this.#evict();
    return breaker;
  }

  /** How many keys' circuits are in each state. */
  counts(): Record<CircuitState, number> {
    const counts: Record<CircuitState, number> = { closed: 0, open: 0, 'half-open': 0 };
    for (const breaker of this.#breakers.values()) counts[breaker.state]++;
    return counts;
  }

  /** The breakers that are not closed, by key. */
  unhealthy(): CircuitSnapshot[] {
    return [...this.#breakers.values()].filter((breaker) => breaker.state !== 'closed').map((b) => b.snapshot());
  }

  #evict(): void {
    const max = this.#options.maxKeys ?? 1000;
    if (this.#breakers.size <= max) return;
    for (const [key, breaker] of this.#breakers) {
      if (this.#breakers.size <= max) return;
      if (breaker.state === 'closed' && breaker.consecutiveFailures === 0) this.#breakers.delete(key);
    }
    // Every kept breaker is unhealthy: drop the least recently used anyway rather than grow without bound.
    for (const key of this.#breakers.keys()) {
      if (this.#breakers.size <= max) return;
      this.#breakers.delete(key);
    }
  }
}
