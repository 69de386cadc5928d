/**
 * The rendition cache hit through the HTTP route, for `npm run bench:transform`: the real API in process (real S3,
 * PostgreSQL, Redis, Kafka: the local stack), one photo uploaded, its rendition requested once (rendered and stored
 * in S3), then `requests` times more over keep-alive HTTP, each a cache hit (authentication and rate limit, the
 * image's row, then the API's memory tier or, with `memoryBytes` 0, one S3 read); and the same with If-None-Match
 * (304, no S3). Cleans up the row and the objects.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createApi, DEV_JWT_SECRET, loadApiConfig, mintDevToken } from '@imgpipe/http-api';
import { renditionKey } from '@imgpipe/storage';
import { createLogger } from '@imgpipe/telemetry';

const RECIPE = 'resize:320x240:cover/format:webp';

export interface CacheHitResult {
  requests: number;
  missMs: number;
  hit: { p50Ms: number; p95Ms: number };
  notModified: { p50Ms: number; p95Ms: number };
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** `memoryBytes`: the API's in-process tier in front of S3 (0: every hit reads S3). */
export async function measureRenditionCacheHit(
  photo: Buffer,
  requests: number,
  memoryBytes: number,
): Promise<CacheHitResult> {
  const config = loadApiConfig();
  const api = await createApi(config, createLogger('imgpipe-bench-rendition', 'error'), {
    logRequests: false,
    renditionMemoryBytes: memoryBytes,
    tenantRateLimit: { burst: 1_000_000, perSecond: 1_000_000 },
    jwt: { hsSecret: DEV_JWT_SECRET },
  });
  const tenant = `bench-rendition-${randomUUID().slice(0, 8)}`;
  const token = mintDevToken({ tenant, roles: ['uploader'], secret: DEV_JWT_SECRET, ttlSeconds: 3600 });
  const headers = { authorization: `Bearer ${token}` };
  const upload = Buffer.concat([photo, Buffer.from(randomUUID())]);
  const sha256 = createHash('sha256').update(upload).digest('hex');
  try {
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    const uploaded = await fetch(`${base}/v1/images`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'image/jpeg' },
      body: upload,
    });
    if (uploaded.status !== 202) throw new Error(`upload answered ${uploaded.status}: ${await uploaded.text()}`);
    const { imageId } = (await uploaded.json()) as { imageId: string };
    const url = `${base}/v1/images/${imageId}/renditions/${encodeURIComponent(RECIPE)}`;
    const timed = async (extra: Record<string, string>, expected: number, cache?: string) => {
      const started = performance.now();
      const response = await fetch(url, { headers: { ...headers, ...extra } });
      await response.arrayBuffer();
      const ms = performance.now() - started;
      if (response.status !== expected || (cache && response.headers.get('rendition-cache') !== cache)) {
        throw new Error(
          `expected ${expected} ${cache ?? ''}, got ${response.status} ${response.headers.get('rendition-cache')}`,
        );
      }
      return { ms, etag: response.headers.get('etag') ?? '' };
    };
    const miss = await timed({}, 200, 'miss');
    const hits: number[] = [];
    const notModified: number[] = [];
    for (let i = 0; i < requests; i++) {
      hits.push((await timed({}, 200, 'hit')).ms);
      notModified.push((await timed({ 'if-none-match': miss.etag }, 304)).ms);
    }
    hits.sort((a, b) => a - b);
    notModified.sort((a, b) => a - b);
    return {
      requests,
      missMs: miss.ms,
      hit: { p50Ms: percentile(hits, 0.5), p95Ms: percentile(hits, 0.95) },
      notModified: { p50Ms: percentile(notModified, 0.5), p95Ms: percentile(notModified, 0.95) },
    };
  } finally {
    const { db, blobs } = api.deps;
    const prefix = `tenants/${tenant}/`;
    const rows = await db.selectFrom('images').select(['blob_key']).where('tenant_id', '=', tenant).execute();
    await db.deleteFrom('images').where('tenant_id', '=', tenant).execute();
    const variant = createHash('sha256').update(`${RECIPE}\n\n`).digest('hex');
    const keys = [...rows.map((row) => row.blob_key ?? ''), renditionKey(tenant, sha256, variant)];
    for (const key of keys) if (key.startsWith(prefix)) await blobs.delete(key).catch(() => undefined);
    await api.close();
  }
}
