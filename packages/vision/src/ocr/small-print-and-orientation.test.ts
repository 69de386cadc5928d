/**
 * Small print in large images and text at any quarter turn, on generated images with known text (synthetic-text.ts):
 * a 3-line label rendered with librsvg onto a shared photo. Truth is the rendered strings; CER as in
 * character-error-rate.ts. Each test also reads the image the old way (no original pixels, no angle classifier) and
 * prints both CERs, so a regression in either direction shows.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Point } from '@imgpipe/contracts';
import { releaseModels } from '../models/model-loader.ts';
import { preprocess } from '../preprocess/preprocess.ts';
import { readShared, sharedModelsDir } from '../testing/shared.ts';
import { characterErrorRate, countErrors } from './character-error-rate.ts';
import { type OcrResult, type RecognizeTextOptions, recognizeText } from './recognize-text.ts';
import { labelOnPhoto, labelSvg, turned } from './synthetic-text.ts';

const options: RecognizeTextOptions = { modelsDir: sharedModelsDir() };
const LINES = ['Invoice 2024-0173 due 12 March', 'Total EUR 1,284.50 paid by card', 'Ref QX-77 Hamburg Nord'];

function cer(result: OcrResult): number {
  return characterErrorRate([
    countErrors(
      LINES,
      result.lines.map((l) => l.text),
    ),
  ]);
}

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

/** Every corner of every line lies inside the rectangle, give or take `slack` pixels. */
function assertInside(result: OcrResult, rect: { x1: number; y1: number; x2: number; y2: number }, slack: number) {
  for (const line of result.lines) {
    for (const p of line.polygon) {
      assert.ok(
        p.x >= rect.x1 - slack && p.x <= rect.x2 + slack && p.y >= rect.y1 - slack && p.y <= rect.y2 + slack,
        `"${line.text}" corner ${p.x},${p.y} outside the label ${JSON.stringify(rect)}`,
      );
    }
  }
}

/** Where an upright point lands when a width x height image is turned clockwise by `degrees`. */
function turnPoint(p: Point, degrees: 0 | 90 | 180 | 270, width: number, height: number): Point {
  if (degrees === 90) return { x: height - p.y, y: p.x };
  if (degrees === 180) return { x: width - p.x, y: height - p.y };
  if (degrees === 270) return { x: p.y, y: width - p.x };
  return p;
}

describe('OCR of small print in large images and of turned text', () => {
  after(async () => {
    await releaseModels();
  });

  test('a 22-px label on a 3000 x 2250 photo is read from the original pixels', async (t) => {
    const label = { lines: LINES, fontSize: 22, left: 1700, top: 1500 };
    const bytes = await labelOnPhoto(
      readShared('images', 'photos', 'giraffe.jpg'),
      { width: 3000, height: 2250 },
      label,
    );
    // What the pipeline does: preprocess caps the model input, OCR reads that plus (now) the original's bytes.
    const { normalized } = (await preprocess(bytes)).derivatives;
    assert.ok(normalized.width < 3000 / 2, 'the normalised copy is much smaller than the original');
    const before = await recognizeText(normalized, { ...options, angleClassifier: false });
    const started = performance.now();
    const now = await recognizeText({ ...normalized, source: bytes }, options);
    const ms = performance.now() - started;
    t.diagnostic(
      `CER before ${percent(cer(before))} (1280-px copy), after ${percent(cer(now))} (original's pixels); ` +
        `${ms.toFixed(0)} ms, of which decoding the original ${now.timings.sourceMs.toFixed(0)} ms`,
    );
    t.diagnostic(`read: ${JSON.stringify(now.fullText)}`);
    assert.ok(cer(now) <= 0.01, `CER ${percent(cer(now))}: ${now.fullText}`);
    assert.ok(now.timings.sourceMs > 0);
    assert.equal(now.orientation, 0);
    const { width, height } = labelSvg(LINES, 22);
    assertInside(now, { x1: label.left, y1: label.top, x2: label.left + width, y2: label.top + height }, 4);
  });

  test('the original is not decoded when every line is tall enough in the copy', async () => {
    const sign = ['Platform 4', 'Exit Nord'];
    const bytes = await labelOnPhoto(
      readShared('images', 'photos', 'giraffe.jpg'),
      { width: 3000, height: 2250 },
      { lines: sign, fontSize: 150, left: 600, top: 700 },
    );
    const { normalized } = (await preprocess(bytes)).derivatives;
    // Bytes that cannot be decoded: reading them would throw, so passing proves the original was left alone.
    const result = await recognizeText({ ...normalized, source: new Uint8Array([1, 2, 3]) }, options);
    assert.deepEqual(
      result.lines.map((l) => l.text),
      sign,
    );
    assert.equal(result.timings.sourceMs < 5, true);
  });

  for (const degrees of [90, 180, 270] as const) {
    test(`a text block turned ${degrees} degrees is read, with polygons in the turned image`, async (t) => {
      const size = { width: 1200, height: 900 };
      const label = { lines: LINES, fontSize: 28, left: 200, top: 300 };
      const upright = await labelOnPhoto(readShared('images', 'photos', 'horses.jpg'), size, label);
      const bytes = await turned(upright, degrees);
      const before = await recognizeText(bytes, { ...options, angleClassifier: false });
      const now = await recognizeText(bytes, options);
      t.diagnostic(`CER before ${percent(cer(before))} (no classifier), after ${percent(cer(now))}`);
      assert.ok(cer(now) <= 0.01, `CER ${percent(cer(now))}: ${JSON.stringify(now.fullText)}`);
      assert.equal(now.orientation, degrees);
      const { width, height } = labelSvg(LINES, 28);
      const corners = [
        { x: label.left, y: label.top },
        { x: label.left + width, y: label.top + height },
      ].map((p) => turnPoint(p, degrees, size.width, size.height));
      const rect = {
        x1: Math.min(corners[0]!.x, corners[1]!.x),
        y1: Math.min(corners[0]!.y, corners[1]!.y),
        x2: Math.max(corners[0]!.x, corners[1]!.x),
        y2: Math.max(corners[0]!.y, corners[1]!.y),
      };
      assertInside(now, rect, 4);
    });
  }
});
