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

  test('refuses to compose an id outside the registry range', () => {
    assert.throws(() => composeWireMessage(0, Buffer.alloc(1)), RangeError);
    assert.throws(() => composeWireMessage(2 ** 31, Buffer.alloc(1)), RangeError);
  });
});
