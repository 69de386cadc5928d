/**
 * `imgpipe analyze` as a user runs it: the CLI over the shared fixtures, no services, checked against
 * ../shared/images/expected.json, plus bad input that must fail with a stable code and never crash.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import type { ImageAnalysis } from '@imgpipe/contracts';
import { decodeFeatureImage, detectKeypoints } from '@imgpipe/vision/features';
import { corruptPng, pixelBombPng } from '../../packages/vision/src/testing/png-fixtures.ts';
import { keypointMarks } from '../support/keypoint-marks.ts';
import { sharedPath } from '../support/shared.ts';

const IMGPIPE = fileURLToPath(new URL('../../apps/cli/bin/imgpipe.js', import.meta.url));

interface Outcome {
  code: number;
  results: (ImageAnalysis & { file: string; error?: { code: string; message: string } })[];
  stderr: string;
}

function analyze(...args: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [IMGPIPE, 'analyze', '--json', ...args],
      { env: { ...process.env, IMGPIPE_MODELS_DIR: sharedPath('models') }, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        if (code !== 0 && code !== 1) return reject(new Error(`analyze exited ${code}: ${stderr}`));
        const results = stdout
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line));
        resolve({ code, results, stderr });
      },
    );
  });
}

/** Case-insensitive, spaces ignored; `tolerance` character edits allowed, as expected.json says. */
function readsLine(fullText: string, expected: string, tolerance: number): boolean {
  const squash = (text: string) => text.toLowerCase().replace(/\s+/g, '');
  const want = squash(expected);
  return fullText.split('\n').some((line) => editDistance(squash(line), want) <= tolerance);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

describe('imgpipe analyze', () => {
  test('finds everything listed in ../shared/images/expected.json', async () => {
    const expected = JSON.parse(readFileSync(sharedPath('images', 'expected.json'), 'utf8')) as Record<
      string,
      { objects?: string[]; faces?: number; text?: string[]; error?: string }
    >;
    const entries = Object.entries(expected).filter(([key]) => key !== 'about');
    const outcome = await analyze(...entries.map(([file]) => sharedPath('images', file)));
    assert.equal(outcome.code, 1, 'a non-zero exit: the broken JPEG failed');
    const byFile = new Map(outcome.results.map((result) => [result.file, result]));
    for (const [file, wants] of entries) {
      const result = byFile.get(sharedPath('images', file));
      assert.ok(result, `${file} has a result line`);
      if (wants.error) {
        assert.equal(result.status, 'failed', `${file} failed`);
        assert.match(result.stages.preprocess.error?.code ?? '', /^IMAGE_(TRUNCATED|CORRUPT)$/);
        assert.ok(outcome.stderr.includes(file.split('/').pop()!), 'the failure is named on stderr with its code');
        continue;
      }
      assert.equal(result.status, 'completed', `${file} completed`);
      const labels = new Set(result.labels.map((label) => label.label));
      for (const object of wants.objects ?? []) {
        assert.ok(
          object.split('|').some((name) => labels.has(name)),
          `${file}: found ${object} (labels: ${[...labels].join(', ')})`,
        );
      }
      if (wants.faces !== undefined) assert.equal(result.faces.length, wants.faces, `${file}: ${wants.faces} face(s)`);
      for (const line of wants.text ?? []) {
        assert.ok(
          readsLine(result.text.fullText, line, 3),
          `${file}: reads "${line}"\n--- got:\n${result.text.fullText}`,
        );
      }
      for (const stage of ['detect', 'faces', 'ocr'] as const) {
        const model = result.stages[stage].model;
        assert.ok(
          model?.name && model.version && /^[0-9a-f]{64}$/.test(model.sha256),
          `${file}: ${stage} names its model`,
        );
      }
    }
  });

  test('bad input fails with a stable code and a clear message, never a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imgpipe-bad-'));
    const write = (name: string, bytes: Uint8Array | string) => {
      writeFileSync(join(dir, name), bytes);
      return join(dir, name);
    };
    const cases: [file: string, code: string][] = [
      [sharedPath('images', 'broken', 'truncated.jpg'), 'IMAGE_TRUNCATED'],
      [write('empty.jpg', new Uint8Array()), 'IMAGE_EMPTY'],
      [write('notes.jpg', 'these are my notes, not a photo\n'), 'IMAGE_UNSUPPORTED_FORMAT'],
      [write('bomb.png', pixelBombPng(30_000, 30_000)), 'IMAGE_TOO_MANY_PIXELS'],
      [write('drawing.bmp', Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)])), 'IMAGE_UNSUPPORTED_FORMAT'],
      [write('corrupt.png', corruptPng()), 'IMAGE_CORRUPT'],
    ];
    const good = sharedPath('images', 'photos', 'dog.jpg');
    const outcome = await analyze('--analyses', 'detect', ...cases.map(([file]) => file), good);
    assert.equal(outcome.code, 1);
    const byFile = new Map(outcome.results.map((result) => [result.file, result]));
    for (const [file, code] of cases) {
      const result = byFile.get(file);
      assert.ok(result, `${file} has a result`);
      assert.equal(result.status, 'failed');
      assert.equal(result.stages.preprocess.error?.code, code, `${file}: ${result.stages.preprocess.error?.message}`);
      assert.ok((result.stages.preprocess.error?.message.length ?? 0) > 10, 'the message explains');
      assert.ok(outcome.stderr.includes(`${file}: ${code}`), `stderr names ${file} and ${code}`);
    }
    assert.equal(byFile.get(good)?.status, 'completed', 'a good image in the same batch still completes');
  });

  test('--analyses features runs the features stage in-process: the keypoints the module finds, no model analysis', async () => {
    const file = sharedPath('images', 'photos', 'eagle.jpg');
    const dir = mkdtempSync(join(tmpdir(), 'imgpipe-analyze-features-'));
    const outcome = await analyze('--analyses', 'features', '--workers', '1', '--annotate', dir, file);
    assert.equal(outcome.code, 0, outcome.stderr);
    const [result] = outcome.results;
    assert.equal(result?.status, 'completed');
    assert.equal(result.featuresStage?.status, 'completed');
    assert.deepEqual(
      [result.stages.detect.status, result.stages.faces.status, result.stages.ocr.status],
      ['skipped', 'skipped', 'skipped'],
    );
    // The deployment's defaults (SIFT, long side <= 1280), computed here on the same bytes.
    const expected = await detectKeypoints(await decodeFeatureImage(readFileSync(file), { maxSide: 1280 }), {
      detector: 'sift',
    });
    assert.equal(result.features?.count, expected.keypoints.length);
    assert.deepEqual(
      result.features?.keypoints.map((k) => [k.x, k.y]),
      expected.keypoints.slice(0, 50).map((k) => [k.x, k.y]),
    );
    // --annotate draws those keypoints: each one's circle is where OpenCV's drawKeypoints puts it.
    const space = { width: result.features!.width };
    const marks = await keypointMarks(readFileSync(join(dir, 'eagle.annotated.png')), space);
    const unmarked = result.features!.keypoints.filter((k) => !marks.marked(k));
    assert.deepEqual(unmarked, [], 'every keypoint of the result is drawn');
    const photo = await keypointMarks(readFileSync(file), space);
    assert.deepEqual(
      result.features!.keypoints.filter((k) => photo.marked(k)),
      [],
      'the photo itself is not magenta there',
    );
    rmSync(dir, { recursive: true, force: true });
  });
});
