/**
 * Avro bodies in and out, with failures turned into the codec's error codes, and decoded values turned into plain
 * objects: avsc builds records as instances of generated classes and reads absent optionals as null, while imgpipe's
 * types (and JSON, and deepEqual) want plain objects with absent properties left out.
 */
import { ImgpipeError } from '@imgpipe/core';
import type { Resolver, Type } from 'avsc';

export function writeAvroBody(type: Type, value: unknown, what: string): Buffer {
  try {
    return type.toBuffer(value);
  } catch (error) {
    const problems: string[] = [];
    type.isValid(value, {
      errorHook: (path, found) => problems.push(`${path.join('.') || '(root)'}: ${describeValue(found)}`),
    });
    if (problems.length === 0) problems.push(error instanceof Error ? error.message : String(error));
    throw new ImgpipeError('CODEC_INVALID_PAYLOAD', `${what} does not match its schema: ${problems.join('; ')}`, {
      cause: error,
      details: { problems },
    });
  }
}

export function readAvroBody(type: Type, body: Buffer, what: string, resolver?: Resolver): unknown {
  try {
    return toPlainValue(type.fromBuffer(body, resolver));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (reason === 'truncated buffer') {
      throw new ImgpipeError('CODEC_TRUNCATED', `the ${what} body (${body.length} bytes) ends before its schema does`, {
        cause: error,
      });
    }
    throw new ImgpipeError('CODEC_INVALID_PAYLOAD', `the ${what} body does not decode with its schema: ${reason}`, {
      cause: error,
    });
  }
}

/** Records and maps become plain objects without null properties; arrays are walked; Buffers and scalars kept. */
export function toPlainValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(toPlainValue);
  const plain: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== null && item !== undefined) plain[key] = toPlainValue(item);
  }
  return plain;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (Buffer.isBuffer(value)) return `unexpected bytes (${value.length})`;
  const text = JSON.stringify(value);
  return `unexpected ${text === undefined ? typeof value : text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}
