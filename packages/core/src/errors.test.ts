import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderErrorDocs } from './error-docs.ts';
import { ERROR_CATALOGUE, ImgpipeError, isErrorCode, toImgpipeError } from './errors.ts';

test('docs/errors.md lists every code as the catalogue defines it', () => {
  const published = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  assert.equal(published, renderErrorDocs(), 'run: node scripts/generate-error-docs.ts');
  for (const code of Object.keys(ERROR_CATALOGUE)) assert.ok(published.includes(`\`${code}\``), code);
});

test('an ImgpipeError carries its code, retriability and HTTP status', () => {
  const error = new ImgpipeError('STORAGE_UNAVAILABLE', 'S3 timed out', { details: { key: 'a' } });
  assert.equal(error.code, 'STORAGE_UNAVAILABLE');
  assert.equal(error.retriable, true);
  assert.equal(error.httpStatus, 503);
  assert.deepEqual(error.toJSON(), {
    code: 'STORAGE_UNAVAILABLE',
    message: 'S3 timed out',
    retriable: true,
    details: { key: 'a' },
  });
  assert.equal(new ImgpipeError('IMAGE_CORRUPT').retriable, false);
});

test('unknown errors become STAGE_INTERNAL, keeping the cause', () => {
  const cause = new TypeError('boom');
  const error = toImgpipeError(cause);
  assert.equal(error.code, 'STAGE_INTERNAL');
  assert.equal(error.cause, cause);
  assert.equal(isErrorCode('IMAGE_EMPTY'), true);
  assert.equal(isErrorCode('NOPE'), false);
});
