/**
 * Metadata kept or stripped as asked, read back from the output files: the ICC profile bytes, and the EXIF block's
 * IFD0 tags parsed here (Orientation 0x0112, Copyright 0x8298, the GPS IFD pointer 0x8825).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyRecipe } from '../apply.ts';
import { parseRecipe } from '../grammar/parse.ts';
import { sharp } from '../sharp-instance.ts';
import { readShared } from '../testing/shared.ts';

const ORIENTATION = 0x0112;
const COPYRIGHT = 0x8298;
const GPS_IFD = 0x8825;

/** The tags of IFD0 in an EXIF block (as sharp returns it: "Exif\0\0" then a TIFF header). */
function ifd0Tags(exif: Buffer | undefined): Set<number> {
  if (!exif) return new Set();
  const tiff = exif.subarray(exif.subarray(0, 6).toString('latin1') === 'Exif\0\0' ? 6 : 0);
  const little = tiff.subarray(0, 2).toString('latin1') === 'II';
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const ifd = u32(4);
  const tags = new Set<number>();
  for (let i = 0; i < u16(ifd); i++) tags.add(u16(ifd + 2 + i * 12));
  return tags;
}

const dog = readShared('images', 'photos', 'dog.jpg');
// A photo in Display P3 (a profile unlike sRGB) with EXIF: a copyright and GPS coordinates.
const original = await sharp(dog)
  .withIccProfile('p3')
  .withExif({
    IFD0: { Copyright: 'imgpipe test' },
    IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' },
  })
  .jpeg({ quality: 95 })
  .toBuffer();
const source = await sharp(original).metadata();

async function outputOf(recipe: string) {
  const output = await applyRecipe(original, parseRecipe(recipe));
  return { output, metadata: await sharp(output.bytes).metadata() };
}

describe('metadata', () => {
  test('the fixture has what the tests look for', () => {
    assert.ok(source.icc && source.icc.length > 0);
    const tags = ifd0Tags(source.exif);
    assert.ok(tags.has(COPYRIGHT) && tags.has(GPS_IFD), [...tags].join(','));
  });

  for (const [name, recipe] of [
    ['one pipeline', 'resize:300x/format:webp'],
    ['several pipelines', 'resize:300x/edge/negate/pixelate:4/format:webp'],
    ['PNG', 'resize:300x/blur/resize:200x/format:png'],
  ] as const) {
    test(`default (${name}): the ICC profile kept byte for byte, EXIF and GPS gone`, async () => {
      const { metadata } = await outputOf(recipe);
      assert.ok(metadata.icc?.equals(source.icc!), 'same ICC profile');
      assert.equal(metadata.exif, undefined, 'no EXIF');
    });

    test(`metadata:keep (${name}): EXIF with GPS and copyright kept, ICC kept`, async () => {
      const { metadata } = await outputOf(`${recipe}/metadata:keep`);
      assert.ok(metadata.icc?.equals(source.icc!));
      const tags = ifd0Tags(metadata.exif);
      assert.ok(tags.has(COPYRIGHT) && tags.has(GPS_IFD), `tags ${[...tags].map((tag) => tag.toString(16))}`);
    });

    test(`metadata:strip (${name}): nothing left`, async () => {
      const { metadata } = await outputOf(`${recipe}/metadata:strip`);
      assert.equal(metadata.icc, undefined);
      assert.equal(metadata.exif, undefined);
      assert.equal(metadata.xmp, undefined);
    });
  }

  test('metadata:keep on an EXIF-rotated photo: pixels turned upright, the orientation tag no longer turns them', async () => {
    const sideways = await sharp(dog).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    assert.ok(ifd0Tags((await sharp(sideways).metadata()).exif).has(ORIENTATION));
    for (const recipe of ['resize:300x/format:jpeg/metadata:keep', 'edge/resize:300x/format:jpeg/metadata:keep']) {
      const output = await applyRecipe(sideways, parseRecipe(recipe));
      assert.deepEqual([output.width, output.height], [300, 400], recipe);
      const { orientation } = await sharp(output.bytes).metadata();
      assert.ok(orientation === undefined || orientation === 1, `${recipe}: orientation ${orientation}`);
    }
  });

  test('kept profile, unconverted pixels: one pipeline and several give the same colours', async () => {
    // negate twice needs two pipelines (negate once each); the pixels must come back as they were, still in P3.
    const twice = await applyRecipe(original, parseRecipe('negate/negate/format:png'));
    const once = await applyRecipe(original, parseRecipe('format:png'));
    const a = await sharp(twice.bytes).keepIccProfile().raw().toBuffer();
    const b = await sharp(once.bytes).keepIccProfile().raw().toBuffer();
    assert.ok(a.equals(b));
    assert.ok((await sharp(twice.bytes).metadata()).icc?.equals(source.icc!));
  });

  test('strip converts to sRGB: the colours differ from the P3 values', async () => {
    const kept = await sharp((await applyRecipe(original, parseRecipe('format:png'))).bytes)
      .keepIccProfile()
      .raw()
      .toBuffer();
    const stripped = await sharp((await applyRecipe(original, parseRecipe('format:png/metadata:strip'))).bytes)
      .raw()
      .toBuffer();
    assert.equal(kept.length, stripped.length);
    assert.ok(!kept.equals(stripped));
  });
});
