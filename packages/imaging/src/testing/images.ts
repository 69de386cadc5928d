/**
 * Test support (not exported): small images built in code, so a test knows every pixel it feeds in, and files no
 * encoder would write (a pixel bomb).
 */
import { crc32, deflateSync } from 'node:zlib';
import type { RawImage } from '../raw-image.ts';
import { sharp } from '../sharp-instance.ts';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngChunk(type: string, data: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid PNG header declaring width x height grey pixels over a tiny zlib stream: a decompression bomb. */
export function pixelBombPng(width = 30_000, height = 30_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([
    SIGNATURE,
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(width + 1 + 4))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A grey image whose pixel (x, y) is value(x, y), as raw pixels. */
export function greyImage(width: number, height: number, value: (x: number, y: number) => number): RawImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = value(x, y);
  return { data, width, height, channels: 1 };
}

/** An RGB image whose pixel (x, y) is colour(x, y). */
export function rgbImage(
  width: number,
  height: number,
  colour: (x: number, y: number) => [number, number, number],
): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(colour(x, y), (y * width + x) * 3);
  }
  return { data, width, height, channels: 3 };
}

/** Four flat quadrants: red top-left, green top-right, blue bottom-left, white bottom-right. */
export const QUADRANT_COLOURS = {
  topLeft: [255, 0, 0],
  topRight: [0, 255, 0],
  bottomLeft: [0, 0, 255],
  bottomRight: [255, 255, 255],
} as const;

export function quadrants(width: number, height: number): RawImage {
  return rgbImage(width, height, (x, y) => {
    const right = x >= width / 2;
    const bottom = y >= height / 2;
    const colour = bottom
      ? right
        ? QUADRANT_COLOURS.bottomRight
        : QUADRANT_COLOURS.bottomLeft
      : right
        ? QUADRANT_COLOURS.topRight
        : QUADRANT_COLOURS.topLeft;
    return [...colour];
  });
}

/** Raw pixels as a lossless PNG. */
export async function toPng(image: RawImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .png()
    .toBuffer();
}

/** Decodes any image sharp reads into raw 8-bit pixels (keepIcc: no colour conversion). */
export async function decode(bytes: Uint8Array, options: { channels?: 1 | 3 | 4 } = {}): Promise<RawImage> {
  let image = sharp(bytes).keepIccProfile();
  if (options.channels === 1) image = image.toColourspace('b-w');
  if (options.channels === 3) image = image.removeAlpha().toColourspace('srgb');
  if (options.channels === 4) image = image.ensureAlpha().toColourspace('srgb');
  const { data, info } = await image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
    channels: info.channels as RawImage['channels'],
  };
}

export function pixel(image: RawImage, x: number, y: number): number[] {
  const start = (y * image.width + x) * image.channels;
  return [...image.data.subarray(start, start + image.channels)];
}
