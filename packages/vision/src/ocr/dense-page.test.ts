/**
 * Dense pages: long lines set close together (synthetic-text.ts's densePage, an A4 page at 150 dpi, line pitch
 * 1.3 x the font), read as the pipeline reads them (the normalised copy, lines cut from the original); and how
 * lines are grouped into recogniser runs.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { releaseModels } from '../models/model-loader.ts';
import { preprocess } from '../preprocess/preprocess.ts';
import { sharedModelsDir } from '../testing/shared.ts';
import { characterErrorRate, countErrors } from './character-error-rate.ts';
import { DEFAULT_OCR_TUNING, recognizerBatches, recognizeText } from './recognize-text.ts';
import { densePage } from './synthetic-text.ts';

describe('recognizerBatches', () => {
  const tuning = {
    recBatchSize: DEFAULT_OCR_TUNING.recBatchSize,
    recBatchColumns: DEFAULT_OCR_TUNING.recBatchColumns,
    recMinWidth: DEFAULT_OCR_TUNING.recMinWidth,
  };
  /** Lines of these recogniser widths (48 px high), in the order given (callers sort them by aspect). */
  const lines = (...widths: number[]) => widths.map((w) => ({ cropWidth: w, cropHeight: 48 }));

  test('short lines fill a batch up to its line limit', () => {
    const batches = recognizerBatches(lines(100, 120, 150, 200, 250, 300, 310, 320), tuning);
    assert.deepEqual(
      batches.map((b) => b.length),
      [6, 2],
    );
  });

  test('wider lines share a batch only while its padded tensor stays within the column budget', () => {
    // 1920 columns: three of 640, two of 960, one of 1280 or more.
    const batches = recognizerBatches(lines(600, 640, 640, 640, 900, 960, 1300, 2500), tuning);
    assert.deepEqual(
      batches.map((b) => b.map((l) => l.cropWidth)),
      [[600, 640, 640], [640, 900], [960], [1300], [2500]],
    );
    for (const batch of batches) {
      const padded = batch.length * Math.max(tuning.recMinWidth, ...batch.map((l) => l.cropWidth));
      assert.ok(batch.length === 1 || padded <= tuning.recBatchColumns, `${padded} columns in a batch`);
    }
  });

  test('every line is in exactly one batch, in order', () => {
    const input = lines(50, 700, 700, 700, 700, 3000, 3000);
    assert.deepEqual(recognizerBatches(input, tuning).flat(), input);
    assert.deepEqual(recognizerBatches([], tuning), []);
  });
});

describe('OCR of dense pages', () => {
  after(async () => {
    await releaseModels();
  });

  // PP-OCRv4 (the default set) once read 19 of this page's 50 lines (CER 84%): the angle classifier saw each long
  // line squeezed into 192 columns and called most of them upside down.
  for (const columns of [1, 2] as const) {
    test(`a ${columns}-column page of 24-px lines at 1.3 x pitch is read line for line`, async (t) => {
      const page = await densePage({ width: 1240, height: 1754, fontSize: 24, columns, seed: 100 * columns + 24 });
      const { normalized } = (await preprocess(page.bytes)).derivatives;
      const result = await recognizeText({ ...normalized, source: page.bytes }, { modelsDir: sharedModelsDir() });
      const read = result.lines.map((l) => l.text);
      const cer = characterErrorRate([countErrors(page.lines, read)]);
      t.diagnostic(`${read.length} of ${page.lines.length} lines, CER ${(cer * 100).toFixed(2)}%`);
      assert.equal(read.length, page.lines.length);
      assert.ok(cer <= 0.01, `CER ${(cer * 100).toFixed(2)}%:\n${read.join('\n')}`);
      assert.equal(result.orientation, 0);
    });
  }
});
