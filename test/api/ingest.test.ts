import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  bearer,
  DOG_JPEG,
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
import { TOPICS } from '@imgpipe/contracts';
import { startTracing } from '@imgpipe/telemetry';
import { testKafka, waitFor } from '../support/kafka.ts';

interface Accepted {
  imageId: string;
  status: string;
  deduplicated: boolean;
  result?: { imageId: string };
}

describe('Idempotency-Key', () => {
  let api: TestApi;
  const tenant = testTenant('idem');
  before(async () => {
    api = await startTestApi();
  });
  after(async () => {
    await deleteTenantImages(api.api, [tenant]);
    await api.close();
  });

  test('a retried request with the same key returns the same image, uploaded once', async () => {
    const token = tokenFor(tenant);
    const bytes = uniqueJpeg();
    const headers = { 'idempotency-key': `upload-${Date.now()}` };
    const first = await uploadRaw(api.url, token, bytes, { headers, query: 'analyses=detect' });
    assert.equal(first.status, 202);
    const firstBody = (await first.json()) as Accepted;
    const retry = await uploadRaw(api.url, token, bytes, { headers, query: 'analyses=detect' });
    assert.equal(retry.status, 202);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.equal(retry.headers.get('location'), `/v1/images/${firstBody.imageId}`);
    assert.deepEqual(await retry.json(), firstBody);
    assert.equal(await tenantImageCount(api.api, tenant), 1);
  });

  test('the same key with a different request is 422 IDEMPOTENCY_KEY_REUSED', async () => {
    const token = tokenFor(tenant);
    const headers = { 'idempotency-key': `reuse-${Date.now()}` };
    assert.equal((await uploadRaw(api.url, token, uniqueJpeg(), { headers })).status, 202);
    const other = await uploadRaw(api.url, token, uniqueJpeg(), { headers });
    assert.equal(other.status, 422);
    assert.equal((await problemOf(other))['code'], 'IDEMPOTENCY_KEY_REUSED');
  });

  test('keys are per tenant: another tenant with the same key gets its own image', async () => {
    const headers = { 'idempotency-key': `shared-${Date.now()}` };
    const bytes = uniqueJpeg();
    const mine = (await (await uploadRaw(api.url, tokenFor(tenant), bytes, { headers })).json()) as Accepted;
    const otherTenant = testTenant('idem-other');
    try {
      const theirs = (await (await uploadRaw(api.url, tokenFor(otherTenant), bytes, { headers })).json()) as Accepted;
      assert.notEqual(theirs.imageId, mine.imageId);
    } finally {
      await deleteTenantImages(api.api, [otherTenant]);
    }
  });

  test('a refused request releases its key', async () => {
    const token = tokenFor(tenant);
    const headers = { 'idempotency-key': `refused-${Date.now()}` };
    const refused = await uploadRaw(api.url, token, uniqueJpeg(), { headers, query: 'analyses=colour' });
    assert.equal(refused.status, 400);
    const accepted = await uploadRaw(api.url, token, uniqueJpeg(), { headers });
    assert.equal(accepted.status, 202);
  });
});

