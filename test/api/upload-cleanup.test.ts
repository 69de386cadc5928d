/**
 * An upload that fails after its original is in S3 (the event cannot be produced) leaves no original behind, unless
 * another image of the tenant uses the same content-addressed object. The real API, S3, PostgreSQL and registry;
 * only the Kafka producer is replaced by one that fails.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { EventCodec } from '@imgpipe/contracts';
import { apiOptionsFrom, buildApp } from '@imgpipe/http-api';
import { ImagePublisher } from '@imgpipe/publisher';
import { blobStoreFor, originalKey } from '@imgpipe/storage';
import type { FastifyInstance } from 'fastify';
import type { Producer } from 'kafkajs';
import {
  apiConfig,
  deleteTenantImages,
  problemOf,
  s3Object,
  startTestApi,
  type TestApi,
  tenantImageCount,
  tenantObjects,
  testTenant,
  tokenFor,
  uniqueJpeg,
  uploadRaw,
} from './support.ts';
import { waitFor } from '../support/kafka.ts';

describe('a produce that fails after the original was stored', () => {
  let api: TestApi;
  let broken: FastifyInstance;
  let brokenUrl: string;
  let sends = 0;
  const tenants: string[] = [];
  const blobs = blobStoreFor(apiConfig);

  before(async () => {
    api = await startTestApi();
    const failing = {
      async sendBatch() {
        sends++;
        throw Object.assign(new Error('the broker is gone'), { name: 'KafkaJSConnectionError' });
      },
    } as unknown as Producer;
    // Without the logger: the failures are the point here, not news.
    const { logger: _logger, ...deps } = api.api.deps;
    broken = await buildApp(
      {
        ...deps,
        publisher: new ImagePublisher({
          producer: failing,
          codec: new EventCodec({ registryUrl: apiConfig.schemaRegistryUrl }),
          blobs,
        }),
        breakers: undefined,
      },
      { ...apiOptionsFrom(apiConfig), dedupWindowSeconds: 0 },
    );
    brokenUrl = await broken.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await broken.close();
    await deleteTenantImages(api.api, tenants);
    await api.close();
    blobs.close();
  });

  test('is 503 KAFKA_UNAVAILABLE and deletes the original it stored', async () => {
    const tenant = testTenant('cleanup');
    tenants.push(tenant);
    const before = sends;
    const response = await uploadRaw(brokenUrl, tokenFor(tenant), uniqueJpeg());
    const problem = await problemOf(response);
    assert.equal(response.status, 503);
    assert.equal(problem['code'], 'KAFKA_UNAVAILABLE');
    assert.ok(Number(response.headers.get('retry-after')) >= 1, 'a 503 says when to retry');
    assert.equal(sends, before + 1, 'the original was stored and the produce attempted');
    assert.deepEqual(await tenantObjects(tenant), []);
    assert.equal(await tenantImageCount(api.api, tenant), 0);
  });

  test("keeps the original when another of the tenant's images uses the same bytes", async () => {
    const tenant = testTenant('cleanup-shared');
    tenants.push(tenant);
    const bytes = uniqueJpeg();
    assert.equal((await uploadRaw(api.url, tokenFor(tenant), bytes)).status, 202);
    const [stored] = await tenantObjects(tenant);
    assert.ok(stored);
    const response = await uploadRaw(brokenUrl, tokenFor(tenant), bytes);
    assert.equal(response.status, 503);
    assert.deepEqual(await tenantObjects(tenant), [stored], 'the first image still has its original');
    assert.equal(await tenantImageCount(api.api, tenant), 1);
  });
});

/**
 * Two uploads of the same bytes at once: the second waits for the first one's outcome instead of answering with its
 * id at once, since the first may still fail (S3 or Kafka down) and its image never come to exist. The producer is
 * held at a gate so the second upload is seen reading the claim before the first one settles.
 */
