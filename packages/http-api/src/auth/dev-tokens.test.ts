import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { mintDevToken, parseDuration } from './dev-tokens.ts';

function decode(token: string) {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
    signingInput: `${header}.${payload}`,
    signature,
  };
}

describe('development tokens', () => {
  const now = new Date('2027-01-15T10:00:00.900Z');
  const iat = Math.floor(now.getTime() / 1000);

  test('HS256 over header.payload with the given secret, carrying tenant, roles, iat and exp (1 h default)', () => {
    const token = mintDevToken({ tenant: 'acme', roles: ['viewer', 'admin'], secret: 'k'.repeat(32), now });
    const { header, payload, signingInput, signature } = decode(token);
    assert.deepEqual(header, { alg: 'HS256', typ: 'JWT' });
    assert.deepEqual(payload, { sub: 'dev:acme', tenant: 'acme', roles: ['viewer', 'admin'], iat, exp: iat + 3600 });
    assert.equal(signature, createHmac('sha256', 'k'.repeat(32)).update(signingInput).digest('base64url'));
  });

  test('ttl, subject, issuer and audience', () => {
    const token = mintDevToken({
      tenant: 'acme',
      roles: ['uploader'],
      secret: 'k'.repeat(32),
      now,
      ttlSeconds: 90,
      subject: 'ci',
      issuer: 'https://issuer.example',
      audience: 'imgpipe',
    });
    assert.deepEqual(decode(token).payload, {
      sub: 'ci',
      tenant: 'acme',
      roles: ['uploader'],
      iat,
      exp: iat + 90,
      iss: 'https://issuer.example',
      aud: 'imgpipe',
    });
  });

  test('durations: seconds, minutes, hours, days, plain seconds; anything else is undefined', () => {
    assert.equal(parseDuration('90s'), 90);
    assert.equal(parseDuration('15m'), 900);
    assert.equal(parseDuration('2h'), 7200);
    assert.equal(parseDuration('7d'), 604_800);
    assert.equal(parseDuration('600'), 600);
    assert.equal(parseDuration(' 3 h '), 10_800);
    for (const bad of ['soon', '', 'h', '1.5h', '-1h', '2w', '1h30m']) assert.equal(parseDuration(bad), undefined, bad);
  });
});
