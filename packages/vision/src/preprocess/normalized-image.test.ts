import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { sharp } from '../sharp-instance.ts';
import { readShared } from '../testing/shared.ts';
import {
  decodeNormalizedImage,
  encodeNormalizedImage,
  NORMALIZED_LEVEL_FASTEST,
  type NormalizedImage,
} from './normalized-image.ts';
import { preprocess } from './preprocess.ts';

function corrupt(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ImgpipeError, `expected an ImgpipeError, got ${String(error)}`);
    assert.equal(error.code, 'IMAGE_CORRUPT', error.message);
    assert.match(error.message, pattern);
    return true;
  };
}

/** Noise of an odd size: nothing for the compressor to lean on, and rows that are no multiple of 4 bytes. */
function noise(width: number, height: number): NormalizedImage {
  return {
    data: new Uint8Array(randomBytes(width * height * 3)),
    width,
    height,
    originalWidth: 3 * width,
    originalHeight: 3 * height,
  };
}

describe('the normalised image between stages', () => {
  test('round-trips exactly, at the level that crosses S3 and at the fastest, with the original size from the caller', async () => {
    const { info, derivatives } = await preprocess(readShared('images', 'photos', 'dog.jpg'));
    for (const image of [derivatives.normalized, noise(333, 77)]) {
      const original = { width: image.originalWidth, height: image.originalHeight };
      for (const options of [{}, { compressionLevel: NORMALIZED_LEVEL_FASTEST }]) {
        const decoded = await decodeNormalizedImage(await encodeNormalizedImage(image, options), original);
        assert.deepEqual(decoded, { ...image, data: decoded.data });
        assert.ok(Buffer.from(decoded.data).equals(Buffer.from(image.data)), 'the same pixels');
      }
    }
    assert.deepEqual(
      [derivatives.normalized.originalWidth, derivatives.normalized.originalHeight],
      [info.width, info.height],
    );
  });

  test('compresses a photo, and less at the fastest level', async () => {
    const { derivatives } = await preprocess(readShared('images', 'coco', '000000000139.jpg'));
    const pixels = derivatives.normalized.data.byteLength;
    const stored = await encodeNormalizedImage(derivatives.normalized);
    const fastest = await encodeNormalizedImage(derivatives.normalized, { compressionLevel: NORMALIZED_LEVEL_FASTEST });
    assert.ok(stored.byteLength < 0.95 * pixels, `${stored.byteLength} of ${pixels}`);
    assert.ok(stored.byteLength < fastest.byteLength, `${stored.byteLength} against ${fastest.byteLength}`);
  });

  test('decoding allocates the pixels once: no spare output chunk for zlib to throw away', async () => {
    const image = noise(640, 480);
    const stored = await encodeNormalizedImage(image);
    const original = { width: image.originalWidth, height: image.originalHeight };
    await decodeNormalizedImage(stored, original);
    const allocUnsafe = Buffer.allocUnsafe;
    let allocated = 0;
    Buffer.allocUnsafe = (size: number) => {
      allocated += size;
      return allocUnsafe(size);
    };
    try {
      await decodeNormalizedImage(stored, original);
    } finally {
      Buffer.allocUnsafe = allocUnsafe;
    }
    const pixels = image.data.byteLength;
    assert.ok(allocated >= pixels && allocated < pixels * 1.1, `${allocated} bytes allocated for ${pixels} of pixels`);
  });

  test('a PNG that an earlier version stored decodes to its pixels', async () => {
    const { derivatives } = await preprocess(readShared('images', 'photos', 'giraffe.jpg'));
    const image = derivatives.normalized;
    const png = await sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } })
      .png({ compressionLevel: 3 })
      .toBuffer();
    const decoded = await decodeNormalizedImage(png, { width: image.originalWidth, height: image.originalHeight });
    assert.deepEqual([decoded.width, decoded.height], [image.width, image.height]);
    assert.ok(Buffer.from(decoded.data).equals(Buffer.from(image.data)));
    assert.ok(decoded.data.buffer instanceof SharedArrayBuffer);
  });

  test('a damaged copy is IMAGE_CORRUPT: no header, a header claiming another size, a truncated or altered frame', async () => {
    const image = noise(40, 30);
    const original = { width: 40, height: 30 };
    const good = await encodeNormalizedImage(image);
    const patched = (offset: number, value: number) => {
      const copy = Uint8Array.from(good);
      new DataView(copy.buffer).setUint32(offset, value);
      return copy;
    };
    await assert.rejects(decodeNormalizedImage(new Uint8Array(0), original), corrupt(/neither/));
    await assert.rejects(decodeNormalizedImage(good.subarray(0, 12), original), corrupt(/neither/));
    await assert.rejects(decodeNormalizedImage(randomBytes(5000), original), corrupt(/neither/));
    await assert.rejects(
      decodeNormalizedImage(good.subarray(0, good.byteLength - 100), original),
      corrupt(/end of file/),
    );
    await assert.rejects(
      decodeNormalizedImage(patched(12, 31), original),
      corrupt(/holds 3600 bytes of pixels, not 3720/),
    );
    await assert.rejects(decodeNormalizedImage(patched(12, 29), original), corrupt(/could not be decoded/));
    await assert.rejects(decodeNormalizedImage(patched(8, 0), original), corrupt(/claims 0 x 30/));
    await assert.rejects(decodeNormalizedImage(patched(8, 8193), original), corrupt(/claims 8193 x 30/));
    // Noise is stored, not compressed: a flipped pixel byte is caught by the frame's checksum alone.
    const spoiled = Uint8Array.from(good);
    spoiled[spoiled.byteLength - 40]! ^= 0xff;
    await assert.rejects(decodeNormalizedImage(spoiled, original), corrupt(/checksum/i));
  });
});
