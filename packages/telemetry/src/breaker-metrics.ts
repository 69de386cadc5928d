import { CIRCUIT_STATES, type CircuitState } from '@imgpipe/core';
import { Gauge, register } from 'prom-client';

/** Breakers to report: each as its name and how many of its circuits are in each state. */
export interface BreakerSource {
  report(): { name: string; counts: Record<CircuitState, number> }[];
}

const NAME = 'imgpipe_circuit_breaker_state';
const sources = new Set<BreakerSource>();

/**
 * `imgpipe_circuit_breaker_state{breaker, state}`: how many circuits of each breaker are in each state (1 or 0 for
 * the API's redis, postgres, postgres-read and s3; per-host breakers such as egress and webhooks count their hosts).
 * Read at scrape time from every source registered in the process; returns the function that stops reporting one.
 */
export function reportBreakerStates(breakers: BreakerSource): () => void {
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
