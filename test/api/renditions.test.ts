/**
 * Renditions of stored images against the real API and stack: rendered once and cached in S3 under the key derived
 * from the original's SHA-256 and the normalised recipe (recomputed here), a cache hit that does not render again
 * (the S3 object's LastModified and the cache header), ETag and 304, tenant scoping, format:auto by Accept, a
 * faces crop from the image's stored results, and signed URLs: valid without a token; expired, tampered or unsigned
 * refused with 403. The cache hit's p50 through the route is printed, not asserted.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { STAGES } from '@imgpipe/contracts';
import { ResultsCache } from '@imgpipe/results';
import { renditionKey } from '@imgpipe/storage';
import sharp from 'sharp';
import { RenditionSigner } from '../../packages/http-api/src/rendition-signing.ts';
import {
  apiConfig,
  bearer,
  deleteTenantImages,
  problemOf,
  startTestApi,
  type TestApi,
  TEST_RENDITION_SIGNING_KEY as SIGNING_KEY,
  tenantObjects,
  testTenant,
  tokenFor,
  uniqueJpeg,
  uploadRaw,
} from './support.ts';

const s3 = new S3Client({
  endpoint: apiConfig.s3Endpoint,
  region: apiConfig.s3Region,
  forcePathStyle: true,
  credentials: { accessKeyId: apiConfig.s3AccessKey, secretAccessKey: apiConfig.s3SecretKey },
});

async function lastModified(key: string): Promise<Date | undefined> {
  try {
    return (await s3.send(new HeadObjectCommand({ Bucket: apiConfig.s3Bucket, Key: key }))).LastModified;
  } catch {
    return undefined;
  }
}

/** The cache key as docs/transform.md defines it, computed here from the original bytes and the canonical recipe. */
function expectedKey(tenant: string, original: Buffer, canonical: string, autoFormat = '', detections = ''): string {
  const sha = createHash('sha256').update(original).digest('hex');
  const variant = createHash('sha256').update(`${canonical}\n${autoFormat}\n${detections}`).digest('hex');
  return renditionKey(tenant, sha, variant);
}

const etagOf = (key: string) => `"${createHash('sha256').update(key).digest('hex').slice(0, 32)}"`;

