/**
 * A BMP writer (libvips has no BMP saver): BITMAPFILEHEADER + BITMAPINFOHEADER, 24 bits per pixel, BI_RGB (no
 * compression), rows bottom-up (positive height), each pixel blue, green, red, each row padded to 4 bytes.
 * Transparency must be flattened first (raw-image.ts flattenOnWhite); grey images are written as grey RGB.
 */
import type { RawImage } from '../raw-image.ts';

const FILE_HEADER = 14;
const INFO_HEADER = 40;
/** 72 dots per inch. */
const PIXELS_PER_METRE = 2835;

export function encodeBmp(image: RawImage): Buffer {
  const { width, height, channels, data } = image;
  if (channels !== 1 && channels !== 3) throw new Error(`BMP needs grey or RGB pixels, got ${channels} channels`);
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const pixelBytes = rowBytes * height;
  const out = Buffer.alloc(FILE_HEADER + INFO_HEADER + pixelBytes);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(FILE_HEADER + INFO_HEADER, 10);
  out.writeUInt32LE(INFO_HEADER, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26); // planes
  out.writeUInt16LE(24, 28); // bits per pixel
  out.writeUInt32LE(0, 30); // BI_RGB
  out.writeUInt32LE(pixelBytes, 34);
  out.writeInt32LE(PIXELS_PER_METRE, 38);
  out.writeInt32LE(PIXELS_PER_METRE, 42);
  // Colours used and important: 0 (all); the padding bytes stay 0.
  for (let y = 0; y < height; y++) {
    let target = FILE_HEADER + INFO_HEADER + (height - 1 - y) * rowBytes;
    let source = y * width * channels;
    for (let x = 0; x < width; x++, source += channels) {
      const red = data[source]!;
      const green = channels === 3 ? data[source + 1]! : red;
      const blue = channels === 3 ? data[source + 2]! : red;
      out[target++] = blue;
      out[target++] = green;
      out[target++] = red;
    }
  }
  return out;
}
