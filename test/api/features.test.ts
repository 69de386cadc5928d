/**
 * POST /v1/features/detect against the real API and Redis: the keypoints and descriptors equal what the features
 * module computes in this process for the same bytes and options (a different code path from the route's: no
 * cache, no worker pool, no HTTP); a repeat is a cache hit with the same body and its key in Redis with a TTL;
 * other options miss; option mistakes are 400 REQUEST_INVALID, a non-image 415, and the route is in the OpenAPI
 * document with its options.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  decodeFeatureImage,
  detectKeypoints,
  featureParamsKey,
  float32Keypoints,
  normalizeFeatureOptions,
} from '@imgpipe/vision/features';
import { Redis } from 'ioredis';
import { pixelBombPng } from '../../packages/imaging/src/testing/images.ts';
import { sharedPath } from '../support/shared.ts';
import { apiConfig, bearer, problemOf, startTestApi, type TestApi, testTenant, tokenFor } from './support.ts';

const EAGLE = readFileSync(sharedPath('images', 'photos', 'eagle.jpg'));

describe('POST /v1/features/detect', () => {
  let api: TestApi;
  let redis: Redis;
  const token = tokenFor(testTenant('features'), 'uploader');
  // Bytes no earlier run has cached: the photo with a JPEG comment holding a fresh nonce (same pixels).
  const nonce = `${process.pid}-${Date.now()}`;
  const photo = Buffer.concat([
    EAGLE.subarray(0, 2),
    Buffer.from([0xff, 0xfe, 0x00, 2 + nonce.length]),
    Buffer.from(nonce, 'latin1'),
    EAGLE.subarray(2),
  ]);
  const sha256 = createHash('sha256').update(photo).digest('hex');

  const detect = (query: string, body: Buffer, headers: Record<string, string> = {}) =>
    fetch(`${api.url}/v1/features/detect${query}`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/octet-stream', ...headers },
      body,
    });

  before(async () => {
    api = await startTestApi();
    redis = new Redis(apiConfig.redisUrl);
  });
  after(async () => {
    await redis?.quit();
    await api?.close();
  });

  test('ORB keypoints and descriptors equal the in-process module; a repeat is a cache hit', async () => {
    const first = await detect('?detector=orb&nfeatures=300', photo);
    const text = await first.text();
    assert.equal(first.status, 200, text);
    assert.equal(first.headers.get('x-cache'), 'miss');
    const body = JSON.parse(text);

    const options = normalizeFeatureOptions({ detector: 'orb', params: { nfeatures: 300 } });
    const expected = await detectKeypoints(await decodeFeatureImage(EAGLE, { maxSide: 1280 }), options);
    assert.equal(body.sha256, sha256);
    assert.equal(body.detector, 'orb');
    assert.deepEqual(body.params, expected.params);
    assert.equal(body.count, expected.keypoints.length);
    assert.ok(body.count > 250, `${body.count} keypoints`);
    assert.equal(body.cached, false);
    // The answer holds each float at float32 precision, as OpenCV's KeyPoint does (and the stored features).
    assert.deepEqual(float32Keypoints(body.keypoints), float32Keypoints(expected.keypoints));
    assert.deepEqual([body.width, body.height], [expected.width, expected.height]);
    assert.deepEqual(new Uint8Array(Buffer.from(body.descriptors, 'base64')), expected.descriptors);

    const second = await detect('?nfeatures=300&detector=orb', photo);
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('x-cache'), 'hit');
    const hitText = await second.text();
    assert.deepEqual(JSON.parse(hitText), { ...body, cached: true });
    const key = `imgpipe:features:v2:${sha256}:${featureParamsKey(options)}:maxSide=1280`;
    assert.equal(await redis.get(key), hitText);
    const ttl = await redis.ttl(key);
    assert.ok(ttl > 0 && ttl <= apiConfig.featuresCacheTtlSeconds, `ttl ${ttl}`);

    const other = await detect('?detector=orb&nfeatures=100', photo);
    assert.equal(other.status, 200);
    assert.equal(other.headers.get('x-cache'), 'miss');
    assert.equal(((await other.json()) as { count: number }).count, 100);
  });

  test('SIFT from a multipart upload at a smaller size: the module’s keypoints, descriptors as bytes 0-255', async () => {
    const form = new FormData();
    form.set('file', new Blob([photo], { type: 'image/jpeg' }), 'eagle.jpg');
    form.set('detector', 'sift');
    form.set('nfeatures', '200');
    form.set('contrastThreshold', '0.05');
    form.set('maxSide', '480');
    const response = await fetch(`${api.url}/v1/features/detect`, {
      method: 'POST',
      headers: bearer(token),
      body: form,
    });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    assert.equal(response.headers.get('x-cache'), 'miss');
    const body = JSON.parse(text);
    const expected = await detectKeypoints(await decodeFeatureImage(EAGLE, { maxSide: 480 }), {
      detector: 'sift',
      params: { nfeatures: 200, contrastThreshold: 0.05 },
    });
    assert.equal(body.detector, 'sift');
    assert.equal(body.params.contrastThreshold, 0.05);
    assert.deepEqual(float32Keypoints(body.keypoints), float32Keypoints(expected.keypoints));
    assert.deepEqual([...Buffer.from(body.descriptors, 'base64')], [...expected.descriptors]);
    assert.equal(body.descriptorSize, 128);
    // The same options in the query string: the same entry.
    const again = await detect('?maxSide=480&contrastThreshold=0.05&nfeatures=200&detector=sift', photo);
    assert.equal(again.headers.get('x-cache'), 'hit');
    const hitText = await again.text();
    assert.deepEqual(JSON.parse(hitText), { ...body, cached: true });
    // Options in both places: a field wins over the same option in the query string (as for uploads).
    const mixed = await fetch(`${api.url}/v1/features/detect?maxSide=640&detector=sift&nfeatures=200`, {
      method: 'POST',
      headers: bearer(token),
      body: form,
    });
    assert.equal(mixed.headers.get('x-cache'), 'hit', 'the same entry as maxSide=480 from the field');
    assert.equal(await mixed.text(), hitText);
  });

  test('option mistakes are 400 REQUEST_INVALID; a non-image is 415; no image and a pixel bomb 422', async () => {
    for (const query of [
      '?detector=surf',
      '?nfeatures=-1',
      '?sigma=0',
      '?detector=sift&scaleFactor=1.5',
      '?detector=orb&nfeatures=0',
      '?maxSide=10',
      '?unknown=1',
    ]) {
      const response = await detect(query, photo);
      const problem = await problemOf(response);
      assert.equal(response.status, 400, `${query}: ${JSON.stringify(problem)}`);
      assert.equal(problem['code'], 'REQUEST_INVALID', query);
    }
    const text = await detect('', Buffer.from('this is not an image, only text'), { 'content-type': 'text/plain' });
    const problem = await problemOf(text);
    assert.equal(text.status, 415, JSON.stringify(problem));
    assert.equal(problem['code'], 'IMAGE_UNSUPPORTED_FORMAT');
    const empty = await detect('', Buffer.alloc(0));
    assert.equal(empty.status, 422);
    assert.equal((await problemOf(empty))['code'], 'IMAGE_EMPTY');
    // A PNG whose header declares 30,000 x 30,000 pixels over a few bytes: refused before it is decoded.
    const bomb = await detect('', pixelBombPng(30_000, 30_000), { 'content-type': 'image/png' });
    assert.equal(bomb.status, 422);
    assert.equal((await problemOf(bomb))['code'], 'IMAGE_TOO_MANY_PIXELS');
    const viewer = await fetch(`${api.url}/v1/features/detect`, {
      method: 'POST',
      headers: { ...bearer(tokenFor(testTenant('features'), 'viewer')), 'content-type': 'image/jpeg' },
      body: photo,
    });
    assert.equal(viewer.status, 403);
  });

  test('the OpenAPI document lists the route with its options and cache header', async () => {
    const document = (await (await fetch(`${api.url}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<
          string,
          { parameters?: { name: string }[]; responses: Record<string, { headers?: Record<string, unknown> }> }
        >
      >;
    };
    const operation = document.paths['/v1/features/detect']?.['post'];
    assert.ok(operation, 'POST /v1/features/detect is documented');
    const names = (operation.parameters ?? []).map((parameter) => parameter.name).sort();
    for (const name of ['detector', 'nfeatures', 'contrastThreshold', 'scaleFactor', 'maxSide']) {
      assert.ok(names.includes(name), `${name} in ${names}`);
    }
    assert.ok(operation.responses['200']?.headers?.['x-cache']);
    assert.deepEqual(Object.keys(operation.responses).sort(), [
      '200',
      '400',
      '401',
      '403',
      '413',
      '415',
      '422',
      '429',
      '503',
    ]);
  });
});
