/**
 * The hostile inputs of issue 14, each against the real API and stack: every one answers 4xx with its stable code,
 * and nothing of it is left in S3 (the tenant's prefix), on images.uploaded (the topic's messages since the test
 * began) or in PostgreSQL (the tenant's images and API keys). A control upload proves each probe sees a real upload.
 * (A JWT without exp is refused by the authenticator, whose unit tests cover the token rules; checked here end to end.)
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DEV_JWT_SECRET } from '@imgpipe/http-api';
import { originalKey } from '@imgpipe/storage';
import { uploadEventBytes } from '../../packages/http-api/src/upload-event.ts';
import { NOTHING, tenantLeftovers, UploadedTopicWatch } from './leftovers.ts';
import {
  apiConfig,
  bearer,
  DOG_JPEG,
  deleteTenantImages,
  problemOf,
  startTestApi,
  type TestApi,
  testTenant,
  tokenFor,
  uniqueJpeg,
  uploadRaw,
} from './support.ts';

interface Part {
  name: string;
  filename?: string;
  body: Buffer | string;
}

const BOUNDARY = 'imgpipe-hostile-boundary';

/** A multipart/form-data body written by hand, so file names reach the server exactly as given. */
function multipart(parts: Part[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const filename = part.filename === undefined ? '' : `; filename="${part.filename}"`;
    chunks.push(
      Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"${filename}\r\n\r\n`, 'utf8'),
      Buffer.from(part.body),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

describe('hostile inputs leave nothing behind', () => {
  let api: TestApi;
  let small: TestApi;
  const tenants: string[] = [];
  const tenant = (label: string) => {
    const id = testTenant(label);
    tenants.push(id);
    return id;
  };

  before(async () => {
    api = await startTestApi();
    small = await startTestApi({ maxEventBytes: 4096 });
  });
  after(async () => {
    await deleteTenantImages(api.api, tenants);
    await api.api.deps.db
      .deleteFrom('api_keys' as never)
      .where('tenant_id' as never, 'in', tenants as never)
      .execute();
    await small.close();
    await api.close();
  });

  async function expectRefused(response: Response, status: number, code: string): Promise<Record<string, unknown>> {
    const problem = await problemOf(response);
    assert.equal(response.status, status, JSON.stringify(problem));
    assert.equal(problem['code'], code, JSON.stringify(problem));
    return problem;
  }

  /** Since `watch` started (at the start of the test, so a refused request moves no offset and needs no read). */
  async function assertNothingLeft(owner: string, watch: UploadedTopicWatch): Promise<void> {
    assert.deepEqual(await tenantLeftovers(api.api, watch, owner), NOTHING);
  }

  async function apiKeyRows(owner: string): Promise<number> {
    const rows = await api.api.deps.db
      .selectFrom('api_keys' as never)
      .select('id' as never)
      .where('tenant_id' as never, '=', owner as never)
      .execute();
    return rows.length;
  }

  test('control: an accepted upload is seen in S3, on images.uploaded and in PostgreSQL', async () => {
    const owner = tenant('control');
    const watch = await UploadedTopicWatch.start();
    const bytes = uniqueJpeg();
    const response = await uploadRaw(api.url, tokenFor(owner), bytes, { query: 'sourceName=dog.jpg' });
    assert.equal(response.status, 202);
    const left = await tenantLeftovers(api.api, watch, owner);
    assert.equal(left.s3.length, 1);
    assert.equal(left.kafka, 1);
    assert.equal(left.postgres, 1);
    // The size checked before the upload is the size of the message the publisher produced.
    const [value] = await watch.eventValuesOf(owner);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const expected = uploadEventBytes({
      tenantId: owner,
      sha256,
      size: bytes.byteLength,
      contentType: 'image/jpeg',
      bucket: apiConfig.s3Bucket,
      key: originalKey(owner, sha256),
      analyses: [],
      sourceName: 'dog.jpg',
    });
    assert.equal(value?.byteLength, expected);
  });

  test('NUL in sourceName (query of a raw upload): 400 REQUEST_INVALID', async () => {
    const owner = tenant('nul-query');
    const watch = await UploadedTopicWatch.start();
    const response = await uploadRaw(api.url, tokenFor(owner), uniqueJpeg(), { query: 'sourceName=dog%00.jpg' });
    const problem = await expectRefused(response, 400, 'REQUEST_INVALID');
    assert.match(String(problem['detail']), /sourceName/);
    await assertNothingLeft(owner, watch);
  });

  test('NUL in a multipart file name: 400 REQUEST_INVALID', async () => {
    const owner = tenant('nul-filename');
    const watch = await UploadedTopicWatch.start();
    const response = await fetch(`${api.url}/v1/images`, {
      method: 'POST',
      headers: { ...bearer(tokenFor(owner)), 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body: multipart([{ name: 'file', filename: 'dog\u0000.jpg', body: uniqueJpeg() }]),
    });
    const problem = await expectRefused(response, 400, 'REQUEST_INVALID');
    assert.match(String(problem['detail']), /file name/);
    await assertNothingLeft(owner, watch);
  });

  test('NUL in a multipart sourceName field, and in a batch entry of JSON: 400 REQUEST_INVALID', async () => {
    const owner = tenant('nul-field');
    const watch = await UploadedTopicWatch.start();
    const response = await fetch(`${api.url}/v1/images`, {
      method: 'POST',
      headers: { ...bearer(tokenFor(owner)), 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body: multipart([
        { name: 'sourceName', body: 'a\u0000b' },
        { name: 'file', filename: 'dog.jpg', body: uniqueJpeg() },
      ]),
    });
    await expectRefused(response, 400, 'REQUEST_INVALID');
    const batch = await fetch(`${api.url}/v1/batches`, {
      method: 'POST',
      headers: { ...bearer(tokenFor(owner)), 'content-type': 'application/json' },
      body: JSON.stringify({ images: [{ url: 'https://example.com/a.jpg', sourceName: 'x\u0000y' }] }),
    });
    await expectRefused(batch, 400, 'REQUEST_INVALID');
    await assertNothingLeft(owner, watch);
  });

  test('NUL in the label and text of a search: 400 REQUEST_INVALID', async () => {
    const viewer = bearer(tokenFor(tenant('nul-search'), 'viewer'));
    for (const query of ['label=do%00g', 'text=hello%00world']) {
      await expectRefused(await fetch(`${api.url}/v1/images?${query}`, { headers: viewer }), 400, 'REQUEST_INVALID');
    }
  });

  test('NUL in an API key id or name: 400 REQUEST_INVALID, no key stored', async () => {
    const owner = tenant('nul-key');
    const admin = bearer(tokenFor(owner, 'admin'));
    await expectRefused(
      await fetch(`${api.url}/v1/api-keys/abc%00def`, { method: 'DELETE', headers: admin }),
      400,
      'REQUEST_INVALID',
    );
    await expectRefused(
      await fetch(`${api.url}/v1/api-keys`, {
        method: 'POST',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'viewer', name: 'camera\u0000one' }),
      }),
      400,
      'REQUEST_INVALID',
    );
    assert.equal(await apiKeyRows(owner), 0);
  });

  test('{"name": [null]} is not coerced into a name: 400 REQUEST_INVALID, no key stored', async () => {
    const owner = tenant('coerce');
    const response = await fetch(`${api.url}/v1/api-keys`, {
      method: 'POST',
      headers: { ...bearer(tokenFor(owner, 'admin')), 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'viewer', name: [null] }),
    });
    const problem = await expectRefused(response, 400, 'REQUEST_INVALID');
    assert.match(String(problem['detail']), /name/);
    assert.equal(await apiKeyRows(owner), 0);
    // Query strings are text: declared numbers are still read from them.
    const viewer = bearer(tokenFor(owner, 'viewer'));
    assert.equal((await fetch(`${api.url}/v1/images?limit=5`, { headers: viewer })).status, 200);
    await expectRefused(await fetch(`${api.url}/v1/images?limit=5x`, { headers: viewer }), 400, 'REQUEST_INVALID');
  });

  test('a cursor holding an impossible date: 400 REQUEST_INVALID; an empty cursor is the first page', async () => {
    const viewer = bearer(tokenFor(tenant('cursor'), 'viewer'));
    for (const time of ['2024-02-30T10:00:00.000000Z', '2024-01-01T25:00:00.000000Z']) {
      const cursor = Buffer.from(JSON.stringify([time, '4f0c1a9e-1d2b-4c3d-8e4f-5a6b7c8d9e0f'])).toString('base64url');
      const response = await fetch(`${api.url}/v1/images?cursor=${cursor}`, { headers: viewer });
      const problem = await expectRefused(response, 400, 'REQUEST_INVALID');
      assert.match(String(problem['detail']), /cursor/);
    }
    const empty = await fetch(`${api.url}/v1/images?cursor=`, { headers: viewer });
    assert.equal(empty.status, 200);
    assert.deepEqual(await empty.json(), { items: [] });
  });

  test('multipart without a boundary: 400 REQUEST_MULTIPART_INVALID', async () => {
    const owner = tenant('no-boundary');
    const watch = await UploadedTopicWatch.start();
    const response = await fetch(`${api.url}/v1/images`, {
      method: 'POST',
      headers: { ...bearer(tokenFor(owner)), 'content-type': 'multipart/form-data' },
      body: multipart([{ name: 'file', filename: 'dog.jpg', body: uniqueJpeg() }]),
    });
    await expectRefused(response, 400, 'REQUEST_MULTIPART_INVALID');
    await assertNothingLeft(owner, watch);
  });

  test('a truncated multipart body: 400 REQUEST_MULTIPART_INVALID', async () => {
    const owner = tenant('truncated');
    const watch = await UploadedTopicWatch.start();
    const whole = multipart([
      { name: 'files', filename: 'a.jpg', body: uniqueJpeg() },
      { name: 'files', filename: 'b.jpg', body: uniqueJpeg() },
    ]);
    const response = await fetch(`${api.url}/v1/batches`, {
      method: 'POST',
      headers: { ...bearer(tokenFor(owner)), 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body: whole.subarray(0, Math.floor(whole.length * 0.75)),
    });
    await expectRefused(response, 400, 'REQUEST_MULTIPART_INVALID');
    await assertNothingLeft(owner, watch);
  });

  test('a 1 MB attribute value on a JSON URL upload: 400 REQUEST_INVALID before any fetch', async () => {
    const owner = tenant('big-attribute');
    const watch = await UploadedTopicWatch.start();
    const response = await fetch(`${api.url}/v1/images`, {
      method: 'POST',
      headers: { ...bearer(tokenFor(owner)), 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://example.com/dog.jpg', attributes: { note: 'x'.repeat(1024 * 1024) } }),
    });
    const problem = await expectRefused(response, 400, 'REQUEST_INVALID');
    assert.match(String(problem['detail']), /attributes/);
    await assertNothingLeft(owner, watch);
  });

  test('NUL in an attribute value or a control character in its name: 400 REQUEST_INVALID', async () => {
    const owner = tenant('attribute-chars');
    const watch = await UploadedTopicWatch.start();
    for (const attributes of [{ note: 'a\u0000b' }, { 'bad\u0007name': 'x' }]) {
      const response = await fetch(`${api.url}/v1/images`, {
        method: 'POST',
        headers: { ...bearer(tokenFor(owner)), 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        body: multipart([
          { name: 'attributes', body: JSON.stringify(attributes) },
          { name: 'file', filename: 'dog.jpg', body: uniqueJpeg() },
        ]),
      });
      await expectRefused(response, 400, 'REQUEST_INVALID');
    }
    await assertNothingLeft(owner, watch);
  });

  test('an event larger than the broker takes: 413 REQUEST_EVENT_TOO_LARGE before the original is stored', async () => {
    const owner = tenant('big-event');
    const watch = await UploadedTopicWatch.start();
    // 50 attributes of 100 characters each fit every field limit; their event does not fit 4096 bytes.
    const attributes = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`key${i}`, 'v'.repeat(100)]));
    const response = await fetch(`${small.url}/v1/images`, {
      method: 'POST',
      headers: { ...bearer(tokenFor(owner)), 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body: multipart([
        { name: 'attributes', body: JSON.stringify(attributes) },
        { name: 'file', filename: 'dog.jpg', body: uniqueJpeg() },
      ]),
    });
    const problem = await expectRefused(response, 413, 'REQUEST_EVENT_TOO_LARGE');
    assert.match(String(problem['detail']), /over the limit of 4096/);
    await assertNothingLeft(owner, watch);
    // The same image with a few attributes is accepted by the same API: the limit is the event's, not the image's.
    const accepted = await fetch(`${small.url}/v1/images`, {
      method: 'POST',
      headers: { ...bearer(tokenFor(owner)), 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body: multipart([
        { name: 'attributes', body: JSON.stringify({ camera: 'front' }) },
        { name: 'file', filename: 'dog.jpg', body: DOG_JPEG },
      ]),
    });
    assert.equal(accepted.status, 202);
  });

  test('a JWT without exp: 401 AUTH_INVALID, nothing uploaded', async () => {
    const owner = tenant('no-exp');
    const watch = await UploadedTopicWatch.start();
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: 'x', tenant: owner, roles: ['admin'], iat: Math.floor(Date.now() / 1000) })}`;
    const token = `${input}.${createHmac('sha256', DEV_JWT_SECRET).update(input).digest('base64url')}`;
    await expectRefused(await uploadRaw(api.url, token, uniqueJpeg()), 401, 'AUTH_INVALID');
    await assertNothingLeft(owner, watch);
  });

  test('a multipart part the upload does not take (an unknown field, a file under another name): 400', async () => {
    const owner = tenant('unknown-part');
    const watch = await UploadedTopicWatch.start();
    for (const parts of [
      [
        { name: 'colour', body: 'red' },
        { name: 'file', filename: 'dog.jpg', body: uniqueJpeg() },
      ],
      [{ name: 'image', filename: 'dog.jpg', body: uniqueJpeg() }],
      [{ name: 'file', body: 'not a file part' }],
    ]) {
      const response = await fetch(`${api.url}/v1/images`, {
        method: 'POST',
        headers: { ...bearer(tokenFor(owner)), 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        body: multipart(parts),
      });
      await expectRefused(response, 400, 'REQUEST_INVALID');
    }
    await assertNothingLeft(owner, watch);
  });

  test('TRACE on a known path: 405 with Allow; an unknown path stays 404', async () => {
    // fetch will not send TRACE (a forbidden method): a raw socket does.
    const raw = await rawRequest(api.url, 'TRACE /v1/images HTTP/1.1');
    assert.match(raw.head, /^HTTP\/1\.1 405 /);
    assert.match(raw.head, /\r\nallow: GET, HEAD, POST\r\n/i);
    assert.equal(JSON.parse(raw.body).code, 'REQUEST_METHOD_NOT_ALLOWED');
    const put = await fetch(`${api.url}/v1/images/4f0c1a9e-1d2b-4c3d-8e4f-5a6b7c8d9e0f`, { method: 'PUT' });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, HEAD');
    await expectRefused(put, 405, 'REQUEST_METHOD_NOT_ALLOWED');
    const missing = await fetch(`${api.url}/v1/nothing-here`, { method: 'PUT' });
    await expectRefused(missing, 404, 'RESOURCE_NOT_FOUND');
  });
});

/** One HTTP/1.1 request over a plain socket (for methods fetch will not send), with Connection: close. */
async function rawRequest(base: string, requestLine: string): Promise<{ head: string; body: string }> {
  const { connect } = await import('node:net');
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`${requestLine}\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      resolve({ head: text.slice(0, split), body: text.slice(split + 4) });
    });
  });
}
