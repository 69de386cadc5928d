/**
 * Issue 10's table, measured: runs bench:pipeline, bench:sink, bench:api and bench:vision one after another (one run
 * each, on a machine left otherwise idle, each starting once the machine is quiet again) and prints every figure of
 * the table next to the figure the issue reported before the work and the goal.
 *
 *   npm run bench:table [-- --images 200]       (needs the local stack: ./imgpipe stack up)
 *
 * Each benchmark also prints its own full report; this script reads the headline figures each one records
 * (bench/figures.ts) in the same run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { machineCpuMs } from './cpu-accounting.ts';

const { values } = parseArgs({ options: { images: { type: 'string', default: '200' } } });
const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'imgpipe-bench-'));
const figuresFile = join(dir, 'figures.jsonl');

const RUNS: { name: string; args: string[] }[] = [
  { name: 'pipeline', args: ['bench/pipeline.bench.ts', '--images', values.images] },
  { name: 'sink', args: ['packages/results/bench/sink.bench.ts', '--kafka'] },
  { name: 'api', args: ['packages/http-api/bench/api.bench.ts'] },
  { name: 'vision', args: ['packages/vision/bench/vision.bench.ts'] },
];

function run(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, IMGPIPE_BENCH_FIGURES: figuresFile },
    });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${args[0]} exited with ${code}`))));
  });
}

/**
 * Waits for the machine to be quiet before the next benchmark: the one before leaves work behind (PostgreSQL's
 * autovacuum and checkpoint after bench:sink's writes, Kafka's log flushes, the JVMs' compilers) that would otherwise
 * be counted against the next one. Quiet: under 15% of one core busy for two consecutive seconds (the idle stack
 * uses 2-5%), giving up after 90 s.
 */
async function settle(): Promise<string> {
  const started = performance.now();
  let quietSeconds = 0;
  let busy = Number.NaN;
  while (quietSeconds < 2 && performance.now() - started < 90_000) {
    const before = machineCpuMs();
    await setTimeout(1000);
    busy = (machineCpuMs() - before) / 10;
    quietSeconds = busy < 15 ? quietSeconds + 1 : 0;
  }
  const waited = ((performance.now() - started) / 1000).toFixed(0);
  return quietSeconds >= 2
    ? `quiet after ${waited} s (${busy.toFixed(0)}% of a core busy)`
    : `not quiet after ${waited} s (${busy.toFixed(0)}% of a core busy): this benchmark's figures include that load`;
}

const started = loadavg()[0]!;
for (const { name, args } of RUNS) {
  const machine = await settle();
  console.log(`\n===== bench:${name} (${machine}) =====`);
  await run(args);
}
const recorded = new Map<string, Record<string, number>>(
  readFileSync(figuresFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { bench: string; figures: Record<string, number> })
    .map(({ bench, figures }) => [bench, figures]),
);
rmSync(dir, { recursive: true, force: true });
const f = (bench: string, key: string) => recorded.get(bench)?.[key] ?? Number.NaN;
const n = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

// "before": the figures issue 10 reported, measured the same way on this kind of machine before the work.
const rows: [string, string, string, string][] = [
  [
    'Kafka pipeline / in-process analyze',
    '3.29 / 5.08 = 0.65',
    `${n(f('pipeline', 'kafkaImagesPerSecond'))} / ${n(f('pipeline', 'inProcessImagesPerSecond'))} = ${n(f('pipeline', 'ratio'))}`,
    '>= 0.9',
  ],
  [
    'results service, messages/s per process',
    '13.5',
    `${n(f('sink', 'resultsKafkaBatched'), 0)} through Kafka (${n(f('sink', 'resultsBatched'), 0)} in process)`,
    '>= 1,000',
  ],
  [
    'aggregate, messages/s per process',
    '45 (22.3 ms busy)',
    `${n(f('sink', 'aggregateKafkaBatched'), 0)} through Kafka (${n(f('sink', 'aggregateBatched'), 0)} in process)`,
    '>= 500',
  ],
  [
    'POST /v1/images / bare S3 PUT + produce, concurrency 1 and 8',
    '0.40 and 0.36',
    `${n(f('api', 'ratioAtConcurrency1'))} and ${n(f('api', 'ratioAtConcurrency8'))}`,
    '>= 0.7 at both',
  ],
  [
    `POST /v1/images p99 at ${n(f('api', 'openLoopRate'), 0)} uploads/s`,
    'not measured',
    `${n(f('api', 'openLoopP99'), 1)} ms (p50 ${n(f('api', 'openLoopP50'), 1)} ms)`,
    '< 50 ms',
  ],
  [
    'stage time / bare session.run: detect, faces',
    '1.5, 1.38',
    `${n(f('vision', 'detectStageOverBare'))}, ${n(f('vision', 'facesStageOverBare'))}`,
    '<= 1.2',
  ],
  [
    'in-process images/s / the compute floor',
    'not measured',
    `${n(f('vision', 'fractionOfFloor'))} (in CPU time ${n(f('vision', 'cpuFractionOfFloor'))})`,
    '>= 0.7',
  ],
  [
    `end to end p50 at ${n(f('pipeline', 'steadyRate'), 1)} images/s (batching must not wait for a full batch)`,
    '287 ms',
    `${n(f('pipeline', 'steadyP50Ms'), 0)} ms (p95 ${n(f('pipeline', 'steadyP95Ms'), 0)} ms)`,
    'no rise',
  ],
];

console.log(
  `\n===== issue 10's table (load average ${started.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end) =====\n`,
);
console.log('| figure | before | now | goal |\n| --- | --- | --- | --- |');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
