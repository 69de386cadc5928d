/**
 * POST /v1/features/detect over HTTP, for `npm run bench:features`: the real API (buildApp with the dev JWT secret)
 * in this process against the local stack's Redis and PostgreSQL, a photo's bytes sent through http-post.ts (the timed
 * hits from a worker thread, request-worker.ts, as a real client runs elsewhere).
 * Misses: `misses` requests, each with different bytes (a random suffix after the JPEG's end: the same pixels, a new
 * SHA-256, so a fresh cache key), each must answer X-Cache: miss. Hits: `hits` requests of the last miss's bytes after
 * a few warm-ups, each must answer X-Cache: hit, so the hit figure cannot silently measure misses. The cache keys the
 * run made are deleted at the end. Returns the latencies' p50/p95 in ms.
 *
 *   const figures = await measureFeaturesDetect({ image: readFileSync(photo), hits: 200, misses: 5 });
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { EventCodec } from '@imgpipe/contracts';
import { SsrfGuard } from '@imgpipe/egress';
import { ImagePublisher } from '@imgpipe/publisher';
import { createDatabase, createRedis, migrate } from '@imgpipe/results';
import { blobStoreFor } from '@imgpipe/storage';
import { DEV_JWT_SECRET, loadApiConfig } from '../src/api-settings.ts';
import { buildApp } from '../src/app.ts';
import { mintDevToken } from '../src/auth/dev-tokens.ts';
import { apiOptionsFrom } from '../src/create-api.ts';
import { FEATURES_CACHE_PREFIX } from '../src/features-service.ts';
import { httpPost, keepAliveAgent } from './http-post.ts';
import { repeatInWorker } from './request-worker.ts';

export interface LatencyFigures {
  count: number;
  p50: number;
  p95: number;
  min: number;
}

export interface FeaturesDetectFigures {
  imageBytes: number;
  answerBytes: number;
  keypoints: number;
  hit: LatencyFigures;
  miss: LatencyFigures;
}

function latencies(values: number[]): LatencyFigures {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), min: sorted[0]! };
}

export async function measureFeaturesDetect(options: {
  image: Buffer;
  hits: number;
  misses: number;
  query?: string;
}): Promise<FeaturesDetectFigures> {
  const config = loadApiConfig();
  const tenant = `bench-features-${randomUUID().slice(0, 8)}`;
  const db = createDatabase({ url: config.databaseUrl, poolSize: 2, applicationName: 'imgpipe-features-bench' });
  await migrate(db);
  const redis = createRedis(config.redisUrl);
  const subscriber = createRedis(config.redisUrl);
  const blobs = blobStoreFor(config);
  const codec = new EventCodec({ registryUrl: config.schemaRegistryUrl });
  // This route publishes nothing: a producer that refuses, so no Kafka connection is made.
  const producer = {
    sendBatch: async () => {
      throw new Error('the features benchmark publishes nothing');
    },
  };
  const app = await buildApp(
    {
      db,
      redis,
      subscriber,
      blobs,
      publisher: new ImagePublisher({ producer, codec, blobs }),
      guard: new SsrfGuard(),
      readiness: {},
    },
    {
      ...apiOptionsFrom(config),
      jwt: { hsSecret: DEV_JWT_SECRET },
      tenantRateLimit: { burst: 1_000_000, perSecond: 1_000_000 },
    },
  );
  const shas = new Set<string>();
  const agent = keepAliveAgent(1);
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/features/detect${options.query ?? ''}`;
    const token = mintDevToken({ tenant, roles: ['uploader'], secret: DEV_JWT_SECRET, ttlSeconds: 3600 });
    let answerBytes = 0;
    let keypoints = 0;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg' };
    const send = async (bytes: Buffer, expected: 'hit' | 'miss'): Promise<number> => {
      const started = performance.now();
      const response = await httpPost(agent, url, headers, bytes);
      const elapsed = performance.now() - started;
      if (response.status !== 200) {
        throw new Error(`POST /v1/features/detect: ${response.status} ${response.body.toString('utf8').slice(0, 300)}`);
      }
      const cache = response.headers['x-cache'];
      if (cache !== expected) throw new Error(`POST /v1/features/detect: X-Cache ${cache}, expected ${expected}`);
      if (expected === 'miss') {
        const parsed = JSON.parse(response.body.toString('utf8')) as { sha256: string; count: number };
        shas.add(parsed.sha256);
        keypoints = parsed.count;
      }
      answerBytes = response.body.byteLength;
      return elapsed;
    };
    // Every miss has different bytes (a suffix after the JPEG's end): a cache key no earlier run made.
    const unique = () => Buffer.concat([options.image, Buffer.from(`imgpipe-bench-${randomUUID()}`)]);
    await send(unique(), 'miss'); // warm-up: the vision worker pool and the route's first call.
    const missTimes: number[] = [];
    let last = unique();
    for (let i = 0; i < Math.max(1, options.misses); i++) {
      last = unique();
      missTimes.push(await send(last, 'miss'));
    }
    for (let i = 0; i < 10; i++) await send(last, 'hit');
    // The hits from a worker thread: the client's own work (sending ~160 KB, reading ~157 KB) off the API's event loop.
    const hitTimes = await repeatInWorker({
      url,
      headers,
      body: last,
      count: Math.max(1, options.hits),
      expect: { header: 'x-cache', value: 'hit' },
    });
    return {
      imageBytes: last.byteLength,
      answerBytes,
      keypoints,
      hit: latencies(hitTimes),
      miss: latencies(missTimes),
    };
  } finally {
    agent.destroy();
    await app.close();
    for (const sha of shas) {
      const keys = await redis.keys(`${FEATURES_CACHE_PREFIX}${sha}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    await Promise.allSettled([redis.quit(), subscriber.quit(), db.destroy()]);
    blobs.close();
  }
}