describe('content deduplication', () => {
  let api: TestApi;
  const tenant = testTenant('dedup');
  before(async () => {
    api = await startTestApi({ dedupWindowSeconds: 3600 });
  });
  after(async () => {
    await deleteTenantImages(api.api, [tenant]);
    await api.close();
  });

  test('the same bytes from the same tenant return the existing image instead of reprocessing', async () => {
    const token = tokenFor(tenant);
    const bytes = uniqueJpeg();
    const first = (await (await uploadRaw(api.url, token, bytes)).json()) as Accepted;
    assert.equal(first.deduplicated, false);
    const again = await uploadRaw(api.url, token, bytes);
    assert.equal(again.status, 202, 'still pending, so still 202');
    const body = (await again.json()) as Accepted;
    assert.equal(body.imageId, first.imageId);
    assert.equal(body.deduplicated, true);
    assert.equal(await tenantImageCount(api.api, tenant), 1);
  });

  test('a finished duplicate is answered 200 with its result', async () => {
    const token = tokenFor(tenant);
    const bytes = uniqueJpeg();
    const first = (await (await uploadRaw(api.url, token, bytes, { query: 'analyses=detect' })).json()) as Accepted;
    // Finish it the way the results service would: the aggregate's joined result.
    await api.api.deps.db
      .updateTable('images')
      .set({ status: 'completed', completed_at: new Date() })
      .where('id', '=', first.imageId)
      .execute();
    const again = await uploadRaw(api.url, token, bytes, { query: 'analyses=detect' });
    assert.equal(again.status, 200);
    const body = (await again.json()) as Accepted;
    assert.equal(body.deduplicated, true);
    assert.equal(body.status, 'completed');
    assert.equal(body.result?.imageId, first.imageId);
  });

  test('asking for more analyses than the earlier upload ran processes the image again', async () => {
    const token = tokenFor(tenant);
    const bytes = uniqueJpeg();
    const detectOnly = (await (
      await uploadRaw(api.url, token, bytes, { query: 'analyses=detect' })
    ).json()) as Accepted;
    const everything = (await (await uploadRaw(api.url, token, bytes)).json()) as Accepted;
    assert.notEqual(everything.imageId, detectOnly.imageId);
    assert.equal(everything.deduplicated, false);
    const subset = (await (await uploadRaw(api.url, token, bytes, { query: 'analyses=ocr' })).json()) as Accepted;
    assert.equal(subset.imageId, everything.imageId, 'a subset of a recent upload is a duplicate');
  });

  test('features count like rendition presets: the same bytes asking for features again dedup, other asks do not', async () => {
    const token = tokenFor(tenant);
    const bytes = uniqueJpeg();
    const upload = async (query: string) =>
      (await (await uploadRaw(api.url, token, bytes, { query })).json()) as Accepted;
    const requested = async (imageId: string) =>
      (
        (await (await fetch(`${api.url}/v1/images/${imageId}`, { headers: bearer(token) })).json()) as {
          requestedAnalyses: string[];
        }
      ).requestedAnalyses;
    // The upload claim lasts 30 s and answers an identical upload on its own; dropping the tenant's claims makes
    // each upload below find its duplicate (or not) the way it does after that: in the stored requested analyses.
    const forgetClaims = async () => {
      const keys = await api.api.deps.redis.keys(`imgpipe:${tenant}:upload-claim:*`);
      if (keys.length > 0) await api.api.deps.redis.del(...keys);
    };

    const everything = await upload('');
    const features = await upload('analyses=features');
    assert.notEqual(features.imageId, everything.imageId, 'the earlier upload did not ask for features');
    assert.equal(features.deduplicated, false);
    assert.deepEqual(await requested(everything.imageId), ['detect', 'faces', 'ocr']);
    assert.deepEqual(await requested(features.imageId), ['features']);

    await forgetClaims();
    const again = await upload('analyses=features');
    assert.deepEqual([again.imageId, again.deduplicated], [features.imageId, true], 'the same bytes and options');

    await forgetClaims();
    const more = await upload('analyses=features,detect');
    assert.notEqual(more.imageId, features.imageId, 'features alone ran no detect');
    assert.equal(more.deduplicated, false);
    assert.deepEqual(await requested(more.imageId), ['detect', 'features']);

    // Within the claim's life an identical ask (in another order) is answered by the claim.
    const reordered = await upload('analyses=detect,features');
    assert.deepEqual([reordered.imageId, reordered.deduplicated], [more.imageId, true]);
    await forgetClaims();
    const subset = await upload('analyses=detect');
    assert.deepEqual([subset.imageId, subset.deduplicated], [more.imageId, true], 'a subset of a recent upload');
  });

  test('another tenant uploading the same bytes gets its own image', async () => {
    const bytes = uniqueJpeg();
    const mine = (await (await uploadRaw(api.url, tokenFor(tenant), bytes)).json()) as Accepted;
    const otherTenant = testTenant('dedup-other');
    try {
      const theirs = (await (await uploadRaw(api.url, tokenFor(otherTenant), bytes)).json()) as Accepted;
      assert.notEqual(theirs.imageId, mine.imageId);
      assert.equal(theirs.deduplicated, false);
    } finally {
      await deleteTenantImages(api.api, [otherTenant]);
    }
  });

  test('with the window at 0, every upload is new', async () => {
    const noDedup = await startTestApi({ dedupWindowSeconds: 0 });
    try {
      const bytes = uniqueJpeg();
      const first = (await (await uploadRaw(noDedup.url, tokenFor(tenant), bytes)).json()) as Accepted;
      const second = (await (await uploadRaw(noDedup.url, tokenFor(tenant), bytes)).json()) as Accepted;
      assert.notEqual(first.imageId, second.imageId);
    } finally {
      await noDedup.close();
    }
  });
});

