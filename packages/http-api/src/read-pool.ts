import { ImgpipeError } from '@imgpipe/core';
import type { Database } from '@imgpipe/results';
import type { Kysely } from 'kysely';
import type { DependencyBreakers } from './dependency-breakers.ts';

/**
 * Where searches and lists run: the read pool (IMGPIPE_DATABASE_READ_URL, a streaming replica) behind its own
 * circuit breaker (`postgres-read`), falling back to the primary (through the `postgres` breaker) when the replica
 * cannot answer: while its circuit is open, at once; before that, after the failed attempt. A replica outage thus
 * costs searches their offload, not their answers, and never opens the primary's circuit (uploads, one image and
 * API keys are untouched). Without a replica the read pool is the primary's and a search is an ordinary database
 * call. Falling back adds the search load to the primary for as long as the replica is away (docs/scaling.md).
 */
export class ReadPool {
  readonly #primary: Kysely<Database>;
  readonly #replica: Kysely<Database>;
  readonly #breakers: DependencyBreakers;

  constructor(primary: Kysely<Database>, replica: Kysely<Database>, breakers: DependencyBreakers) {
    this.#primary = primary;
    this.#replica = replica;
    this.#breakers = breakers;
  }

  /** A replica is configured (the read pool is not the primary's). */
  get replicated(): boolean {
    return this.#replica !== this.#primary;
  }

  run<T>(work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    if (!this.replicated) return this.#breakers.database(() => work(this.#primary));
    return this.#breakers
      .replica(() => work(this.#replica))
      .catch((error: unknown) => {
        if (!(error instanceof ImgpipeError) || error.code !== 'DATABASE_UNAVAILABLE') throw error;
        return this.#breakers.database(() => work(this.#primary));
      });
  }
}
