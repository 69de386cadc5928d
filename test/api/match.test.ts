/**
 * POST /v1/match against the real API, Redis, S3 and PostgreSQL: a photo matched against a copy of itself rotated
 * 30°, scaled 0.6 and recompressed at JPEG quality 40 (made here with sharp) recovers the transformation — A's
 * corners projected by the answered homography land within 3 px of where the transformation puts them, computed
 * here from the rotation and scale (the map packages/vision/src/features/invariance.test.ts checks with markers).
 * The same two images stored by upload and matched by id answer the same; the picture is a JPEG of both side by
 * side; bad input answers its codes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { pixelBombPng } from '../../packages/imaging/src/testing/images.ts';
import { sharedPath } from '../support/shared.ts';
import {
  bearer,
  deleteTenantImages,
  problemOf,
  startTestApi,
  type TestApi,
  testTenant,
  tokenFor,
  uploadRaw,
} from './support.ts';

const PHOTO = readFileSync(sharedPath('images', 'coco', '000000001532.jpg'));
const ANGLE = 30;
const SCALE = 0.6;

interface Point {
  x: number;
  y: number;
}

/** The photo rotated clockwise by ANGLE onto the expanded canvas, scaled by SCALE, saved at JPEG quality 40. */
async function transformed(): Promise<{ bytes: Buffer; map: (p: Point) => Point }> {
  const source = await sharp(PHOTO).metadata();
  const rotated = await sharp(PHOTO).rotate(ANGLE, { background: '#000' }).png().toBuffer({ resolveWithObject: true });
  const width = Math.round(rotated.info.width * SCALE);
  const height = Math.round(rotated.info.height * SCALE);
  const bytes = await sharp(rotated.data).resize({ width, height, fit: 'fill' }).jpeg({ quality: 40 }).toBuffer();
  const theta = (ANGLE * Math.PI) / 180;
  const sx = width / rotated.info.width;
  const sy = height / rotated.info.height;
  const map = (p: Point): Point => {
    // Pixel centres: rotate about the source's centre, re-centre on the rotated canvas, scale.
    const x = p.x + 0.5 - source.width / 2;
    const y = p.y + 0.5 - source.height / 2;
    const rx = Math.cos(theta) * x - Math.sin(theta) * y + rotated.info.width / 2;
    const ry = Math.sin(theta) * x + Math.cos(theta) * y + rotated.info.height / 2;
    return { x: rx * sx - 0.5, y: ry * sy - 0.5 };
  };
  return { bytes, map };
}

function project(h: readonly number[], p: Point): Point {
  const w = h[6]! * p.x + h[7]! * p.y + h[8]!;
  return { x: (h[0]! * p.x + h[1]! * p.y + h[2]!) / w, y: (h[3]! * p.x + h[4]! * p.y + h[5]!) / w };
}

interface MatchBody {
  detector: string;
  a: { id?: string; width: number; height: number; count: number; cache: string };
  b: { id?: string; width: number; height: number; count: number; cache: string };
  matches: number;
  inliers: number;
  matched: boolean;
  homography: number[] | null;
  corners: Point[] | null;
  correspondences: { a: Point; b: Point; distance: number }[];
}

