/**
 * Soak run (not in CI): the whole pipeline (the processes `imgpipe dev` runs, under the same supervisor, which
 * restarts a process that dies) at a steady upload rate for a long time, with one fault of the local stack every few
 * minutes, then a check that nothing was lost, duplicated or left stuck.
 *
 *   ./imgpipe stack up && node scripts/soak.ts [--minutes 30] [--rate 0.2] [--fault-every 5] [--sample-every 30]
 *
 * It disrupts the local stack it is pointed at (PostgreSQL restarted, Redis and Kafka killed, S3 frozen, a worker
 * SIGKILLed, in turn): run it under `flock /tmp/imgpipe-stack.lock` against the shared stack, or against a stack of
 * its own (IMGPIPE_STACK_DIR and other ports in the IMGPIPE_* variables, `imgpipe stack up` first). The processes'
 * operations ports are chosen by the system, so it does not collide with an `imgpipe dev` already running.
 *
 * The processes run as the container image runs them: imgpipe's V8 options (as `imgpipe dev`) and, when the machine
 * has Debian's libjemalloc2, jemalloc preloaded.
 *
 * Prints every sample (per-process RSS, each consumer group's lag, image statuses) as it goes, then:
 *   - RSS per process: the median of a window after warm-up against the median of the uploads' last window, and the
 *     growth (goal <= 5 %); the peak; V8 heap in use and external memory over the same windows;
 *   - lag over time per consumer group;
 *   - images uploaded (every other one asking for renditions, `--renditions`, and every third for features,
 *     `--features-every`, so no stage idles),
 *     completed, lost (no row), stuck (not completed after the drain deadline) and those whose
 *     detection, face and text-line rows differ from what `imgpipe analyze` finds in process for the same file, or
 *     whose renditions are not exactly the presets asked for, or whose keypoint count differs from the in-process one
 *     (more rows than in process = duplicated work applied twice).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { consumerGroupFor, WORKER_STAGES } from '@imgpipe/contracts';
import { loadConfig, serviceSettings } from '@imgpipe/core';
import { DEV_JWT_SECRET, mintDevToken } from '@imgpipe/http-api';
import { resolveStackLayout, restoreStack, type StackFault, startFault } from '@imgpipe/local-stack';
import { createDatabase } from '@imgpipe/results';
import { createKafka } from '@imgpipe/stream/kafka';
import { createLogger } from '@imgpipe/telemetry';
import { sql } from 'kysely';
import { NODE_RUNTIME_FLAGS } from '../apps/cli/src/node-runtime-flags.ts';
import { devProcesses } from '../apps/cli/src/service-registry.ts';
import { analyzeInProcess, keypointsInProcess, storedRowCounts } from '../test/support/in-process-counts.ts';
import { sharedPath } from '../test/support/shared.ts';
import { type Supervisor, supervise } from '../apps/cli/src/supervisor.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    rate: { type: 'string', default: '0.2', description: 'uploads per second' },
    'fault-every': { type: 'string', default: '5', description: 'minutes between faults' },
    'sample-every': { type: 'string', default: '30', description: 'seconds between samples' },
    'warm-up': { type: 'string', default: '3', description: 'minutes before the RSS baseline' },
    window: { type: 'string', default: '5', description: 'minutes of samples whose median is a memory figure' },
    'drain-minutes': { type: 'string', default: '10', description: 'how long to wait for the last images' },
    renditions: { type: 'string', default: 'thumb', description: 'presets every other upload asks for ("" for none)' },
    'features-every': { type: 'string', default: '3', description: 'every n-th upload asks for features (0: none)' },
  },
});
const MINUTES = Number(values.minutes);
const RATE = Number(values.rate);
const FAULT_EVERY_MS = Number(values['fault-every']) * 60_000;
const SAMPLE_EVERY_MS = Number(values['sample-every']) * 1000;
const WARM_UP_MS = Number(values['warm-up']) * 60_000;
const WINDOW_S = Number(values.window) * 60;
const DRAIN_MS = Number(values['drain-minutes']) * 60_000;
const RENDITIONS = (values.renditions ?? '').split(',').filter(Boolean);
const FEATURES_EVERY = Number(values['features-every']);

const run = promisify(execFile);
const IMGPIPE = fileURLToPath(new URL('../apps/cli/bin/imgpipe.js', import.meta.url));
const RUN_ID = randomUUID().slice(0, 8);
const FAULTS: (StackFault | 'worker-sigkill')[] = [
  'postgres-restart',
  'redis-kill',
  'kafka-kill',
  's3-freeze',
  'worker-sigkill',
];

interface Sample {
  atSeconds: number;
  rssMiB: Record<string, number>;
  /** The private anonymous part of RSS (RssAnon), without mapped files. */
  anonMiB: Record<string, number>;
  /** V8 heap in use and the memory outside it (Buffers, native), from each process's /metrics: where RSS goes. */
  heapMiB: Record<string, number>;
  /** The V8 heap V8 has committed (in use or not). */
  heapTotalMiB: Record<string, number>;
  externalMiB: Record<string, number>;
  lag: Record<string, number>;
  statuses: Record<string, number>;
}

