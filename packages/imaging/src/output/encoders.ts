/**
 * The encoders: sharp's for JPEG, PNG, WebP, AVIF, TIFF and GIF with the recipe's quality and progressive flag, and
 * the BMP writer (bmp.ts) for BMP, which libvips cannot write.
 */
import type { Sharp } from 'sharp';
import type { FormatOp, OutputFormat } from '../recipe.ts';

export const CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  tiff: 'image/tiff',
  gif: 'image/gif',
  bmp: 'image/bmp',
};

/** Qualities used when the recipe gives none. */
export const DEFAULT_QUALITY = { jpeg: 80, webp: 80, avif: 50 } as const;

/** Formats whose files can hold transparency. */
export function keepsAlpha(format: OutputFormat): boolean {
  return format !== 'jpeg' && format !== 'bmp';
}

export function encode(image: Sharp, format: Exclude<OutputFormat, 'bmp'>, options?: FormatOp): Sharp {
  const quality = options?.quality;
  const progressive = options?.progressive ?? false;
  switch (format) {
    case 'jpeg':
      return image.jpeg({ quality: quality ?? DEFAULT_QUALITY.jpeg, progressive });
    case 'png':
      return image.png({ progressive, ...(quality !== undefined ? { palette: true, quality } : {}) });
    case 'webp':
      return image.webp({ quality: quality ?? DEFAULT_QUALITY.webp });
    case 'avif':
      return image.avif({ quality: quality ?? DEFAULT_QUALITY.avif });
    case 'tiff':
      return image.tiff({ compression: 'lzw' });
    case 'gif':
      return image.gif({ progressive });
  }
}
