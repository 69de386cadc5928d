import { ImgpipeError } from '@imgpipe/core';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isImageId(value: string): boolean {
  return UUID.test(value);
}

/**
 * Image ids are UUIDs (the images table's key); anything else is a malformed event, not a database failure.
 * Returns the id in PostgreSQL's spelling (lower case), which cache keys use too.
 */
export function canonicalImageId(value: string): string {
  if (!isImageId(value)) {
    throw new ImgpipeError('CODEC_INVALID_PAYLOAD', `image id "${value}" is not a UUID`);
  }
  return value.toLowerCase();
}
