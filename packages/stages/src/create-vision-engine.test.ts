/**
 * The in-process engine (createVisionEngine's inProcess, as `imgpipe analyze` runs it) against the default one the
 * Kafka workers run: the same results from the same file, though the in-process one stores its normalised copy
 * uncompressed and never decodes it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '@imgpipe/telemetry';
import { decodeNormalizedImage, loadVisionConfig } from '@imgpipe/vision';
import { createVisionEngine } from './create-vision-engine.ts';
import { InProcessPipeline } from './in-process-pipeline.ts';
import type { VisionEngine } from './vision-engine.ts';

const SHARED = process.env.IMGPIPE_SHARED_DIR ?? new URL('../../../../shared/', import.meta.url).pathname;
const photo = readFileSync(`${SHARED}/images/coco/000000000139.jpg`);
const text = readFileSync(`${SHARED}/images/text/ocr_02.jpg`);

describe('the in-process vision engine', () => {
  let inProcess: VisionEngine;
  let workers: VisionEngine;
  before(async () => {
    const config = loadVisionConfig({ IMGPIPE_MODELS_DIR: process.env.IMGPIPE_MODELS_DIR });
    inProcess = await createVisionEngine({ config, workers: 0, inProcess: true });
    workers = await createVisionEngine({ config, workers: 0 });
  });
  after(async () => {
    await inProcess.close();
    await workers.close();
  });

  test('analyses a file exactly as the engine the Kafka workers run', async () => {
    const logger = createLogger('vision-engine-test', 'silent');
    for (const bytes of [photo, text]) {
      const request = { bytes, analyses: ['detect', 'faces', 'ocr'] as const };
      const [mine, theirs] = await Promise.all([
        new InProcessPipeline(inProcess, logger).analyze({ ...request, analyses: [...request.analyses] }),
        new InProcessPipeline(workers, logger).analyze({ ...request, analyses: [...request.analyses] }),
      ]);
      assert.equal(mine.status, 'completed');
      assert.deepEqual(mine.objects, theirs.objects);
      assert.deepEqual(mine.faces, theirs.faces);
      assert.deepEqual(mine.text, theirs.text);
      assert.deepEqual(mine.image, theirs.image);
    }
    const analysis = await new InProcessPipeline(inProcess, logger).analyze({ bytes: photo, analyses: ['detect'] });
    assert.ok(analysis.objects.length > 0, 'the photo has objects to compare');
  });

  test('its normalised copy holds the same pixels, at the fastest level, and the stages after preprocess do not decode it', async () => {
    const [mine, theirs] = await Promise.all([inProcess.preprocess(photo), workers.preprocess(photo)]);
    const original = { width: mine.info.width, height: mine.info.height };
    const pixels = await decodeNormalizedImage(mine.normalized.bytes, original);
    assert.deepEqual(pixels, await decodeNormalizedImage(theirs.normalized.bytes, original));
    assert.ok(mine.normalized.bytes.byteLength > theirs.normalized.bytes.byteLength, 'hardly compressed');

    // Spoil both copies' signatures: decoding now fails, so a detection that works did not decode.
    const expected = await inProcess.detectObjects(theirs.normalized.bytes, original);
    mine.normalized.bytes[1] = 0;
    theirs.normalized.bytes[1] = 0;
    assert.deepEqual(await inProcess.detectObjects(mine.normalized.bytes, original), expected);
    await assert.rejects(workers.detectObjects(theirs.normalized.bytes, original), { code: 'IMAGE_CORRUPT' });
  });

  test('OCR languages: ja chooses the set that reads kana; a named set that cannot read them fails the ocr stage', async () => {
    const pipeline = new InProcessPipeline(inProcess, createLogger('vision-engine-test', 'silent'));
    const english = await pipeline.analyze({ bytes: text, analyses: ['ocr'], ocrLanguages: ['en'] });
    assert.equal(english.stages.ocr?.model?.name, 'ppocr-v4-det+ppocr-v4-rec+ppocr-v2-cls', "the deployment's set");
    const japanese = await pipeline.analyze({ bytes: text, analyses: ['ocr'], ocrLanguages: ['ja', 'en'] });
    assert.equal(japanese.stages.ocr?.model?.name, 'ppocr-v5-det+ppocr-v5-rec+ppocr-v2-cls');
    const refused = await pipeline.analyze({
      bytes: text,
      analyses: ['ocr'],
      ocrModel: 'ppocr-v4',
      ocrLanguages: ['ja'],
    });
    assert.equal(refused.stages.ocr?.status, 'failed');
    assert.equal(refused.stages.ocr?.error?.code, 'OCR_LANGUAGE_UNSUPPORTED');
    assert.equal(refused.stages.preprocess?.status, 'completed');
  });
});
