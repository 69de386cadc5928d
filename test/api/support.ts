import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  type ApiOptions,
  createApi,
  DEV_JWT_SECRET,
  loadApiConfig,
  mintDevToken,
  type Role,
  type RunningApi,
} from '@imgpipe/http-api';
import type { SsrfGuard } from '@imgpipe/egress';
import { createLogger } from '@imgpipe/telemetry';
import { sharedPath } from '../support/shared.ts';

export const apiConfig = loadApiConfig();

/** The key the test API signs rendition URLs with. */
export const TEST_RENDITION_SIGNING_KEY = 'imgpipe-test-rendition-signing-key-0123456789';

export interface TestApi {
  url: string;
  api: RunningApi;
  close(): Promise<void>;
}

/**
 * The real API (real Kafka, registry, S3, PostgreSQL, Redis) on a loopback port, with option overrides and, for
 * tests that need other services, another configuration.
 */
export async function startTestApi(
  overrides: Partial<ApiOptions> & { guard?: SsrfGuard } = {},
  config: typeof apiConfig = apiConfig,
): Promise<TestApi> {
  const api = await createApi(config, createLogger('imgpipe-api-test', 'error'), {
    // Generous by default so tests that are not about limits never meet them.
    tenantRateLimit: { burst: 10_000, perSecond: 10_000 },
    ipRateLimit: { burst: 10_000, perSecond: 10_000 },
    jwt: { hsSecret: DEV_JWT_SECRET },
    // Signed rendition URLs work in every scenario (the schemathesis run among them).
    renditionSigningKey: TEST_RENDITION_SIGNING_KEY,
    ...overrides,
  });
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = api.app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, api, close: () => api.close() };
}

/** A tenant id no other test run uses. */
export function testTenant(label: string): string {
  return `test-${label}-${randomUUID().slice(0, 8)}`;
}

export function tokenFor(tenant: string, role: Role = 'uploader', extra: { ttlSeconds?: number; now?: Date } = {}) {
  return mintDevToken({ tenant, roles: [role], secret: DEV_JWT_SECRET, ...extra });
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export const DOG_JPEG = readFileSync(sharedPath('images', 'photos', 'dog.jpg'));

/** A valid JPEG whose bytes (and so SHA-256) differ from every other call's: trailing bytes after EOI. */
export function uniqueJpeg(base: Buffer = DOG_JPEG): Buffer {
  return Buffer.concat([base, Buffer.from(randomUUID())]);
}

export async function uploadRaw(
  url: string,
  token: string,
  bytes: Buffer,
  options: { query?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(`${url}/v1/images${options.query ? `?${options.query}` : ''}`, {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': 'application/octet-stream', ...options.headers },
    body: bytes,
  });
}

const s3 = new S3Client({
  endpoint: apiConfig.s3Endpoint,
  region: apiConfig.s3Region,
  forcePathStyle: true,
  credentials: { accessKeyId: apiConfig.s3AccessKey, secretAccessKey: apiConfig.s3SecretKey },
});

/** Every object stored for a tenant (below `under`, a folder of the tenant's, when given). */
export async function tenantObjects(tenant: string, under = ''): Promise<string[]> {
  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: apiConfig.s3Bucket, Prefix: `tenants/${tenant}/${under}` }),
  );
  return (listed.Contents ?? []).map((object) => object.Key ?? '');
}

/** The bytes of one stored object. */
export async function s3Object(key: string): Promise<Buffer> {
  const response = await s3.send(new GetObjectCommand({ Bucket: apiConfig.s3Bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

/** Rows of the tenant's images in PostgreSQL. */
export async function tenantImageCount(api: RunningApi, tenant: string): Promise<number> {
  const row = await api.deps.db
    .selectFrom('images')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('tenant_id', '=', tenant)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function deleteTenantImages(api: RunningApi, tenants: readonly string[]): Promise<void> {
  if (tenants.length > 0) await api.deps.db.deleteFrom('images').where('tenant_id', 'in', tenants).execute();
}

export async function problemOf(response: Response): Promise<Record<string, unknown>> {
  const type = response.headers.get('content-type') ?? '';
  if (!type.startsWith('application/problem+json')) {
    throw new Error(`expected a problem, got ${response.status} ${type}: ${await response.text()}`);
  }
  return (await response.json()) as Record<string, unknown>;
}
