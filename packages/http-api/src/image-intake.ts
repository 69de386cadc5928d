import { createHash } from 'node:crypto';
import { UPLOAD_ANALYSES, type UploadAnalysisName } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import { sniffFormat } from '@imgpipe/vision/sniff';
import { checkName, checkText } from './text-rules.ts';

export interface CheckedImage {
  bytes: Buffer;
  sha256: string;
  /** From the sniffed format, never from what the client said. */
  contentType: string;
  format: string;
}

const CONTENT_TYPES: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
  tiff: 'image/tiff',
};

/**
 * Everything checked before anything is stored: size (413), emptiness (422) and the real format from the magic
 * bytes (415). A refused image leaves nothing behind in S3 or PostgreSQL.
 */
export function checkImage(bytes: Buffer, maxBytes: number): CheckedImage {
  if (bytes.byteLength === 0) throw new ImgpipeError('IMAGE_EMPTY', 'the request carries no image bytes');
  if (bytes.byteLength > maxBytes) {
    throw new ImgpipeError('IMAGE_TOO_LARGE', `${bytes.byteLength} bytes is over the limit of ${maxBytes}`);
  }
  const sniffed = sniffFormat(bytes);
  if (!sniffed.supported) {
    const looksLike = sniffed.looksLike ? ` (it looks like ${sniffed.looksLike})` : '';
    throw new ImgpipeError(
      'IMAGE_UNSUPPORTED_FORMAT',
      `the bytes are not JPEG, PNG, WebP, AVIF, GIF or TIFF${looksLike}`,
    );
  }
  return {
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    contentType: CONTENT_TYPES[sniffed.format] ?? 'application/octet-stream',
    format: sniffed.format,
  };
}

/** `detect,ocr,features` or ['detect', 'ocr'] as analysis names; unknown names are REQUEST_INVALID. */
export function parseAnalyses(value: unknown): UploadAnalysisName[] {
  if (value === undefined || value === null || value === '') return [];
  const names = (Array.isArray(value) ? value : String(value).split(','))
    .map((name) => String(name).trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !(UPLOAD_ANALYSES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new ImgpipeError(
      'REQUEST_INVALID',
      `unknown analyses: ${unknown.join(', ')} (choose from ${UPLOAD_ANALYSES.join(', ')})`,
    );
  }
  return [...new Set(names)] as UploadAnalysisName[];
}

/** At most this many attributes, keys of 1-100 characters (names), values of at most 2048 (text without NUL). */
export const ATTRIBUTES_MAX = 50;
export const ATTRIBUTE_KEY_MAX = 100;
export const ATTRIBUTE_VALUE_MAX = 2048;

/** Attributes as a flat string map, from an object or its JSON text (a multipart field). */
export function parseAttributes(value: unknown): Record<string, string> {
  if (value === undefined || value === null || value === '') return {};
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new ImgpipeError('REQUEST_INVALID', 'attributes must be a JSON object of strings');
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ImgpipeError('REQUEST_INVALID', 'attributes must be a JSON object of strings');
  }
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length > ATTRIBUTES_MAX) {
    throw new ImgpipeError('REQUEST_INVALID', `attributes must be at most ${ATTRIBUTES_MAX} string values`);
  }
  for (const [key, item] of entries) {
    if (typeof item !== 'string') throw new ImgpipeError('REQUEST_INVALID', `attribute ${key} must be a string`);
    if (key === '') throw new ImgpipeError('REQUEST_INVALID', 'attribute names must not be empty');
    checkName(key, 'an attribute name', ATTRIBUTE_KEY_MAX);
    checkText(item, `attribute ${key}`, ATTRIBUTE_VALUE_MAX);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}
