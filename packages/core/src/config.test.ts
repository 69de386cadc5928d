import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bool, int, list, loadConfig, oneOf, str } from './config.ts';
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