const files = [
  ...readdirSync(sharedPath('images', 'photos')).map((name) => sharedPath('images', 'photos', name)),
  ...readdirSync(sharedPath('images', 'documents')).map((name) => sharedPath('images', 'documents', name)),
].filter((file) => /\.(jpe?g|png)$/i.test(file));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const PROCESS_NAMES = devProcesses({ api: true }).map((spec) => spec.name);

/** The processes the supervisor runs now, by name (the stage, results or api) -> pid. */
function devChildren(supervisor: Supervisor): Map<string, number> {
  const children = new Map<string, number>();
  for (const name of PROCESS_NAMES) {
    const pid = supervisor.current(name)?.child.pid;
    if (pid) children.set(name, pid);
  }
  return children;
}

/**
 * A process's resident memory (MiB) from /proc: all of it (VmRSS), and its private anonymous part (RssAnon: heaps,
 * buffers, what a leak grows) apart from mapped files (RssFile: the node binary's and libraries' pages, paged in as
 * code paths first run, shared and reclaimable).
 */
function residentMiB(pid: number, field: 'VmRSS' | 'RssAnon' | 'RssFile'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Math.round(Number(status.match(new RegExp(`${field}:\\s+(\\d+) kB`))?.[1] ?? 0) / 1024);
  } catch {
    return Number.NaN;
  }
}

/** A process's V8 heap in use and external memory (MiB), from prom-client's default metrics; NaN when it is down. */
async function memoryMiB(port: number): Promise<{ heap: number; heapTotal: number; external: number }> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })
    .then((response) => response.text())
    .catch(() => '');
  const gauge = (name: string) => {
    const value = text.match(new RegExp(`^${name} (\\S+)`, 'm'))?.[1];
    return value === undefined ? Number.NaN : Math.round(Number(value) / 1024 / 1024);
  };
  return {
    heap: gauge('nodejs_heap_size_used_bytes'),
    heapTotal: gauge('nodejs_heap_size_total_bytes'),
    external: gauge('nodejs_external_memory_bytes'),
  };
}

