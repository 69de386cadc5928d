import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import type { Type } from 'avsc';
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

  test('each problem is named by its path, joined with "; "; long values are cut at 57 characters', () => {
    const { type } = schemas.ImageUploaded;
    const long = 'x'.repeat(70);
    const bad = { ...exampleEvents().ImageUploaded, size: long, sha256: Buffer.from([1, 2]), contentType: 5 };
    assert.throws(
      () => writeAvroBody(type, bad, 'ImageUploaded'),
      (error: unknown) => {
        assert.ok(error instanceof ImgpipeError);
        const problems = (error.details as { problems: string[] }).problems;
        assert.ok(problems.includes(`size: unexpected "${'x'.repeat(56)}...`), problems.join('\n'));
        assert.ok(problems.includes('sha256: unexpected bytes (2)'), problems.join('\n'));
        assert.ok(problems.includes('contentType: unexpected 5'), problems.join('\n'));
        assert.equal(problems.length, 3, problems.join('\n'));
        assert.equal(error.message, `ImageUploaded does not match its schema: ${problems.join('; ')}`);
        return true;
      },
    );
  });

  test('a value of 60 characters is shown whole; a value at the root is named (root)', () => {
    const { type } = schemas.ImageUploaded;
    const sixty = `"${'y'.repeat(58)}"`;
    assert.throws(() => writeAvroBody(type, { ...exampleEvents().ImageUploaded, size: 'y'.repeat(58) }, 'E'), {
      message: new RegExp(`size: unexpected ${sixty}`),
    });
    assert.throws(() => writeAvroBody(type, { ...exampleEvents().ImageUploaded, size: 'y'.repeat(59) }, 'E'), {
      message: new RegExp(`size: unexpected "${'y'.repeat(56)}\\.\\.\\.$`),
    });
    assert.throws(() => writeAvroBody(type, 'not a record', 'E'), { message: /\(root\): unexpected "not a record"/ });
  });

  test('nested fields are named by their dotted path; a value JSON cannot show is named by its type', () => {
    const { type } = schemas.ImagePreprocessed;
    const example = exampleEvents().ImagePreprocessed;
    const bad = { ...example, original: { ...example.original, bucket: 7 }, tenantId: () => 't' };
    assert.throws(() => writeAvroBody(type, bad, 'E'), {
      message: 'E does not match its schema: tenantId: unexpected function; original.bucket: unexpected 7',
    });
  });

  test("when the schema check finds nothing, the writer's own error is the problem", () => {
    const failing = (thrown: unknown) =>
      ({
        toBuffer: () => {
          throw thrown;
        },
        isValid: () => true,
      }) as unknown as Type;
    assert.throws(() => writeAvroBody(failing(new Error('boom')), {}, 'E'), {
      code: 'CODEC_INVALID_PAYLOAD',
      message: 'E does not match its schema: boom',
    });
    assert.throws(() => writeAvroBody(failing('plain'), {}, 'E'), { message: 'E does not match its schema: plain' });
  });

  test('a reader failure that is not an Error is still CODEC_INVALID_PAYLOAD with its text', () => {
    const type = {
      fromBuffer: () => {
        throw 'odd';
      },
    } as unknown as Type;
    assert.throws(() => readAvroBody(type, Buffer.from([1]), 'E'), {
      code: 'CODEC_INVALID_PAYLOAD',
      message: 'the E body does not decode with its schema: odd',
    });
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
