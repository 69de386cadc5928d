import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface EventLoopDelaySummary {
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Samples how late this thread's event loop runs timers; stop() returns the distribution in milliseconds. */
export function startEventLoopDelayMonitor(resolutionMs = 5): { stop(): EventLoopDelaySummary } {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      const ms = (nanoseconds: number) => Math.round(nanoseconds / 1e4) / 100;
      return {
        meanMs: ms(histogram.mean),
        p50Ms: ms(histogram.percentile(50)),
        p99Ms: ms(histogram.percentile(99)),
        maxMs: ms(histogram.max),
      };
    },
  };
}