/** Debian's jemalloc, preloaded as the container image does (Dockerfile), when this machine has it. */
const JEMALLOC = [
  '/usr/local/lib/libjemalloc.so.2',
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
].find((path) => existsSync(path));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const config = loadConfig(serviceSettings);
  const layout = resolveStackLayout();
  const logger = createLogger('imgpipe-soak', 'error');
  console.log(`soak ${RUN_ID}: ${MINUTES} min at ${RATE} uploads/s, a fault every ${FAULT_EVERY_MS / 60_000} min`);
  console.log(
    `processes run as in the container image: node ${NODE_RUNTIME_FLAGS.join(' ')}, ` +
      `${JEMALLOC ? `jemalloc preloaded (${JEMALLOC})` : "glibc's malloc (no jemalloc on this machine)"}`,
  );
  console.log(`computing the in-process expectation for ${files.length} files...`);
  const expected = await analyzeInProcess(files);
  const expectedKeypoints = FEATURES_EVERY > 0 ? await keypointsInProcess(files) : new Map<string, number>();
  // A stack of its own starts with no topics: without them every stage restarts in a loop and uploads fail.
  console.log((await run(process.execPath, [IMGPIPE, 'topics', 'create'])).stdout.trim().split('\n').at(-1));

  const apiPort = await freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const opsPorts = new Map<string, number>();
  for (const name of PROCESS_NAMES) opsPorts.set(name, name === 'api' ? apiPort : await freePort());
  const devLines: string[] = [];
  const restarts: string[] = [];
  const dev = supervise(
    devProcesses({ api: true }).map((spec) => ({
      ...spec,
      env: {
        ...spec.env,
        ...(JEMALLOC ? { LD_PRELOAD: JEMALLOC } : {}),
        IMGPIPE_HTTP_PORT: String(opsPorts.get(spec.name) ?? 0),
        IMGPIPE_API_PORT: String(apiPort),
        IMGPIPE_MODELS_DIR: process.env['IMGPIPE_MODELS_DIR'] ?? sharedPath('models'),
        IMGPIPE_LOG_LEVEL: 'warn',
        IMGPIPE_KAFKA_SESSION_TIMEOUT_MS: '10000',
        IMGPIPE_KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
      },
    })),
    {
      onLine: (name, line) => {
        devLines.push(`${name} | ${line}`);
        if (devLines.length > 2_000) devLines.splice(0, 500);
      },
      onEvent: (event) => {
        if (event.type === 'exited') restarts.push(`${event.service} (exit ${JSON.stringify(event.exit)})`);
      },
    },
  );
  const db = createDatabase({ url: config.databaseUrl, poolSize: 2, onIdleError: () => {} });
  const kafka = createKafka({ connection: config, clientId: 'imgpipe-soak', logger });
  const admin = kafka.admin();
  const uploaded: {
    file: string;
    imageId: string;
    atSeconds: number;
    renditions: readonly string[];
    features: boolean;
  }[] = [];
  const samples: Sample[] = [];
  const faults: { atSeconds: number; fault: string; seconds: number }[] = [];
  try {
    const readyBy = Date.now() + 300_000;
    for (;;) {
      const ok = await fetch(`${apiUrl}/readyz`)
        .then((response) => response.ok)
        .catch(() => false);
      if (ok) break;
      if (Date.now() > readyBy) throw new Error(`imgpipe dev not ready:\n${devLines.slice(-20).join('\n')}`);
      await sleep(1000);
    }
    await admin.connect();
    const started = Date.now();
    const seconds = () => Math.round((Date.now() - started) / 1000);
    const ids = () => uploaded.map((entry) => entry.imageId);
    let duplicates = 0;

    const statuses = async (): Promise<Record<string, number>> => {
      if (uploaded.length === 0) return {};
      const { rows } = await sql<{ status: string; n: number }>`
        select status, count(*)::int as n from images where id = any(${ids()}::uuid[]) group by status`.execute(db);
      const known = rows.reduce((sum, row) => sum + row.n, 0);
      return { ...Object.fromEntries(rows.map((row) => [row.status, row.n])), unrecorded: uploaded.length - known };
    };
    const lag = async (): Promise<Record<string, number>> => {
      const result: Record<string, number> = {};
      for (const groupId of [...WORKER_STAGES, 'results' as const].map((name) => consumerGroupFor(name))) {
        const committed = await admin.fetchOffsets({ groupId });
        let total = 0;
        for (const { topic, partitions } of committed) {
          const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]));
          for (const p of partitions)
            total += Math.max(0, (ends.get(p.partition) ?? 0) - Math.max(0, Number(p.offset)));
        }
        result[groupId] = total;
      }
      return result;
    };
    const sample = async () => {
      const children = [...devChildren(dev)];
      const rss = Object.fromEntries(children.map(([name, pid]) => [name, residentMiB(pid, 'VmRSS')]));
      const anon = Object.fromEntries(children.map(([name, pid]) => [name, residentMiB(pid, 'RssAnon')]));
      const memory = await Promise.all(
        [...opsPorts].map(async ([name, port]) => [name, await memoryMiB(port)] as const),
      );
      const entry: Sample = {
        atSeconds: seconds(),
        rssMiB: rss,
        anonMiB: anon,
        heapMiB: Object.fromEntries(memory.map(([name, m]) => [name, m.heap])),
        heapTotalMiB: Object.fromEntries(memory.map(([name, m]) => [name, m.heapTotal])),
        externalMiB: Object.fromEntries(memory.map(([name, m]) => [name, m.external])),
        lag: await lag().catch(() => ({})),
        statuses: await statuses().catch(() => ({})),
      };
      samples.push(entry);
      if (entry.atSeconds * 1000 >= WARM_UP_MS && !entry.statuses['completed']) {
        throw new Error(
          `no image completed in the warm-up: the pipeline is not working\n${devLines.slice(-30).join('\n')}`,
        );
      }
      console.log(
        `[${entry.atSeconds}s] rss ${JSON.stringify(entry.rssMiB)} anon ${JSON.stringify(entry.anonMiB)} ` +
          `heap ${JSON.stringify(entry.heapMiB)} heap committed ${JSON.stringify(entry.heapTotalMiB)} ` +
          `external ${JSON.stringify(entry.externalMiB)} lag ${JSON.stringify(entry.lag)} images ${JSON.stringify(entry.statuses)}`,
      );
    };
    const inject = async (fault: (typeof FAULTS)[number]) => {
      const at = Date.now();
      console.log(`[${seconds()}s] fault: ${fault}`);
      try {
        if (fault === 'worker-sigkill') {
          const pid = devChildren(dev).get('detect');
          if (pid) process.kill(pid, 'SIGKILL');
        } else {
          const end = await startFault(layout, fault);
          // The outage lasts: 30 s for the S3 freeze, about 10 s for the others before they come back.
          await sleep(fault === 's3-freeze' ? 30_000 : 10_000);
          await end();
        }
      } catch (error) {
        // A fault that could not be injected (or a stack that did not come back) is reported, not fatal.
        console.log(`[${seconds()}s] fault ${fault} failed: ${(error as Error).message}`);
        await restoreStack().catch(() => undefined);
      }
      faults.push({
        atSeconds: Math.round((at - started) / 1000),
        fault,
        seconds: Math.round((Date.now() - at) / 1000),
      });
    };

    // The upload loop, on its own schedule; a failed upload (a fault on the request path) is retried later.
    const endAt = started + MINUTES * 60_000;
    let pass = 0;
    let index = 0;
    let failedUploads = 0;
    const uploading = (async () => {
      let next = Date.now();
      while (Date.now() < endAt) {
        const file = files[index % files.length]!;
        // Each pass over the files is a tenant of its own, so no upload is a duplicate of an earlier one.
        const tenant = `soak-${RUN_ID}-${pass}`;
        const token = mintDevToken({ tenant, roles: ['uploader'], secret: DEV_JWT_SECRET });
        // Every other upload asks for renditions, so the transform stage renders as well as decodes.
        const renditions = index % 2 === 0 ? RENDITIONS : [];
        // Every n-th asks for features too, so no stage idles through the run.
        const features = FEATURES_EVERY > 0 && index % FEATURES_EVERY === 0;
        const params = new URLSearchParams();
        if (renditions.length > 0) params.set('renditions', renditions.join(','));
        if (features) params.set('analyses', 'detect,faces,ocr,features');
        const query = params.size > 0 ? `?${params}` : '';
        const response = await fetch(`${apiUrl}/v1/images${query}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': file.endsWith('.png') ? 'image/png' : 'image/jpeg',
          },
          body: readFileSync(file),
          signal: AbortSignal.timeout(30_000),
        }).catch(() => undefined);
        if (response?.status === 202) {
          const body = (await response.json()) as { imageId: string; deduplicated: boolean };
          // A retry of an upload whose answer was lost (a timeout during a fault) is deduplicated to the first one:
          // the same image, counted once.
          if (body.deduplicated && uploaded.some((entry) => entry.imageId === body.imageId)) duplicates += 1;
          else uploaded.push({ file, imageId: body.imageId, atSeconds: seconds(), renditions, features });
          index += 1;
          if (index % files.length === 0) pass += 1;
        } else {
          failedUploads += 1;
          await response?.arrayBuffer();
        }
        next += 1000 / RATE;
        await sleep(Math.max(0, next - Date.now()));
      }
    })();
    let nextSample = started;
    let nextFault = started + FAULT_EVERY_MS;
    let faultIndex = 0;
    while (Date.now() < endAt) {
      if (Date.now() >= nextSample) {
        await sample();
        nextSample += SAMPLE_EVERY_MS;
      }
      if (Date.now() >= nextFault) {
        await inject(FAULTS[faultIndex++ % FAULTS.length]!);
        nextFault += FAULT_EVERY_MS;
      }
      await sleep(500);
    }
    await uploading;
    const uploadsEndedAt = seconds();
    console.log(
      `[${seconds()}s] uploads stopped: ${uploaded.length} images, ${failedUploads} requests refused or timed out and ` +
        `retried, ${duplicates} retries answered with the image their first attempt had created`,
    );
    const drainBy = Date.now() + DRAIN_MS;
    for (;;) {
      const now = await statuses().catch(() => undefined);
      if (now && (now['pending'] ?? 0) === 0 && (now['unrecorded'] ?? 0) === 0) break;
      if (Date.now() > drainBy) break;
      await sleep(2000);
    }
    await sample();

    // Per image: its rows against the in-process expectation for the same file.
    const stored = await storedRowCounts(db, ids());
    // Each image's renditions, by name in the order stored: exactly the presets it asked for, each once.
    const { rows: renditionRows } = await sql<{ image_id: string; names: string[] }>`
      select image_id, array_agg(name order by ordinal) as names from renditions
      where image_id = any(${ids()}::uuid[]) group by image_id`.execute(db);
    const storedRenditions = new Map(renditionRows.map((row) => [row.image_id, row.names.join(',')]));
    // Each image's keypoint count (null for one that did not ask for features).
    const { rows: featureRows } = await sql<{ id: string; keypoints: number | null }>`
      select id, (features->>'count')::int as keypoints from images where id = any(${ids()}::uuid[])`.execute(db);
    const storedKeypoints = new Map(featureRows.map((row) => [row.id, row.keypoints]));
    const { rows: statusRows } = await sql<{ id: string; status: string }>`
      select id, status from images where id = any(${ids()}::uuid[])`.execute(db);
    const status = new Map(statusRows.map((row) => [row.id, row.status]));
    let lost = 0;
    let stuck = 0;
    let differ = 0;
    let duplicated = 0;
    for (const { file, imageId, atSeconds, renditions, features } of uploaded) {
      const state = status.get(imageId);
      if (!state) {
        lost += 1;
        console.log(`  lost: ${imageId} (${file}), answered 202 at ${atSeconds} s`);
        continue;
      }
      if (state !== 'completed') {
        stuck += 1;
        console.log(`  not completed: ${imageId} (${file}) is ${state}`);
        continue;
      }
      const want = expected.get(file)!;
      const got = stored(imageId);
      const gotRenditions = storedRenditions.get(imageId) ?? '';
      const wantRenditions = renditions.join(',');
      const gotKeypoints = storedKeypoints.get(imageId) ?? null;
      const wantKeypoints = features ? expectedKeypoints.get(file)! : null;
      if (
        got.detections !== want.detections ||
        got.faces !== want.faces ||
        got.text_lines !== want.text_lines ||
        gotRenditions !== wantRenditions ||
        gotKeypoints !== wantKeypoints
      ) {
        differ += 1;
        if (
          got.detections > want.detections ||
          got.faces > want.faces ||
          got.text_lines > want.text_lines ||
          gotRenditions.length > wantRenditions.length
        ) {
          duplicated += 1;
        }
        console.log(
          `  rows differ: ${imageId} (${file}) ` +
            `${JSON.stringify({ ...got, renditions: gotRenditions, keypoints: gotKeypoints })} vs ` +
            `${JSON.stringify({ ...want, renditions: wantRenditions, keypoints: wantKeypoints })} ` +
            '(in process; renditions as asked)',
        );
      }
    }

    // RSS moves by tens of MiB between samples as V8 grows and shrinks its young generation and allocators hold freed
    // pages for a while, so growth compares the median of a window after the warm-up with the median of the uploads'
    // last window: a leak moves both medians apart, a high-water mark does not.
    const windowOf = (from: number, to: number) => samples.filter((e) => e.atSeconds >= from && e.atSeconds <= to);
    const median = (values: number[]) => {
      const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
      return sorted.length === 0 ? Number.NaN : sorted[Math.floor((sorted.length - 1) / 2)]!;
    };
    const warmUpEnd = WARM_UP_MS / 1000;
    const early = windowOf(warmUpEnd, warmUpEnd + WINDOW_S);
    const late = windowOf(uploadsEndedAt - WINDOW_S, uploadsEndedAt);
    const last = samples.at(-1)!;
    console.log(
      `\nsoak ${RUN_ID}: ${MINUTES} min, ${uploaded.length} images, faults: ${faults.map((f) => `${f.fault}@${f.atSeconds}s (${f.seconds}s)`).join(', ')}`,
    );
    console.log(
      `\nRSS per process (MiB): median of ${early.length} samples from ${warmUpEnd} s (after warm-up) against the ` +
        `median of ${late.length} samples up to ${uploadsEndedAt} s (the uploads' last ${WINDOW_S} s); the peak; ` +
        `after the drain (${last.atSeconds} s); anonymous RSS (without mapped files), V8 heap in use and external memory, ` +
        'medians of the same windows',
    );
    console.log(
      '| process | after warm-up | end | growth | peak | after drain | anonymous | V8 heap used | V8 heap committed | external |\n' +
        '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const name of Object.keys(last.rssMiB)) {
      const of = (entries: Sample[], field: 'rssMiB' | 'anonMiB' | 'heapMiB' | 'heapTotalMiB' | 'externalMiB') =>
        median(entries.map((e) => e[field][name] ?? Number.NaN));
      const start = of(early, 'rssMiB');
      const end = of(late, 'rssMiB');
      const peak = Math.max(...samples.map((e) => e.rssMiB[name] ?? 0));
      console.log(
        `| ${name} | ${start} | ${end} | ${(((end - start) / start) * 100).toFixed(1)} % | ${peak} | ` +
          `${last.rssMiB[name]} | ${of(early, 'anonMiB')} -> ${of(late, 'anonMiB')} | ` +
          `${of(early, 'heapMiB')} -> ${of(late, 'heapMiB')} | ` +
          `${of(early, 'heapTotalMiB')} -> ${of(late, 'heapTotalMiB')} | ` +
          `${of(early, 'externalMiB')} -> ${of(late, 'externalMiB')} |`,
      );
    }
    const groups = [...new Set(samples.flatMap((entry) => Object.keys(entry.lag)))].sort();
    console.log(
      `\nlag over time (messages)\n| t (s) | ${groups.join(' | ')} |\n| ---: | ${groups.map(() => '---:').join(' | ')} |`,
    );
    for (const entry of samples)
      console.log(`| ${entry.atSeconds} | ${groups.map((g) => entry.lag[g] ?? '').join(' | ')} |`);
    console.log(
      `\nimages: ${uploaded.length} uploaded (${uploaded.filter((u) => u.renditions.length > 0).length} asking for ` +
        `renditions ${RENDITIONS.join(',')}, ${uploaded.filter((u) => u.features).length} for features), ` +
        `${uploaded.length - lost - stuck} completed, ${lost} lost, ${stuck} stuck, ` +
        `${differ} with rows unlike in process (${duplicated} with more rows: duplicated)`,
    );
    console.log(`processes restarted by the supervisor: ${restarts.length === 0 ? 'none' : restarts.join(', ')}`);
    process.exitCode = lost + stuck + differ === 0 ? 0 : 1;
  } finally {
    await admin.disconnect().catch(() => undefined);
    await dev.stop();
    await restoreStack().catch((error: unknown) => console.error(`stack up after the soak: ${String(error)}`));
    await db.destroy();
  }
}

await main();
