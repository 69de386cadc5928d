/**
 * `imgpipe transform` as a user runs it: the CLI over the shared photos, no services. Outputs are checked from the
 * files written (format by magic bytes, size decoded), failures by exit code and the code on stderr, and a faces
 * crop against the face box the vision models find in the photo.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createVision } from '@imgpipe/vision';
import sharp from 'sharp';
import { pixelBombPng } from '../../packages/imaging/src/testing/images.ts';
import { sharedPath } from '../support/shared.ts';

const IMGPIPE = fileURLToPath(new URL('../../apps/cli/bin/imgpipe.js', import.meta.url));
const PHOTOS = sharedPath('images', 'photos');

interface Outcome {
  code: number;
  lines: Record<string, unknown>[];
  stderr: string;
}

function transform(...args: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [IMGPIPE, 'transform', '--json', ...args],
      { env: { ...process.env, IMGPIPE_MODELS_DIR: sharedPath('models') }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        if (![0, 1, 2].includes(code)) return reject(new Error(`transform exited ${code}: ${stderr}`));
        const lines = stdout
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        resolve({ code, lines, stderr });
      },
    );
  });
}

const scratch = () => mkdtempSync(join(tmpdir(), 'imgpipe-transform-'));

describe('imgpipe transform', () => {
  test('a folder of photos: each written as asked, in the order given', async () => {
    const out = scratch();
    const { code, lines, stderr } = await transform(
      PHOTOS,
      '--recipe',
      'resize:320x240:cover/sharpen/format:webp:75',
      '--out',
      out,
    );
    assert.equal(code, 0, stderr);
    const photos = readdirSync(PHOTOS)
      .filter((name) => /\.(jpe?g|png)$/.test(name))
      .sort();
    assert.deepEqual(
      lines.map((line) => line['file']),
      photos.map((name) => join(PHOTOS, name)),
    );
    for (const line of lines) {
      const bytes = readFileSync(line['output'] as string);
      assert.equal(bytes.subarray(8, 12).toString('latin1'), 'WEBP');
      const { width, height } = await sharp(bytes).metadata();
      assert.deepEqual([width, height, line['width'], line['height']], [320, 240, 320, 240]);
    }
  });

  test('a JSON recipe from a file, BMP out', async () => {
    const out = scratch();
    const recipe = join(out, 'recipe.json');
    writeFileSync(
      recipe,
      JSON.stringify({
        ops: [
          { op: 'resize', width: 99 },
          { op: 'format', format: 'bmp' },
        ],
      }),
    );
    const { code, lines } = await transform(join(PHOTOS, 'dog.jpg'), '--recipe', `@${recipe}`, '--out', out);
    assert.equal(code, 0);
    const bytes = readFileSync(lines[0]!['output'] as string);
    assert.equal(bytes.subarray(0, 2).toString('latin1'), 'BM');
    assert.deepEqual([bytes.readInt32LE(18), bytes.readInt32LE(22)], [99, 74]);
  });

  test('malformed recipes: exit 2 with the code, nothing written', async () => {
    for (const [recipe, code] of [
      ['resize:800x600:squash', 'RECIPE_INVALID_ARGUMENT'],
      ['explode', 'RECIPE_UNKNOWN_OPERATION'],
      ['{"ops": [', 'RECIPE_INVALID'],
      [Array.from({ length: 26 }, () => 'negate').join('/'), 'RECIPE_TOO_MANY_OPERATIONS'],
      ['median:99', 'RECIPE_KERNEL_TOO_LARGE'],
    ]) {
      const out = scratch();
      const outcome = await transform(join(PHOTOS, 'dog.jpg'), '--recipe', recipe!, '--out', out);
      assert.equal(outcome.code, 2, `${recipe}: ${outcome.stderr}`);
      assert.match(outcome.stderr, new RegExp(code!));
      assert.deepEqual(readdirSync(out), []);
    }
  });

  test('bad images: exit 1, each with its code; the good ones still written', async () => {
    const out = scratch();
    const inputs = scratch();
    writeFileSync(join(inputs, 'empty.png'), Buffer.alloc(0));
    writeFileSync(join(inputs, 'bomb.png'), pixelBombPng());
    writeFileSync(join(inputs, 'text.jpg'), 'not an image');
    const { code, lines, stderr } = await transform(
      join(inputs, 'bomb.png'),
      join(inputs, 'empty.png'),
      sharedPath('images', 'broken', 'truncated.jpg'),
      join(inputs, 'text.jpg'),
      join(PHOTOS, 'dog.jpg'),
      '--recipe',
      'resize:100x',
      '--out',
      out,
    );
    assert.equal(code, 1);
    const codes = lines.map((line) => (line['error'] as { code?: string } | undefined)?.code ?? 'ok');
    assert.deepEqual(codes, [
      'IMAGE_TOO_MANY_PIXELS',
      'IMAGE_EMPTY',
      'IMAGE_TRUNCATED',
      'IMAGE_UNSUPPORTED_FORMAT',
      'ok',
    ]);
    for (const name of ['IMAGE_TOO_MANY_PIXELS', 'IMAGE_EMPTY', 'IMAGE_TRUNCATED'])
      assert.match(stderr, new RegExp(name));
    assert.deepEqual(readdirSync(out), ['dog.jpg']);
  });

  test('crop:faces: the crop contains the face the models find', async () => {
    const out = scratch();
    const astronaut = join(PHOTOS, 'astronaut.png');
    const { code, lines, stderr } = await transform(astronaut, '--recipe', 'crop:faces:0.1/format:png', '--out', out);
    assert.equal(code, 0, stderr);
    const crop = await sharp(readFileSync(lines[0]!['output'] as string))
      .raw()
      .toBuffer({ resolveWithObject: true });
    const original = await sharp(astronaut).raw().toBuffer({ resolveWithObject: true });
    const at = findCrop(original, crop);

    const vision = createVision({ workers: 0 });
    try {
      const { derivatives } = await vision.preprocess(readFileSync(astronaut));
      const { faces } = await vision.detectFaces(derivatives.normalized);
      assert.equal(faces.length, 1);
      const face = faces[0]!.box;
      assert.ok(at.left <= face.x && at.top <= face.y, `${JSON.stringify(at)} vs ${JSON.stringify(face)}`);
      assert.ok(at.left + crop.info.width >= face.x + face.width && at.top + crop.info.height >= face.y + face.height);
      assert.ok(crop.info.width < original.info.width / 2, 'a crop, not the whole photo');
    } finally {
      await vision.close();
    }
  });
});

type Raw = { data: Buffer; info: { width: number; height: number; channels: number } };

/** Where a crop (same scale, lossless) sits in the original: the offset at which every pixel matches. */
function findCrop(original: Raw, crop: Raw): { left: number; top: number } {
  const { width: W, height: H, channels } = original.info;
  const { width: w, height: h } = crop.info;
  const matches = (left: number, top: number) => {
    for (let y = 0; y < h; y += 7) {
      const a = ((top + y) * W + left) * channels;
      if (
        !original.data
          .subarray(a, a + w * channels)
          .equals(crop.data.subarray(y * w * channels, (y + 1) * w * channels))
      ) {
        return false;
      }
    }
    return true;
  };
  for (let top = 0; top + h <= H; top++)
    for (let left = 0; left + w <= W; left++) if (matches(left, top)) return { left, top };
  throw new Error('the crop is not a piece of the original');
}