describe('rate limits', () => {
  let api: TestApi;
  const tenant = testTenant('rate');
  before(async () => {
    api = await startTestApi({ tenantRateLimit: { burst: 3, perSecond: 1 }, ipRateLimit: { burst: 2, perSecond: 1 } });
  });
  after(async () => {
    await deleteTenantImages(api.api, [tenant]);
    await api.close();
  });

  test('a tenant gets 429 with Retry-After after its burst, and recovers', async () => {
    const headers = bearer(tokenFor(tenant, 'viewer'));
    const statuses: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${api.url}/v1/images`, { headers });
      statuses.push(response.status);
      assert.equal(response.headers.get('ratelimit-limit'), '3');
      assert.equal(response.headers.get('ratelimit-policy'), '3;w=3');
      if (response.status === 429) refused = response;
      else await response.body?.cancel();
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.ok(refused);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${retryAfter}`);
    assert.equal(refused.headers.get('ratelimit-remaining'), '0');
    assert.equal((await problemOf(refused))['code'], 'REQUEST_RATE_LIMITED');

    // Another tenant is unaffected.
    const other = await fetch(`${api.url}/v1/images`, {
      headers: bearer(tokenFor(testTenant('rate-other'), 'viewer')),
    });
    assert.equal(other.status, 200);

    // Recovers once the bucket refills: poll, never sleep a fixed time.
    const deadline = Date.now() + 10_000;
    let recovered = false;
    while (!recovered && Date.now() < deadline) {
      const response = await fetch(`${api.url}/v1/images`, { headers });
      recovered = response.status === 200;
      await response.body?.cancel();
      if (!recovered) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(recovered, 'requests are allowed again after the refill');
  });

  test('unauthenticated paths are limited per client IP', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${api.url}/errors/IMAGE_TOO_LARGE`);
      statuses.push(response.status);
      if (response.status === 429) assert.ok(Number(response.headers.get('retry-after')) >= 1);
      await response.body?.cancel();
    }
    assert.deepEqual(statuses, [200, 200, 429]);
  });
});

describe('refused bodies leave nothing behind', () => {
  let api: TestApi;
  const tenant = testTenant('refused');
  const maxImageBytes = 50_000;
  before(async () => {
    api = await startTestApi({ maxImageBytes });
  });
  after(async () => {
    await deleteTenantImages(api.api, [tenant]);
    await api.close();
  });

  async function assertNothingStored(): Promise<void> {
    assert.deepEqual(await tenantObjects(tenant), [], 'no object in S3');
    assert.equal(await tenantImageCount(api.api, tenant), 0, 'no row in PostgreSQL');
  }

  test('an oversized raw body: 413 IMAGE_TOO_LARGE', async () => {
    assert.ok(DOG_JPEG.byteLength > maxImageBytes);
    const response = await uploadRaw(api.url, tokenFor(tenant), DOG_JPEG, {
      headers: { 'content-type': 'image/jpeg' },
    });
    assert.equal(response.status, 413);
    const problem = await problemOf(response);
    assert.equal(problem['code'], 'IMAGE_TOO_LARGE');
    assert.equal(problem['status'], 413);
    await assertNothingStored();
  });

  test('an oversized multipart file: 413 IMAGE_TOO_LARGE', async () => {
    const form = new FormData();
    form.append('file', new Blob([DOG_JPEG], { type: 'image/jpeg' }), 'dog.jpg');
    const response = await fetch(`${api.url}/v1/images`, {
      method: 'POST',
      headers: bearer(tokenFor(tenant)),
      body: form,
    });
    assert.equal(response.status, 413);
    assert.equal((await problemOf(response))['code'], 'IMAGE_TOO_LARGE');
    await assertNothingStored();
  });

  test('a non-image raw body: 415 IMAGE_UNSUPPORTED_FORMAT, whatever its Content-Type claims', async () => {
    for (const type of ['image/jpeg', 'text/plain', 'application/octet-stream']) {
      const response = await uploadRaw(api.url, tokenFor(tenant), Buffer.from('%PDF-1.7 not an image'), {
        headers: { 'content-type': type },
      });
      assert.equal(response.status, 415, type);
      const problem = await problemOf(response);
      assert.equal(problem['code'], 'IMAGE_UNSUPPORTED_FORMAT');
      assert.match(String(problem['detail']), /PDF/);
    }
    await assertNothingStored();
  });

  test('a non-image multipart file: 415 IMAGE_UNSUPPORTED_FORMAT', async () => {
    const form = new FormData();
    form.append('file', new Blob(['<html>hello</html>'], { type: 'image/png' }), 'fake.png');
    const response = await fetch(`${api.url}/v1/images`, {
      method: 'POST',
      headers: bearer(tokenFor(tenant)),
      body: form,
    });
    assert.equal(response.status, 415);
    assert.equal((await problemOf(response))['code'], 'IMAGE_UNSUPPORTED_FORMAT');
    await assertNothingStored();
  });

  test('an empty body: 422 IMAGE_EMPTY', async () => {
    const response = await uploadRaw(api.url, tokenFor(tenant), Buffer.alloc(0), {
      headers: { 'content-type': 'image/jpeg' },
    });
    assert.equal(response.status, 422);
    assert.equal((await problemOf(response))['code'], 'IMAGE_EMPTY');
    await assertNothingStored();
  });

  test('a batch with one bad image stores none of them', async () => {
    const form = new FormData();
    form.append('files', new Blob([uniqueJpeg(DOG_JPEG.subarray(0, 20_000))], { type: 'image/jpeg' }), 'a.jpg');
    form.append('files', new Blob(['not an image']), 'b.txt');
    const response = await fetch(`${api.url}/v1/batches`, {
      method: 'POST',
      headers: bearer(tokenFor(tenant)),
      body: form,
    });
    assert.equal(response.status, 415);
    await assertNothingStored();
  });
});

describe('batches and search', () => {
  let api: TestApi;
  const tenant = testTenant('batch');
  // A tenant of its own: the batch test below counts what search finds for its tenant.
  const attributesTenant = testTenant('attributes');
  before(async () => {
    api = await startTestApi();
  });
  after(async () => {
    await deleteTenantImages(api.api, [tenant, attributesTenant]);
    await api.close();
  });

  test('attributes sent as a multipart part of type application/json (as the OpenAPI document encodes them)', async () => {
    const attributes = { album: 'trips', 'camera model': 'X100V' };
    for (const type of ['application/json', 'text/plain', '']) {
      const form = new FormData();
      form.append('file', new Blob([uniqueJpeg()], { type: 'image/jpeg' }), 'dog.jpg');
      if (type) form.append('attributes', new Blob([JSON.stringify(attributes)], { type }));
      else form.append('attributes', JSON.stringify(attributes));
      const response = await fetch(`${api.url}/v1/images`, {
        method: 'POST',
        headers: bearer(tokenFor(attributesTenant)),
        body: form,
      });
      assert.equal(response.status, 202, `${type || 'a text field'}: ${await response.clone().text()}`);
      const { imageId } = (await response.json()) as Accepted;
      const view = (await (
        await fetch(`${api.url}/v1/images/${imageId}`, { headers: bearer(tokenFor(attributesTenant, 'viewer')) })
      ).json()) as { attributes: Record<string, string> };
      assert.deepEqual(view.attributes, attributes, type || 'a text field');
    }
  });

  test('POST /v1/batches returns one image id per file; search pages through them', async () => {
    const form = new FormData();
    for (const name of ['one.jpg', 'two.jpg', 'three.jpg']) {
      form.append('files', new Blob([uniqueJpeg()], { type: 'image/jpeg' }), name);
    }
    form.append('analyses', 'detect,ocr');
    const response = await fetch(`${api.url}/v1/batches`, {
      method: 'POST',
      headers: bearer(tokenFor(tenant)),
      body: form,
    });
    assert.equal(response.status, 202);
    const batch = (await response.json()) as { batchId: string; images: (Accepted & { sourceName: string })[] };
    assert.equal(batch.images.length, 3);
    assert.deepEqual(
      batch.images.map((image) => image.sourceName),
      ['one.jpg', 'two.jpg', 'three.jpg'],
    );
    assert.equal(new Set(batch.images.map((image) => image.imageId)).size, 3);

    const viewer = bearer(tokenFor(tenant, 'viewer'));
    const image = await (await fetch(`${api.url}/v1/images/${batch.images[0]!.imageId}`, { headers: viewer })).json();
    assert.equal((image as { status: string }).status, 'pending');
    assert.deepEqual((image as { requestedAnalyses: string[] }).requestedAnalyses, ['detect', 'ocr']);
    assert.equal((image as { stages: Record<string, { status: string }> }).stages['faces']?.status, 'skipped');

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = (await (
        await fetch(`${api.url}/v1/images?status=pending&limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
          headers: viewer,
        })
      ).json()) as { items: { imageId: string }[]; nextCursor?: string };
      seen.push(...page.items.map((item) => item.imageId));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(seen.sort(), batch.images.map((item) => item.imageId).sort());
    const bad = await fetch(`${api.url}/v1/images?limit=500`, { headers: viewer });
    assert.equal(bad.status, 400);
    assert.equal((await problemOf(bad))['code'], 'REQUEST_INVALID');
  });

  test('an unknown route and a malformed request are problems too', async () => {
    const missing = await fetch(`${api.url}/v2/nothing`);
    assert.equal(missing.status, 404);
    assert.equal((await problemOf(missing))['code'], 'RESOURCE_NOT_FOUND');
    const badJson = await fetch(`${api.url}/v1/images`, {
      method: 'POST',
      headers: { ...bearer(tokenFor(tenant)), 'content-type': 'application/json' },
      body: '{"url": ',
    });
    assert.equal(badJson.status, 400);
    assert.equal((await problemOf(badJson))['code'], 'REQUEST_INVALID');
  });
});

