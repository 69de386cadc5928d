import { ImgpipeError } from '@imgpipe/core';

/**
 * What a string the API stores or searches with may hold. PostgreSQL `text` and `jsonb` cannot hold NUL (a query
 * with one fails), so no string may carry it; names (file names, labels, key names, attribute keys) carry no control
 * characters at all. The patterns go into the route schemas, so the OpenAPI document states the same rule that
 * validation applies; fields outside a schema (multipart parts, file names) are checked with `checkName`/`checkText`.
 */
export const TEXT_PATTERN = '^[^\\u0000]*$';
export const NAME_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';

const TEXT = new RegExp(TEXT_PATTERN, 'u');
const NAME = new RegExp(NAME_PATTERN, 'u');

/** A JSON schema for a name of at most `maxLength` characters. */
export function nameSchema(maxLength: number, extra: { description?: string; minLength?: number } = {}) {
  return { type: 'string', maxLength, pattern: NAME_PATTERN, ...extra } as const;
}

/** A JSON schema for free text of at most `maxLength` characters. */
export function textSchema(maxLength: number, extra: { description?: string; minLength?: number } = {}) {
  return { type: 'string', maxLength, pattern: TEXT_PATTERN, ...extra } as const;
}

export function checkName(value: string, field: string, maxLength: number): string {
  if (value.length > maxLength) {
    throw new ImgpipeError('REQUEST_INVALID', `${field} must be at most ${maxLength} characters`);
  }
  if (!NAME.test(value)) throw new ImgpipeError('REQUEST_INVALID', `${field} must not contain control characters`);
  return value;
}

export function checkText(value: string, field: string, maxLength: number): string {
  if (value.length > maxLength) {
    throw new ImgpipeError('REQUEST_INVALID', `${field} must be at most ${maxLength} characters`);
  }
  if (!TEXT.test(value)) throw new ImgpipeError('REQUEST_INVALID', `${field} must not contain NUL characters`);
  return value;
}

/** A name taken from elsewhere (a URL's path): control characters dropped rather than refused, length capped. */
export function cleanName(value: string, maxLength: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  return value.replace(/[\u0000-\u001f\u007f]/gu, '').slice(0, maxLength);
}
