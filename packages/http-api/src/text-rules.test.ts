import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { parseAttributes } from './image-intake.ts';
import { checkCursor } from './search-cursor.ts';
import { checkName, checkText, cleanName, NAME_PATTERN, TEXT_PATTERN } from './text-rules.ts';

const code = (expected: string) => (error: unknown) => error instanceof ImgpipeError && error.code === expected;
const cursorOf = (time: string) =>
  Buffer.from(JSON.stringify([time, '4f0c1a9e-1d2b-4c3d-8e4f-5a6b7c8d9e0f'])).toString('base64url');

describe('text rules', () => {
  test('names refuse every C0 control character and DEL; text refuses only NUL', () => {
    for (let c = 0; c < 0x20; c++) {
      assert.throws(() => checkName(`a${String.fromCharCode(c)}b`, 'sourceName', 100), code('REQUEST_INVALID'));
    }
    assert.throws(() => checkName('a\u007fb', 'sourceName', 100), code('REQUEST_INVALID'));
    assert.equal(checkName('Ünïcode 名前 ✓.jpg', 'sourceName', 100), 'Ünïcode 名前 ✓.jpg');
    assert.equal(checkText('line one\nline two\ttab', 'note', 100), 'line one\nline two\ttab');
    assert.throws(() => checkText('a\u0000b', 'note', 100), code('REQUEST_INVALID'));
    assert.throws(() => checkName('x'.repeat(101), 'sourceName', 100), /at most 100/);
  });

  test('the schema patterns say the same as the checks (ajv compiles them with the u flag)', () => {
    const name = new RegExp(NAME_PATTERN, 'u');
    const text = new RegExp(TEXT_PATTERN, 'u');
    for (const sample of ['plain', 'tab\there', 'nul\u0000', 'bell\u0007', 'del\u007f', 'é 名']) {
      const control = [...sample].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);
      assert.equal(name.test(sample), !control, JSON.stringify(sample));
      assert.equal(text.test(sample), !sample.includes('\u0000'), JSON.stringify(sample));
    }
  });

  test('a name from a URL path loses its control characters and is capped', () => {
    assert.equal(cleanName('dog\u0000\u0007.jpg', 100), 'dog.jpg');
    assert.equal(cleanName('x'.repeat(50), 10), 'x'.repeat(10));
  });

  test('attributes: names 1-100 characters without control characters, values without NUL, at most 50', () => {
    assert.deepEqual(parseAttributes({ camera: 'front', note: 'two\nlines' }), { camera: 'front', note: 'two\nlines' });
    assert.throws(() => parseAttributes({ '': 'x' }), code('REQUEST_INVALID'));
    assert.throws(() => parseAttributes({ ['k'.repeat(101)]: 'x' }), code('REQUEST_INVALID'));
    assert.throws(() => parseAttributes({ 'a\u0001': 'x' }), code('REQUEST_INVALID'));
    assert.throws(() => parseAttributes({ a: 'x\u0000' }), code('REQUEST_INVALID'));
    assert.throws(() => parseAttributes({ a: 'x'.repeat(2049) }), code('REQUEST_INVALID'));
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    assert.equal(Object.keys(parseAttributes(fifty)).length, 50);
    assert.throws(() => parseAttributes({ ...fifty, one: 'more' }), code('REQUEST_INVALID'));
  });
});

describe('search cursors', () => {
  test('a real instant passes; an impossible one is REQUEST_INVALID', () => {
    const good = cursorOf('2024-02-29T23:59:59.123456Z');
    assert.equal(checkCursor(good), good);
    for (const time of [
      '2023-02-29T00:00:00.000000Z',
      '2024-04-31T00:00:00.000000Z',
      '2024-13-01T00:00:00.000000Z',
      '2024-01-01T24:00:00.000000Z',
      '2024-01-01T00:60:00.000000Z',
      '0000-01-01T00:00:00.000000Z',
    ]) {
      assert.throws(() => checkCursor(cursorOf(time)), code('REQUEST_INVALID'), time);
    }
  });

  test('what is not a cursor at all is left to the store, which refuses it the same way', () => {
    assert.equal(checkCursor('not-base64-json'), 'not-base64-json');
  });
});
