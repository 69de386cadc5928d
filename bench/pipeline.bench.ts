/**
 * The distributed pipeline against the in-process one, in the same run on the same images.
 *
 *   npm run bench:pipeline [-- --images 200 --rate 0.5 --steady 30 --replicas detect=2,results=3]
 *
 * Needs the local stack (imgpipe stack up; topics and schemas created). Starts every worker and the results
 * service as separate processes, then measures:
 *   1. throughput: N images produced at once through Kafka, timed until each ImageAnalyzed event arrives; and the
 *      same N images through `InProcessPipeline` (what `imgpipe analyze` runs) in this process; and their ratio;
 *   2. latency at a light steady rate: end to end (produce -> ImageAnalyzed) p50/p95, and the latency the pipeline
 *      adds on top of the stages' own compute (preprocess + the slowest analysis + aggregate);
 *   3. each process's messages, busy time per message, CPU time per image and resident memory after the run, and
 *      with --replicas (more processes of a stage in the same consumer group, as more pods would be) the partitions
 *      each one was given; and the machine's CPU time per image in each path, so the Kafka path's extra work can be
 *      told from waiting (the rest: Kafka, the schema registry, S3, PostgreSQL, Redis and this process).
 *
 * The processes are the ones `imgpipe dev` runs, with the same CPU share per image stage (IMGPIPE_CPUS), under the
 * V8 flags they ship with (IMGPIPE_BENCH_NODE_FLAGS runs them under others; "" under V8's defaults).
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EventCodec, type ImageAnalyzed, TOPICS } from '@imgpipe/contracts';
import { loadConfig, serviceSettings } from '@imgpipe/core';
import { createVisionEngine, InProcessPipeline } from '@imgpipe/stages';
import { ImagePublisher } from '@imgpipe/publisher';
import { blobStoreFor } from '@imgpipe/storage';
import { createKafka } from '@imgpipe/stream/kafka';
import { createLogger } from '@imgpipe/telemetry';
import { devProcesses } from '../apps/cli/src/service-registry.ts';
import { machineCpuMs, perUnit, processCpuMs, processesCpuMs } from './cpu-accounting.ts';
import { recordFigures } from './figures.ts';
import { benchNodeFlags } from './runtime-flags.ts';
import { readableLogLine, type RunningService, startService } from '../apps/cli/src/supervisor.ts';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '200' },
    rate: { type: 'string', default: '0.5', description: 'images per second in the steady phase' },
    steady: { type: 'string', default: '30', description: 'images in the steady phase' },
    replicas: { type: 'string', default: '', description: 'processes per stage, e.g. detect=2,results=3' },
    verbose: { type: 'boolean', default: false },
  },
});
const REPLICAS = new Map(
  values.replicas
    .split(',')
    .filter(Boolean)
    .map((entry) => {
      const [name, count] = entry.split('=');
      return [name!, Number(count)] as const;
    }),
);
const COUNT = Number(values.images);
const RATE = Number(values.rate);
const STEADY = Number(values.steady);
const shared = process.env['IMGPIPE_SHARED_DIR'] ?? join(import.meta.dirname, '..', '..', 'shared');
process.env['IMGPIPE_MODELS_DIR'] ??= join(shared, 'models');
const TENANT = `bench-${randomUUID().slice(0, 8)}`;

const coco = readdirSync(join(shared, 'images', 'coco'))
  .filter((name) => name.endsWith('.jpg'))
  .sort()
  .map((name) => ({ name, bytes: readFileSync(join(shared, 'images', 'coco', name)) }));
const workload = Array.from({ length: COUNT }, (_, i) => coco[i % coco.length]!);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const fmt = (n: number) => n.toFixed(n >= 100 ? 0 : n >= 10 ? 1 : 2);

async function main(): Promise<void> {
  const config = loadConfig(serviceSettings);
  const logger = createLogger('bench', 'error');
  const kafka = createKafka({ connection: config, clientId: 'imgpipe-bench', logger });
  const codec = new EventCodec({ registryUrl: config.schemaRegistryUrl });

  const specs = devProcesses({ api: false }).flatMap((spec) =>
    Array.from({ length: REPLICAS.get(spec.name) ?? 1 }, (_, replica) => ({
      ...spec,
      stage: spec.name,
      name: replica === 0 ? spec.name : `${spec.name}#${replica + 1}`,
    })),
  );
  const nodeFlags = benchNodeFlags();
  console.log(
    `starting ${specs.length} processes: ${specs.map((spec) => spec.name).join(', ')}, under node ${nodeFlags.join(' ') || "V8's default flags"}...`,
  );
  const services: { name: string; stage: string; service: RunningService; ready: Promise<number> }[] = specs.map(
    (spec) => {
      let resolveReady: (port: number) => void;
      const ready = new Promise<number>((resolve) => {
        resolveReady = resolve;
      });
      const service = startService(
        {
          name: spec.name,
          args: spec.args,
          nodeFlags,
          env: { ...spec.env, IMGPIPE_HTTP_PORT: '0', IMGPIPE_LOG_LEVEL: 'info' },
        },
        (_name, line) => {
          if (line.includes('"stage started"')) resolveReady((JSON.parse(line) as { httpPort: number }).httpPort);
          if (values.verbose || line.includes('"level":"error"')) {
            console.error(`${spec.name} | ${readableLogLine(line, false)}`);
          }
        },
      );
      return { name: spec.name, stage: spec.stage, service, ready };
    },
  );
  await Promise.all(services.map((s) => s.ready));

  // Completion is the ImageAnalyzed event: a consumer from the topic's end records when each image's arrives.
  const arrivals = new Map<string, { at: number; analysis: ImageAnalyzed }>();
  const watcher = kafka.consumer({ groupId: `imgpipe-bench-${randomUUID()}` });
  await watcher.connect();
  await watcher.subscribe({ topics: [TOPICS.analyzed], fromBeginning: false });
  let watching!: () => void;
  const assigned = new Promise<void>((resolve) => {
    watching = resolve;
  });
  watcher.on(watcher.events.GROUP_JOIN, () => watching());
  await watcher.run({
    eachMessage: async ({ message }) => {
      const { value } = await codec.decode(message.value!);
      const analysis = value as ImageAnalyzed;
      if (analysis.tenantId === TENANT) arrivals.set(analysis.imageId, { at: performance.now(), analysis });
    },
  });
  await assigned;

  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  const blobs = blobStoreFor(config);
  const publisher = new ImagePublisher({ producer, codec, blobs });
  const sent = new Map<string, number>();
  const publish = async (image: { name: string; bytes: Buffer }) => {
    const imageId = randomUUID();
    sent.set(imageId, performance.now());
    await publisher.publish({
      bytes: image.bytes,
      tenantId: TENANT,
      sourceName: image.name,
      contentType: 'image/jpeg',
      imageId,
    });
    return imageId;
  };
  const until = async (ids: string[], timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!ids.every((id) => arrivals.has(id))) {
      if (Date.now() > deadline)
        throw new Error(`${ids.filter((id) => !arrivals.has(id)).length} images never completed`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  // Warm-up: one image through every stage, so model loading is not in the figures.
  await until([await publish(workload[0]!)], 120_000);

  // What the processes cost with nothing to do (heartbeats, empty fetches, metrics): part of every figure below.
  const IDLE_MS = 5_000;
  const idleBefore = services.map((s) => processCpuMs(s.service.child.pid!));
  const idleMachineBefore = machineCpuMs();
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  const idleShares = services.map(
    (s, i) => `${s.name} ${fmt(((processCpuMs(s.service.child.pid!) - idleBefore[i]!) / IDLE_MS) * 100)}%`,
  );
  console.log(
    `\nidle for ${IDLE_MS / 1000} s: the machine ${fmt(((machineCpuMs() - idleMachineBefore) / IDLE_MS) * 100)}% of a core; ${idleShares.join(', ')}`,
  );

  console.log(`\n1. throughput, ${COUNT} images`);
  const cpuBefore = new Map(services.map((s) => [s.name, processCpuMs(s.service.child.pid!)]));
  const gcBefore = new Map(
    await Promise.all(services.map(async (s) => [s.name, gcMs(await scrapeMetrics(await s.ready))] as const)),
  );
  const machineBefore = machineCpuMs();
  const othersBefore = processesCpuMs(services.map((s) => s.service.child.pid!));
  const kafkaStart = performance.now();
  const ids: string[] = [];
  for (const image of workload) ids.push(await publish(image));
  await until(ids, 30 * 60_000);
  const kafkaSeconds = (Math.max(...ids.map((id) => arrivals.get(id)!.at)) - kafkaStart) / 1000;
  const kafkaThroughput = COUNT / kafkaSeconds;
  const machineKafkaMs = machineCpuMs() - machineBefore;
  const othersAfter = processesCpuMs(services.map((s) => s.service.child.pid!));
  const cpuAfter = new Map(services.map((s) => [s.name, processCpuMs(s.service.child.pid!)]));
  console.log(`   Kafka pipeline     ${fmt(kafkaThroughput)} images/s  (${fmt(kafkaSeconds)} s)`);

  const footprint = await Promise.all(
    services.map(async (s) => {
      const metrics = await scrapeMetrics(await s.ready);
      const gcAfter = gcMs(metrics);
      const gcBeforeRun = gcBefore.get(s.name)!;
      return {
        name: s.name,
        cpuMsPerImage: (cpuAfter.get(s.name)! - cpuBefore.get(s.name)!) / COUNT,
        gcMsPerImage: {
          major: (gcAfter.major - gcBeforeRun.major) / COUNT,
          minor: (gcAfter.minor - gcBeforeRun.minor) / COUNT,
        },
        rss: residentMiB(s.service.child.pid!),
        partitions: await assignedPartitions(await s.ready),
        ...processingTime(metrics, s.stage),
      };
    }),
  );

  // The in-process baseline, with the workers idle (they are still running, as they would on a shared machine).
  const vision = await createVisionEngine({ inProcess: true });
  const local = new InProcessPipeline(vision, logger);
  await local.analyze({ bytes: workload[0]!.bytes });
  const localStart = performance.now();
  const localCpuBefore = process.cpuUsage();
  const localMachineBefore = machineCpuMs();
  let next = 0;
  await Promise.all(
    Array.from({ length: 2 }, async () => {
      while (next < workload.length) await local.analyze({ bytes: workload[next++]!.bytes, sourceName: 'bench' });
    }),
  );
  const localSeconds = (performance.now() - localStart) / 1000;
  const localCpu = process.cpuUsage(localCpuBefore);
  const localCpuMsPerImage = (localCpu.user + localCpu.system) / 1000 / COUNT;
  const localMachineMsPerImage = (machineCpuMs() - localMachineBefore) / COUNT;
  const localThroughput = COUNT / localSeconds;
  await vision.close();
  console.log(`   in-process         ${fmt(localThroughput)} images/s  (${fmt(localSeconds)} s)`);
  console.log(`   ratio              ${fmt(kafkaThroughput / localThroughput)} (Kafka / in-process)`);
  const stagesCpuMs = footprint.reduce((sum, f) => sum + f.cpuMsPerImage, 0);
  console.log(
    `   CPU ms per image   Kafka: ${fmt(machineKafkaMs / COUNT)} on the machine, ${fmt(stagesCpuMs)} in imgpipe's processes, ${fmt(machineKafkaMs / COUNT - stagesCpuMs)} elsewhere (services, this process)`,
  );
  console.log(
    `                      elsewhere: ${perUnit(othersBefore, othersAfter, COUNT)
      .filter(([, ms]) => ms >= 0.5)
      .map(([name, ms]) => `${name} ${fmt(ms)}`)
      .join(', ')}`,
  );
  console.log(
    `                      in-process: ${fmt(localMachineMsPerImage)} on the machine, ${fmt(localCpuMsPerImage)} in this process (${availableParallelism()} cores)`,
  );

  console.log(`\n2. latency at ${RATE} images/s, ${STEADY} images`);
  const steadyIds: string[] = [];
  for (let i = 0; i < STEADY; i += 1) {
    steadyIds.push(await publish(coco[i % coco.length]!));
    await new Promise((resolve) => setTimeout(resolve, 1000 / RATE));
  }
  await until(steadyIds, 10 * 60_000);
  const endToEnd = steadyIds.map((id) => arrivals.get(id)!.at - sent.get(id)!).sort((a, b) => a - b);
  const added = steadyIds
    .map((id) => {
      const { stages } = arrivals.get(id)!.analysis;
      const compute =
        (stages.preprocess.durationMs ?? 0) +
        Math.max(stages.detect.durationMs ?? 0, stages.faces.durationMs ?? 0, stages.ocr.durationMs ?? 0) +
        (stages.aggregate.durationMs ?? 0);
      return arrivals.get(id)!.at - sent.get(id)! - compute;
    })
    .sort((a, b) => a - b);
  console.log(
    `   end to end         p50 ${fmt(percentile(endToEnd, 50))} ms   p95 ${fmt(percentile(endToEnd, 95))} ms`,
  );
  console.log(
    `   added by pipeline  p50 ${fmt(percentile(added, 50))} ms   p95 ${fmt(percentile(added, 95))} ms  (end to end minus stage compute)`,
  );

  console.log('\n3. each process during the throughput run (busy time per message = processing histogram sum / count;');
  console.log(
    "   GC = the main thread's collections, full (with incremental marking) / young, from nodejs_gc_duration_seconds)",
  );
  console.log(
    '   process     messages  busy ms/message  messages/s per busy second  CPU ms/image  GC ms/image full/young  RSS after the run  partitions',
  );
  for (const f of footprint) {
    const gc = `${fmt(f.gcMsPerImage.major)} / ${fmt(f.gcMsPerImage.minor)}`;
    console.log(
      `   ${f.name.padEnd(11)} ${String(f.count).padStart(8)}  ${fmt(f.meanMs).padStart(15)}  ${fmt(1000 / f.meanMs).padStart(26)}  ${fmt(f.cpuMsPerImage).padStart(12)}  ${gc.padStart(23)}  ${`${fmt(f.rss)} MiB`.padStart(17)}  ${f.partitions}`,
    );
  }

  recordFigures('pipeline', {
    kafkaImagesPerSecond: kafkaThroughput,
    inProcessImagesPerSecond: localThroughput,
    ratio: kafkaThroughput / localThroughput,
    steadyRate: RATE,
    steadyP50Ms: percentile(endToEnd, 50),
    steadyP95Ms: percentile(endToEnd, 95),
    kafkaMachineCpuMsPerImage: machineKafkaMs / COUNT,
    inProcessMachineCpuMsPerImage: localMachineMsPerImage,
    ...Object.fromEntries(footprint.map((f) => [`busyMsPerMessage:${f.name}`, f.meanMs])),
    ...Object.fromEntries(footprint.map((f) => [`fullGcMsPerImage:${f.name}`, f.gcMsPerImage.major])),
  });

  await producer.disconnect();
  await watcher.disconnect();
  blobs.close();
  await Promise.all(services.map((s) => s.service.stop()));
}

/** The partitions of each input topic its consumer group gave the process, from its readiness detail. */
async function assignedPartitions(port: number): Promise<string> {
  const report = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as {
    details?: { partitions?: Record<string, number[]> };
  };
  return Object.entries(report.details?.partitions ?? {})
    .map(([topic, numbers]) => `${topic}:${numbers.join(',')}`)
    .join(' ');
}