describe('an identical upload while the first is still being stored', () => {
  let api: TestApi;
  let app: FastifyInstance;
  let appUrl: string;
  let outcome: 'fail' | 'succeed' | 'first fails' = 'fail';
  let sends = 0;
  let gate = Promise.withResolvers<void>();
  let claimReads = 0;
  let firstAttempt = 0;
  const tenants: string[] = [];
  const blobs = blobStoreFor(apiConfig);

  before(async () => {
    api = await startTestApi();
    const gated = {
      async sendBatch() {
        sends++;
        const attempt = sends;
        await gate.promise;
        if (outcome === 'fail' || (outcome === 'first fails' && attempt === firstAttempt)) {
          throw Object.assign(new Error('the broker is gone'), { name: 'KafkaJSConnectionError' });
        }
        return [];
      },
    } as unknown as Producer;
    // The real Redis, with its reads of upload claims counted.
    const redis = new Proxy(api.api.deps.redis, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (property === 'get') {
          return (key: string) => {
            if (key.includes(':upload-claim:')) claimReads++;
            return target.get(key);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const { logger: _logger, ...deps } = api.api.deps;
    app = await buildApp(
      {
        ...deps,
        redis,
        publisher: new ImagePublisher({
          producer: gated,
          codec: new EventCodec({ registryUrl: apiConfig.schemaRegistryUrl }),
          blobs,
        }),
        breakers: undefined,
      },
      apiOptionsFrom(apiConfig),
    );
    appUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    gate.resolve();
    await app.close();
    await deleteTenantImages(api.api, tenants);
    await api.close();
    blobs.close();
  });

  /** Starts the first upload, holds it in its produce, and starts the second once it has read the first's claim. */
  async function racing(
    tenant: string,
  ): Promise<{ first: Promise<Response>; second: Promise<Response>; bytes: Buffer }> {
    gate = Promise.withResolvers<void>();
    const bytes = uniqueJpeg();
    const sendsBefore = sends;
    const readsBefore = claimReads;
    firstAttempt = sends + 1;
    const first = uploadRaw(appUrl, tokenFor(tenant), bytes);
    await waitFor('the first upload to reach its produce', () => (sends > sendsBefore ? true : undefined), 10_000, 5);
    const second = uploadRaw(appUrl, tokenFor(tenant), bytes);
    await waitFor(
      'the second upload to read the claim',
      () => (claimReads > readsBefore ? true : undefined),
      10_000,
      5,
    );
    gate.resolve();
    return { first, second, bytes };
  }

  test('when the first fails, the second is stored on its own: never an id of an image that does not exist', async () => {
    const tenant = testTenant('claim-fail');
    tenants.push(tenant);
    outcome = 'fail';
    const sendsBefore = sends;
    const { first, second } = await racing(tenant);
    assert.equal((await first).status, 503);
    const answer = await second;
    const problem = await problemOf(answer);
    // The second took the claim over and tried its own produce, which fails as well here: 503, not 202.
    assert.equal(answer.status, 503, `the second upload answered ${answer.status} ${JSON.stringify(problem)}`);
    assert.equal(problem['code'], 'KAFKA_UNAVAILABLE');
    assert.equal(sends, sendsBefore + 2, 'each upload attempted its own produce');
    assert.deepEqual(await tenantObjects(tenant), []);
    assert.equal(await tenantImageCount(api.api, tenant), 0);
  });

  test("when the first fails and the second succeeds, the second's original is there", async () => {
    // The first removes the original it believed orphaned; the second, taking the claim over, stores it again and
    // must not announce an image whose original is gone.
    const tenant = testTenant('claim-takeover');
    tenants.push(tenant);
    outcome = 'first fails';
    const { first, second, bytes } = await racing(tenant);
    assert.equal((await first).status, 503);
    const answer = await second;
    assert.equal(answer.status, 202, JSON.stringify(await answer.clone().json()));
    const accepted = (await answer.json()) as { imageId: string; deduplicated: boolean };
    assert.equal(accepted.deduplicated, false);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    assert.deepEqual(await tenantObjects(tenant), [originalKey(tenant, sha256)]);
    assert.ok((await s3Object(originalKey(tenant, sha256))).equals(bytes), 'the stored original is the uploaded bytes');
    assert.equal(await tenantImageCount(api.api, tenant), 1);
  });

  test('when the first succeeds, the second answers with its image once its event is produced', async () => {
    const tenant = testTenant('claim-succeed');
    tenants.push(tenant);
    outcome = 'succeed';
    const sendsBefore = sends;
    const { first, second } = await racing(tenant);
    const accepted = (await (await first).json()) as { imageId: string; deduplicated: boolean };
    const answer = await second;
    assert.equal(answer.status, 202);
    const deduplicated = (await answer.json()) as { imageId: string; deduplicated: boolean };
    assert.equal(accepted.deduplicated, false);
    assert.deepEqual(deduplicated, { ...deduplicated, imageId: accepted.imageId, deduplicated: true });
    assert.equal(sends, sendsBefore + 1, 'only the first upload was produced');
    assert.equal(await tenantImageCount(api.api, tenant), 1);
  });
});
