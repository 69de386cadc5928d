import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { parseDuration } from './auth/dev-tokens.ts';
import { IdempotencyStore } from './idempotency.ts';
import { checkImage, parseAnalyses, parseAttributes } from './image-intake.ts';

const PNG_HEADER = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const code = (expected: string) => (error: unknown) => error instanceof ImgpipeError && error.code === expected;

describe('image intake', () => {
  test('the content type comes from the bytes', () => {
    const checked = checkImage(PNG_HEADER, 100);
    assert.equal(checked.contentType, 'image/png');
    assert.equal(checked.sha256.length, 64);
  });
  test('empty, too large and not an image are refused with their codes', () => {
    assert.throws(() => checkImage(Buffer.alloc(0), 100), code('IMAGE_EMPTY'));
    assert.throws(() => checkImage(PNG_HEADER, 4), code('IMAGE_TOO_LARGE'));
    assert.throws(() => checkImage(Buffer.from('GIF88a nope'), 100), code('IMAGE_UNSUPPORTED_FORMAT'));
  });
  test('analyses: comma lists or arrays, known names only, no duplicates', () => {
    assert.deepEqual(parseAnalyses('detect, ocr,detect'), ['detect', 'ocr']);
    assert.deepEqual(parseAnalyses(['faces']), ['faces']);
    assert.deepEqual(parseAnalyses('features,detect'), ['features', 'detect']);
    assert.deepEqual(parseAnalyses(undefined), []);
    assert.throws(() => parseAnalyses('detect,colour'), code('REQUEST_INVALID'));
  });
  test('attributes: a JSON object of strings', () => {
    assert.deepEqual(parseAttributes('{"camera":"front"}'), { camera: 'front' });
    assert.throws(() => parseAttributes('{"n":1}'), code('REQUEST_INVALID'));
    assert.throws(() => parseAttributes('[1]'), code('REQUEST_INVALID'));
  });
});

describe('small parsers', () => {
  test('durations', () => {
    assert.equal(parseDuration('90s'), 90);
    assert.equal(parseDuration('15m'), 900);
    assert.equal(parseDuration('2h'), 7200);
    assert.equal(parseDuration('7d'), 604800);
    assert.equal(parseDuration('600'), 600);
    assert.equal(parseDuration('soon'), undefined);
  });
  test('Idempotency-Key values', () => {
    assert.equal(IdempotencyStore.parseKey('"abc-123"'), 'abc-123');
    assert.equal(IdempotencyStore.parseKey(undefined), undefined);
    assert.throws(() => IdempotencyStore.parseKey('has space'), code('REQUEST_INVALID'));
    assert.throws(() => IdempotencyStore.parseKey('x'.repeat(300)), code('REQUEST_INVALID'));
  });
});
