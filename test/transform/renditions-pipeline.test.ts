/**
 * Rendition presets and a batch's ad-hoc recipe through the real pipeline: uploads asking for `renditions=thumb,web`
 * (query string and multipart) and a batch with `ops` are preprocessed, rendered by the transform stage, joined by the aggregate and stored by the results service, against
 * the real Kafka, registry, S3, PostgreSQL and Redis. The presets are the test's own, so every expected size is
 * computed here from the preset's numbers and the photo's size, not read back from the code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ImageView } from '@imgpipe/contracts';
import { parsePresets } from '@imgpipe/imaging';
import { ResultsCache } from '@imgpipe/results';
import sharp from 'sharp';
import { type PipelineService, startServices, stopServices } from '../support/pipeline-services.ts';
import { waitFor } from '../support/kafka.ts';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedPath } from '../support/shared.ts';
import { runCli } from '../stack/support.ts';
import {
  bearer,
  DOG_JPEG,
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
} from '../api/support.ts';

const PRESETS = 'thumb=resize:160x160:cover/format:webp:80;web=resize:400x400/format:jpeg:85';
const EAGLE_JPEG = readFileSync(sharedPath('images', 'photos', 'eagle.jpg'));

/** What each preset makes of a w x h photo (docs/transform.md: cover fills the box, inside fits in it, no enlarging). */
function expected(w: number, h: number) {
  const inside = (W: number, H: number): [number, number] =>
    Math.min(W / w, H / h) >= 1
      ? [w, h]
      : W / w <= H / h
        ? [W, Math.max(1, Math.round((h * W) / w))]
        : [Math.max(1, Math.round((w * H) / h)), H];
  const [webWidth, webHeight] = inside(400, 400);
  return [
    {
      name: 'thumb',
      recipe: 'resize:160x160:cover/format:webp:80',
      format: 'webp',
      width: Math.min(160, w),
      height: Math.min(160, h),
    },
    { name: 'web', recipe: 'resize:400x400/format:jpeg:85', format: 'jpeg', width: webWidth, height: webHeight },
  ];
}

