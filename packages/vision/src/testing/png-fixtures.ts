/**
 * Hand-built PNGs for bad-input tests (not exported from the package entry point): files no encoder would write.
 */
import { crc32, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function pngChunk(type: string, data: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function header(width: number, height: number, colourType: 0 | 2): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = colourType; // 0 greyscale, 2 RGB
  return ihdr;
}

/** A valid PNG header declaring width x height grey pixels, with a tiny zlib stream: a decompression bomb in waiting. */
export function pixelBombPng(width = 30_000, height = 30_000): Buffer {
  return Buffer.concat([
    SIGNATURE,
    pngChunk('IHDR', header(width, height, 0)),
    pngChunk('IDAT', deflateSync(Buffer.alloc(width + 1 + 4))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A 64x64 RGB PNG whose image data is garbage under a wrong CRC. */
export function corruptPng(): Buffer {
  const idat = pngChunk('IDAT', Buffer.from('garbage that is not a zlib stream at all'));
  idat.writeUInt32BE(0xdeadbeef, idat.length - 4);
  return Buffer.concat([SIGNATURE, pngChunk('IHDR', header(64, 64, 2)), idat, pngChunk('IEND', Buffer.alloc(0))]);
}
