/**
 * The wire contract for other systems, proven with a client that is not imgpipe's: confluent-kafka-python (PyPI,
 * in a throwaway virtualenv cached under ~/.cache/imgpipe/venvs) produces an ImageUploaded with attributes through
 * Confluent's AvroSerializer and the registry's schema, for an image put in S3 first (claim check). The real
 * workers and results service process it; the attributes must come back in every place schemas/README.md names:
 * GET /v1/images/{id}, the search summaries, `imgpipe results --json`, the PostgreSQL row, the Redis view and the
 * ImageAnalyzed event (read back with Confluent's AvroDeserializer). An HTTP upload's attributes make the same trip.
 * The detections must equal what `imgpipe analyze` finds in process for the same file.
 *
 * Lean on purpose: one image each way, detect only, so only preprocess, detect, aggregate and results run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { DetectedObject, ImageView } from '@imgpipe/contracts';
import { loadConfig } from '@imgpipe/core';
import { ResultsCache } from '@imgpipe/results';
import { blobStoreFor, originalKey, storageSettings } from '@imgpipe/storage';
import { endpoints, waitFor } from '../support/kafka.ts';
import { type PipelineService, startServices, stopServices } from '../support/pipeline-services.ts';
import { sharedPath } from '../support/shared.ts';
import { bearer, deleteTenantImages, startTestApi, type TestApi, testTenant, tokenFor } from '../api/support.ts';

const run = promisify(execFile);
const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const IMGPIPE = fileURLToPath(new URL('../../apps/cli/bin/imgpipe.js', import.meta.url));
const WORKER_ENV = { IMGPIPE_INFERENCE_THREADS: '1' };

/** Attributes a careless encoder would break: a newline, quotes, non-ASCII names and values, an empty value. */
const PYTHON_ATTRIBUTES = {
  order: 'A-17',
  'camera/id': 'front 2',
  note: 'two\nlines "quoted"',
  ключ: 'значение',
  empty: '',
};
const HTTP_ATTRIBUTES = { batch: '2026-05', source: 'web form ✓' };

