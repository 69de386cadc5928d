/**
 * `imgpipe features` as a user runs it: JSON lines per image, the stored form written with --out, bad images
 * reported with their code (exit 1) and bad options refused as usage errors (exit 2).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeFeatures } from '@imgpipe/vision/features';

const IMGPIPE = fileURLToPath(new URL('../../bin/imgpipe.js', import.meta.url));
const shared = (...parts: string[]) =>
  join(
    process.env['IMGPIPE_SHARED_DIR'] ?? fileURLToPath(new URL('../../../../../shared/', import.meta.url)),
    ...parts,
  );

function features(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [IMGPIPE, 'features', ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

describe('imgpipe features', () => {
  test('prints one JSON line per image, writes the stored form, and reports a broken image with its code', async () => {
    const out = mkdtempSync(join(tmpdir(), 'imgpipe-features-'));
    const chelsea = shared('images', 'photos', 'chelsea.png');
    const broken = shared('images', 'broken', 'truncated.jpg');
    const run = await features('--detector', 'orb', '--json', '--workers', '1', '--out', out, chelsea, broken);
    assert.equal(run.code, 1, run.stderr);
    const [good, bad] = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(good.file, chelsea);
    assert.equal(good.detector, 'orb');
    assert.equal(good.count, 492, "OpenCV's ORB finds 492 keypoints in this image (fixture chelsea.json)");
    assert.equal(good.keypoints.length, 492);
    assert.deepEqual([good.width, good.height], [451, 300]);
    assert.equal(bad.error.code, 'IMAGE_TRUNCATED');
    assert.match(run.stderr, /truncated\.jpg: IMAGE_TRUNCATED/);
    const stored = decodeFeatures(new Uint8Array(readFileSync(join(out, 'chelsea.orb.ipkf'))));
    assert.equal(stored.keypoints.length, 492);
    assert.equal(stored.keypoints[0]!.x, good.keypoints[0].x);
  });

  test('refuses unknown detectors and parameters out of range as usage errors', async () => {
    const image = shared('images', 'photos', 'chelsea.png');
    const surf = await features('--detector', 'surf', image);
    assert.equal(surf.code, 2);
    assert.match(surf.stderr, /unknown detector 'surf'/);
    const negative = await features('--param', 'nfeatures=-1', image);
    assert.equal(negative.code, 2);
    assert.match(negative.stderr, /nfeatures must be a whole number >= 0/);
  });
});
