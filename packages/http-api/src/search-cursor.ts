import { ImgpipeError } from '@imgpipe/core';

/**
 * A search cursor as the client sent it, refused (400) when the instant it holds is not a real one: the results
 * store checks a cursor's shape but casts its time in PostgreSQL, where `2024-02-30` or hour 25 fail the query.
 * The cursor stays opaque to clients; this only knows that it is base64url JSON whose first element is a time.
 */
export function checkCursor(cursor: string): string {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return cursor; // malformed: the store refuses it with the same message
  }
  const time = Array.isArray(decoded) ? decoded[0] : undefined;
  if (typeof time === 'string' && !isRealInstant(time)) {
    throw new ImgpipeError('REQUEST_INVALID', 'the cursor is not one this API returned');
  }
  return cursor;
}

/** `YYYY-MM-DDTHH:MM:SS(.fraction)Z` naming an instant that exists (no February 30, no hour 24). */
function isRealInstant(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?Z$/.exec(text);
  if (!match) return false;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[] as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return (
    year >= 1 &&
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second
  );
}
