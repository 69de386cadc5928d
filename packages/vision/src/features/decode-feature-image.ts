/**
 * Encoded image bytes to the pixels keypoints are detected on: oriented by EXIF, sRGB, alpha dropped, and
 * downscaled so the long side is at most maxSide (as the pipeline's normalised image is), remembering the
 * original size so keypoints are reported in the original's pixels.
 */
import { ImgpipeError } from '@imgpipe/core';
import { sharp } from '../sharp-instance.ts';
import type { FeatureImage } from './grey.ts';

export interface DecodeFeatureImageOptions {
  /** Long side of the copy to detect on; 0 keeps the full size. Default 1280 (IMGPIPE_NORMALIZED_MAX_SIDE's default). */
  maxSide?: number;
  /**
   * Refuse images whose header declares more pixels (IMAGE_TOO_MANY_PIXELS), before decoding any: pixel bombs.
   * Default 100,000,000 (IMGPIPE_MAX_IMAGE_PIXELS's default).
   */
  maxPixels?: number;
}

export async function decodeFeatureImage(
  bytes: Uint8Array,
  options: DecodeFeatureImageOptions = {},
): Promise<FeatureImage> {
  const maxSide = options.maxSide ?? 1280;
  const maxPixels = options.maxPixels ?? 100_000_000;
  if (bytes.byteLength === 0) throw new ImgpipeError('IMAGE_EMPTY', 'the image has zero bytes');
  try {
    const input = { failOn: 'error' as const, limitInputPixels: maxPixels };
    const { width = 0, height = 0, orientation } = await sharp(bytes, input).metadata();
    if (width * height > maxPixels) {
      throw new ImgpipeError(
        'IMAGE_TOO_MANY_PIXELS',
        `the image declares ${width}x${height} pixels, more than the limit of ${maxPixels}`,
      );
    }
    const oriented = sharp(bytes, input).rotate();
    const [ow, oh] = orientation !== undefined && orientation >= 5 ? [height, width] : [width, height];
    let pipeline = oriented.toColourspace('srgb').removeAlpha();
    if (maxSide > 0 && Math.max(ow, oh) > maxSide) {
      pipeline = pipeline.resize({ width: maxSide, height: maxSide, fit: 'inside' });
    }
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      channels: 3,
      originalWidth: ow,
      originalHeight: oh,
    };
  } catch (error) {
    if (error instanceof ImgpipeError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (/exceeds pixel limit/i.test(message)) {
      throw new ImgpipeError('IMAGE_TOO_MANY_PIXELS', `the image has more pixels than allowed: ${message}`);
    }
    if (/unsupported image format/i.test(message)) {
      throw new ImgpipeError('IMAGE_UNSUPPORTED_FORMAT', message, { cause: error });
    }
    if (/premature end|truncated|unexpected end/i.test(message)) {
      throw new ImgpipeError('IMAGE_TRUNCATED', message, { cause: error });
    }
    throw new ImgpipeError('IMAGE_CORRUPT', message, { cause: error });
  }
}
