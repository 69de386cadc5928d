import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { readAvroBody, toPlainValue, writeAvroBody } from './avro-body.ts';
import { checkEventRules } from './event-rules.ts';
import { INLINE_IMAGE_MAX_BYTES } from './events.ts';
import { exampleEvents } from './example-events.ts';
import { loadEventSchemas } from './schemas.ts';
import { EVENT_TYPE_NAMES } from './topics.ts';

const schemas = loadEventSchemas();

describe('Avro bodies', () => {
  test('every example event survives write and read unchanged (plain objects, absent optionals left out)', () => {
    const examples = exampleEvents();
    for (const eventType of EVENT_TYPE_NAMES) {
      const body = writeAvroBody(schemas[eventType].type, examples[eventType], eventType);
      assert.deepStrictEqual(readAvroBody(schemas[eventType].type, body, eventType), examples[eventType], eventType);
    }
  });

  test('absent optional fields are written as their defaults and read back absent', () => {
    const { type } = schemas.ObjectsDetected;
    const minimal = { imageId: 'i', tenantId: 't', occurredAt: 5, status: 'skipped', objects: [] };
    assert.deepStrictEqual(
      readAvroBody(type, writeAvroBody(type, minimal, 'ObjectsDetected'), 'ObjectsDetected'),
      minimal,
    );
  });

  test('a value that does not match the schema is CODEC_INVALID_PAYLOAD naming the fields', () => {
    const { type } = schemas.ImageUploaded;
    const bad = { ...exampleEvents().ImageUploaded, size: 'big', tenantId: undefined };
    assert.throws(
      () => writeAvroBody(type, bad, 'ImageUploaded'),
      (error: unknown) =>
        error instanceof ImgpipeError &&
        error.code === 'CODEC_INVALID_PAYLOAD' &&
        /tenantId: missing/.test(error.message) &&
        /size: unexpected "big"/.test(error.message),
    );
  });

  test('a body cut short is CODEC_TRUNCATED', () => {
    const { type } = schemas.ImageAnalyzed;
    const body = writeAvroBody(type, exampleEvents().ImageAnalyzed, 'ImageAnalyzed');
    for (const keep of [1, Math.floor(body.length / 2), body.length - 1]) {
      assert.throws(() => readAvroBody(type, body.subarray(0, keep), 'ImageAnalyzed'), {
        code: 'CODEC_TRUNCATED',
        message: new RegExp(`body \\(${keep} bytes\\) ends before its schema does`),
      });
    }
  });

  test('a body that is not what the schema says is CODEC_INVALID_PAYLOAD', () => {
    const { type } = schemas.ImageUploaded;
    const body = writeAvroBody(type, exampleEvents().ImageUploaded, 'ImageUploaded');
    assert.throws(() => readAvroBody(type, Buffer.concat([body, Buffer.from([7])]), 'ImageUploaded'), {
      code: 'CODEC_INVALID_PAYLOAD',
      message: /trailing data/,
    });
    // Field 4 (source) is a union of 2 branches; a zig-zag 9 picks branch -5.
    const badUnion = Buffer.from([2, 0x41, 2, 0x42, 2, 9]);
    assert.throws(() => readAvroBody(type, badUnion, 'ImageUploaded'), { code: 'CODEC_INVALID_PAYLOAD' });
  });

  test('toPlainValue keeps Buffers and drops nulls at every depth', () => {
    const bytes = Buffer.from([1]);
    assert.deepStrictEqual(toPlainValue({ a: null, b: [{ c: null, d: bytes }], e: { f: 1 } }), {
      b: [{ d: bytes }],
      e: { f: 1 },
    });
  });
});

describe('contract rules beyond the schema', () => {
  const upload = () => exampleEvents().ImageUploaded;

  test('ImageUploaded carries exactly one of blob and inline', () => {
    assert.doesNotThrow(() => checkEventRules('ImageUploaded', upload()));
    assert.throws(() => checkEventRules('ImageUploaded', { ...upload(), inline: Buffer.from([1]) }), {
      code: 'CODEC_INVALID_PAYLOAD',
      message: /exactly one of blob and inline \(it has both\)/,
    });
    assert.throws(() => checkEventRules('ImageUploaded', { ...upload(), blob: undefined }), {
      code: 'CODEC_INVALID_PAYLOAD',
      message: /it has neither/,
    });
  });

  test('inline images are limited to 1,000,000 bytes', () => {
    const atLimit = { ...upload(), blob: undefined, inline: Buffer.alloc(INLINE_IMAGE_MAX_BYTES) };
    assert.doesNotThrow(() => checkEventRules('ImageUploaded', atLimit));
    assert.throws(
      () => checkEventRules('ImageUploaded', { ...atLimit, inline: Buffer.alloc(INLINE_IMAGE_MAX_BYTES + 1) }),
      { code: 'IMAGE_TOO_LARGE', message: /1000001 bytes; at most 1000000/ },
    );
  });
});
