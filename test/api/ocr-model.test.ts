/**
 * An upload names its OCR model set (`ocrModel`, query string, JSON or multipart field): the ImageUploaded it
 * produces carries it for the OCR stage; such an upload is never deduplicated (an earlier read used another set);
 * a set that does not exist is refused by the upload's schema (400 REQUEST_INVALID) before anything is stored.
 * `imgpipe produce --ocr-model` does the same for a direct producer.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { EventCodec, type ImageUploaded, TOPICS } from '@imgpipe/contracts';
import type { Consumer } from 'kafkajs';
import { endpoints, testKafka, waitFor } from '../support/kafka.ts';
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

  test('the event carries the set; the same bytes naming a set are a new image each time', async () => {
    const token = tokenFor(tenant);
    const bytes = uniqueJpeg();
    const first = (await (await uploadRaw(api.url, token, bytes, { query: 'ocrModel=ppocr-v5' })).json()) as Accepted;
    const again = (await (await uploadRaw(api.url, token, bytes, { query: 'ocrModel=ppocr-v5' })).json()) as Accepted;
    assert.equal(first.deduplicated, false);
    assert.equal(again.deduplicated, false);
    assert.notEqual(again.imageId, first.imageId);
    const plain = (await (await uploadRaw(api.url, token, uniqueJpeg())).json()) as Accepted;

    assert.equal((await eventOf(first.imageId)).ocrModel, 'ppocr-v5');
    assert.equal((await eventOf(again.imageId)).ocrModel, 'ppocr-v5');
    assert.equal((await eventOf(plain.imageId)).ocrModel, undefined, 'none named: the deployment decides');
  });

  test('imgpipe produce --ocr-model names the set in the event; an unknown set is a usage error, nothing produced', async () => {
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
});
