/**
 * Encoded bytes to oriented pixels for OCR, so polygons are in pixels of the image as users see it (EXIF applied).
 */
import { ImgpipeError } from '@imgpipe/core';
import { sharp } from '../sharp-instance.ts';
import type { RasterImage } from './raster.ts';

export async function decodeImage(bytes: Uint8Array): Promise<RasterImage> {
  if (bytes.byteLength === 0) throw new ImgpipeError('IMAGE_EMPTY', 'OCR was given zero bytes');
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error' })
      .rotate()
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const channels = info.channels === 1 || info.channels === 3 || info.channels === 4 ? info.channels : undefined;
    if (channels === undefined) {
      throw new ImgpipeError('IMAGE_UNSUPPORTED_FORMAT', `OCR cannot read images with ${info.channels} channels`);
    }
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      channels,
    };
  } catch (error) {
    if (error instanceof ImgpipeError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (/unsupported image format/i.test(message)) {
      throw new ImgpipeError('IMAGE_UNSUPPORTED_FORMAT', `OCR input: ${message}`, { cause: error });
    }
    if (/premature end|truncated|unexpected end/i.test(message)) {
      throw new ImgpipeError('IMAGE_TRUNCATED', `OCR input: ${message}`, { cause: error });
    }
    throw new ImgpipeError('IMAGE_CORRUPT', `OCR input: ${message}`, { cause: error });
  }
}