describe('another system produces with confluent-kafka-python; attributes come back everywhere', () => {
  const tenant = testTenant('foreign');
  const since = Date.now();
  let python: string;
  let services: Map<string, PipelineService>;
  let api: TestApi;

  before(async () => {
    const { stdout } = await run('bash', [here('python-venv.sh')], { maxBuffer: 1024 * 1024 });
    python = `${stdout.trim()}/bin/python`;
    services = await startServices(['preprocess', 'detect', 'aggregate', 'results'], WORKER_ENV);
    api = await startTestApi();
  });

  after(async () => {
    if (api) await deleteTenantImages(api.api, [tenant]).catch(() => undefined);
    await api?.close();
    if (services) await stopServices(services);
  });

  async function pythonJson(...args: string[]): Promise<Record<string, unknown>> {
    const { stdout } = await run(
      python,
      [
        here('produce_upload.py'),
        '--bootstrap',
        endpoints.kafkaBrokers,
        '--registry',
        endpoints.schemaRegistryUrl,
        ...args,
      ],
      // A bound, so a client that hangs fails the test instead of the whole run.
      { maxBuffer: 16 * 1024 * 1024, timeout: 240_000 },
    );
    return JSON.parse(stdout) as Record<string, unknown>;
  }

  async function getView(imageId: string): Promise<ImageView> {
    const response = await fetch(`${api.url}/v1/images/${imageId}`, { headers: bearer(tokenFor(tenant, 'viewer')) });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as ImageView;
  }

  async function finished(imageId: string): Promise<ImageView> {
    return waitFor(
      `${imageId} to finish`,
      async () => {
        const view = await getView(imageId);
        return view.status === 'pending' ? undefined : view;
      },
      180_000,
      250,
    );
  }

  async function cliResults(imageId: string): Promise<ImageView> {
    const { stdout } = await run(process.execPath, [IMGPIPE, 'results', imageId, '--tenant', tenant, '--json']);
    return JSON.parse(stdout) as ImageView;
  }

  /** What the in-process runner finds in the same bytes: the independent expectation for the detections. */
  async function detectInProcess(file: string): Promise<DetectedObject[]> {
    const { stdout } = await run(process.execPath, [IMGPIPE, 'analyze', '--json', '--analyses', 'detect', file], {
      env: { ...process.env, ...WORKER_ENV, IMGPIPE_MODELS_DIR: sharedPath('models') },
      maxBuffer: 16 * 1024 * 1024,
    });
    return (JSON.parse(stdout) as ImageView).objects;
  }

  function assertSameDetections(actual: DetectedObject[], expected: DetectedObject[], what: string): void {
    assert.ok(expected.length > 0, `${what}: the photo has objects to find`);
    assert.deepEqual(
      actual.map((o) => [o.label, o.classId]),
      expected.map((o) => [o.label, o.classId]),
      `${what}: labels in order`,
    );
    actual.forEach((object, index) => {
      const other = expected[index]!;
      assert.ok(Math.abs(object.confidence - other.confidence) < 1e-3, `${what}[${index}] confidence`);
      for (const side of ['x', 'y', 'width', 'height'] as const) {
        assert.ok(Math.abs(object.box[side] - other.box[side]) < 0.5, `${what}[${index}].box.${side}`);
      }
    });
  }

  /** Every place the attributes must come back, for one finished image. */
  async function assertAttributesEverywhere(imageId: string, attributes: Record<string, string>): Promise<void> {
    const view = await finished(imageId);
    assert.equal(view.status, 'completed', JSON.stringify(view.stages));
    assert.deepEqual(view.attributes, attributes, 'GET /v1/images/{id}');
    assert.deepEqual((await cliResults(imageId)).attributes, attributes, 'imgpipe results --json');

    const row = await api.api.deps.db
      .selectFrom('images')
      .select('attributes')
      .where('id', '=', imageId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row.attributes, attributes, 'the PostgreSQL row');
    const cached = await waitFor(`${imageId}'s finished Redis view`, async () => {
      const latest = await new ResultsCache(api.api.deps.redis).getLatest(tenant, imageId);
      return latest?.status === 'completed' ? latest : undefined;
    });
    assert.deepEqual(cached.attributes, attributes, 'the Redis view');

    // Searches may read a replica (IMGPIPE_DATABASE_READ_URL): wait for the finished image to reach it.
    const summary = await waitFor(`${imageId} in the search results`, async () => {
      const search = await fetch(`${api.url}/v1/images?limit=10`, { headers: bearer(tokenFor(tenant, 'viewer')) });
      const page = (await search.json()) as {
        items: { imageId: string; status: string; attributes: Record<string, string> }[];
      };
      return page.items.find((item) => item.imageId === imageId && item.status === 'completed');
    });
    assert.deepEqual(summary.attributes, attributes, 'GET /v1/images (search)');

    const analyzed = await pythonJson(
      'analyzed',
      '--image-id',
      imageId,
      '--since-ms',
      String(since),
      '--timeout',
      '60',
    );
    const event = analyzed['event'] as { imageId: string; tenantId: string; attributes: Record<string, string> };
    assert.equal(String(event.imageId), imageId);
    assert.equal(event.tenantId, tenant);
    assert.deepEqual(event.attributes, attributes, 'ImageAnalyzed, read with AvroDeserializer');
  }

  test('an ImageUploaded from AvroSerializer with a blob in S3: completed, attributes in every view', async () => {
    const file = sharedPath('images', 'photos', 'dog.jpg');
    const bytes = readFileSync(file);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const blobs = blobStoreFor(loadConfig(storageSettings));
    const blob = await blobs.put(originalKey(tenant, sha256), bytes, 'image/jpeg', sha256);
    const imageId = randomUUID();
    const produced = await pythonJson(
      'produce',
      '--image-id',
      imageId,
      '--tenant',
      tenant,
      '--bucket',
      blob.bucket,
      '--key',
      blob.key,
      '--sha256',
      sha256,
      '--size',
      String(bytes.byteLength),
      '--source',
      'dog.jpg',
      '--analyses',
      'detect',
      '--attributes',
      JSON.stringify(PYTHON_ATTRIBUTES),
    );
    assert.equal(produced['imageId'], imageId);
    assert.ok(Number(produced['schemaId']) > 0, 'the registry id in the Confluent wire header');

    await assertAttributesEverywhere(imageId, PYTHON_ATTRIBUTES);
    const view = await getView(imageId);
    assert.equal(view.sourceName, 'dog.jpg');
    assertSameDetections(view.objects, await detectInProcess(file), 'dog.jpg');
  });

  test('an HTTP upload with attributes: in the pending view at once, then everywhere once completed', async () => {
    const file = sharedPath('images', 'photos', 'kite.jpg');
    const form = new FormData();
    form.append('analyses', 'detect');
    form.append('attributes', JSON.stringify(HTTP_ATTRIBUTES)); // a text part holding a JSON object (docs/api.md)
    form.append('file', new Blob([readFileSync(file)], { type: 'image/jpeg' }), 'kite.jpg');
    const response = await fetch(`${api.url}/v1/images`, {
      method: 'POST',
      headers: bearer(tokenFor(tenant)),
      body: form,
    });
    assert.equal(response.status, 202, await response.clone().text());
    const { imageId } = (await response.json()) as { imageId: string };
    const pending = await getView(imageId);
    assert.deepEqual(pending.attributes, HTTP_ATTRIBUTES, 'the view right after the upload');

    await assertAttributesEverywhere(imageId, HTTP_ATTRIBUTES);
    assertSameDetections((await getView(imageId)).objects, await detectInProcess(file), 'kite.jpg');
  });
});
