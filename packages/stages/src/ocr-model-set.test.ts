/**
 * The OCR model set, chosen by the deployment's configuration (IMGPIPE_OCR_MODEL_SET, here ppocr-v5) and by the
 * request (ImageUploaded.ocrModel), through the same handlers the Kafka workers run: the ocr stage's model identity
 * in the joined result says which set read the image. An unknown set fails the ocr stage alone.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '@imgpipe/telemetry';
import { loadVisionConfig } from '@imgpipe/vision';
import { createVisionEngine } from './create-vision-engine.ts';
import { InProcessPipeline } from './in-process-pipeline.ts';
import type { VisionEngine } from './vision-engine.ts';

const SHARED = process.env.IMGPIPE_SHARED_DIR ?? new URL('../../../../shared/', import.meta.url).pathname;
const bytes = readFileSync(`${SHARED}/images/text/ocr_02.jpg`);
const TRUTH = ['Total due: 184.50 EUR', 'Welcome to Lisbon'];

describe('OCR model set by configuration and by request', () => {
  let vision: VisionEngine;
  let pipeline: InProcessPipeline;
  before(async () => {
    const config = loadVisionConfig({
      IMGPIPE_MODELS_DIR: process.env.IMGPIPE_MODELS_DIR,
      IMGPIPE_OCR_MODEL_SET: 'ppocr-v5',
    });
    vision = await createVisionEngine({ config, workers: 0, inProcess: true });
    pipeline = new InProcessPipeline(vision, createLogger('ocr-model-set-test', 'silent'));
  });
  after(() => vision.close());

  test('the configured set reads an image that names none; a request names the other', async () => {
    const configured = await pipeline.analyze({ bytes, analyses: ['ocr'] });
    const requested = await pipeline.analyze({ bytes, analyses: ['ocr'], ocrModel: 'ppocr-v4' });
    for (const analysis of [configured, requested]) {
      assert.equal(analysis.status, 'completed');
      assert.deepEqual(
        analysis.text.lines.map((line) => line.text),
        TRUTH,
      );
    }
    assert.equal(configured.stages.ocr?.model?.name, 'ppocr-v5-det+ppocr-v5-rec+ppocr-v2-cls');
    assert.equal(requested.stages.ocr?.model?.name, 'ppocr-v4-det+ppocr-v4-rec+ppocr-v2-cls');
    assert.notEqual(configured.stages.ocr?.model?.sha256, requested.stages.ocr?.model?.sha256);
  });

  test('a set no one knows fails the ocr stage with MODEL_SET_UNKNOWN; preprocess stands', async () => {
    const analysis = await pipeline.analyze({ bytes, analyses: ['ocr'], ocrModel: 'ppocr-v9' });
    assert.equal(analysis.stages.ocr?.status, 'failed');
    assert.equal(analysis.stages.ocr?.error?.code, 'MODEL_SET_UNKNOWN');
    assert.equal(analysis.stages.preprocess?.status, 'completed');
    assert.ok(analysis.image);
  });
});
