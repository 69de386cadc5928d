/**
 * Reading an input safely, in the order that keeps a hostile file cheap: byte cap, then the real format from the magic
 * bytes (names and content types are never trusted), then the header's pixel and frame counts (no pixel decoded yet),
 * then decoding with failOn 'error' so a truncated or corrupt file is an error rather than a grey image. The same
 * caps and codes as the preprocessing stage (packages/vision/src/preprocess), whose sniffing this repeats in brief.
 */
import { ImgpipeError } from '@imgpipe/core';
import type { SharpOptions } from 'sharp';
import type { Size } from './geometry.ts';
import type { TransformLimits } from './limits.ts';
import { sharp } from './sharp-instance.ts';

export const INPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

export interface SourceInfo {
  format: InputFormat;
  bytes: number;
  /** Upright size (after EXIF orientation, when auto-orient is on) of the first frame. */
  size: Size;
  frames: number;
  hasAlpha: boolean;
  /** An embedded ICC profile (CMYK images excepted: they are always converted to sRGB). */
  hasIcc: boolean;
  /** Any of EXIF, XMP, IPTC or ICC: what `metadata:keep` carries. */
  hasMetadata: boolean;
}

export function sniffInputFormat(bytes: Uint8Array): InputFormat | undefined {
  const ascii = (offset: number, length: number) =>
    Buffer.from(bytes.subarray(offset, offset + length)).toString('latin1');
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') return 'webp';
  if (['II*\0', 'MM\0*', 'II+\0', 'MM\0+'].includes(ascii(0, 4))) return 'tiff';
  if (ascii(4, 4) === 'ftyp') {
    const size = bytes.length >= 4 ? new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0) : 0;
    const brands = [ascii(8, 4)];
    for (let offset = 16; offset + 4 <= Math.min(bytes.length, Math.max(16, size)); offset += 4) {
      brands.push(ascii(offset, 4));
    }
    if (brands.includes('avif') || brands.includes('avis')) return 'avif';
  }
  return undefined;
}

/** sharp's input options for the first pipeline: the first frame, upright, failing on damage. */
export function inputOptions(limits: TransformLimits, autoOrient: boolean): SharpOptions {
  return { failOn: 'error', limitInputPixels: limits.maxInputPixels, autoOrient, pages: 1 };
}

export async function probeInput(bytes: Uint8Array, limits: TransformLimits, autoOrient: boolean): Promise<SourceInfo> {
  if (bytes.length === 0) throw new ImgpipeError('IMAGE_EMPTY', 'the image has zero bytes');
  if (bytes.length > limits.maxInputBytes) {
    throw new ImgpipeError(
      'IMAGE_TOO_LARGE',
      `the image has ${bytes.length} bytes, more than the limit of ${limits.maxInputBytes} (IMGPIPE_MAX_IMAGE_BYTES)`,
      { details: { bytes: bytes.length, limit: limits.maxInputBytes } },
    );
  }
  const format = sniffInputFormat(bytes);
  if (!format) {
    throw new ImgpipeError(
      'IMAGE_UNSUPPORTED_FORMAT',
      'the bytes match no accepted image format (JPEG, PNG, WebP, AVIF, GIF, TIFF)',
    );
  }
  let metadata: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    metadata = await sharp(bytes, { failOn: 'error', limitInputPixels: false }).metadata();
  } catch (error) {
    throw decodeError(error, format, bytes);
  }
  const frames = metadata.pages ?? 1;
  const frameHeight = metadata.pageHeight ?? metadata.height;
  const declared = metadata.width * frameHeight * frames;
  if (declared > limits.maxInputPixels) {
    throw new ImgpipeError(
      'IMAGE_TOO_MANY_PIXELS',
      `the image declares ${metadata.width}x${frameHeight} pixels${frames > 1 ? ` x ${frames} frames` : ''}, more than the limit of ${limits.maxInputPixels} (IMGPIPE_MAX_IMAGE_PIXELS)`,
      { details: { width: metadata.width, height: frameHeight, frames, limit: limits.maxInputPixels } },
    );
  }
  if (frames > limits.maxFrames) {
    throw new ImgpipeError(
      'IMAGE_TOO_MANY_FRAMES',
      `the image has ${frames} frames, more than the limit of ${limits.maxFrames} (IMGPIPE_TRANSFORM_MAX_FRAMES)`,
      { details: { frames, limit: limits.maxFrames } },
    );
  }
  const turned = autoOrient && (metadata.orientation ?? 1) >= 5;
  const cmyk = metadata.space === 'cmyk';
  return {
    format,
    bytes: bytes.length,
    size: turned ? { width: frameHeight, height: metadata.width } : { width: metadata.width, height: frameHeight },
    frames,
    hasAlpha: metadata.hasAlpha,
    hasIcc: metadata.icc !== undefined && !cmyk,
    hasMetadata:
      (metadata.icc !== undefined && !cmyk) ||
      metadata.exif !== undefined ||
      metadata.xmp !== undefined ||
      metadata.iptc !== undefined,
  };
}

/** A libvips failure while reading the input, as the catalogue's code with a reason a user can act on. */
export function decodeError(error: unknown, format: InputFormat, bytes: Uint8Array): ImgpipeError {
  if (error instanceof ImgpipeError) return error;
  const raw = error instanceof Error ? error.message : String(error);
  const reason = [...new Set(raw.split('\n').map((line) => line.trim()))].filter(Boolean).slice(0, 3).join('; ');
  const name = format.toUpperCase();
  if (/exceeds pixel limit/i.test(raw)) {
    return new ImgpipeError('IMAGE_TOO_MANY_PIXELS', `the ${name} image has more pixels than allowed: ${reason}`);
  }
  if (
    /premature end|truncated|unexpected end|end of (file|data|stream)|not enough data|short read/i.test(raw) ||
    lacksEndMarker(format, bytes)
  ) {
    return new ImgpipeError('IMAGE_TRUNCATED', `the ${name} data ends before the image does: ${reason}`, {
      cause: error,
      details: { format, bytes: bytes.length },
    });
  }
  return new ImgpipeError('IMAGE_CORRUPT', `the ${name} image could not be decoded: ${reason}`, {
    cause: error,
    details: { format, bytes: bytes.length },
  });
}

/** Whether a libvips error came from reading the input rather than from an operation. */
export function isDecodeFailure(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /load|premature|truncated|corrupt|read error|unexpected end|not a known|bad (huffman|marker)|decode|invalid (png|jpeg|gif|webp|tiff)/i.test(
    message,
  );
}

function lacksEndMarker(format: InputFormat, bytes: Uint8Array): boolean {
  const tail = Buffer.from(bytes.subarray(Math.max(0, bytes.length - 32)));
  switch (format) {
    case 'jpeg':
      return !tail.includes(Buffer.from([0xff, 0xd9]));
    case 'png':
      return !tail.includes('IEND');
    case 'gif':
      return !tail.includes(0x3b);
    default:
      return false;
  }
}