/** A process's Prometheus exposition, from its operations port. */
async function scrapeMetrics(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** Messages a service handled and the mean time each took, from its own Prometheus histogram. */
function processingTime(body: string, stage: string): { count: number; meanMs: number } {
  const read = (suffix: string) =>
    Number(
      body.match(new RegExp(`imgpipe_processing_duration_seconds_${suffix}\\{stage="${stage}"\\} ([0-9.e+-]+)`))?.[1] ??
        0,
    );
  const count = read('count');
  return { count, meanMs: count > 0 ? (read('sum') / count) * 1000 : Number.NaN };
}

/**
 * The time a process's main thread spent in garbage collection, in ms: full collections (V8's mark-compact and its
 * incremental marking) and young ones (scavenges), from prom-client's default nodejs_gc_duration_seconds.
 */
function gcMs(body: string): { major: number; minor: number } {
  const read = (kind: string) =>
    Number(body.match(new RegExp(`nodejs_gc_duration_seconds_sum\\{kind="${kind}"\\} ([0-9.e+-]+)`))?.[1] ?? 0) * 1000;
  return { major: read('major') + read('incremental'), minor: read('minor') };
}

function residentMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmRSS:\s+(\d+) kB/)?.[1] ?? 0) / 1024;
}

await main();
process.exit(0);