describe('rendition presets in the pipeline', () => {
  let services: Map<string, PipelineService>;
  let api: TestApi;
  const tenant = testTenant('renditions');
  const refusedTenant = testTenant('renditions-refused');

  before(async () => {
    // Only what these uploads need: they ask for detect alone, so faces and ocr have nothing to add.
    services = await startServices(['preprocess', 'detect', 'aggregate', 'transform', 'results'], {
      IMGPIPE_RENDITION_PRESETS: PRESETS,
    });
    api = await startTestApi({ renditionPresets: parsePresets(PRESETS) });
  });

  after(async () => {
    if (api) {
      await deleteTenantImages(api.api, [tenant, refusedTenant]).catch(() => undefined);
      await api.api.deps.db
        .withTables<{ batches: { tenant_id: string } }>()
        .deleteFrom('batches')
        .where('tenant_id', 'in', [tenant, refusedTenant])
        .execute()
        .catch(() => undefined);
    }
    await api?.close();
    if (services) await stopServices(services);
  });

  test('uploads asking for thumb,web complete with both renditions in S3, PostgreSQL, Redis and the result', async () => {
    const token = tokenFor(tenant);
    const photos = [
      { bytes: uniqueJpeg(DOG_JPEG), form: 'query' as const },
      { bytes: uniqueJpeg(EAGLE_JPEG), form: 'multipart' as const },
      { bytes: uniqueJpeg(DOG_JPEG), form: 'producer' as const },
      { bytes: uniqueJpeg(EAGLE_JPEG), form: 'none' as const },
    ];
    const ids: string[] = [];
    for (const photo of photos) {
      if (photo.form === 'producer') {
        // A direct producer: ImageUploaded.renditions set by imgpipe produce, no API involved.
        const file = join(await mkdtemp(join(tmpdir(), 'imgpipe-renditions-')), 'dog.jpg');
        await writeFile(file, photo.bytes);
        const args = [
          'produce',
          file,
          '--tenant',
          tenant,
          '--analyses',
          'detect',
          '--renditions',
          'thumb,web',
          '--json',
        ];
        const produced = await runCli(args);
        assert.equal(produced.code, 0, produced.stderr);
        ids.push((JSON.parse(produced.stdout) as { imageId: string }).imageId);
        continue;
      }
      let response: Response;
      if (photo.form === 'multipart') {
        const form = new FormData();
        form.append('file', new Blob([photo.bytes], { type: 'image/jpeg' }), 'eagle.jpg');
        form.append('analyses', 'detect');
        form.append('renditions', 'thumb, web');
        response = await fetch(`${api.url}/v1/images`, { method: 'POST', headers: bearer(token), body: form });
      } else {
        const query = photo.form === 'query' ? 'analyses=detect&renditions=thumb,web' : 'analyses=detect';
        response = await fetch(`${api.url}/v1/images?${query}`, {
          method: 'POST',
          headers: { ...bearer(token), 'content-type': 'image/jpeg' },
          body: photo.bytes,
        });
      }
      assert.equal(response.status, 202, await response.clone().text());
      ids.push(((await response.json()) as { imageId: string }).imageId);
    }

    const viewer = bearer(tokenFor(tenant, 'viewer'));
    const views = await waitFor(
      'the four images to finish',
      async () => {
        const read = await Promise.all(
          ids.map(
            async (id) => (await (await fetch(`${api.url}/v1/images/${id}`, { headers: viewer })).json()) as ImageView,
          ),
        );
        return read.every((view) => view.status !== 'pending') ? read : undefined;
      },
      90_000,
      250,
    );

    for (const [index, view] of views.slice(0, 3).entries()) {
      assert.equal(view.status, 'completed', JSON.stringify(view.stages));
      assert.deepEqual(view.requestedRenditions, ['thumb', 'web']);
      assert.equal(view.transform?.status, 'completed');
      const meta = await sharp(photos[index]!.bytes).metadata();
      const wanted = expected(meta.width!, meta.height!);
      assert.deepEqual(
        view.renditions.map(({ name, recipe, format, width, height }) => ({ name, recipe, format, width, height })),
        wanted,
      );
      for (const rendition of view.renditions) {
        // Stored in S3 under the rendition cache's key (the original's SHA-256), decodable, of the listed size.
        assert.ok(
          rendition.key.startsWith(
            `tenants/${tenant}/renditions/${view.image!.sha256.slice(0, 2)}/${view.image!.sha256}/`,
          ),
        );
        const stored = await s3Object(rendition.key);
        assert.equal(stored.length, rendition.bytes);
        const decoded = await sharp(stored).metadata();
        assert.deepEqual(
          [decoded.format, decoded.width, decoded.height],
          [rendition.format, rendition.width, rendition.height],
        );
        // GET renditions serves the stage's object as a cache hit: the same bytes, nothing rendered again.
        const served = await fetch(`${api.url}/v1/images/${view.imageId}/renditions/${rendition.recipe}`, {
          headers: viewer,
        });
        assert.equal(served.status, 200);
        assert.equal(served.headers.get('rendition-cache'), 'hit');
        assert.ok(Buffer.from(await served.arrayBuffer()).equals(stored));
      }
      console.log(`transform ${view.sourceName ?? view.imageId}: ${view.transform?.durationMs} ms for two presets`);
    }

    // The image that asked for none: no renditions, no transform report, nothing rendered for it.
    const plain = views[3]!;
    assert.equal(plain.status, 'completed');
    assert.deepEqual([plain.requestedRenditions, plain.renditions, plain.transform], [[], [], undefined]);
    const rendered = await tenantObjects(
      tenant,
      `renditions/${plain.image!.sha256.slice(0, 2)}/${plain.image!.sha256}/`,
    );
    assert.deepEqual(rendered, []);

    // PostgreSQL holds one row per rendition in the order asked; the Redis view and imgpipe results list them too.
    const rows = await api.api.deps.db
      .selectFrom('renditions')
      .select(['image_id', 'ordinal', 'name', 'key', 'width', 'height'])
      .where('image_id', 'in', ids)
      .orderBy('image_id')
      .orderBy('ordinal')
      .execute();
    const rowsOf = (id: string) =>
      rows.filter((row) => row.image_id === id).map(({ name, key, width, height }) => ({ name, key, width, height }));
    for (const view of views) {
      assert.deepEqual(
        rowsOf(view.imageId),
        view.renditions.map(({ name, key, width, height }) => ({ name, key, width, height })),
      );
    }
    const cached = await new ResultsCache(api.api.deps.redis).getLatest(tenant, ids[0]!);
    assert.deepEqual(cached?.renditions, views[0]!.renditions);
    const cli = await runCli(['results', ids[1]!, '--tenant', tenant, '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual((JSON.parse(cli.stdout) as ImageView).renditions, views[1]!.renditions);
  });

  test('a batch with a recipe (and a preset) finishes and GET /v1/batches/{id} lists every output', async () => {
    const form = new FormData();
    const bytes = [uniqueJpeg(DOG_JPEG), uniqueJpeg(EAGLE_JPEG)];
    for (const [index, image] of bytes.entries()) {
      form.append('files', new Blob([image], { type: 'image/jpeg' }), `batch-${index}.jpg`);
    }
    form.append('analyses', 'detect');
    form.append('renditions', 'web');
    // Written loosely: the batch keeps and the stage renders its canonical form.
    form.append('ops', 'RESIZE:200x200:inside/Format:PNG');
    const response = await fetch(`${api.url}/v1/batches`, {
      method: 'POST',
      headers: bearer(tokenFor(tenant)),
      body: form,
    });
    assert.equal(response.status, 202, await response.clone().text());
    const accepted = (await response.json()) as {
      batchId: string;
      links: { self: string };
      images: { imageId: string }[];
    };
    assert.equal(accepted.images.length, 2);
    assert.equal(response.headers.get('location'), `/v1/batches/${accepted.batchId}`);
    assert.equal(accepted.links.self, `/v1/batches/${accepted.batchId}`);
    const viewer = bearer(tokenFor(tenant, 'viewer'));
    type Batch = {
      batchId: string;
      status: string;
      recipe?: string;
      renditions: string[];
      counts: Record<string, number>;
      images: { position: number; imageId: string; status: string; renditions: ImageView['renditions'] }[];
    };
    const batch = await waitFor(
      'the batch to finish',
      async () => {
        const read = (await (await fetch(`${api.url}${accepted.links.self}`, { headers: viewer })).json()) as Batch;
        return read.status !== 'pending' ? read : undefined;
      },
      90_000,
      250,
    );
    assert.equal(batch.status, 'completed', JSON.stringify(batch));
    assert.deepEqual([batch.renditions, batch.recipe], [['web'], 'resize:200x200/format:png']);
    assert.deepEqual(batch.counts, { images: 2, pending: 0, completed: 2, partial: 0, failed: 0 });
    assert.deepEqual(
      batch.images.map(({ position, imageId }) => [position, imageId]),
      accepted.images.map(({ imageId }, index) => [index, imageId]),
    );
    for (const [index, image] of batch.images.entries()) {
      assert.equal(image.status, 'completed');
      const meta = await sharp(bytes[index]!).metadata();
      const web = expected(meta.width!, meta.height!).filter((item) => item.name === 'web');
      // The recipe's size computed here: inside 200x200, aspect kept, the longer side exact.
      const scale = Math.min(200 / meta.width!, 200 / meta.height!);
      const recipe = {
        name: 'recipe',
        recipe: 'resize:200x200/format:png',
        format: 'png',
        width: Math.round(meta.width! * scale),
        height: Math.round(meta.height! * scale),
      };
      assert.deepEqual(
        image.renditions.map(({ name, recipe, format, width, height }) => ({ name, recipe, format, width, height })),
        [...web, recipe],
      );
      for (const rendition of image.renditions) {
        const stored = await s3Object(rendition.key);
        assert.equal(stored.length, rendition.bytes);
        const decoded = await sharp(stored).metadata();
        assert.deepEqual(
          [decoded.format, decoded.width, decoded.height],
          [rendition.format, rendition.width, rendition.height],
        );
      }
      // The image's own result lists the same renditions; its rendition URL serves the stage's object.
      const view = (await (
        await fetch(`${api.url}/v1/images/${image.imageId}`, { headers: viewer })
      ).json()) as ImageView;
      assert.deepEqual(view.renditions, image.renditions);
      const served = await fetch(`${api.url}/v1/images/${image.imageId}/renditions/${recipe.recipe}`, {
        headers: viewer,
      });
      assert.equal(served.headers.get('rendition-cache'), 'hit');
    }
    // Another tenant's batch is not found.
    const foreign = await fetch(`${api.url}${accepted.links.self}`, {
      headers: bearer(tokenFor(refusedTenant, 'viewer')),
    });
    assert.equal(foreign.status, 404);
  });

  test('an unknown preset is 400 RENDITION_PRESET_UNKNOWN in each form, and nothing is stored', async () => {
    const headers = bearer(tokenFor(refusedTenant));
    const form = new FormData();
    form.append('file', new Blob([uniqueJpeg(DOG_JPEG)], { type: 'image/jpeg' }), 'dog.jpg');
    form.append('renditions', 'thumb,poster');
    const attempts = [
      fetch(`${api.url}/v1/images?renditions=thumb,poster`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'image/jpeg' },
        body: uniqueJpeg(DOG_JPEG),
      }),
      fetch(`${api.url}/v1/images`, { method: 'POST', headers, body: form }),
      fetch(`${api.url}/v1/images`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ url: 'https://example.com/dog.jpg', renditions: ['poster'] }),
      }),
    ];
    for (const response of await Promise.all(attempts)) {
      assert.equal(response.status, 400);
      const problem = await problemOf(response);
      assert.equal(problem['code'], 'RENDITION_PRESET_UNKNOWN', JSON.stringify(problem));
    }
    assert.deepEqual(await tenantObjects(refusedTenant), []);
    assert.equal(await tenantImageCount(api.api, refusedTenant), 0);
  });

  test("a batch's malformed recipe is 400 with its RECIPE_* code in each form, and nothing is stored", async () => {
    const headers = bearer(tokenFor(refusedTenant));
    const form = new FormData();
    form.append('files', new Blob([uniqueJpeg(DOG_JPEG)], { type: 'image/jpeg' }), 'dog.jpg');
    form.append('ops', 'resize:100x100/format:auto');
    const attempts: [Promise<Response>, string][] = [
      [
        fetch(`${api.url}/v1/batches?ops=explode:3`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'image/jpeg' },
          body: uniqueJpeg(DOG_JPEG),
        }),
        'RECIPE_UNKNOWN_OPERATION',
      ],
      // format:auto has no Accept header in the pipeline.
      [fetch(`${api.url}/v1/batches`, { method: 'POST', headers, body: form }), 'RECIPE_INVALID_ARGUMENT'],
      [
        fetch(`${api.url}/v1/batches`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({
            images: [{ url: 'https://example.com/dog.jpg' }],
            recipe: { ops: [{ op: 'resize', width: 0 }] },
          }),
        }),
        'RECIPE_INVALID_ARGUMENT',
      ],
    ];
    for (const [attempt, code] of attempts) {
      const response = await attempt;
      assert.equal(response.status, 400);
      assert.equal((await problemOf(response))['code'], code);
    }
    assert.deepEqual(await tenantObjects(refusedTenant), []);
    assert.equal(await tenantImageCount(api.api, refusedTenant), 0);
    const batches = await api.api.deps.db
      .withTables<{ batches: { tenant_id: string } }>()
      .selectFrom('batches')
      .select('tenant_id')
      .where('tenant_id', '=', refusedTenant)
      .execute();
    assert.deepEqual(batches, []);
  });
});
