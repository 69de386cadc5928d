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
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
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

const config = loadApiConfig();
const requests = Number(process.env['IMGPIPE_BENCH_REQUESTS'] ?? 300);
const concurrencies = (process.env['IMGPIPE_BENCH_CONCURRENCY'] ?? '1,8').split(',').map(Number);
const openLoopRate = Number(process.env['IMGPIPE_BENCH_RATE'] ?? 100);
const openLoopSeconds = Number(process.env['IMGPIPE_BENCH_RATE_SECONDS'] ?? 10);
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

async function measure(
  label: string,
  concurrency: number,
  count: number,
  work: (index: number) => Promise<void>,
): Promise<{ label: string; concurrency: number; perSecond: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const index = next++;
        if (index >= count) return;
        const begin = performance.now();
        await work(index);
        latencies.push(performance.now() - begin);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    label,
    concurrency,
    perSecond: count / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** Sends `rate` requests per second for `seconds`, each on its schedule (open loop), and their latencies. */
async function openLoop(
  rate: number,
  seconds: number,
  work: () => Promise<void>,
): Promise<{ perSecond: number; p50: number; p99: number }> {
  const count = Math.round(rate * seconds);
  const latencies: number[] = [];
  const started = performance.now();
  const sent: Promise<void>[] = [];
  for (let index = 0; index < count; index += 1) {
    const due = started + (index * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sent.push(
      (async () => {
        // Latency from when the request was due, so a late send counts against the API (no coordinated omission).
        await work();
        latencies.push(performance.now() - due);
      })(),
    );
  }
  await Promise.all(sent);
  latencies.sort((a, b) => a - b);
  return {
    perSecond: count / ((performance.now() - started) / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
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
  // Every request carries different bytes (a suffix after the JPEG's end), so none is a duplicate.
  const unique = () => Buffer.concat([image, Buffer.from(randomUUID())]);

  const upload = async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg' },
      body: unique(),
    });
    if (response.status !== 202) throw new Error(`upload answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  };
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

  console.log(`image: ${image.byteLength} bytes JPEG; ${requests} requests per run; topic ${topic}`);
  await measure('warm-up', 4, 30, upload);
  await measure('warm-up', 4, 30, bare);
  const rows = [];
  for (const concurrency of concurrencies) {
    rows.push(await measure('POST /v1/images', concurrency, requests, upload));
    rows.push(await measure('bare S3 PUT + Kafka produce', concurrency, requests, bare));
  }
  const paced = openLoopRate > 0 ? await openLoop(openLoopRate, openLoopSeconds, upload) : undefined;
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
  const figures: Record<string, number> = {};
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