describe('renditions of stored images', () => {
  let api: TestApi;
  const tenant = testTenant('renditions');
  const other = testTenant('renditions-other');
  const viewer = tokenFor(tenant, 'viewer');
  const original = uniqueJpeg();
  let imageId: string;

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${api.url}${path}`, { headers: { ...bearer(viewer), ...headers } });
  const rendition = (recipe: string, headers: Record<string, string> = {}) =>
    get(`/v1/images/${imageId}/renditions/${encodeURIComponent(recipe)}`, headers);

  before(async () => {
    api = await startTestApi();
    const response = await uploadRaw(api.url, tokenFor(tenant), original);
    assert.equal(response.status, 202);
    imageId = ((await response.json()) as { imageId: string }).imageId;
  });
  after(async () => {
    await deleteTenantImages(api.api, [tenant, other]);
    await new ResultsCache(api.api.deps.redis).forget(tenant, imageId).catch(() => undefined);
    await api.close();
    s3.destroy();
  });

  test('rendered once into S3 under the derived key; the second request is a cache hit; 304 on If-None-Match', async () => {
    const recipe = 'resize:200x150:cover/sharpen/format:webp:70';
    const key = expectedKey(tenant, original, recipe);
    assert.equal(await lastModified(key), undefined, 'not cached before the first request');
    const first = await rendition(recipe);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('rendition-cache'), 'miss');
    assert.equal(first.headers.get('etag'), etagOf(key));
    assert.match(first.headers.get('cache-control') ?? '', /max-age=\d+/);
    const firstBytes = Buffer.from(await first.arrayBuffer());
    const meta = await sharp(firstBytes).metadata();
    assert.equal(meta.format, 'webp');
    assert.deepEqual([meta.width, meta.height], [200, 150]);
    assert.deepEqual([first.headers.get('image-width'), first.headers.get('image-height')], ['200', '150']);
    const stored = await lastModified(key);
    assert.ok(stored, `cached at ${key}`);

    const second = await rendition(recipe);
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('rendition-cache'), 'hit');
    assert.deepEqual(Buffer.from(await second.arrayBuffer()), firstBytes);
    assert.equal((await lastModified(key))?.getTime(), stored.getTime(), 'the cached object was not written again');

    const notModified = await rendition(recipe, { 'if-none-match': `"other", ${etagOf(key)}` });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.get('etag'), etagOf(key));
    assert.equal((await notModified.arrayBuffer()).byteLength, 0);
    const changed = await rendition(recipe, { 'if-none-match': '"something-else"' });
    assert.equal(changed.status, 200);
    await changed.arrayBuffer();
  });

  test('equal recipes share one rendition: written differently, or with / in the path', async () => {
    const canonical = 'resize:120x/format:png';
    const key = expectedKey(tenant, original, canonical);
    const a = await rendition('RESIZE:120x:inside:0:lanczos3/format:png');
    assert.equal(a.status, 200);
    await a.arrayBuffer();
    const b = await get(`/v1/images/${imageId}/renditions/resize:120x/format:png`);
    assert.equal(b.status, 200);
    assert.equal(b.headers.get('rendition-cache'), 'hit');
    assert.equal(a.headers.get('etag'), etagOf(key));
    assert.equal(b.headers.get('etag'), etagOf(key));
    const meta = await sharp(Buffer.from(await b.arrayBuffer())).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 120, 90]);
  });

  test('format:auto renders per Accept class and varies on Accept', async () => {
    for (const [accept, format] of [
      ['image/avif,image/webp', 'avif'],
      ['image/webp', 'webp'],
      ['image/*', 'jpeg'],
    ] as const) {
      const response = await rendition('resize:64x/format:auto', { accept });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('vary') ?? '', /accept/i);
      assert.equal(response.headers.get('content-type'), `image/${format}`);
      const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
      assert.equal(meta.format === 'heif' ? 'avif' : meta.format, format);
      assert.equal(
        response.headers.get('etag'),
        etagOf(expectedKey(tenant, original, 'resize:64x/format:auto', format)),
      );
    }
  });

  test("another tenant's image is 404; bad recipes answer their codes and store nothing", async () => {
    const before = (await tenantObjects(tenant)).length;
    const stranger = await fetch(`${api.url}/v1/images/${imageId}/renditions/flip`, {
      headers: bearer(tokenFor(other, 'viewer')),
    });
    assert.equal(stranger.status, 404);
    assert.equal((await problemOf(stranger))['code'], 'RESOURCE_NOT_FOUND');
    const unknown = await get('/v1/images/00000000-0000-4000-8000-000000000000/renditions/flip');
    assert.equal(unknown.status, 404);
    await unknown.arrayBuffer();
    for (const [recipe, code] of [
      ['sparkle', 'RECIPE_UNKNOWN_OPERATION'],
      ['resize:abc', 'RECIPE_INVALID_ARGUMENT'],
      [Array(26).fill('flop').join('/'), 'RECIPE_TOO_MANY_OPERATIONS'],
      ['blur:9', 'RECIPE_KERNEL_TOO_LARGE'],
    ]) {
      const response = await rendition(recipe!);
      assert.equal(response.status, 400, recipe);
      assert.equal((await problemOf(response))['code'], code, recipe);
    }
    for (const [recipe, code] of [
      ['resize:30000x30000:fill:1', 'TRANSFORM_OUTPUT_TOO_MANY_PIXELS'],
      ['crop:9000:9000:10:10', 'TRANSFORM_CROP_OUTSIDE_IMAGE'],
      // The image is still pending (no stage workers run here): no faces have been found yet.
      ['crop:faces', 'TRANSFORM_DETECTIONS_UNAVAILABLE'],
    ]) {
      const response = await rendition(recipe!);
      assert.equal(response.status, 422, recipe);
      assert.equal((await problemOf(response))['code'], code, recipe);
    }
    assert.equal((await tenantObjects(tenant)).length, before, 'no rendition stored for a refused recipe');
  });

  test("crop:faces uses the image's stored faces", async () => {
    const cache = new ResultsCache(api.api.deps.redis);
    const face = { x: 300, y: 100, width: 120, height: 160 };
    const stages = Object.fromEntries(STAGES.map((stage) => [stage, { status: 'completed' }]));
    const now = new Date().toISOString();
    // The image's result as the results service caches it once the faces stage has run.
    await cache.setLatest(tenant, imageId, {
      imageId,
      tenantId: tenant,
      status: 'completed',
      requestedAnalyses: ['faces'],
      requestedRenditions: [],
      attributes: {},
      labels: [],
      objects: [],
      faces: [
        {
          confidence: 0.99,
          box: face,
          boxNormalized: { left: 300 / 768, top: 100 / 576, width: 120 / 768, height: 160 / 576 },
          landmarks: {
            rightEye: { x: 330, y: 150 },
            leftEye: { x: 390, y: 150 },
            nose: { x: 360, y: 190 },
            mouthRight: { x: 335, y: 220 },
            mouthLeft: { x: 385, y: 220 },
          },
        },
      ],
      text: { fullText: '', lines: [] },
      textInObjects: [],
      stages,
      renditions: [],
      createdAt: now,
      updatedAt: now,
      completedAt: now,
    } as never);
    // Padding 0: exactly the face box; with padding 0.5 the box grows by half its size on each side.
    const tight = await rendition('crop:faces:0/format:png');
    assert.equal(
      tight.status,
      200,
      JSON.stringify(
        await tight
          .clone()
          .text()
          .catch(() => ''),
      ),
    );
    const tightBytes = Buffer.from(await tight.arrayBuffer());
    assert.deepEqual(
      [(await sharp(tightBytes).metadata()).width, (await sharp(tightBytes).metadata()).height],
      [120, 160],
    );
    // The same pixels as cutting the face box out of the original here.
    const expected = await sharp(original).extract({ left: 300, top: 100, width: 120, height: 160 }).raw().toBuffer();
    const actual = await sharp(tightBytes).raw().toBuffer();
    assert.ok(expected.equals(actual), 'the crop is the face box of the original');
    const padded = await rendition('crop:faces:0.5/format:png');
    const meta = await sharp(Buffer.from(await padded.arrayBuffer())).metadata();
    assert.deepEqual([meta.width, meta.height], [240, 320]);
  });

  test('signed URLs: valid without a token; expired, tampered or unsigned refused with 403', async () => {
    const minted = await fetch(`${api.url}/v1/images/${imageId}/rendition-urls`, {
      method: 'POST',
      headers: { ...bearer(viewer), 'content-type': 'application/json' },
      body: JSON.stringify({ recipe: 'RESIZE:100x/Format:PNG', ttlSeconds: 600 }),
    });
    assert.equal(minted.status, 200);
    const { url, recipe, expiresAt } = (await minted.json()) as { url: string; recipe: string; expiresAt: string };
    assert.equal(recipe, 'resize:100x/format:png');
    const remaining = (Date.parse(expiresAt) - Date.now()) / 1000;
    assert.ok(remaining > 500 && remaining <= 600, `expires in ${remaining} s`);

    const served = await fetch(`${api.url}${url}`);
    assert.equal(served.status, 200);
    assert.match(served.headers.get('cache-control') ?? '', /public, max-age=\d+/);
    const meta = await sharp(Buffer.from(await served.arrayBuffer())).metadata();
    assert.deepEqual([meta.format, meta.width], ['png', 100]);
    const authenticated = await rendition('resize:100x/format:png');
    assert.equal(served.headers.get('etag'), authenticated.headers.get('etag'), 'the same rendition');
    await authenticated.arrayBuffer();

    const refused = async (path: string, code: string) => {
      const response = await fetch(`${api.url}${path}`);
      const problem = await problemOf(response);
      assert.equal(response.status, 403, `${path}: ${JSON.stringify(problem)}`);
      assert.equal(problem['code'], code, path);
    };
    const parsed = new URL(url, api.url);
    // Unsigned: the same path without its query, or with either half of it.
    await refused(parsed.pathname, 'RENDITION_SIGNATURE_MISSING');
    await refused(`${parsed.pathname}?expires=${parsed.searchParams.get('expires')}`, 'RENDITION_SIGNATURE_MISSING');
    // Tampered: every byte of the path after /v1/renditions/, of the expiry, and of the signature, in turn.
    const swap = (text: string, index: number) =>
      text.slice(0, index) + (text[index] === 'a' ? 'b' : 'a') + text.slice(index + 1);
    const prefix = '/v1/renditions/';
    const rest = parsed.pathname.slice(prefix.length);
    for (let index = 0; index < rest.length; index++) {
      // Separators and percent-escapes stay well formed (a broken escape is a 400 before any signature is read).
      if (rest[index] === '/' || rest.slice(Math.max(0, index - 2), index + 1).includes('%')) continue;
      await refused(`${prefix}${swap(rest, index)}${parsed.search}`, 'RENDITION_SIGNATURE_INVALID');
    }
    const expires = parsed.searchParams.get('expires')!;
    const signature = parsed.searchParams.get('signature')!;
    for (let index = 0; index < expires.length; index++) {
      const changed = expires.slice(0, index) + ((Number(expires[index]) + 1) % 10) + expires.slice(index + 1);
      await refused(`${parsed.pathname}?expires=${changed}&signature=${signature}`, 'RENDITION_SIGNATURE_INVALID');
    }
    for (let index = 0; index < signature.length; index++) {
      await refused(
        `${parsed.pathname}?expires=${expires}&signature=${swap(signature, index)}`,
        'RENDITION_SIGNATURE_INVALID',
      );
    }
    // Expired: correctly signed with the server's key, but for a time already past.
    const past = new RenditionSigner(SIGNING_KEY).sign(
      { tenantId: tenant, imageId, recipe: 'resize:100x/format:png' },
      Math.floor(Date.now() / 1000) - 1,
    );
    await refused(past, 'RENDITION_SIGNATURE_EXPIRED');
    // Signed by someone else's key.
    const forged = new RenditionSigner(`${SIGNING_KEY}-not-ours`).sign(
      { tenantId: tenant, imageId, recipe: 'resize:100x/format:png' },
      Math.floor(Date.now() / 1000) + 600,
    );
    await refused(forged, 'RENDITION_SIGNATURE_INVALID');
    // Minting needs a caller who can read the image.
    const stranger = await fetch(`${api.url}/v1/images/${imageId}/rendition-urls`, {
      method: 'POST',
      headers: { ...bearer(tokenFor(other, 'viewer')), 'content-type': 'application/json' },
      body: JSON.stringify({ recipe: 'flip' }),
    });
    assert.equal(stranger.status, 404);
    await stranger.arrayBuffer();
  });

  test('cache hit latency through the route (printed, not asserted)', async (t) => {
    const recipe = 'resize:320x240:cover/format:webp';
    const warm = await rendition(recipe);
    await warm.arrayBuffer();
    const timings: number[] = [];
    for (let i = 0; i < 100; i++) {
      const started = performance.now();
      const response = await rendition(recipe);
      await response.arrayBuffer();
      timings.push(performance.now() - started);
      assert.equal(response.headers.get('rendition-cache'), 'hit');
    }
    timings.sort((a, b) => a - b);
    t.diagnostic(
      `rendition cache hit over HTTP: p50 ${timings[49]!.toFixed(2)} ms, p95 ${timings[94]!.toFixed(2)} ms (100 requests)`,
    );
  });
});
