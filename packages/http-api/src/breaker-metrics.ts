import { CIRCUIT_STATES } from '@imgpipe/core';
import { Gauge, register } from 'prom-client';
import type { DependencyBreakers } from './dependency-breakers.ts';

const NAME = 'imgpipe_circuit_breaker_state';
const sources = new Set<DependencyBreakers>();

/**
 * `imgpipe_circuit_breaker_state{breaker, state}`: how many circuits of each breaker are in each state (1 or 0 for
 * redis, postgres, postgres-read and s3; per-host breakers such as egress count their hosts). Read at scrape time from the breakers
 * of every API in the process; returns the function that stops reporting these breakers.
 */
export function reportBreakerStates(breakers: DependencyBreakers): () => void {
  if (!register.getSingleMetric(NAME)) {
    new Gauge({
      name: NAME,
      help: 'Circuits of each breaker in each state (closed, open, half-open); per-host breakers count hosts',
      labelNames: ['breaker', 'state'],
      collect() {
        this.reset();
        for (const source of sources) {
          for (const { name, counts } of source.report()) {
            for (const state of CIRCUIT_STATES) this.inc({ breaker: name, state }, counts[state]);
          }
        }
      },
    });
  }
  sources.add(breakers);
  return () => {
    sources.delete(breakers);
  };
}
