/**
 * Similar images through the running pipeline (preprocess and results as real processes, the real API, Kafka,
 * S3 and PostgreSQL): a photo, a resized and recompressed copy of it and an unrelated photo are uploaded; once
 * preprocess has hashed them, GET /v1/images/{id}/similar finds the copy (and verify=true matches its keypoints)
 * but not the unrelated photo, and `imgpipe duplicates` groups the photo with its copy only. An image without a
 * hash is 409 IMAGE_HASH_UNAVAILABLE; another tenant's image 404.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { waitFor } from '../support/kafka.ts';
import { type PipelineService, startServices, stopServices } from '../support/pipeline-services.ts';
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

const IMGPIPE = fileURLToPath(new URL('../../apps/cli/bin/imgpipe.js', import.meta.url));

interface Similar {
  imageId: string;
  perceptualHash: string;
  maxDistance: number;
  similar: { imageId: string; distance: number; match?: { matches: number; inliers: number; matched: boolean } }[];
}

function duplicates(tenant: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [IMGPIPE, 'duplicates', '--tenant', tenant, '--json'], (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('similar images through the running pipeline', () => {
  let services: Map<string, PipelineService>;
  let api: TestApi;
  const tenant = testTenant('similar');
  const token = tokenFor(tenant, 'uploader');
  const ids: Record<'photo' | 'copy' | 'unrelated', string> = { photo: '', copy: '', unrelated: '' };

  const similar = (id: string, query = '', as = token) =>
    fetch(`${api.url}/v1/images/${id}/similar${query}`, { headers: bearer(as) });

  before(async () => {
    services = await startServices(['preprocess', 'results']);
    api = await startTestApi();
    const photo = readFileSync(sharedPath('images', 'coco', '000000000139.jpg'));
    // The copy: half the size, re-encoded at JPEG quality 50 (other bytes, other SHA-256: not deduplicated).
    const meta = await sharp(photo).metadata();
    const copy = await sharp(photo)
      .resize({ width: Math.round(meta.width / 2) })
      .jpeg({ quality: 50 })
      .toBuffer();
    const unrelated = readFileSync(sharedPath('images', 'coco', '000000000285.jpg'));
    for (const [name, bytes] of [
      ['photo', photo],
      ['copy', copy],
      ['unrelated', unrelated],
    ] as const) {
      // Trailing bytes after the JPEG's end make the upload unique to this run (the pixels are the same).
      const response = await uploadRaw(api.url, token, Buffer.concat([bytes, Buffer.from(randomUUID())]), {
        query: `analyses=detect&sourceName=${name}.jpg`,
      });
      assert.equal(response.status, 202, await response.clone().text());
      ids[name] = ((await response.json()) as { imageId: string }).imageId;
    }
    // Preprocess hashes each image; the results service writes the hash's segments with its info.
    await waitFor(
      'preprocess to hash the three images',
      async () => {
        for (const id of Object.values(ids)) if ((await similar(id)).status !== 200) return undefined;
        return true;
      },
      60_000,
      250,
    );
  });

  after(async () => {
    if (services) await stopServices(services);
    if (api) {
      await deleteTenantImages(api.api, [tenant]);
      await api.close();
    }
  });

  test('finds the resized, recompressed copy and not the unrelated photo; verify=true matches its keypoints', async () => {
    const response = await similar(ids.photo, '?maxDistance=10');
    const body = (await response.json()) as Similar;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.imageId, ids.photo);
    assert.match(body.perceptualHash, /^[0-9a-f]{16}$/);
    assert.deepEqual(
      body.similar.map((item) => item.imageId),
      [ids.copy],
      `the copy only: ${JSON.stringify(body.similar)}`,
    );
    const [copy] = body.similar;
    // The distance is the one between the two hashes the API reports.
    const copyHash = ((await (await similar(ids.copy, '?maxDistance=0')).json()) as Similar).perceptualHash;
    const xor = BigInt(`0x${body.perceptualHash}`) ^ BigInt(`0x${copyHash}`);
    assert.equal(copy!.distance, xor.toString(2).replaceAll('0', '').length);
    assert.ok(copy!.distance <= 7, `a resized copy is within the default distance (got ${copy!.distance})`);

    const verified = (await (await similar(ids.photo, '?verify=true')).json()) as Similar;
    assert.equal(verified.similar.length, 1);
    assert.equal(verified.similar[0]!.imageId, ids.copy);
    assert.equal(verified.similar[0]!.match?.matched, true, JSON.stringify(verified.similar[0]));

    // The unrelated photo has no near-duplicate in the tenant.
    const alone = (await (await similar(ids.unrelated, '?maxDistance=10')).json()) as Similar;
    assert.deepEqual(alone.similar, []);
  });

  test('imgpipe duplicates groups the photo with its copy, and nothing else', async () => {
    const run = await duplicates(tenant);
    assert.equal(run.code, 0, run.stderr);
    const body = JSON.parse(run.stdout) as { images: number; groups: { imageId: string }[][] };
    assert.equal(body.images, 3);
    assert.deepEqual(
      body.groups.map((group) => group.map((image) => image.imageId).sort()),
      [[ids.photo, ids.copy].sort()],
    );
  });

  test('no hash yet is 409, another tenant’s or an unknown image 404, a bad maxDistance 400', async () => {
    const pending = randomUUID();
    await api.api.deps.db.insertInto('images').values({ id: pending, tenant_id: tenant }).execute();
    const early = await similar(pending);
    assert.equal(early.status, 409);
    assert.equal((await problemOf(early))['code'], 'IMAGE_HASH_UNAVAILABLE');
    const other = await similar(ids.photo, '', tokenFor(testTenant('similar-other'), 'viewer'));
    assert.equal(other.status, 404);
    assert.equal((await problemOf(other))['code'], 'RESOURCE_NOT_FOUND');
    assert.equal((await similar(randomUUID())).status, 404);
    const bad = await similar(ids.photo, '?maxDistance=99');
    assert.equal(bad.status, 400);
    assert.equal((await problemOf(bad))['code'], 'REQUEST_INVALID');
  });
});