describe('POST /v1/match', () => {
  let api: TestApi;
  let copy: Awaited<ReturnType<typeof transformed>>;
  const tenant = testTenant('match');
  const token = tokenFor(tenant, 'uploader');

  const form = (files: Record<string, Buffer>, fields: Record<string, string> = {}) => {
    const body = new FormData();
    for (const [name, bytes] of Object.entries(files)) body.set(name, new Blob([bytes], { type: 'image/jpeg' }), name);
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    return body;
  };
  const post = (query: string, body: FormData | string, headers: Record<string, string> = {}) =>
    fetch(`${api.url}/v1/match${query}`, { method: 'POST', headers: { ...bearer(token), ...headers }, body });

  before(async () => {
    api = await startTestApi();
    copy = await transformed();
  });
  after(async () => {
    await deleteTenantImages(api.api, [tenant]);
    await api?.close();
  });

  function assertRecovers(body: MatchBody) {
    assert.ok(body.matched && body.homography, `${body.inliers} inliers of ${body.matches} matches`);
    const { width, height } = body.a;
    const corners = [
      { x: 0, y: 0 },
      { x: width - 1, y: 0 },
      { x: width - 1, y: height - 1 },
      { x: 0, y: height - 1 },
    ];
    corners.forEach((corner, i) => {
      const want = copy.map(corner);
      const got = project(body.homography!, corner);
      const error = Math.hypot(got.x - want.x, got.y - want.y);
      assert.ok(error <= 3, `corner (${corner.x}, ${corner.y}) lands ${error.toFixed(2)} px from the truth`);
      // The answered corners are the same projection.
      assert.ok(Math.hypot(body.corners![i]!.x - got.x, body.corners![i]!.y - got.y) < 0.01);
    });
    // Every listed correspondence is an inlier: the homography takes its A point within 3 px of its B point.
    assert.ok(body.correspondences.length > 0 && body.correspondences.length <= Math.min(200, body.inliers));
    for (const c of body.correspondences) {
      const p = project(body.homography!, c.a);
      assert.ok(Math.hypot(p.x - c.b.x, p.y - c.b.y) <= 3.01, JSON.stringify(c));
    }
  }

  for (const detector of ['sift', 'orb']) {
    test(`${detector}: two uploads, rotated 30°, scaled 0.6, JPEG quality 40: the homography recovers the transformation`, async () => {
      const fields: Record<string, string> = { detector, ratio: '0.8' };
      if (detector === 'orb') fields['nfeatures'] = '2000';
      const response = await post('', form({ a: PHOTO, b: copy.bytes }, fields));
      const text = await response.text();
      assert.equal(response.status, 200, text);
      const body = JSON.parse(text) as MatchBody;
      assert.equal(body.detector, detector);
      assert.deepEqual([body.a.width, body.a.height], [640, 480]);
      const meta = await sharp(copy.bytes).metadata();
      assert.deepEqual([body.b.width, body.b.height], [meta.width, meta.height]);
      assertRecovers(body);
    });
  }

  test('the same images stored by upload and matched by id answer the same; the picture is both side by side', async () => {
    const ids: string[] = [];
    for (const bytes of [PHOTO, copy.bytes]) {
      const response = await uploadRaw(api.url, token, bytes);
      assert.equal(response.status, 202, await response.clone().text());
      ids.push(((await response.json()) as { imageId: string }).imageId);
    }
    const byId = await post('?ratio=0.8', JSON.stringify({ a: ids[0], b: ids[1], detector: 'sift' }), {
      'content-type': 'application/json',
    });
    const text = await byId.text();
    assert.equal(byId.status, 200, text);
    const stored = JSON.parse(text) as MatchBody;
    assert.deepEqual([stored.a.id, stored.b.id], ids);
    assertRecovers(stored);
    // The uploads' keypoints came from the features cache the multipart test filled.
    assert.deepEqual([stored.a.cache, stored.b.cache], ['hit', 'hit']);

    const picture = await post('?picture=true', form({ a: PHOTO, b: copy.bytes }, { ratio: '0.8' }));
    assert.equal(picture.status, 200, picture.status === 200 ? '' : await picture.text());
    assert.equal(picture.headers.get('content-type'), 'image/jpeg');
    assert.equal(picture.headers.get('x-match-inliers'), String(stored.inliers));
    assert.equal(picture.headers.get('x-match-matches'), String(stored.matches));
    const meta = await sharp(Buffer.from(await picture.arrayBuffer())).metadata();
    const bMeta = await sharp(copy.bytes).metadata();
    const height = Math.max(480, bMeta.height);
    const expectedWidth = Math.round(640 * (height / 480)) + 8 + Math.round(bMeta.width * (height / bMeta.height));
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', expectedWidth, height]);

    // Another tenant's ids are unknown here.
    const other = await fetch(`${api.url}/v1/match`, {
      method: 'POST',
      headers: { ...bearer(tokenFor(testTenant('match-other'), 'uploader')), 'content-type': 'application/json' },
      body: JSON.stringify({ a: ids[0], b: ids[1] }),
    });
    assert.equal(other.status, 404);
    assert.equal((await problemOf(other))['code'], 'RESOURCE_NOT_FOUND');
  });

  test('bad input answers its codes', async () => {
    const cases: [string, () => Promise<Response>, number, string][] = [
      ['no body', () => post('', '', { 'content-type': 'application/json' }), 400, 'MATCH_IMAGES_MISSING'],
      ['no image in the form', () => post('', form({}, { detector: 'sift' })), 400, 'MATCH_IMAGES_MISSING'],
      ['one image', () => post('', form({ a: PHOTO })), 400, 'MATCH_IMAGES_MISSING'],
      [
        'one id',
        () =>
          post('', JSON.stringify({ a: '00000000-0000-4000-8000-000000000000' }), {
            'content-type': 'application/json',
          }),
        400,
        'MATCH_IMAGES_MISSING',
      ],
      ['unknown detector', () => post('?detector=surf', form({ a: PHOTO, b: copy.bytes })), 400, 'REQUEST_INVALID'],
      [
        'unknown detector (field)',
        () => post('', form({ a: PHOTO, b: copy.bytes }, { detector: 'surf' })),
        400,
        'REQUEST_INVALID',
      ],
      ['ratio 0', () => post('?ratio=0', form({ a: PHOTO, b: copy.bytes })), 400, 'REQUEST_INVALID'],
      ['a third file', () => post('', form({ a: PHOTO, b: PHOTO, c: PHOTO })), 400, 'REQUEST_INVALID'],
      [
        'not an image',
        () => post('', form({ a: PHOTO, b: Buffer.from('plain text, not an image') })),
        415,
        'IMAGE_UNSUPPORTED_FORMAT',
      ],
      [
        'a raw image body',
        () => post('', PHOTO.toString('latin1'), { 'content-type': 'image/jpeg' }),
        415,
        'REQUEST_UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'unknown id',
        () =>
          post(
            '',
            JSON.stringify({ a: '00000000-0000-4000-8000-000000000000', b: '00000000-0000-4000-8000-000000000001' }),
            {
              'content-type': 'application/json',
            },
          ),
        404,
        'RESOURCE_NOT_FOUND',
      ],
      [
        'an id with a NUL',
        () => post('', JSON.stringify({ a: 'x\u0000', b: 'y' }), { 'content-type': 'application/json' }),
        400,
        'REQUEST_INVALID',
      ],
    ];
    const bomb = pixelBombPng(30_000, 30_000);
    cases.push(['pixel bomb', () => post('', form({ a: PHOTO, b: bomb })), 422, 'IMAGE_TOO_MANY_PIXELS']);
    for (const [label, send, status, code] of cases) {
      const response = await send();
      const problem = await problemOf(response);
      assert.equal(response.status, status, `${label}: ${JSON.stringify(problem)}`);
      assert.equal(problem['code'], code, label);
    }
    const viewer = await fetch(`${api.url}/v1/match`, {
      method: 'POST',
      headers: bearer(tokenFor(tenant, 'viewer')),
      body: form({ a: PHOTO, b: copy.bytes }),
    });
    assert.equal(viewer.status, 403);
  });
});
