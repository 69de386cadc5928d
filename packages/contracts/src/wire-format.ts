/**
 * The Confluent wire format: byte 0 is the magic byte 0, bytes 1-4 the schema id (big-endian), then the Avro body.
 * Parsed here rather than by the registry library so that every malformed message gets a deterministic error code.
 */
import { ImgpipeError } from '@imgpipe/core';

export const MAGIC_BYTE = 0;
export const WIRE_HEADER_LENGTH = 5;

export interface WireMessage {
  schemaId: number;
  body: Buffer;
}

export function parseWireMessage(message: Uint8Array): WireMessage {
  const bytes = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  if (bytes.length === 0) {
    throw new ImgpipeError(
      'CODEC_TRUNCATED',
      'the message is empty; a Confluent wire-format message has 5 header bytes',
    );
  }
  if (bytes[0] !== MAGIC_BYTE) {
    throw new ImgpipeError(
      'CODEC_MISSING_MAGIC_BYTE',
      `the message starts with byte 0x${bytes[0]!.toString(16).padStart(2, '0')}${describeFirstByte(bytes[0]!)}, ` +
        'not the Confluent magic byte 0x00: it was not written by a schema-registry serializer',
    );
  }
  if (bytes.length < WIRE_HEADER_LENGTH) {
    throw new ImgpipeError(
      'CODEC_TRUNCATED',
      `the message has ${bytes.length} byte(s); the Confluent header alone needs ${WIRE_HEADER_LENGTH} (magic byte + 4-byte schema id)`,
    );
  }
  const schemaId = bytes.readInt32BE(1);
  if (bytes.length === WIRE_HEADER_LENGTH) {
    throw new ImgpipeError(
      'CODEC_TRUNCATED',
      `the message ends after its header (schema id ${schemaId}): no Avro body`,
    );
  }
  if (schemaId <= 0) {
    throw new ImgpipeError(
      'CODEC_UNKNOWN_SCHEMA',
      `the message names schema id ${schemaId}; registry ids are positive`,
    );
  }
  return { schemaId, body: bytes.subarray(WIRE_HEADER_LENGTH) };
}

export function composeWireMessage(schemaId: number, body: Uint8Array): Buffer {
  if (!Number.isInteger(schemaId) || schemaId <= 0 || schemaId > 0x7fffffff) {
    throw new RangeError(`schema id must be a positive 32-bit integer (got ${schemaId})`);
  }
  const message = Buffer.allocUnsafe(WIRE_HEADER_LENGTH + body.length);
  message[0] = MAGIC_BYTE;
  message.writeInt32BE(schemaId, 1);
  message.set(body, WIRE_HEADER_LENGTH);
  return message;
}

function describeFirstByte(byte: number): string {
  if (byte === 0x7b || byte === 0x5b) return ` ('${String.fromCharCode(byte)}', which looks like JSON)`;
  if (byte >= 0x20 && byte < 0x7f) return ` ('${String.fromCharCode(byte)}', which looks like text)`;
  return '';
}
