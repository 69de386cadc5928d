import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bool, int, list, loadConfig, oneOf, optionalStr, optionalUrl, str, url } from './config.ts';
import { ImgpipeError } from './errors.ts';

const settings = {
  name: str('NAME', { default: 'imgpipe' }),
  port: int('PORT', { default: 8080, min: 1, max: 65535 }),
  debug: bool('DEBUG', { default: false }),
  mode: oneOf('MODE', ['a', 'b'] as const, { default: 'a' }),
  tags: list('TAGS', { default: [] }),
};

test('defaults apply and values parse', () => {
  assert.deepEqual(loadConfig(settings, {}), { name: 'imgpipe', port: 8080, debug: false, mode: 'a', tags: [] });
  assert.deepEqual(loadConfig(settings, { PORT: '9000', DEBUG: 'yes', MODE: 'b', TAGS: 'x, y' }), {
    name: 'imgpipe',
    port: 9000,
    debug: true,
    mode: 'b',
    tags: ['x', 'y'],
  });
});

test('every mistake is reported at once, one line per variable', () => {
  assert.throws(
    () => loadConfig({ ...settings, secret: str('SECRET') }, { PORT: '70000', DEBUG: 'maybe', MODE: 'c' }),
    (error: unknown) => {
      assert.ok(error instanceof ImgpipeError);
      assert.equal(error.code, 'CONFIG_INVALID');
      const problems = error.details?.['problems'] as string[];
      assert.deepEqual(problems, [
        'PORT must be at most 65535 (got 70000)',
        'DEBUG must be true or false (got "maybe")',
        'MODE must be one of a, b (got "c")',
        'SECRET is required',
      ]);
      return true;
    },
  );
  assert.throws(() => loadConfig(settings, { PORT: '80x' }), /PORT must be a whole number/);
});

test('groups nest: one load of a process-wide tree reports the mistakes of every group at once', () => {
  const stream = { concurrency: int('CONCURRENCY', { default: 2, min: 1 }) };
  const storage = { endpoint: url('S3_ENDPOINT', { default: 'http://127.0.0.1:9000' }) };
  const tree = { stream, storage, shared: { port: int('PORT', { default: 8080, max: 65535 }) } };
  assert.deepEqual(loadConfig(tree, { S3_ENDPOINT: 'https://s3.example' }), {
    stream: { concurrency: 2 },
    storage: { endpoint: 'https://s3.example' },
    shared: { port: 8080 },
  });
  assert.throws(
    () => loadConfig(tree, { CONCURRENCY: 'abc', S3_ENDPOINT: 'not-a-url' }),
    (error: unknown) => {
      assert.ok(error instanceof ImgpipeError);
      assert.deepEqual(error.details?.['problems'], [
        'CONCURRENCY must be a whole number (got "abc")',
        'S3_ENDPOINT must be a URL such as http://host:port (got "not-a-url")',
      ]);
      return true;
    },
  );
});

test('a variable read by two groups is one mistake, named once', () => {
  const deadline = int('DEADLINE_MS', { default: 1000, min: 1 });
  assert.throws(
    () => loadConfig({ a: { deadline }, b: { deadline } }, { DEADLINE_MS: '0' }),
    (error: unknown) => {
      assert.deepEqual((error as ImgpipeError).details?.['problems'], ['DEADLINE_MS must be at least 1 (got 0)']);
      return true;
    },
  );
});

test('URLs: the scheme must be one of the allowed; optional URLs and minimum lengths', () => {
  const settings = {
    registry: url('REGISTRY', { default: 'http://127.0.0.1:8081' }),
    jwks: optionalUrl('JWKS', { protocols: ['https:'] }),
    secret: optionalStr('SECRET', { minLength: 32 }),
  };
  assert.deepEqual(loadConfig(settings, {}), { registry: 'http://127.0.0.1:8081', jwks: undefined, secret: undefined });
  assert.throws(
    () => loadConfig(settings, { REGISTRY: 'ftp://x', JWKS: 'http://idp/keys', SECRET: 'short' }),
    (error: unknown) => {
      assert.deepEqual((error as ImgpipeError).details?.['problems'], [
        'REGISTRY must be a URL starting with http:// or https:// (got "ftp://x")',
        'JWKS must be a URL starting with https:// (got "http://idp/keys")',
        'SECRET must be at least 32 characters (got 5)',
      ]);
      return true;
    },
  );
});
