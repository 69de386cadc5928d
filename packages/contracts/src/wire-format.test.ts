import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { composeWireMessage, parseWireMessage } from './wire-format.ts';

function failsWith(code: string, message: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ImgpipeError, `expected an ImgpipeError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  };
}

describe('Confluent wire format', () => {
  test('composes magic byte, big-endian schema id and body, and parses them back', () => {
    const message = composeWireMessage(0x01020304, Buffer.from([0xaa, 0xbb]));
    assert.deepEqual([...message], [0, 1, 2, 3, 4, 0xaa, 0xbb]);
    const parsed = parseWireMessage(message);
    assert.equal(parsed.schemaId, 0x01020304);
    assert.deepEqual([...parsed.body], [0xaa, 0xbb]);
  });

  test('parses a message that is a view into a larger buffer', () => {
    const backing = Buffer.concat([Buffer.from('junk'), composeWireMessage(7, Buffer.from('x'))]);
    const parsed = parseWireMessage(backing.subarray(4));
    assert.equal(parsed.schemaId, 7);
    assert.equal(parsed.body.toString(), 'x');
  });

  test('bytes without the magic byte are CODEC_MISSING_MAGIC_BYTE', () => {
    assert.throws(
      () => parseWireMessage(Buffer.from('{"imageId":"x"}')),
      failsWith('CODEC_MISSING_MAGIC_BYTE', /0x7b.*JSON/),
    );
    assert.throws(
      () => parseWireMessage(Buffer.from([1, 0, 0, 0, 1, 2])),
      failsWith('CODEC_MISSING_MAGIC_BYTE', /0x01/),
    );
  });

  test('the first byte is described: JSON object or array, other text, or nothing for binary', () => {
    const first = (byte: number) => {
      try {
        parseWireMessage(Buffer.from([byte, 0, 0, 0, 1, 2]));
      } catch (error) {
        return (error as Error).message.split(', not the')[0];
      }
      return 'parsed';
    };
    assert.equal(first(0x7b), "the message starts with byte 0x7b ('{', which looks like JSON)");
    assert.equal(first(0x5b), "the message starts with byte 0x5b ('[', which looks like JSON)");
    assert.equal(first(0x20), "the message starts with byte 0x20 (' ', which looks like text)");
    assert.equal(first(0x7e), "the message starts with byte 0x7e ('~', which looks like text)");
    assert.equal(first(0x5a), "the message starts with byte 0x5a ('Z', which looks like text)");
    assert.equal(first(0x5c), "the message starts with byte 0x5c ('\\', which looks like text)");
    assert.equal(first(0x1f), 'the message starts with byte 0x1f');
    assert.equal(first(0x7f), 'the message starts with byte 0x7f');
    assert.equal(first(0xff), 'the message starts with byte 0xff');
  });

  test('an empty message or one shorter than the 5-byte header is CODEC_TRUNCATED', () => {
    assert.throws(() => parseWireMessage(Buffer.alloc(0)), failsWith('CODEC_TRUNCATED', /empty/));
    for (const length of [1, 2, 3, 4]) {
      assert.throws(
        () => parseWireMessage(Buffer.alloc(length)),
        failsWith('CODEC_TRUNCATED', new RegExp(`${length} byte`)),
      );
    }
  });

  test('a header without a body is CODEC_TRUNCATED', () => {
    assert.throws(
      () => parseWireMessage(Buffer.from([0, 0, 0, 0, 9])),
      failsWith('CODEC_TRUNCATED', /schema id 9.*no Avro body/),
    );
  });

  test('a non-positive schema id is CODEC_UNKNOWN_SCHEMA', () => {
    assert.throws(() => parseWireMessage(Buffer.from([0, 0, 0, 0, 0, 2])), failsWith('CODEC_UNKNOWN_SCHEMA', /id 0/));
    assert.throws(
      () => parseWireMessage(Buffer.from([0, 0xff, 0xff, 0xff, 0xff, 2])),
      failsWith('CODEC_UNKNOWN_SCHEMA', /id -1/),
    );
  });

  test('schema ids 1 and 2^31 - 1, the ends of the registry range, compose and parse', () => {
    for (const id of [1, 0x7fffffff]) {
      assert.equal(parseWireMessage(composeWireMessage(id, Buffer.from([1]))).schemaId, id);
    }
  });

  test('refuses to compose an id outside the registry range', () => {
    assert.throws(() => composeWireMessage(0, Buffer.alloc(1)), RangeError);
    assert.throws(() => composeWireMessage(-1, Buffer.alloc(1)), RangeError);
    assert.throws(() => composeWireMessage(2 ** 31, Buffer.alloc(1)), /positive 32-bit integer \(got 2147483648\)/);
    assert.throws(() => composeWireMessage(1.5, Buffer.alloc(1)), /positive 32-bit integer \(got 1\.5\)/);
  });
});
