/**
 * `imgpipe match` as a user runs it: a photo against a copy of itself rotated 30°, scaled 0.6 and saved at JPEG
 * quality 40 (made here with sharp): A's corners projected by the printed homography land within 3 px of where
 * the transformation (computed here from the rotation and scale) puts them; the picture is written as JPEG; bad
 * input exits with its code.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

const IMGPIPE = fileURLToPath(new URL('../../bin/imgpipe.js', import.meta.url));
const shared = (...parts: string[]) =>
  join(
    process.env['IMGPIPE_SHARED_DIR'] ?? fileURLToPath(new URL('../../../../../shared/', import.meta.url)),
    ...parts,
  );

function match(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [IMGPIPE, 'match', ...args],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

interface Point {
  x: number;
  y: number;
}

describe('imgpipe match', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imgpipe-match-'));
  const photo = shared('images', 'coco', '000000001532.jpg');

  test('recovers a rotation by 30°, scaling by 0.6 and JPEG quality 40; writes the picture', async () => {
    const source = await sharp(photo).metadata();
    const rotated = await sharp(photo).rotate(30, { background: '#000' }).png().toBuffer({ resolveWithObject: true });
    const width = Math.round(rotated.info.width * 0.6);
    const height = Math.round(rotated.info.height * 0.6);
    const copy = join(dir, 'copy.jpg');
    writeFileSync(
      copy,
      await sharp(rotated.data).resize({ width, height, fit: 'fill' }).jpeg({ quality: 40 }).toBuffer(),
    );
    const theta = Math.PI / 6;
    const truth = (p: Point): Point => {
      const x = p.x + 0.5 - source.width / 2;
      const y = p.y + 0.5 - source.height / 2;
      const rx = Math.cos(theta) * x - Math.sin(theta) * y + rotated.info.width / 2;
      const ry = Math.sin(theta) * x + Math.cos(theta) * y + rotated.info.height / 2;
      return { x: (rx * width) / rotated.info.width - 0.5, y: (ry * height) / rotated.info.height - 0.5 };
    };
    const picture = join(dir, 'picture.jpg');
    const run = await match(photo, copy, '--json', '--ratio', '0.8', '--out', picture);
    assert.equal(run.code, 0, run.stderr);
    const body = JSON.parse(run.stdout) as {
      matched: boolean;
      inliers: number;
      matches: number;
      homography: number[];
      corners: Point[];
    };
    assert.ok(body.matched, `${body.inliers} inliers of ${body.matches}`);
    const h = body.homography;
    const corners = [
      { x: 0, y: 0 },
      { x: source.width - 1, y: 0 },
      { x: source.width - 1, y: source.height - 1 },
      { x: 0, y: source.height - 1 },
    ];
    corners.forEach((corner, i) => {
      const w = h[6]! * corner.x + h[7]! * corner.y + h[8]!;
      const got = {
        x: (h[0]! * corner.x + h[1]! * corner.y + h[2]!) / w,
        y: (h[3]! * corner.x + h[4]! * corner.y + h[5]!) / w,
      };
      const want = truth(corner);
      const error = Math.hypot(got.x - want.x, got.y - want.y);
      assert.ok(error <= 3, `corner (${corner.x}, ${corner.y}) lands ${error.toFixed(2)} px from the truth`);
      assert.ok(Math.hypot(body.corners[i]!.x - got.x, body.corners[i]!.y - got.y) < 0.01);
    });
    const meta = await sharp(readFileSync(picture)).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.equal(meta.height, Math.max(source.height, height));
  });

  test('bad input: one image or an unknown detector is a usage error (2); a pixel bomb exits 1 with its code', async () => {
    assert.equal((await match(photo)).code, 2);
    assert.equal((await match('--detector', 'surf', photo, photo)).code, 2);
    assert.equal((await match('--ratio', '0', photo, photo)).code, 2);
    const png = Buffer.from(
      await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } })
        .png()
        .toBuffer(),
    );
    png.writeUInt32BE(30_000, 16);
    png.writeUInt32BE(30_000, 20);
    png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
    const bomb = join(dir, 'bomb.png');
    writeFileSync(bomb, png);
    const run = await match(photo, bomb);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /IMAGE_TOO_MANY_PIXELS/);
  });
});
