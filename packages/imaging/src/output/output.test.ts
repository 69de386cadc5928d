/**
 * Output formats checked from the outside: each file's magic bytes, its size as decoded (by libvips' loaders, or by
 * the test's own BMP reader), the flags a format stores (progressive,
 * interlace, palette), and format:auto by Accept header.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyRecipe } from '../apply.ts';
import { parseRecipe } from '../grammar/parse.ts';
import { sharp } from '../sharp-instance.ts';
import { decodeBmp } from '../testing/bmp-reader.ts';
import { pixel, rgbImage, toPng } from '../testing/images.ts';
import { readShared } from '../testing/shared.ts';
import { acceptedQualities, negotiateFormat } from './negotiate.ts';

const dog = readShared('images', 'photos', 'dog.jpg');
const ascii = (bytes: Uint8Array, start: number, length: number) =>
  Buffer.from(bytes.subarray(start, start + length)).toString('latin1');

const MAGIC: Record<string, (bytes: Uint8Array) => boolean> = {
  jpeg: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  png: (b) => ascii(b, 0, 8) === '\x89PNG\r\n\x1a\n',
  webp: (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP',
  avif: (b) => ascii(b, 4, 4) === 'ftyp' && ['avif', 'avis'].includes(ascii(b, 8, 4)),
  tiff: (b) => ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*',
  gif: (b) => ascii(b, 0, 6) === 'GIF89a' || ascii(b, 0, 6) === 'GIF87a',
  bmp: (b) => ascii(b, 0, 2) === 'BM',
};

describe('every output format', () => {
  for (const format of Object.keys(MAGIC)) {
    test(`${format}: magic bytes, content type and decoded size`, async () => {
      const output = await applyRecipe(dog, parseRecipe(`resize:161x97:fill/format:${format}`));
      assert.ok(MAGIC[format]!(output.bytes), `${format} magic: ${[...output.bytes.subarray(0, 12)]}`);
      assert.equal(output.format, format);
      assert.equal(output.contentType, `image/${format}`);
      assert.deepEqual([output.width, output.height], [161, 97]);
      if (format === 'bmp') {
        const decoded = decodeBmp(output.bytes);
        assert.deepEqual([decoded.width, decoded.height], [161, 97]);
      } else {
        const metadata = await sharp(output.bytes).metadata();
        assert.equal(metadata.format === 'heif' ? 'avif' : metadata.format, format);
        assert.deepEqual([metadata.width, metadata.height], [161, 97]);
      }
    });
  }

  test('BMP pixels are the image pixels (alpha flattened on white)', async () => {
    const input = await toPng(rgbImage(7, 3, (x, y) => [x * 30, y * 80, 200]));
    const decoded = decodeBmp((await applyRecipe(input, parseRecipe('format:bmp'))).bytes);
    assert.deepEqual(pixel(decoded, 0, 0), [0, 0, 200]);
    assert.deepEqual(pixel(decoded, 6, 2), [180, 160, 200]);
    const transparent = await sharp({ create: { width: 2, height: 2, channels: 4, background: '#ff000000' } })
      .png()
      .toBuffer();
    assert.deepEqual(
      pixel(decodeBmp((await applyRecipe(transparent, parseRecipe('format:bmp'))).bytes), 0, 0),
      [255, 255, 255],
    );
  });

  test('quality orders sizes', async () => {
    for (const format of ['jpeg', 'webp', 'avif']) {
      const low = await applyRecipe(dog, parseRecipe(`resize:300x/format:${format}:20`));
      const high = await applyRecipe(dog, parseRecipe(`resize:300x/format:${format}:95`));
      assert.ok(low.bytes.length < high.bytes.length, `${format}: q20 ${low.bytes.length} vs q95 ${high.bytes.length}`);
    }
  });

  test('progressive JPEG has an SOF2 marker; interlaced PNG and GIF set their flags; PNG quality makes a palette', async () => {
    const jpeg = (await applyRecipe(dog, parseRecipe('resize:64x/format:jpeg:80:1'))).bytes;
    const plain = (await applyRecipe(dog, parseRecipe('resize:64x/format:jpeg:80'))).bytes;
    assert.ok(jpeg.includes(Buffer.from([0xff, 0xc2])) && !plain.includes(Buffer.from([0xff, 0xc2])));
    const png = (await applyRecipe(dog, parseRecipe('resize:64x/format:png::1'))).bytes;
    assert.equal(png[28], 1, 'IHDR interlace method Adam7');
    const palette = (await applyRecipe(dog, parseRecipe('resize:64x/format:png:60'))).bytes;
    assert.equal(palette[25], 3, 'IHDR colour type 3 (palette)');
    const gif = (await applyRecipe(dog, parseRecipe('resize:64x/format:gif::1'))).bytes;
    assert.equal(gifInterlaced(gif), true);
    assert.equal(gifInterlaced((await applyRecipe(dog, parseRecipe('resize:64x/format:gif'))).bytes), false);
  });

  test('without a format the input format is kept', async () => {
    const output = await applyRecipe(await toPng(rgbImage(4, 4, () => [1, 2, 3])), parseRecipe('flip'));
    assert.equal(output.format, 'png');
    assert.ok(MAGIC['png']!(output.bytes));
  });
});

/** The interlace flag of a GIF's first image descriptor. */
function gifInterlaced(bytes: Uint8Array): boolean {
  let offset = 13;
  if (bytes[10]! & 0x80) offset += 3 * 2 ** ((bytes[10]! & 0x07) + 1);
  while (offset < bytes.length) {
    if (bytes[offset] === 0x2c) return (bytes[offset + 9]! & 0x40) !== 0;
    if (bytes[offset] !== 0x21) throw new Error(`unexpected GIF block ${bytes[offset]}`);
    offset += 2;
    while (bytes[offset]! !== 0) offset += bytes[offset]! + 1;
    offset++;
  }
  throw new Error('no image descriptor');
}

describe('format:auto', () => {
  const cases: [string | undefined, string][] = [
    ['image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8', 'avif'], // Chrome
    ['image/webp,*/*', 'webp'],
    ['image/avif;q=0,image/webp;q=0.5', 'webp'],
    ['IMAGE/WEBP', 'webp'],
    ['image/*,*/*;q=0.8', 'jpeg'],
    ['*/*', 'jpeg'],
    [undefined, 'jpeg'],
  ];
  for (const [accept, expected] of cases) {
    test(`Accept ${accept ?? '(none)'} -> ${expected}`, async () => {
      const output = await applyRecipe(
        dog,
        parseRecipe('resize:64x/format:auto'),
        accept === undefined ? {} : { accept },
      );
      assert.equal(output.format, expected);
      assert.ok(MAGIC[expected]!(output.bytes));
    });
  }

  test('an image with transparency falls back to PNG, not JPEG', async () => {
    const transparent = await sharp({ create: { width: 8, height: 8, channels: 4, background: '#00ff0080' } })
      .png()
      .toBuffer();
    assert.equal((await applyRecipe(transparent, parseRecipe('format:auto'), { accept: '*/*' })).format, 'png');
    assert.equal(negotiateFormat('*/*', true), 'png');
  });

  test('acceptedQualities keeps the highest q of each type', () => {
    assert.deepEqual(
      [...acceptedQualities('image/webp;q=0.2, image/webp;q=0.9, text/html')],
      [
        ['image/webp', 0.9],
        ['text/html', 1],
      ],
    );
  });
});
