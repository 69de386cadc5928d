/**
 * Upload throughput and latency of POST /v1/images for ~50 KB JPEGs, next to the floor under it: a bare S3 PUT plus
 * a Kafka produce (acks=all) of the same bytes, measured in the same run against the same local stack.
 *
 *   npm run bench:api            (IMGPIPE_BENCH_REQUESTS=300 IMGPIPE_BENCH_CONCURRENCY=1,8 to change the run)
 *
 * Then an open-loop run: IMGPIPE_BENCH_RATE uploads per second (default 100) for IMGPIPE_BENCH_RATE_SECONDS
 * (default 10), each sent on its schedule whether or not the earlier ones have answered, and their p50/p99.
 *
 * Events go to a throwaway topic with the pipeline's partition count, so the workers never see benchmark images;
 * the API path is otherwise the production one (JWT auth, rate limit, sniffing, dedup lookup, S3, Kafka, PostgreSQL).
 *
 * The process runs under the V8 flags the ingest API ships with (bench/runtime-flags.ts; IMGPIPE_BENCH_NODE_FLAGS to
 * measure others).
 *
 * The uploads are sent from a worker thread (upload-client.ts), as a real API's clients run elsewhere; the bare path
 * runs on the main thread, where the API runs. Each concurrency is measured in IMGPIPE_BENCH_ROUNDS rounds (default
 * 6) that alternate the two paths (API then bare, bare then API, ...), so a change in the machine's load during the
 * run hits both alike; a path's figure is its requests over its summed time.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { EventCodec, type ImageUploaded } from '@imgpipe/contracts';
import { createDatabase, createRedis, migrate } from '@imgpipe/results';
import { SsrfGuard } from '@imgpipe/egress';
import { ImagePublisher } from '@imgpipe/publisher';
import { blobStoreFor, originalKey } from '@imgpipe/storage';
import { createKafka } from '@imgpipe/stream/kafka';
import { createLogger } from '@imgpipe/telemetry';
import type { Producer } from 'kafkajs';
import sharp from 'sharp';
import { loadApiConfig } from '../src/api-settings.ts';
import { apiOptionsFrom } from '../src/create-api.ts';
import { buildApp } from '../src/app.ts';
import { DEV_JWT_SECRET } from '../src/api-settings.ts';
import { mintDevToken } from '../src/auth/dev-tokens.ts';
import { recordFigures } from '../../../bench/figures.ts';
import { closedLoop, type LoopResult } from './load-loops.ts';
import type { ClientResult, ClientRun, ClientSetup } from './upload-client.ts';
import { machineCpuMs, perUnit, processesCpuMs } from '../../../bench/cpu-accounting.ts';
import { runUnderRuntimeFlags } from '../../../bench/runtime-flags.ts';

// The API runs in this process: under the V8 flags the ingest API ships with, or its tail latency is another one's.
const nodeFlags = runUnderRuntimeFlags(fileURLToPath(import.meta.url));

const config = loadApiConfig();
const requests = Number(process.env['IMGPIPE_BENCH_REQUESTS'] ?? 300);
const concurrencies = (process.env['IMGPIPE_BENCH_CONCURRENCY'] ?? '1,8').split(',').map(Number);
const openLoopRate = Number(process.env['IMGPIPE_BENCH_RATE'] ?? 100);
const openLoopSeconds = Number(process.env['IMGPIPE_BENCH_RATE_SECONDS'] ?? 10);
const rounds = Math.max(1, Number(process.env['IMGPIPE_BENCH_ROUNDS'] ?? 6));
const sharedDir = process.env['IMGPIPE_SHARED_DIR'] ?? fileURLToPath(new URL('../../../../shared/', import.meta.url));

/** A photo re-encoded to about 50 KB. */
async function fiftyKilobyteJpeg(): Promise<Buffer> {
  const source = readFileSync(join(sharedDir, 'images', 'coco', '000000000139.jpg'));
  let best = Buffer.alloc(0);
  for (const width of [640, 560, 480, 420, 360]) {
    for (const quality of [85, 75, 65]) {
      const candidate = await sharp(source).resize({ width }).jpeg({ quality }).toBuffer();
      if (Math.abs(candidate.byteLength - 50_000) < Math.abs(best.byteLength - 50_000) || best.byteLength === 0) {
        best = candidate;
      }
    }
  }
  return best;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Row {
  label: string;
  concurrency: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/** CPU time (ms) runs cost: the machine's, this process's threads serving the path, the client's, other processes'. */
interface RunsCpu {
  uploads: number;
  machine: number;
  path: number;
  client: number;
  before: Map<string, number>;
  after: Map<string, number>;
}

function emptyCpu(): RunsCpu {
  return { uploads: 0, machine: 0, path: 0, client: 0, before: new Map(), after: new Map() };
}

const ownCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/**
 * Runs `work` and adds what it cost to `into`. The snapshots of other processes are taken outside this process's
 * own window, so reading /proc is not counted as the path's work.
 */
async function measured<T extends LoopResult & { clientCpuMs?: number }>(
  into: RunsCpu,
  work: () => Promise<T>,
): Promise<T> {
  const others = processesCpuMs([process.pid]);
  const machine = machineCpuMs();
  const own = ownCpuMs();
  const result = await work();
  const ownUsed = ownCpuMs() - own;
  into.machine += machineCpuMs() - machine;
  for (const [name, ms] of processesCpuMs([process.pid])) {
    into.after.set(name, (into.after.get(name) ?? 0) + ms);
    into.before.set(name, (into.before.get(name) ?? 0) + (others.get(name) ?? 0));
  }
  const client = result.clientCpuMs ?? 0;
  into.client += client;
  into.path += ownUsed - client;
  into.uploads += result.latencies.length;
  return result;
}

function row(label: string, concurrency: number, runs: LoopResult[]): Row {
  const latencies = runs.flatMap((run) => run.latencies).sort((a, b) => a - b);
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  return {
    label,
    concurrency,
    perSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** The upload client in its worker thread: one run at a time. */
function startClient(setup: ClientSetup): { run(run: ClientRun): Promise<ClientResult>; close(): Promise<number> } {
  const worker = new Worker(new URL('./upload-client.ts', import.meta.url), { workerData: setup });
  return {
    run: (run) =>
      new Promise((resolve, reject) => {
        worker.once('message', (result: ClientResult) =>
          result.error ? reject(new Error(result.error)) : resolve(result),
        );
        worker.postMessage(run);
      }),
    close: () => worker.terminate(),
  };
}

async function main(): Promise<void> {
  const logger = createLogger('imgpipe-api-bench', 'error');
  const tenant = `bench-${randomUUID().slice(0, 8)}`;
  const image = await fiftyKilobyteJpeg();
  const kafka = createKafka({ connection: config, clientId: 'imgpipe-api-bench', logger });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `bench.images.uploaded.${randomUUID().slice(0, 8)}`;
  await admin.createTopics({
    topics: [{ topic, numPartitions: config.topicPartitions, replicationFactor: 1 }],
    waitForLeaders: true,
  });
  const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
  await producer.connect();
  // The publisher's producer, pointed at the benchmark topic.
  const redirected: Pick<Producer, 'sendBatch'> = {
    sendBatch: (batch) =>
      producer.sendBatch({ ...batch, topicMessages: batch.topicMessages?.map((entry) => ({ ...entry, topic })) }),
  };
  const db = createDatabase({ url: config.databaseUrl, applicationName: 'imgpipe-api-bench' });
  await migrate(db);
  const redis = createRedis(config.redisUrl);
  const subscriber = createRedis(config.redisUrl);
  const blobs = blobStoreFor(config);
  await blobs.ensureBucket();
  const codec = new EventCodec({ registryUrl: config.schemaRegistryUrl });
  const app = await buildApp(
    {
      db,
      redis,
      subscriber,
      blobs,
      publisher: new ImagePublisher({ producer: redirected, codec, blobs }),
      guard: new SsrfGuard(),
      readiness: {},
    },
    {
      ...apiOptionsFrom(config),
      jwt: { hsSecret: DEV_JWT_SECRET },
      tenantRateLimit: { burst: 1_000_000, perSecond: 1_000_000 },
    },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/images`;
  const token = mintDevToken({ tenant, roles: ['uploader'], secret: DEV_JWT_SECRET, ttlSeconds: 3600 });
  const client = startClient({ url, token, image });
  // Every request carries different bytes (a suffix after the JPEG's end), so none is a duplicate.
  const unique = () => Buffer.concat([image, Buffer.from(randomUUID())]);
  const bare = async () => {
    const bytes = unique();
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const blob = await blobs.put(originalKey(tenant, sha256), bytes, 'image/jpeg');
    const imageId = randomUUID();
    const event: ImageUploaded = {
      imageId,
      tenantId: tenant,
      occurredAt: Date.now(),
      sha256,
      size: bytes.byteLength,
      contentType: 'image/jpeg',
      analyses: [],
      attributes: {},
      renditions: [],
      blob,
    };
    await producer.send({
      topic,
      acks: -1,
      messages: [{ key: imageId, value: await codec.encode('ImageUploaded', event) }],
    });
  };

  console.log(
    `image: ${image.byteLength} bytes JPEG; ${requests} requests per path and concurrency, in ${rounds} alternating rounds; topic ${topic}; node ${nodeFlags.join(' ') || "with V8's default flags"}`,
  );
  await client.run({ kind: 'closed', concurrency: 4, count: 30 });
  await closedLoop(4, 30, bare);
  const rows: Row[] = [];
  const cpu: { label: string; concurrency: number; cpu: RunsCpu }[] = [];
  const perRound = Math.max(1, Math.round(requests / rounds));
  for (const concurrency of concurrencies) {
    const apiRuns: LoopResult[] = [];
    const bareRuns: LoopResult[] = [];
    const [apiCpu, bareCpu] = [emptyCpu(), emptyCpu()];
    const api = () => measured(apiCpu, () => client.run({ kind: 'closed', concurrency, count: perRound }));
    const floor = () => measured(bareCpu, () => closedLoop(concurrency, perRound, bare));
    for (let round = 0; round < rounds; round += 1) {
      if (round % 2 === 0) {
        apiRuns.push(await api());
        bareRuns.push(await floor());
      } else {
        bareRuns.push(await floor());
        apiRuns.push(await api());
      }
    }
    rows.push(row('POST /v1/images', concurrency, apiRuns));
    rows.push(row('bare S3 PUT + Kafka produce', concurrency, bareRuns));
    cpu.push({ label: 'POST /v1/images', concurrency, cpu: apiCpu });
    cpu.push({ label: 'bare S3 PUT + Kafka produce', concurrency, cpu: bareCpu });
  }
  const paced =
    openLoopRate > 0
      ? row('open loop', 0, [await client.run({ kind: 'open', rate: openLoopRate, seconds: openLoopSeconds })])
      : undefined;
  console.log('\nwhat                          concurrency  images/s   p50 ms   p99 ms');
  for (const row of rows) {
    console.log(
      `${row.label.padEnd(30)}${String(row.concurrency).padStart(11)}${row.perSecond.toFixed(1).padStart(10)}` +
        `${row.p50.toFixed(1).padStart(9)}${row.p99.toFixed(1).padStart(9)}`,
    );
  }
  if (paced) {
    console.log(
      `POST /v1/images at ${openLoopRate}/s    open loop${paced.perSecond.toFixed(1).padStart(10)}${paced.p50.toFixed(1).padStart(9)}${paced.p99.toFixed(1).padStart(9)}`,
    );
  }
  // Where each path's CPU went: on this 2-core machine the client, the API and the stack share the cores, so at
  // concurrency 8 the throughput ratio is close to the ratio of CPU per upload.
  const shown = ['PostgreSQL', 'Redis', 'S3Proxy', 'Kafka'];
  console.log(
    `\nCPU ms per upload               machine  this path  client  ${shown.map((name) => name.padStart(10)).join('')}   other`,
  );
  for (const { label, concurrency, cpu: spent } of cpu) {
    const n = spent.uploads;
    const byKind = new Map(perUnit(spent.before, spent.after, n));
    const other = [...byKind].filter(([name]) => !shown.includes(name)).reduce((sum, [, ms]) => sum + ms, 0);
    console.log(
      `${`${label} c=${concurrency}`.padEnd(32)}${(spent.machine / n).toFixed(2).padStart(7)}${(spent.path / n).toFixed(2).padStart(11)}` +
        `${(spent.client / n).toFixed(2).padStart(8)}${shown.map((name) => (byKind.get(name) ?? 0).toFixed(2).padStart(10)).join('')}${other.toFixed(2).padStart(8)}`,
    );
  }
  const figures: Record<string, number> = {};
  for (const { label, concurrency, cpu: spent } of cpu) {
    const path = label.startsWith('POST') ? 'Api' : 'Bare';
    figures[`machineCpuMsPerUpload${path}AtConcurrency${concurrency}`] = spent.machine / spent.uploads;
    figures[`processCpuMsPerUpload${path}AtConcurrency${concurrency}`] = spent.path / spent.uploads;
  }
  for (const concurrency of concurrencies) {
    const api = rows.find((row) => row.concurrency === concurrency && row.label.startsWith('POST'))!;
    const bare = rows.find((row) => row.concurrency === concurrency && row.label.startsWith('bare'))!;
    figures[`ratioAtConcurrency${concurrency}`] = api.perSecond / bare.perSecond;
    figures[`apiPerSecondAtConcurrency${concurrency}`] = api.perSecond;
    figures[`barePerSecondAtConcurrency${concurrency}`] = bare.perSecond;
    console.log(`POST / bare at concurrency ${concurrency}: ${(api.perSecond / bare.perSecond).toFixed(2)}`);
  }
  if (paced) {
    figures['openLoopRate'] = openLoopRate;
    figures['openLoopP50'] = paced.p50;
    figures['openLoopP99'] = paced.p99;
  }
  recordFigures('api', figures);
  if (process.argv.includes('--json')) console.log(JSON.stringify(rows));

  await client.close();
  await app.close();
  await db.deleteFrom('images').where('tenant_id', '=', tenant).execute();
  const s3 = new S3Client({
    endpoint: config.s3Endpoint,
    region: config.s3Region,
    forcePathStyle: true,
    credentials: { accessKeyId: config.s3AccessKey, secretAccessKey: config.s3SecretKey },
  });
  for (;;) {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: config.s3Bucket, Prefix: `tenants/${tenant}/` }));
    const keys = (listed.Contents ?? []).map((object) => ({ Key: object.Key! }));
    if (keys.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: config.s3Bucket, Delete: { Objects: keys } }));
  }
  s3.destroy();
  await admin.deleteTopics({ topics: [topic] });
  await Promise.allSettled([producer.disconnect(), admin.disconnect(), redis.quit(), subscriber.quit(), db.destroy()]);
  blobs.close();
}

await main();
