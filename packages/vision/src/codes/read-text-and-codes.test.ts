/**
 * The OCR stage's call on the worker pool: a generated label (known text) and a QR code (bwip-js) on one photo,
 * read in one worker call; the same call with codes off leaves `codes` out.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import bwipjs from 'bwip-js';
import { loadVisionConfig } from '../config.ts';
import { releaseModels } from '../models/model-loader.ts';
import { labelSvg } from '../ocr/synthetic-text.ts';
import { preprocess } from '../preprocess/preprocess.ts';
import { sharp } from '../sharp-instance.ts';
import { readShared, sharedModelsDir } from '../testing/shared.ts';
import { createVision } from '../vision.ts';
import { readTextAndCodes, readTextAndCodesHandler } from './read-text-and-codes.ts';
import { zxingReader } from './zxing-reader.ts';

after(releaseModels);

describe('readTextAndCodes on the worker pool', () => {
  test('text and codes from one call; codes: false reads the text alone', async () => {
    const lines = ['Scan to pay', 'Table 12'];
    const qrText = 'https://example.org/pay/table-12';
    const qr = await bwipjs.toBuffer({
      bcid: 'qrcode',
      text: qrText,
      scale: 4,
      backgroundcolor: 'FFFFFF',
      padding: 12,
    });
    const bytes = await sharp(readShared('images', 'photos', 'kite.jpg'))
      .resize(1200, 900, { fit: 'cover' })
      .composite([
        { input: labelSvg(lines, 40).svg, left: 120, top: 120 },
        { input: qr, left: 700, top: 380 },
      ])
      .jpeg({ quality: 92 })
      .toBuffer();
    const vision = createVision({ config: loadVisionConfig({ IMGPIPE_MODELS_DIR: sharedModelsDir() }), workers: 1 });
    try {
      const { derivatives } = await vision.preprocess(bytes);
      const both = await vision.run(readTextAndCodesHandler, derivatives.normalized, vision.options.models);
      assert.deepEqual(
        both.lines.map((line) => line.text),
        lines,
      );
      assert.deepEqual(
        both.codes?.map((code) => [code.format, code.text]),
        [['QRCode', qrText]],
      );
      assert.equal(both.codesReader?.name, 'zxing-wasm-reader');
      assert.ok(both.timings.codesMs > 0);

      const textOnly = await vision.run(readTextAndCodesHandler, derivatives.normalized, {
        ...vision.options.models,
        codes: false,
      });
      assert.deepEqual(
        textOnly.lines.map((line) => line.text),
        lines,
      );
      assert.ok(!Object.hasOwn(textOnly, 'codes'));
      assert.equal(textOnly.timings.codesMs, 0);
    } finally {
      await vision.close();
    }
  });

  test('a code reader that fails leaves the text standing: no codes (not looked), the reason in codesError', async (t) => {
    const lines = ['Scan to pay', 'Table 12'];
    const bytes = await sharp(readShared('images', 'photos', 'kite.jpg'))
      .resize(800, 600, { fit: 'cover' })
      .composite([{ input: labelSvg(lines, 40).svg, left: 80, top: 80 }])
      .png()
      .toBuffer();
    // This thread's real reader, made to fail as the wasm once did in a bench run (it threw a non-Error value).
    const reader = await zxingReader();
    t.mock.method(reader, 'readBarcodes', async () => {
      throw undefined;
    });
    const { derivatives } = await preprocess(bytes);
    const result = await readTextAndCodes(derivatives.normalized, { modelsDir: sharedModelsDir() });
    assert.deepEqual(
      result.lines.map((line) => line.text),
      lines,
    );
    assert.ok(!Object.hasOwn(result, 'codes'), 'codes absent: not looked, never an empty list');
    assert.equal(result.codesError, 'zxing failed: threw undefined undefined');
    assert.equal(result.timings.codesMs, 0);
    // The failed reader was dropped: the next call gets a fresh one, which reads (no codes in this image).
    const next = await readTextAndCodes(derivatives.normalized, { modelsDir: sharedModelsDir() });
    assert.deepEqual(next.codes, []);
    assert.equal(next.codesError, undefined);
  });
});
