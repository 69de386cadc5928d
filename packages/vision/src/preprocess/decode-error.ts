/**
 * Turns libvips/sharp failures into catalogue errors with a reason a user can act on. Truncation is recognised
 * from the decoder's words or, when the decoder only says "read error", from the format's missing end marker.
 */
import { ImgpipeError } from '@imgpipe/core';
import type { ImageFormat } from './sniff.ts';

export function decodeError(error: unknown, format: ImageFormat, bytes: Uint8Array): ImgpipeError {
  if (error instanceof ImgpipeError) return error;
  const raw = ownLines(error instanceof Error ? error.message : String(error), format);
  const reason = [...new Set(raw.split('\n').map((line) => line.trim()))].filter(Boolean).slice(0, 3).join('; ');
  const name = format.toUpperCase();
  if (/exceeds pixel limit/i.test(raw)) {
    return new ImgpipeError('IMAGE_TOO_MANY_PIXELS', `the ${name} image has more pixels than allowed: ${reason}`);
  }
  if (/unsupported image format/i.test(raw)) {
    return new ImgpipeError(
      'IMAGE_UNSUPPORTED_FORMAT',
      `the bytes look like ${name} but no decoder accepts them: ${reason}`,
    );
  }
  if (
    /premature end|truncated|unexpected end|end of (file|data|stream)|not enough data|short read/i.test(raw) ||
    lacksEndMarker(format, bytes)
  ) {
    return new ImgpipeError(
      'IMAGE_TRUNCATED',
      `the ${name} data ends before the image does (${bytes.length} bytes): ${reason || 'no end marker'}`,
      { cause: error, details: { format, bytes: bytes.length } },
    );
  }
  return new ImgpipeError('IMAGE_CORRUPT', `the ${name} image could not be decoded: ${reason}`, {
    cause: error,
    details: { format, bytes: bytes.length },
  });
}

/** The libvips loader names that prefix its error lines ("VipsJpeg: ...", "vipspng: ..."), per format. */
const DECODERS: Record<string, RegExp> = {
  jpeg: /jpe?g/i,
  png: /png/i,
  webp: /webp/i,
  gif: /gif/i,
  tiff: /tiff/i,
  avif: /heif|avif/i,
};

/**
 * libvips keeps one error buffer per process, so a failure can carry lines another thread's decoder wrote at the
 * same moment (seen: a corrupt PNG reported with "VipsJpeg: premature end of JPEG image" from a truncated JPEG
 * decoded beside it, and classed IMAGE_TRUNCATED). Lines whose loader prefix names another format are dropped.
 */
function ownLines(raw: string, format: ImageFormat): string {
  const own = DECODERS[format];
  return raw
    .split('\n')
    .filter((line) => {
      const loader = /^\s*([\w.-]+):/.exec(line)?.[1];
      if (!loader || own?.test(loader)) return true;
      return !Object.values(DECODERS).some((decoder) => decoder.test(loader));
    })
    .join('\n');
}

/** True when a format with an end marker does not end with it (only consulted after a decode failed). */
export function lacksEndMarker(format: ImageFormat, bytes: Uint8Array): boolean {
  const tail = bytes.subarray(Math.max(0, bytes.length - 32));
  switch (format) {
    case 'jpeg':
      return !containsPair(tail, 0xff, 0xd9);
    case 'png':
      return !Buffer.from(tail).includes('IEND');
    case 'gif':
      return !tail.includes(0x3b);
    case 'webp': {
      if (bytes.length < 8) return true;
      const declared = new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(4, true) + 8;
      return declared > bytes.length;
    }
    default:
      return false;
  }
}

function containsPair(bytes: Uint8Array, first: number, second: number): boolean {
  for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === first && bytes[i + 1] === second) return true;
  return false;
}
