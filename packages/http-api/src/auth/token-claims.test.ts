import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { checkTokenTimes, DEFAULT_TOKEN_TIME_POLICY, principalFromClaims } from './token-claims.ts';

const NOW = 1_800_000_000;
const policy = { maxLifetimeSeconds: 3600, clockSkewSeconds: 30 };

function refusedWith(code: string, message: RegExp) {
  return (error: unknown) => error instanceof ImgpipeError && error.code === code && message.test(error.message);
}

describe('token time rules', () => {
  test('defaults: 24 h lifetime, 30 s skew', () => {
    assert.deepEqual(DEFAULT_TOKEN_TIME_POLICY, { maxLifetimeSeconds: 86_400, clockSkewSeconds: 30 });
  });

  test('exp is required and must be a number', () => {
    for (const exp of [undefined, '1800000600', null]) {
      assert.throws(() => checkTokenTimes({ iat: NOW, exp }, NOW, policy), refusedWith('AUTH_INVALID', /no `exp`/));
    }
  });

  test('iat must be a number when present', () => {
    assert.throws(
      () => checkTokenTimes({ iat: 'now', exp: NOW + 60 }, NOW, policy),
      refusedWith('AUTH_INVALID', /`iat` claim is not a number/),
    );
  });

  test('iat in the future: refused beyond the skew, accepted within it', () => {
    assert.throws(
      () => checkTokenTimes({ iat: NOW + 31, exp: NOW + 600 }, NOW, policy),
      refusedWith('AUTH_INVALID', /issued in the future \(iat 31 s from now\)/),
    );
    assert.doesNotThrow(() => checkTokenTimes({ iat: NOW + 30, exp: NOW + 600 }, NOW, policy));
  });

  test('lifetime exp - iat: at most the maximum', () => {
    assert.doesNotThrow(() => checkTokenTimes({ iat: NOW - 10, exp: NOW - 10 + 3600 }, NOW, policy));
    assert.throws(
      () => checkTokenTimes({ iat: NOW - 10, exp: NOW - 10 + 3601 }, NOW, policy),
      refusedWith('AUTH_INVALID', /lives 3601 s \(exp - iat\), longer than the 3600 s allowed/),
    );
  });

  test('without iat, the lifetime is exp - now, with the skew added', () => {
    assert.doesNotThrow(() => checkTokenTimes({ exp: NOW + 3630 }, NOW, policy));
    assert.throws(
      () => checkTokenTimes({ exp: NOW + 3631 }, NOW, policy),
      refusedWith('AUTH_INVALID', /lives 3631 s \(exp - now\)/),
    );
  });
});

describe('principal from claims', () => {
  test('tenant, highest role, subject', () => {
    assert.deepEqual(principalFromClaims({ tenant: 'acme', roles: ['viewer', 'admin'], sub: 's' }), {
      tenantId: 'acme',
      role: 'admin',
      subject: 's',
      via: 'jwt',
    });
    assert.deepEqual(principalFromClaims({ tenant: 'acme', role: 'uploader', sub: 7 }), {
      tenantId: 'acme',
      role: 'uploader',
      subject: 'unknown',
      via: 'jwt',
    });
  });

  test('`roles` wins over `role` when both are given', () => {
    assert.equal(principalFromClaims({ tenant: 'acme', roles: ['viewer'], role: 'admin' }).role, 'viewer');
  });

  test('a bad tenant is AUTH_INVALID, no known role AUTH_FORBIDDEN', () => {
    for (const tenant of [undefined, 5, '', '../x']) {
      assert.throws(() => principalFromClaims({ tenant, roles: ['admin'] }), refusedWith('AUTH_INVALID', /tenant/));
    }
    for (const extra of [{ roles: ['root'] }, { role: 'root' }, {}, { roles: 'admin' }]) {
      assert.throws(
        () => principalFromClaims({ tenant: 'acme', ...extra }),
        refusedWith('AUTH_FORBIDDEN', /none of the roles/),
      );
    }
  });
});
