/**
 * OCR against the real PP-OCRv4 models and the shared fixtures.
 *
 * CER rules (character-error-rate.ts): case-sensitive, NFKC, lines trimmed with whitespace runs collapsed to one
 * space, an image's lines joined with "\n" in reading order (so missed, extra, split or misordered lines cost
 * edits and newlines count as reference characters); CER = total edits / total reference characters over every
 * image in images/text/truth.json. documents/page.png is compared the way expected.json asks: case-insensitive,
 * spaces ignored, each expected line against its best-matching read line.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Point } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import { releaseModels } from '../models/model-loader.ts';
import { createWorkerPool } from '../pool/worker-pool.ts';
import { sharp } from '../sharp-instance.ts';
import { readShared, sharedModelsDir, sharedPath } from '../testing/shared.ts';
import { characterErrorRate, countErrors, levenshtein } from './character-error-rate.ts';
import { decodeImage } from './decode-image.ts';
import { type OcrResult, type RecognizeTextOptions, recognizeText, recognizeTextHandler } from './recognize-text.ts';

const options: RecognizeTextOptions = { modelsDir: sharedModelsDir() };
const truth = JSON.parse(await readFile(sharedPath('images', 'text', 'truth.json'), 'utf8')) as Record<
  string,
  string[]
>;
const expected = JSON.parse(await readFile(sharedPath('images', 'expected.json'), 'utf8')) as Record<
  string,
  { text?: string[] }
>;

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function assertGeometry(result: OcrResult, width: number, height: number): void {
  for (const line of result.lines) {
    assert.equal(line.polygon.length, 4, `"${line.text}" has a 4-point polygon`);
    for (const p of line.polygon) {
      assert.ok(p.x >= 0 && p.x <= width && p.y >= 0 && p.y <= height, `"${line.text}" point ${p.x},${p.y} in bounds`);
    }
    const [tl, tr, br, bl] = line.polygon as [Point, Point, Point, Point];
    assert.ok(tl.x < tr.x && bl.x < br.x && tl.y < bl.y && tr.y < br.y, `"${line.text}" clockwise from top-left`);
    const { box, boxNormalized: n } = line;
    assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= width + 0.01 && box.y + box.height <= height + 0.01);
    assert.ok(Math.abs(n.left * width - box.x) < 0.01 && Math.abs(n.width * width - box.width) < 0.01);
    assert.ok(Math.abs(n.top * height - box.y) < 0.01 && Math.abs(n.height * height - box.height) < 0.01);
    assert.ok(line.confidence > 0 && line.confidence <= 1);
    assert.equal(line.words?.map((w) => w.text).join(' '), line.text.replace(/\s+/g, ' '), 'words make the line');
    for (const word of line.words ?? []) assert.equal(word.polygon.length, 4);
  }
  assert.equal(result.fullText, result.lines.map((l) => l.text).join('\n'));
}

describe('recognizeText (PP-OCRv4)', () => {
  const times: number[] = [];
  let page: OcrResult;
  let pageSize: { width: number; height: number };

  before(async () => {
    const bytes = readShared('images', 'documents', 'page.png');
    const image = await decodeImage(bytes);
    pageSize = { width: image.width, height: image.height };
    const started = performance.now();
    page = await recognizeText(image, options);
    times.push(performance.now() - started);
  });

  after(async () => {
    await releaseModels();
  });

  test('character error rate over images/text is at most 5%', async (t) => {
    const counts = [];
    const report: string[] = [];
    for (const [name, lines] of Object.entries(truth)) {
      const image = await decodeImage(readShared('images', 'text', name));
      const started = performance.now();
      const result = await recognizeText(image, options);
      times.push(performance.now() - started);
      assertGeometry(result, image.width, image.height);
      const count = countErrors(
        lines,
        result.lines.map((l) => l.text),
      );
      counts.push(count);
      if (count.edits > 0) {
        report.push(
          `${name}: CER ${((100 * count.edits) / count.referenceLength).toFixed(1)}% read ${JSON.stringify(result.fullText)}`,
        );
      }
    }
    const cer = characterErrorRate(counts);
    const edits = counts.reduce((sum, c) => sum + c.edits, 0);
    const characters = counts.reduce((sum, c) => sum + c.referenceLength, 0);
    t.diagnostic(`CER ${(cer * 100).toFixed(2)}% (${edits} edits / ${characters} reference characters)`);
    for (const line of report) t.diagnostic(line);
    t.diagnostic(
      `recognizeText on decoded pixels over ${times.length} images: median ${percentile(times, 0.5).toFixed(0)} ms, ` +
        `p95 ${percentile(times, 0.95).toFixed(0)} ms`,
    );
    assert.ok(cer <= 0.05, `CER ${(cer * 100).toFixed(2)}% > 5%:\n${report.join('\n')}`);
  });

  test('documents/page.png reads every line expected.json lists', () => {
    const squash = (text: string) => text.toLowerCase().replace(/\s+/g, '');
    const read = page.lines.map((l) => squash(l.text));
    for (const line of expected['documents/page.png']?.text ?? []) {
      const want = squash(line);
      const best = Math.min(...read.map((r) => levenshtein(want, r)));
      assert.ok(
        best / want.length <= 0.1,
        `"${line}" not read (best CER ${best / want.length}); read:\n${page.fullText}`,
      );
    }
  });

  test('page.png lines are in bounds, 4-point, top to bottom', () => {
    assertGeometry(page, pageSize.width, pageSize.height);
    assert.ok(page.lines.length >= 7);
    const centres = page.lines.map((l) => l.polygon.reduce((sum, p) => sum + p.y, 0) / 4);
    for (let i = 1; i < centres.length; i++) assert.ok(centres[i]! > centres[i - 1]!, `line ${i} below line ${i - 1}`);
    assert.equal(page.model.name, 'ppocr-v4-det+ppocr-v4-rec+ppocr-v2-cls', 'the angle classifier is on by default');
    assert.match(page.model.sha256, /^[0-9a-f]{64}$/);
  });

  test('encoded bytes and decoded pixels give the same result', async () => {
    const fromBytes = await recognizeText(readShared('images', 'documents', 'page.png'), options);
    assert.deepEqual(fromBytes.lines, page.lines);
  });

  test('a downscaled normalised image reports polygons in pixels of the original', async () => {
    const bytes = readShared('images', 'text', 'ocr_02.jpg');
    const full = await recognizeText(bytes, options);
    const { data, info } = await sharp(bytes).resize({ width: 504 }).raw().toBuffer({ resolveWithObject: true });
    const half = await recognizeText(
      { data, width: info.width, height: info.height, originalWidth: 1008, originalHeight: 344 },
      options,
    );
    assert.deepEqual(
      half.lines.map((l) => l.text),
      full.lines.map((l) => l.text),
    );
    half.lines.forEach((line, i) => {
      line.polygon.forEach((p, k) => {
        const q = full.lines[i]!.polygon[k]!;
        // Detection at half the resolution moves corners a little; unscaled ones would be off by half the image.
        const off = Math.hypot(p.x - q.x, p.y - q.y);
        assert.ok(off < 0.03 * 1008, `corner ${k} of line ${i}: ${p.x},${p.y} vs ${q.x},${q.y}`);
      });
    });
  });

  test('the angle classifier turns upside-down lines', async () => {
    const upsideDown = await sharp(readShared('images', 'text', 'ocr_02.jpg'))
      .rotate(180)
      .png()
      .toBuffer();
    const turned = await recognizeText(upsideDown, options);
    assert.deepEqual(
      turned.lines.map((l) => l.text),
      truth['ocr_02.jpg'],
      "read, and in the upright page's reading order",
    );
    assert.equal(turned.orientation, 180);
    assert.equal(turned.model.name, 'ppocr-v4-det+ppocr-v4-rec+ppocr-v2-cls');
    const plain = await recognizeText(upsideDown, { ...options, angleClassifier: false });
    assert.equal(plain.model.name, 'ppocr-v4-det+ppocr-v4-rec');
    assert.ok(!plain.lines.some((l) => l.text === 'Welcome to Lisbon'), 'without it the lines are not read');
  });

  test('an image without text gives no lines', async () => {
    const blank = await sharp({ create: { width: 320, height: 200, channels: 3, background: '#f4f1e8' } })
      .png()
      .toBuffer();
    const result = await recognizeText(blank, options);
    assert.deepEqual(result.lines, []);
    assert.equal(result.fullText, '');
  });

  test('undecodable bytes fail with an image error code', async () => {
    await assert.rejects(recognizeText(readShared('images', 'broken', 'truncated.jpg'), options), (error: unknown) => {
      assert.ok(error instanceof ImgpipeError);
      assert.match(error.code, /^IMAGE_/);
      return true;
    });
    await assert.rejects(recognizeText(new Uint8Array(0), options), { code: 'IMAGE_EMPTY' });
  });

  test('the handler gives the same result on a worker thread', async () => {
    const pool = createWorkerPool({ size: 1 });
    try {
      const image = await decodeImage(readShared('images', 'text', 'ocr_05.jpg'));
      const there = await pool.run(recognizeTextHandler, image, options);
      const here = await recognizeText(image, options);
      assert.deepEqual(there.lines, here.lines);
      assert.deepEqual(there.model, here.model);
    } finally {
      await pool.close();
    }
  });
});