describe('trace context', () => {
  let api: TestApi;
  const tenant = testTenant('trace');
  before(async () => {
    await startTracing({ serviceName: 'imgpipe-api-test' }); // as the API process does at start-up
    api = await startTestApi();
  });
  after(async () => {
    await deleteTenantImages(api.api, [tenant]);
    await api.close();
  });

  test("a caller's traceparent continues into the ImageUploaded message's headers", async () => {
    const kafka = testKafka('api-trace-test');
    const consumer = kafka.consumer({ groupId: `api-trace-test-${randomUUID()}` });
    const seen = new Map<string, string | undefined>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [TOPICS.uploaded], fromBeginning: false });
      const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.set(message.key?.toString() ?? '', message.headers?.['traceparent']?.toString() ?? 'none');
        },
      });
      await joined;
      const traceId = randomUUID().replaceAll('-', '');
      const response = await uploadRaw(api.url, tokenFor(tenant), uniqueJpeg(), {
        headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      });
      assert.equal(response.status, 202);
      const { imageId } = (await response.json()) as Accepted;
      const traceparent = await waitFor(`the uploaded event (seen ${seen.size})`, () => seen.get(imageId), 20_000);
      assert.equal(traceparent.split('-')[1], traceId, 'same trace id');
      assert.notEqual(traceparent.split('-')[2], '00f067aa0ba902b7', "the API's own producer span is the parent");
    } finally {
      await consumer.disconnect();
    }
  });
});
