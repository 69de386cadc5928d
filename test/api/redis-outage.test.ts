/**
 * Redis stopped under a running API, and started again: reads fall back to PostgreSQL, uploads follow the configured
 * rate-limit policy (one API fails open, one fails closed), and the Redis circuit breaker opens and closes again, as
 * /readyz and the imgpipe_circuit_breaker_state metric show. The API's Redis is a redis-server of this test's own
 * (the same binary the local stack runs), so stopping it disturbs nothing else; Kafka, S3 and PostgreSQL are the
 * stack's.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { imageKey } from '@imgpipe/results';
import { Redis } from 'ioredis';
import { waitFor } from '../support/kafka.ts';
import {
  apiConfig,
  bearer,
  deleteTenantImages,
  problemOf,
  startTestApi,
  type TestApi,
  tenantImageCount,
  testTenant,
  tokenFor,
  uniqueJpeg,
  uploadRaw,
} from './support.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A redis-server on a port of its own, without persistence; start() again after stop() reuses the port. */
class PrivateRedis {
  readonly port: number;
  readonly #dir: string;
  #process: ChildProcess | undefined;

  constructor(port: number) {
    this.port = port;
    this.#dir = mkdtempSync(join(tmpdir(), 'imgpipe-redis-outage-'));
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  async start(): Promise<void> {
    const args = ['--bind', '127.0.0.1', '--port', String(this.port), '--save', '', '--appendonly', 'no'];
    this.#process = spawn('redis-server', [...args, '--dir', this.#dir], { stdio: 'ignore' });
    await waitFor(
      `redis-server on port ${this.port}`,
      async () => {
        const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        client.on('error', () => {});
        try {
          await client.connect();
          return (await client.ping()) === 'PONG' ? true : undefined;
        } finally {
          client.disconnect();
        }
      },
      15_000,
    );
  }

  async stop(): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

interface Readiness {
  status: string;
  checks: Record<string, { ok: boolean }>;
  breakers: Record<string, { circuit?: { state: string; consecutiveFailures: number } }>;
}

async function readiness(api: TestApi): Promise<{ httpStatus: number; body: Readiness }> {
  const response = await fetch(`${api.url}/readyz`);
  return { httpStatus: response.status, body: (await response.json()) as Readiness };
}

/** imgpipe_circuit_breaker_state{breaker="redis",state} from /metrics (summed over the APIs of this process). */
async function redisCircuits(api: TestApi): Promise<Record<string, number>> {
  const text = await (await fetch(`${api.url}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^imgpipe_circuit_breaker_state\{breaker="redis",state="([a-z-]+)"\} (\d+)$/gm)) {
    counts[match[1]!] = Number(match[2]);
  }
  return counts;
}

describe('Redis down and back', () => {
  let redis: PrivateRedis;
  let failOpen: TestApi;
  let failClosed: TestApi;
  const tenant = testTenant('redis-outage');
  let imageId: string;
  const breakers = {
    failureThreshold: 3,
    openMs: 5_000,
    redisTimeoutMs: 300,
    databaseTimeoutMs: 10_000,
    storageTimeoutMs: 30_000,
  };

  before(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    const config = { ...apiConfig, redisUrl: redis.url };
    // Real limits: the policy under test decides whether they apply while Redis is down.
    const limits = { tenantRateLimit: { burst: 1000, perSecond: 1000 }, ipRateLimit: { burst: 1000, perSecond: 1000 } };
    failOpen = await startTestApi({ ...limits, breakers, rateLimitOnRedisDown: 'open' }, config);
    failClosed = await startTestApi({ ...limits, breakers, rateLimitOnRedisDown: 'closed' }, config);
  });
  after(async () => {
    try {
      await deleteTenantImages(failOpen.api, [tenant]);
      await failOpen.close();
      await failClosed.close();
    } finally {
      await redis?.dispose();
    }
  });

  test('with Redis up, reads come from its cached view and every breaker is closed', async () => {
    const uploaded = await uploadRaw(failOpen.url, tokenFor(tenant), uniqueJpeg(), { query: 'sourceName=from-pg.jpg' });
    assert.equal(uploaded.status, 202);
    assert.ok(uploaded.headers.get('ratelimit-limit'), 'rate limited while Redis is up');
    imageId = ((await uploaded.json()) as { imageId: string }).imageId;
    // A cached view that differs from PostgreSQL's row shows which store answered.
    const client = new Redis(redis.url);
    try {
      const view = await (
        await fetch(`${failOpen.url}/v1/images/${imageId}`, { headers: bearer(tokenFor(tenant, 'viewer')) })
      ).json();
      await client.set(
        imageKey(tenant, imageId),
        JSON.stringify({ ...(view as object), sourceName: 'from-redis.jpg' }),
      );
    } finally {
      client.disconnect();
    }
    const cached = await fetch(`${failOpen.url}/v1/images/${imageId}`, { headers: bearer(tokenFor(tenant, 'viewer')) });
    assert.equal(((await cached.json()) as { sourceName: string }).sourceName, 'from-redis.jpg');
    const ready = await readiness(failOpen);
    assert.equal(ready.httpStatus, 200);
    assert.equal(ready.body.status, 'ok');
    assert.equal(ready.body.breakers['redis']?.circuit?.state, 'closed');
    assert.deepEqual(await redisCircuits(failOpen), { closed: 2, open: 0, 'half-open': 0 });
  });

  test('with Redis stopped: reads answer from PostgreSQL, uploads follow each policy, the breaker opens', async () => {
    await redis.stop();
    const viewer = bearer(tokenFor(tenant, 'viewer'));
    // More reads than the threshold: each one falls back to PostgreSQL, and together they open the circuit.
    for (let i = 0; i < breakers.failureThreshold + 1; i++) {
      const read = await fetch(`${failOpen.url}/v1/images/${imageId}`, { headers: viewer });
      assert.equal(read.status, 200);
      const view = (await read.json()) as { imageId: string; sourceName: string; status: string };
      assert.equal(view.imageId, imageId);
      assert.equal(view.sourceName, 'from-pg.jpg', 'PostgreSQL answered, not the cache');
    }
    const ready = await readiness(failOpen);
    assert.equal(ready.httpStatus, 200, 'still ready: the API serves without Redis');
    assert.equal(ready.body.status, 'degraded');
    assert.equal(ready.body.checks['redis']?.ok, false);
    assert.equal(ready.body.breakers['redis']?.circuit?.state, 'open');
    assert.ok((ready.body.breakers['redis']?.circuit?.consecutiveFailures ?? 0) >= breakers.failureThreshold);

    // Fails open: the upload goes through, unlimited (no RateLimit fields), without a dedup claim.
    const open = await uploadRaw(failOpen.url, tokenFor(tenant), uniqueJpeg());
    assert.equal(open.status, 202, JSON.stringify(await open.clone().json()));
    assert.equal(open.headers.get('ratelimit-limit'), null);
    // An Idempotency-Key cannot be honoured without Redis: 503, not a silently unprotected upload.
    const keyed = await uploadRaw(failOpen.url, tokenFor(tenant), uniqueJpeg(), {
      headers: { 'idempotency-key': `outage-${imageId}` },
    });
    assert.equal(keyed.status, 503);
    assert.equal((await problemOf(keyed))['code'], 'CACHE_UNAVAILABLE');

    // Fails closed: refused with 503 and a Retry-After, nothing uploaded.
    const images = await tenantImageCount(failOpen.api, tenant);
    const closed = await uploadRaw(failClosed.url, tokenFor(tenant), uniqueJpeg());
    assert.equal(closed.status, 503);
    assert.equal((await problemOf(closed))['code'], 'CACHE_UNAVAILABLE');
    assert.ok(Number(closed.headers.get('retry-after')) >= 1);
    assert.equal(await tenantImageCount(failOpen.api, tenant), images);

    // Neither API's Redis circuit is closed now (the closed-policy one failed its rate-limit calls): open, or
    // half-open once its open time has passed without a request to probe with.
    await waitFor(
      'no Redis circuit closed',
      async () => {
        await fetch(`${failClosed.url}/v1/images`, { headers: viewer });
        const circuits = await redisCircuits(failOpen);
        return circuits['closed'] === 0 && (circuits['open'] ?? 0) + (circuits['half-open'] ?? 0) === 2
          ? circuits
          : undefined;
      },
      10_000,
    );
  });

  test('with Redis back, a probe closes the breaker and everything is as before', async () => {
    await redis.start();
    const viewer = bearer(tokenFor(tenant, 'viewer'));
    // Requests keep coming; once the open time has passed, one of them probes Redis and closes the circuit.
    await waitFor(
      'the Redis circuit of both APIs to close',
      async () => {
        await fetch(`${failOpen.url}/v1/images/${imageId}`, { headers: viewer });
        await fetch(`${failClosed.url}/v1/images`, { headers: viewer });
        const circuits = await redisCircuits(failOpen);
        return circuits['closed'] === 2 ? circuits : undefined;
      },
      30_000,
    );
    const ready = await readiness(failOpen);
    assert.equal(ready.body.status, 'ok');
    assert.equal(ready.body.breakers['redis']?.circuit?.state, 'closed');
    const closedPolicy = await uploadRaw(failClosed.url, tokenFor(tenant), uniqueJpeg());
    assert.equal(closedPolicy.status, 202);
    assert.ok(closedPolicy.headers.get('ratelimit-limit'), 'rate limited again');
  });
});
