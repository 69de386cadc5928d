/**
 * `imgpipe analyze --analyses ocr` on generated images with known text: small print on a large photo must be read
 * through the whole pipeline (the OCR stage fetches the original and reads the lines from its pixels), and a page
 * turned upside down must be read in its upright order with `text.orientation` 180.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import type { ImageAnalysis } from '@imgpipe/contracts';
import { labelOnPhoto, turned } from '../../packages/vision/src/ocr/synthetic-text.ts';
import { sharedPath } from '../support/shared.ts';

const IMGPIPE = fileURLToPath(new URL('../../apps/cli/bin/imgpipe.js', import.meta.url));
const LINES = ['Invoice 2024-0173 due 12 March', 'Total EUR 1,284.50 paid by card', 'Ref QX-77 Hamburg Nord'];

function analyzeOcr(file: string): Promise<ImageAnalysis> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [IMGPIPE, 'analyze', '--json', '--analyses', 'ocr', file],
      { env: { ...process.env, IMGPIPE_MODELS_DIR: sharedPath('models') }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`analyze failed: ${error.message}\n${stderr}`));
        resolve(JSON.parse(stdout.trim().split('\n')[0]!) as ImageAnalysis);
      },
    );
  });
}

describe('imgpipe analyze: OCR of small print and turned pages', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imgpipe-ocr-'));
  const photo = readFileSync(sharedPath('images', 'photos', 'giraffe.jpg'));

  test('a 22-px label on a 3000 x 2250 photo is read line for line, polygons in the original', async () => {
    const file = join(dir, 'label.jpg');
    const label = { lines: LINES, fontSize: 22, left: 1700, top: 1500 };
    writeFileSync(file, await labelOnPhoto(photo, { width: 3000, height: 2250 }, label));
    const result = await analyzeOcr(file);
    assert.equal(result.stages.ocr.status, 'completed');
    assert.deepEqual(
      result.text.lines.map((l) => l.text),
      LINES,
    );
    assert.equal(result.text.orientation, 0);
    for (const line of result.text.lines) {
      assert.ok(
        line.box.x >= label.left - 4 && line.box.y >= label.top - 4,
        `${line.text} at ${line.box.x},${line.box.y}`,
      );
    }
  });

  test('a page turned 180 degrees is read in upright order and says so', async () => {
    const file = join(dir, 'upside-down.png');
    const upright = await labelOnPhoto(
      photo,
      { width: 1200, height: 900 },
      { lines: LINES, fontSize: 28, left: 200, top: 300 },
    );
    writeFileSync(file, await turned(upright, 180));
    const result = await analyzeOcr(file);
    assert.deepEqual(
      result.text.lines.map((l) => l.text),
      LINES,
    );
    assert.equal(result.text.orientation, 180);
  });
});
