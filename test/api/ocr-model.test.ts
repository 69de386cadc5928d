/**
 * An upload names its OCR model set (`ocrModel`, query string, JSON or multipart field): the ImageUploaded it
 * produces carries it for the OCR stage, and the image records it (`requestedOcrModel`). The same bytes naming the
 * same set are deduplicated to the earlier image; another set, or none, is a new image. A set that does not exist is
 * refused by the upload's schema (400 REQUEST_INVALID) before anything is stored. `imgpipe produce --ocr-model` does
 * the same for a direct producer. `imgpipe reprocess` reads an image with the set its upload named again, not with
 * the set the OCR workers run (real worker processes, their set ppocr-v5). The upload's `ocrLanguages` travel and
 * deduplicate the same way, in one spelling; a language the named set cannot read is 400 OCR_LANGUAGE_UNSUPPORTED.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { EventCodec, type ImageUploaded, type TextRecognized, TOPICS } from '@imgpipe/contracts';
import { loadVisionConfig } from '@imgpipe/vision';
import type { Consumer } from 'kafkajs';
import { endpoints, testKafka, waitFor } from '../support/kafka.ts';
import { type PipelineService, startServices, stopServices } from '../support/pipeline-services.ts';
import { sharedPath } from '../support/shared.ts';
import {
  bearer,
  deleteTenantImages,
  problemOf,
  startTestApi,
  type TestApi,
  tenantImageCount,
  testTenant,
  tokenFor,
  uniqueJpeg,
  uploadRaw,
} from './support.ts';

const run = promisify(execFile);
const IMGPIPE = fileURLToPath(new URL('../../apps/cli/bin/imgpipe.js', import.meta.url));

interface Accepted {
  imageId: string;
  deduplicated: boolean;
}

describe('ocrModel at upload', () => {
  let api: TestApi;
  let consumer: Consumer;
  const tenant = testTenant('ocr-model');
  const uploaded = new Map<string, Buffer>();
  const codec = new EventCodec({ registryUrl: endpoints.schemaRegistryUrl });
  const eventOf = async (imageId: string) => {
    const value = await waitFor(`the ImageUploaded of ${imageId}`, () => uploaded.get(imageId), 20_000);
    return (await codec.decode(value)).value as ImageUploaded;
  };

  before(async () => {
    api = await startTestApi({ dedupWindowSeconds: 3600 });
    consumer = testKafka('api-ocr-model-test').consumer({ groupId: `api-ocr-model-test-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [TOPICS.uploaded], fromBeginning: false });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.key && message.value) uploaded.set(message.key.toString(), message.value);
      },
    });
    await joined;
  });
  after(async () => {
    await consumer.disconnect();
    await deleteTenantImages(api.api, [tenant]);
    await api.close();
  });

  test('the event and the image carry the set; the same bytes naming the same set dedup, another set or none do not', async () => {
    const token = tokenFor(tenant);
    const bytes = uniqueJpeg();
    const upload = async (query = '') => (await (await uploadRaw(api.url, token, bytes, { query })).json()) as Accepted;
    // The upload claim lasts 30 s and answers an identical upload on its own; dropping the tenant's claims makes the
    // next upload find its duplicate (or not) in PostgreSQL, by the set the stored image says it asked for.
    const forgetClaims = async () => {
      const keys = await api.api.deps.redis.keys(`imgpipe:${tenant}:upload-claim:*`);
      if (keys.length > 0) await api.api.deps.redis.del(...keys);
    };
    const requested = async (imageId: string) =>
      (
        (await (await fetch(`${api.url}/v1/images/${imageId}`, { headers: bearer(token) })).json()) as {
          requestedOcrModel?: string;
        }
      ).requestedOcrModel;

    const v4 = await upload('ocrModel=ppocr-v4');
    assert.equal(v4.deduplicated, false);
    const claimed = await upload('ocrModel=ppocr-v4');
    assert.deepEqual([claimed.imageId, claimed.deduplicated], [v4.imageId, true], 'answered by the claim');
    await forgetClaims();
    const stored = await upload('ocrModel=ppocr-v4');
    assert.deepEqual([stored.imageId, stored.deduplicated], [v4.imageId, true], 'answered by the stored image');

    const v5 = await upload('ocrModel=ppocr-v5');
    assert.equal(v5.deduplicated, false, 'another set: a new image');
    assert.notEqual(v5.imageId, v4.imageId);
    await forgetClaims();
    // The newest image of these bytes is now v5's; v4's is still found for an upload naming v4.
    const v4Again = await upload('ocrModel=ppocr-v4');
    assert.deepEqual([v4Again.imageId, v4Again.deduplicated], [v4.imageId, true]);
    const none = await upload();
    assert.equal(none.deduplicated, false, 'none named (the deployment decides) is not an explicit set');
    assert.ok(![v4.imageId, v5.imageId].includes(none.imageId));
    await forgetClaims();
    const noneAgain = await upload();
    assert.deepEqual([noneAgain.imageId, noneAgain.deduplicated], [none.imageId, true]);
    const v5Again = await upload('ocrModel=ppocr-v5');
    assert.deepEqual([v5Again.imageId, v5Again.deduplicated], [v5.imageId, true]);

    assert.equal(await requested(v4.imageId), 'ppocr-v4');
    assert.equal(await requested(v5.imageId), 'ppocr-v5');
    assert.equal(await requested(none.imageId), undefined);
    assert.equal(await tenantImageCount(api.api, tenant), 3);
    assert.equal((await eventOf(v4.imageId)).ocrModel, 'ppocr-v4');
    assert.equal((await eventOf(v5.imageId)).ocrModel, 'ppocr-v5');
    assert.equal((await eventOf(none.imageId)).ocrModel, undefined, 'none named: the deployment decides');
  });

  test('imgpipe produce --ocr-model and --ocr-languages name them in the event; unknown ones are usage errors, nothing produced', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imgpipe-ocr-model-'));
    try {
      const file = join(dir, 'label.jpg');
      writeFileSync(file, uniqueJpeg());
      const produce = (...flags: string[]) =>
        run(process.execPath, [IMGPIPE, 'produce', '--tenant', tenant, '--inline', '--json', ...flags, file]);
      const { imageId } = JSON.parse((await produce('--ocr-model', 'ppocr-v5')).stdout) as { imageId: string };
      assert.equal((await eventOf(imageId)).ocrModel, 'ppocr-v5');

      const refused = (await produce('--ocr-model', 'ppocr-v9').catch((error: unknown) => error)) as {
        code?: number;
        stdout?: string;
        stderr?: string;
      };
      assert.equal(refused.code, 2, 'a usage error');
      assert.match(refused.stderr ?? '', /--ocr-model must be one of ppocr-v4, ppocr-v5/);
      assert.equal(refused.stdout, '', 'no image id: nothing was produced');

      const languages = JSON.parse((await produce('--ocr-languages', 'ja,en')).stdout) as { imageId: string };
      assert.deepEqual((await eventOf(languages.imageId)).ocrLanguages, ['en', 'ja']);
      const unknown = (await produce('--ocr-languages', 'en,xx').catch((error: unknown) => error)) as {
        code?: number;
        stdout?: string;
        stderr?: string;
      };
      assert.equal(unknown.code, 2, 'a usage error');
      assert.match(unknown.stderr ?? '', /--ocr-languages: unknown OCR languages "xx"/);
      assert.equal(unknown.stdout, '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unknown set is refused in every form, nothing stored', async () => {
    const token = tokenFor(tenant);
    const before = await tenantImageCount(api.api, tenant);
    const query = await uploadRaw(api.url, token, uniqueJpeg(), { query: 'ocrModel=ppocr-v9' });
    assert.equal(query.status, 400);
    assert.equal((await problemOf(query)).code, 'REQUEST_INVALID');

    const form = new FormData();
    form.set('file', new Blob([uniqueJpeg()], { type: 'image/jpeg' }), 'a.jpg');
    form.set('ocrModel', 'ppocr-v9');
    const multipart = await fetch(`${api.url}/v1/images`, { method: 'POST', headers: bearer(token), body: form });
    assert.equal(multipart.status, 400);
    assert.equal((await problemOf(multipart)).code, 'REQUEST_INVALID');

    const json = await fetch(`${api.url}/v1/images`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://example.org/a.jpg', ocrModel: 'ppocr-v9' }),
    });
    assert.equal(json.status, 400);
    assert.equal((await problemOf(json)).code, 'REQUEST_INVALID');
    assert.equal(await tenantImageCount(api.api, tenant), before);
  });

  test('ocrLanguages: the event and the image carry them in one spelling, deduplication compares them', async () => {
    const token = tokenFor(tenant);
    const bytes = uniqueJpeg();
    const upload = async (query = '') => (await (await uploadRaw(api.url, token, bytes, { query })).json()) as Accepted;
    const view = async (imageId: string) =>
      (await (await fetch(`${api.url}/v1/images/${imageId}`, { headers: bearer(token) })).json()) as {
        requestedOcrLanguages?: string[];
      };
    const forgetClaims = async () => {
      const keys = await api.api.deps.redis.keys(`imgpipe:${tenant}:upload-claim:*`);
      if (keys.length > 0) await api.api.deps.redis.del(...keys);
    };

    const english = await upload('ocrLanguages=en');
    assert.equal(english.deduplicated, false);
    const both = await upload('ocrLanguages=ja,en');
    assert.equal(both.deduplicated, false, 'other languages: a new image');
    await forgetClaims();
    // The same restriction spelt otherwise (order, repeats, spaces) is the same request, found in PostgreSQL.
    const bothAgain = await upload(`ocrLanguages=${encodeURIComponent('en, ja,en')}`);
    assert.deepEqual([bothAgain.imageId, bothAgain.deduplicated], [both.imageId, true]);
    const none = await upload();
    assert.equal(none.deduplicated, false, 'no restriction is another request');
    assert.ok(![english.imageId, both.imageId].includes(none.imageId));

    // JSON and multipart forms carry them too.
    const form = new FormData();
    form.set('file', new Blob([uniqueJpeg()], { type: 'image/jpeg' }), 'a.jpg');
    form.set('ocrLanguages', 'zh,en');
    const multipart = await fetch(`${api.url}/v1/images`, { method: 'POST', headers: bearer(token), body: form });
    assert.equal(multipart.status, 202);
    const fromForm = (await multipart.json()) as Accepted;

    assert.deepEqual((await view(english.imageId)).requestedOcrLanguages, ['en']);
    assert.deepEqual((await view(both.imageId)).requestedOcrLanguages, ['en', 'ja']);
    assert.equal((await view(none.imageId)).requestedOcrLanguages, undefined);
    assert.deepEqual((await eventOf(both.imageId)).ocrLanguages, ['en', 'ja']);
    assert.deepEqual((await eventOf(fromForm.imageId)).ocrLanguages, ['en', 'zh']);
    assert.equal((await eventOf(none.imageId)).ocrLanguages, undefined);
  });

  test('an unknown language, or one the named set cannot read, is refused before anything is stored', async () => {
    const token = tokenFor(tenant);
    const before = await tenantImageCount(api.api, tenant);
    const unknown = await uploadRaw(api.url, token, uniqueJpeg(), { query: 'ocrLanguages=en,xx' });
    assert.equal(unknown.status, 400);
    assert.equal((await problemOf(unknown)).code, 'REQUEST_INVALID');
    const json = await fetch(`${api.url}/v1/images`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://example.org/a.jpg', ocrModel: 'ppocr-v4', ocrLanguages: ['ja'] }),
    });
    assert.equal(json.status, 400);
    const problem = await problemOf(json);
    assert.equal(problem.code, 'OCR_LANGUAGE_UNSUPPORTED');
    assert.match(String(problem.detail), /ppocr-v4 cannot read ja/);
    const form = new FormData();
    form.set('file', new Blob([uniqueJpeg()], { type: 'image/jpeg' }), 'a.jpg');
    form.set('ocrModel', 'ppocr-v4');
    form.set('ocrLanguages', 'ja');
    const multipart = await fetch(`${api.url}/v1/images`, { method: 'POST', headers: bearer(token), body: form });
    assert.equal(multipart.status, 400);
    assert.equal((await problemOf(multipart)).code, 'OCR_LANGUAGE_UNSUPPORTED');
    assert.equal(await tenantImageCount(api.api, tenant), before);
  });
});

describe('reprocess and the set an upload named', () => {
  let api: TestApi;
  let consumer: Consumer;
  let services: Map<string, PipelineService> | undefined;
  const tenant = testTenant('ocr-model-reprocess');
  const codec = new EventCodec({ registryUrl: endpoints.schemaRegistryUrl });
  /** Every TextRecognized of this tenant's images, in the order the OCR workers produced them. */
  const recognized: TextRecognized[] = [];

  before(async () => {
    consumer = testKafka('api-ocr-model-reprocess').consumer({ groupId: `api-ocr-model-reprocess-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [TOPICS.text], fromBeginning: false });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (!message.value) return;
        const event = (await codec.decode(message.value)).value as TextRecognized;
        if (event.tenantId === tenant) recognized.push(event);
      },
    });
    await joined;
    // The OCR workers run ppocr-v5 (its files are fetched into the models directory, not the shared one).
    const modelsDir = loadVisionConfig({
      IMGPIPE_MODELS_DIR: process.env['IMGPIPE_MODELS_DIR'],
      XDG_CACHE_HOME: process.env['XDG_CACHE_HOME'],
    }).modelsDir;
    services = await startServices(['preprocess', 'aggregate', 'results'], { IMGPIPE_INFERENCE_THREADS: '1' });
    const ocr = await startServices(['ocr'], {
      IMGPIPE_INFERENCE_THREADS: '1',
      IMGPIPE_OCR_MODEL_SET: 'ppocr-v5',
      IMGPIPE_MODELS_DIR: modelsDir,
      IMGPIPE_OCR_CODES: 'false',
    }).catch(async (error: unknown) => {
      await stopServices(services!);
      throw error;
    });
    services.set('ocr', ocr.get('ocr')!);
    api = await startTestApi();
  });
  after(async () => {
    await consumer?.disconnect();
    if (api) await deleteTenantImages(api.api, [tenant]).catch(() => undefined);
    await api?.close();
    if (services) await stopServices(services);
  });

  test("imgpipe reprocess --stage ocr reads an image that named ppocr-v4 with ppocr-v4 again, not the workers' v5", async () => {
    const token = tokenFor(tenant);
    const bytes = uniqueJpeg(readFileSync(sharedPath('images', 'text', 'ocr_02.jpg')));
    const upload = await uploadRaw(api.url, token, bytes, { query: 'analyses=ocr&ocrModel=ppocr-v4' });
    const { imageId } = (await upload.json()) as Accepted;
    const view = async () =>
      (await (await fetch(`${api.url}/v1/images/${imageId}`, { headers: bearer(token) })).json()) as {
        status: string;
        requestedOcrModel?: string;
        stages: { ocr: { status: string; model?: { name: string } } };
        text: { fullText: string };
      };
    const first = await waitFor(
      'the image to complete',
      async () => {
        const current = await view();
        return current.status === 'completed' ? current : undefined;
      },
      120_000,
      250,
    );
    assert.equal(first.requestedOcrModel, 'ppocr-v4');
    assert.equal(first.stages.ocr.model?.name, 'ppocr-v4-det+ppocr-v4-rec+ppocr-v2-cls', 'read by the set it named');
    assert.match(first.text.fullText, /Welcome to Lisbon/);

    const reprocessedAt = Date.now();
    const { stdout } = await run(process.execPath, [
      IMGPIPE,
      'reprocess',
      '--stage',
      'ocr',
      '--all',
      '--tenant',
      tenant,
      '--json',
    ]);
    assert.equal((JSON.parse(stdout) as { queued: number }).queued, 1);
    // The OCR workers' own output for the re-run: which models read the image this time.
    const rerun = await waitFor(
      "the re-run's TextRecognized",
      () => recognized.find((event) => event.occurredAt >= reprocessedAt),
      120_000,
      100,
    );
    assert.equal(rerun.imageId, imageId);
    assert.equal(rerun.status, 'completed');
    assert.equal(
      rerun.model?.name,
      'ppocr-v4-det+ppocr-v4-rec+ppocr-v2-cls',
      "the set the upload named, not the workers' v5",
    );
    assert.match(rerun.text.fullText, /Welcome to Lisbon/);
  });
});
