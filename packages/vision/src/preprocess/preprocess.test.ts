import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { sharp } from '../sharp-instance.ts';
import { corruptPng, pixelBombPng } from '../testing/png-fixtures.ts';
import { decodeError } from './decode-error.ts';
import { readShared } from '../testing/shared.ts';
import { hammingDistance } from './dhash.ts';
import { decodeNormalizedImage, encodeNormalizedImage } from './normalized-image.ts';
import { preprocess } from './preprocess.ts';
import { sniffFormat } from './sniff.ts';

function rejectsWith(code: string, text?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ImgpipeError, `expected an ImgpipeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (text) assert.match(error.message, text);
    return true;
  };
}

function solid(width: number, height: number, colour: string, channels: 3 | 4 = 3) {
  return sharp({ create: { width, height, channels, background: colour } });
}

describe('preprocess: refused inputs', () => {
  test('zero bytes -> IMAGE_EMPTY', async () => {
    await assert.rejects(preprocess(new Uint8Array(0)), rejectsWith('IMAGE_EMPTY'));
  });

  test('a text file named .jpg -> IMAGE_UNSUPPORTED_FORMAT (the name is never trusted)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'imgpipe-pre-'));
    try {
      const path = join(dir, 'holiday.jpg');
      await writeFile(path, 'This is not a photo, just some text that someone saved as holiday.jpg\n');
      await assert.rejects(
        preprocess(await readFile(path)),
        rejectsWith('IMAGE_UNSUPPORTED_FORMAT', /looks like text/),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('BMP and PDF -> IMAGE_UNSUPPORTED_FORMAT naming what they look like', async () => {
    const bmp = Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]);
    await assert.rejects(preprocess(bmp), rejectsWith('IMAGE_UNSUPPORTED_FORMAT', /BMP/));
    const pdf = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n', 'latin1');
    await assert.rejects(preprocess(pdf), rejectsWith('IMAGE_UNSUPPORTED_FORMAT', /PDF/));
  });

  test('more bytes than the cap -> IMAGE_TOO_LARGE before any decoding', async () => {
    const dog = readShared('images', 'photos', 'dog.jpg');
    await assert.rejects(preprocess(dog, { maxBytes: 100_000 }), rejectsWith('IMAGE_TOO_LARGE', /100000/));
  });

  test('a 30000x30000 PNG of a few hundred bytes is refused from its header -> IMAGE_TOO_MANY_PIXELS', async () => {
    const bomb = pixelBombPng();
    assert.ok(bomb.length < 1024, `the bomb is ${bomb.length} bytes`);
    await assert.rejects(preprocess(bomb), rejectsWith('IMAGE_TOO_MANY_PIXELS'));
  });

  test('the pixel cap is configurable', async () => {
    const dog = readShared('images', 'photos', 'dog.jpg'); // 768x576
    await assert.rejects(preprocess(dog, { maxPixels: 400_000 }), rejectsWith('IMAGE_TOO_MANY_PIXELS'));
    assert.equal((await preprocess(dog, { maxPixels: 442_368 })).info.width, 768);
  });

  test('the shared truncated JPEG -> IMAGE_TRUNCATED with the decoder reason', async () => {
    await assert.rejects(
      preprocess(readShared('images', 'broken', 'truncated.jpg')),
      rejectsWith('IMAGE_TRUNCATED', /premature end of JPEG/),
    );
  });

  test('a JPEG cut in the middle of its scan -> IMAGE_TRUNCATED, not a grey image', async () => {
    const dog = readShared('images', 'photos', 'dog.jpg');
    await assert.rejects(preprocess(dog.subarray(0, Math.floor(dog.length * 0.6))), rejectsWith('IMAGE_TRUNCATED'));
  });

  test('a PNG cut short -> IMAGE_TRUNCATED', async () => {
    const png = readShared('images', 'photos', 'coffee.png');
    await assert.rejects(preprocess(png.subarray(0, Math.floor(png.length * 0.5))), rejectsWith('IMAGE_TRUNCATED'));
  });

  test('a PNG with a bad CRC or garbage chunks -> IMAGE_CORRUPT', async () => {
    const good = await solid(64, 64, '#336699').png().toBuffer();
    const badCrc = Buffer.from(good);
    const idat = badCrc.indexOf('IDAT');
    badCrc[idat + 6] = badCrc[idat + 6]! ^ 0xff;
    await assert.rejects(preprocess(badCrc), rejectsWith('IMAGE_CORRUPT'));
    const garbage = Buffer.concat([
      good.subarray(0, 33),
      Buffer.from('garbage garbage garbage garbage'),
      good.subarray(-12),
    ]);
    await assert.rejects(preprocess(garbage), rejectsWith('IMAGE_CORRUPT'));
  });

  test("another thread's decoder lines in libvips' shared error buffer do not decide a failure's code", () => {
    // What analyze once reported for corrupt.png decoded beside the shared truncated.jpg.
    const mixed = new Error(
      'VipsJpeg: premature end of JPEG image\nVipsJpeg: Bogus Huffman table definition\nvipspng: libpng read error',
    );
    const png = decodeError(mixed, 'png', corruptPng());
    assert.equal(png.code, 'IMAGE_CORRUPT');
    assert.ok(png.message.includes('libpng read error') && !png.message.includes('JPEG'), png.message);
    // The JPEG's own lines still say it was truncated, and a line without a loader prefix is kept.
    assert.equal(decodeError(mixed, 'jpeg', Buffer.from([0xff, 0xd8, 0xff, 0xd9])).code, 'IMAGE_TRUNCATED');
    assert.equal(decodeError(new Error('unexpected end of file'), 'png', corruptPng()).code, 'IMAGE_TRUNCATED');
  });
});

describe('preprocess: formats', () => {
  const samples: [string, () => Promise<Buffer>][] = [
    ['jpeg', () => solid(48, 32, '#c03020').jpeg().toBuffer()],
    ['png', () => solid(48, 32, '#c03020').png().toBuffer()],
    ['webp', () => solid(48, 32, '#c03020').webp().toBuffer()],
    ['avif', () => solid(48, 32, '#c03020').avif().toBuffer()],
    ['gif', () => solid(48, 32, '#c03020').gif().toBuffer()],
    ['tiff', () => solid(48, 32, '#c03020').tiff().toBuffer()],
  ];
  for (const [format, make] of samples) {
    test(`${format} is sniffed from its bytes and analysed`, async () => {
      const bytes = await make();
      assert.deepEqual(sniffFormat(bytes), { supported: true, format });
      const { info, derivatives } = await preprocess(bytes);
      assert.equal(info.format, format);
      assert.equal(info.width, 48);
      assert.equal(info.height, 32);
      assert.equal(derivatives.normalized.data.length, 48 * 32 * 3);
      const top = info.colors[0]!;
      assert.ok(top.share > 0.95, JSON.stringify(info.colors));
      const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(top.hex.slice(i, i + 2), 16));
      assert.ok(Math.abs(r! - 0xc0) < 12 && Math.abs(g! - 0x30) < 12 && Math.abs(b! - 0x20) < 12, top.hex);
    });
  }

  test('an animated GIF gives its first frame', async () => {
    const frames = Buffer.concat([Buffer.alloc(16 * 16 * 3, 255), Buffer.alloc(16 * 16 * 3, 0)]);
    const gif = await sharp(frames, { raw: { width: 16, height: 32, channels: 3, pageHeight: 16 } })
      .gif()
      .toBuffer();
    const { info } = await preprocess(gif);
    assert.equal(info.height, 16);
    assert.ok(info.quality.brightness > 0.95, 'the first (white) frame');
  });
});

describe('preprocess: orientation and metadata', () => {
  test('EXIF orientation 6 is applied: width and height swap', async () => {
    const jpeg = await solid(40, 20, '#ff0000').jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const { info, derivatives } = await preprocess(jpeg);
    assert.equal(info.exif.orientation, 6);
    assert.deepEqual([info.width, info.height], [20, 40]);
    assert.deepEqual([derivatives.normalized.width, derivatives.normalized.height], [20, 40]);
    assert.deepEqual([derivatives.normalized.originalWidth, derivatives.normalized.originalHeight], [20, 40]);
  });

  test('camera make, model and capture time come from EXIF', async () => {
    const jpeg = await solid(32, 32, '#808080')
      .jpeg()
      .withExif({
        IFD0: { Make: 'Imgpipe', Model: 'Test Camera 1' },
        IFD2: { DateTimeOriginal: '2024:05:17 14:03:22' },
      })
      .toBuffer();
    const { info } = await preprocess(jpeg);
    assert.equal(info.exif.make, 'Imgpipe');
    assert.equal(info.exif.model, 'Test Camera 1');
    assert.equal(info.exif.takenAt, '2024-05-17T14:03:22');
    assert.equal(info.exif.hasGps, false);
  });

  test('size, hash and alpha are reported; alpha is flattened away for the models', async () => {
    const png = await solid(30, 10, '#00ff0080', 4).png().toBuffer();
    const { info, derivatives } = await preprocess(png);
    assert.equal(info.hasAlpha, true);
    assert.equal(info.bytes, png.length);
    assert.match(info.sha256, /^[0-9a-f]{64}$/);
    assert.match(info.perceptualHash, /^[0-9a-f]{16}$/);
    assert.equal(derivatives.normalized.data.length, 30 * 10 * 3);
  });

  test('16-bit and greyscale inputs become 8-bit RGB', async () => {
    const grey16 = await solid(20, 20, '#404040').greyscale().png({ force: true }).toColourspace('grey16').toBuffer();
    const { derivatives } = await preprocess(grey16);
    assert.equal(derivatives.normalized.data.length, 20 * 20 * 3);
    assert.ok(Math.abs(derivatives.normalized.data[0]! - 0x40) <= 2, String(derivatives.normalized.data[0]));
  });
});

describe('preprocess: derivatives and measures', () => {
  test('large images are capped for the models; the thumbnail is a 256 px WebP', async () => {
    const big = await solid(3000, 2000, '#224466').jpeg().toBuffer();
    const { info, derivatives } = await preprocess(big);
    assert.deepEqual([info.width, info.height], [3000, 2000]);
    assert.deepEqual([derivatives.normalized.width, derivatives.normalized.height], [1280, 853]);
    assert.deepEqual([derivatives.thumbnail.width, derivatives.thumbnail.height], [256, 171]);
    assert.deepEqual(sniffFormat(derivatives.thumbnail.data), { supported: true, format: 'webp' });
  });

  test('dominant colours report their shares', async () => {
    const halves = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#ff0000' } })
      .composite([
        { input: { create: { width: 32, height: 64, channels: 3, background: '#0000ff' } }, left: 32, top: 0 },
      ])
      .png()
      .toBuffer();
    const { info } = await preprocess(halves);
    const shares = Object.fromEntries(info.colors.map((color) => [color.hex, color.share]));
    assert.ok((shares['#ff0000'] ?? 0) > 0.45 && (shares['#0000ff'] ?? 0) > 0.45, JSON.stringify(info.colors));
  });

  test('quality: a flat image has no contrast or sharpness; a sharp photo beats its blurred copy', async () => {
    const flat = await preprocess(await solid(100, 100, '#808080').png().toBuffer());
    assert.equal(flat.info.quality.contrast, 0);
    assert.equal(flat.info.quality.sharpness, 0);
    assert.ok(Math.abs(flat.info.quality.brightness - 128 / 255) < 0.01);
    const dog = readShared('images', 'photos', 'dog.jpg');
    const blurred = await sharp(dog).blur(4).jpeg().toBuffer();
    const [sharpInfo, blurInfo] = await Promise.all([preprocess(dog), preprocess(blurred)]);
    assert.ok(sharpInfo.info.quality.sharpness > 5 * blurInfo.info.quality.sharpness);
  });

  test('scene: a flat image has no texture and is symmetric; a tilted horizon is found within 1° after resizing', async () => {
    const flat = await preprocess(await solid(300, 200, '#5a7a3c').png().toBuffer());
    assert.deepEqual(flat.info.scene, {
      texture: { contrast: 0, homogeneity: 1, energy: 1, entropy: 0, edgeDensity: 0 },
      composition: { symmetry: 1 },
    });

    // 1200x800 sky over ground, the boundary rising 6° from left to right: preprocess measures it at 256x171.
    const [width, height, degrees] = [1200, 800, 6];
    const pixels = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const sky = y + 0.5 < height * 0.55 - (x + 0.5 - width / 2) * Math.tan((degrees * Math.PI) / 180);
        pixels.set(sky ? [150, 190, 235] : [70, 90, 40], (y * width + x) * 3);
      }
    }
    const png = await sharp(pixels, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer();
    const { scene } = (await preprocess(png)).info;
    assert.ok(scene?.composition.horizonTilt !== undefined, JSON.stringify(scene));
    assert.ok(Math.abs(scene.composition.horizonTilt - degrees) < 1, JSON.stringify(scene.composition));
    assert.ok(scene.texture.edgeDensity > 0 && scene.texture.edgeDensity < 0.05, JSON.stringify(scene.texture));
  });

  test('the perceptual hash survives re-encoding and tells different images apart', async () => {
    const dog = readShared('images', 'photos', 'dog.jpg');
    const reencoded = await sharp(dog).resize(400).webp({ quality: 60 }).toBuffer();
    const [a, b, c] = await Promise.all([
      preprocess(dog),
      preprocess(reencoded),
      preprocess(readShared('images', 'photos', 'giraffe.jpg')),
    ]);
    assert.ok(hammingDistance(a.info.perceptualHash, b.info.perceptualHash) <= 10);
    assert.ok(hammingDistance(a.info.perceptualHash, c.info.perceptualHash) > 10);
  });

  test('the normalised pixels are in shared memory, so a hop to a stage worker shares them instead of copying', async () => {
    const { info, derivatives } = await preprocess(readShared('images', 'photos', 'dog.jpg'));
    const decoded = await decodeNormalizedImage(await encodeNormalizedImage(derivatives.normalized), info);
    for (const image of [derivatives.normalized, decoded]) {
      assert.ok(image.data.buffer instanceof SharedArrayBuffer);
      assert.equal(image.data.byteLength, image.width * image.height * 3);
    }
    // A structured clone (what postMessage does) of the image gives a view of the same memory.
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<typeof decoded>((resolve) => port2.once('message', resolve));
    port1.postMessage(decoded);
    const clone = await received;
    port1.close();
    decoded.data[0] = (decoded.data[0]! + 1) % 256;
    assert.equal(clone.data[0], decoded.data[0]);
  });
});
