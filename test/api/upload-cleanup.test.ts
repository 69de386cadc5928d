/**
 * An upload that fails after its original is in S3 (the event cannot be produced) leaves no original behind, unless
 * another image of the tenant uses the same content-addressed object. The real API, S3, PostgreSQL and registry;
 * only the Kafka producer is replaced by one that fails.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EventCodec } from '@imgpipe/contracts';
import { apiOptionsFrom, buildApp } from '@imgpipe/http-api';
import { ImagePublisher } from '@imgpipe/publisher';
import { blobStoreFor } from '@imgpipe/storage';
import type { FastifyInstance } from 'fastify';
import type { Producer } from 'kafkajs';
import {
  apiConfig,
  deleteTenantImages,
  problemOf,
  startTestApi,
  type TestApi,
  tenantImageCount,
  tenantObjects,
  testTenant,
  tokenFor,
  uniqueJpeg,
  uploadRaw,
} from './support.ts';

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
