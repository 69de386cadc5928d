import { spawnSync } from 'node:child_process';
import { NODE_RUNTIME_FLAGS } from '../apps/cli/src/node-runtime-flags.ts';

/**
 * Makes a benchmark run under the V8 flags imgpipe's processes run with (NODE_RUNTIME_FLAGS: the container's
 * entrypoint, `imgpipe dev`), so what it measures is what ships: a benchmark started as `node bench.ts` runs itself
 * again as `node <flags> bench.ts` and exits with that run's code. IMGPIPE_BENCH_NODE_FLAGS replaces the flags
 * ("" runs V8's defaults), to measure others. Returns the flags in effect.
 */
export function runUnderRuntimeFlags(script: string): readonly string[] {
  const flags = benchNodeFlags();
  if (process.env['IMGPIPE_BENCH_UNDER_FLAGS'] === '1') return flags;
  const run = spawnSync(process.execPath, [...flags, ...process.execArgv, script, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, IMGPIPE_BENCH_UNDER_FLAGS: '1' },
  });
  process.exit(run.status ?? 1);
}

/** The V8 flags a benchmark's imgpipe processes run under: NODE_RUNTIME_FLAGS, or IMGPIPE_BENCH_NODE_FLAGS when set. */
export function benchNodeFlags(): readonly string[] {
  const chosen = process.env['IMGPIPE_BENCH_NODE_FLAGS'];
  return chosen === undefined ? NODE_RUNTIME_FLAGS : chosen.split(/\s+/).filter(Boolean);
}
