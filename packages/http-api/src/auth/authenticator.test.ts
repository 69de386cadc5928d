import assert from 'node:assert/strict';
import { createHmac, createSign, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, mock, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { DEV_JWT_SECRET } from '../api-settings.ts';
import type { ApiKeyInfo, ApiKeyStore } from './api-keys.ts';
import { type JwtOptions, registerAuthenticator, tokenError } from './authenticator.ts';
import { mintDevToken } from './dev-tokens.ts';

/**
 * JWT verification without any service: a bare fastify instance with the authenticator, requests injected in
 * process, tokens built by hand (so every claim and header can be wrong on purpose).
 */

const b64 = (value: object | string) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function hs256(payload: object, secret = DEV_JWT_SECRET, header: object = { alg: 'HS256', typ: 'JWT' }): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const NOW = 1_800_000_000; // seconds; Date is mocked to this instant in every test

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: 'user-1', tenant: 'acme', roles: ['uploader'], iat: NOW, exp: NOW + 600, ...extra };
}

const keyStore = {
  async verify(key: string): Promise<ApiKeyInfo> {
    if (key !== 'ipk_0123456789abcdef_good') throw new ImgpipeError('AUTH_INVALID', 'the API key is not valid');
    return { id: '0123456789abcdef', tenantId: 'acme', role: 'viewer', name: 'k', createdAt: '2026-01-01T00:00:00Z' };
  },
} as unknown as ApiKeyStore;

async function appWith(jwt: JwtOptions): Promise<FastifyInstance> {
  const app = Fastify();
  const authenticate = await registerAuthenticator(app, { jwt, keys: keyStore });
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof ImgpipeError) {
      return reply.status(error.httpStatus).send({ code: error.code, message: error.message });
    }
    return reply.status(500).send({ code: 'INTERNAL', message: String(error) });
  });
  app.get('/who', (request) => authenticate(request));
  return app;
}

interface Answer {
  status: number;
  body: { code?: string; message?: string; tenantId?: string; role?: string; subject?: string; via?: string };
}

async function call(app: FastifyInstance, headers: Record<string, string>): Promise<Answer> {
  const response = await app.inject({ method: 'GET', url: '/who', headers });
  return { status: response.statusCode, body: response.json() };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function refused(answer: Answer, code: string, message: RegExp): void {
  assert.equal(answer.status, code === 'AUTH_FORBIDDEN' ? 403 : 401, JSON.stringify(answer.body));
  assert.equal(answer.body.code, code);
  assert.match(answer.body.message ?? '', message);
}

describe('JWT verification (HS256, the development secret)', () => {
  let app: FastifyInstance;
  before(async () => {
    // Half a second into NOW: claims are whole seconds, and the API's clock counts the seconds begun.
    mock.timers.enable({ apis: ['Date'], now: NOW * 1000 + 500 });
    app = await appWith({ hsSecret: DEV_JWT_SECRET });
  });
  after(async () => {
    await app.close();
    mock.timers.reset();
  });

  test('a valid token names its tenant, highest role and subject', async () => {
    const answer = await call(app, bearer(hs256(claims({ roles: ['viewer', 'admin', 'uploader'] }))));
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { tenantId: 'acme', role: 'admin', subject: 'user-1', via: 'jwt' });
  });

  test('a single `role` claim counts; no subject reads as unknown', async () => {
    const answer = await call(app, bearer(hs256(claims({ roles: undefined, role: 'viewer', sub: undefined }))));
    assert.deepEqual(answer.body, { tenantId: 'acme', role: 'viewer', subject: 'unknown', via: 'jwt' });
  });

  test('imgpipe token (mintDevToken) mints a token the API accepts', async () => {
    const token = mintDevToken({ tenant: 'acme', roles: ['admin'], secret: DEV_JWT_SECRET, now: new Date() });
    assert.deepEqual((await call(app, bearer(token))).body, {
      tenantId: 'acme',
      role: 'admin',
      subject: 'dev:acme',
      via: 'jwt',
    });
  });

  test('no credentials: AUTH_MISSING', async () => {
    refused(await call(app, {}), 'AUTH_MISSING', /bearer token/);
  });

  test('a signature from another secret: AUTH_INVALID', async () => {
    refused(await call(app, bearer(hs256(claims(), 'x'.repeat(40)))), 'AUTH_INVALID', /signature/);
  });

  test('a tampered payload under the original signature: AUTH_INVALID', async () => {
    const [header, , signature] = hs256(claims()).split('.');
    const forged = `${header}.${b64(claims({ tenant: 'other', roles: ['admin'] }))}.${signature}`;
    refused(await call(app, bearer(forged)), 'AUTH_INVALID', /signature/);
  });

  test('alg none, unsigned: AUTH_INVALID', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims({ roles: ['admin'] }))}.`;
    refused(await call(app, bearer(unsigned)), 'AUTH_INVALID', /none|not accepted|signature/i);
  });

  test('HS512 with the right secret, and RS256 without a JWKS: AUTH_INVALID', async () => {
    const input = `${b64({ alg: 'HS512', typ: 'JWT' })}.${b64(claims())}`;
    const hs512 = `${input}.${createHmac('sha512', DEV_JWT_SECRET).update(input).digest('base64url')}`;
    refused(await call(app, bearer(hs512)), 'AUTH_INVALID', /HS512 are not accepted/);
    const rs = hs256(claims(), DEV_JWT_SECRET, { alg: 'RS256', typ: 'JWT' });
    refused(await call(app, bearer(rs)), 'AUTH_INVALID', /RS256 are not accepted/);
  });

  test('a header without an algorithm: AUTH_INVALID', async () => {
    const input = `${b64({ typ: 'JWT' })}.${b64(claims())}`;
    const token = `${input}.${createHmac('sha256', DEV_JWT_SECRET).update(input).digest('base64url')}`;
    refused(await call(app, bearer(token)), 'AUTH_INVALID', /no algorithm are not accepted/);
  });

  test('not a JWT at all: AUTH_INVALID', async () => {
    refused(await call(app, bearer('not.a.jwt')), 'AUTH_INVALID', /refused/);
  });

  test('expired (past exp beyond the 30 s skew): AUTH_INVALID', async () => {
    refused(await call(app, bearer(hs256(claims({ iat: NOW - 3600, exp: NOW - 31 })))), 'AUTH_INVALID', /expired/);
  });

  test('exp just past but within the 30 s skew: accepted', async () => {
    assert.equal((await call(app, bearer(hs256(claims({ iat: NOW - 3600, exp: NOW - 29 }))))).status, 200);
  });

  test('no exp: AUTH_INVALID, tokens must expire', async () => {
    refused(await call(app, bearer(hs256(claims({ exp: undefined })))), 'AUTH_INVALID', /no `exp` claim/);
  });

  test('exp that is not a number: AUTH_INVALID', async () => {
    refused(await call(app, bearer(hs256(claims({ exp: 'tomorrow' })))), 'AUTH_INVALID', /exp/);
  });

  test('nbf in the future beyond the skew: AUTH_INVALID; within the skew: accepted', async () => {
    refused(await call(app, bearer(hs256(claims({ nbf: NOW + 31 })))), 'AUTH_INVALID', /not valid yet/);
    assert.equal((await call(app, bearer(hs256(claims({ nbf: NOW + 29 }))))).status, 200);
    assert.equal((await call(app, bearer(hs256(claims({ nbf: NOW - 60 }))))).status, 200);
  });

  test('iat in the future beyond the skew: AUTH_INVALID; within the skew: accepted', async () => {
    refused(
      await call(app, bearer(hs256(claims({ iat: NOW + 31, exp: NOW + 600 })))),
      'AUTH_INVALID',
      /issued in the future/,
    );
    assert.equal((await call(app, bearer(hs256(claims({ iat: NOW + 29, exp: NOW + 600 }))))).status, 200);
  });

  test('a lifetime over the 24 h maximum: AUTH_INVALID; exactly 24 h: accepted', async () => {
    refused(
      await call(app, bearer(hs256(claims({ iat: NOW, exp: NOW + 86_401 })))),
      'AUTH_INVALID',
      /lives 86401 s \(exp - iat\), longer than the 86400 s allowed/,
    );
    assert.equal((await call(app, bearer(hs256(claims({ iat: NOW, exp: NOW + 86_400 }))))).status, 200);
  });

  test('without iat the lifetime counts from now (plus the skew)', async () => {
    refused(
      await call(app, bearer(hs256(claims({ iat: undefined, exp: NOW + 86_400 + 31 })))),
      'AUTH_INVALID',
      /\(exp - now\)/,
    );
    assert.equal((await call(app, bearer(hs256(claims({ iat: undefined, exp: NOW + 86_400 + 30 }))))).status, 200);
  });

  test('tenant claim: missing or outside the safe alphabet is AUTH_INVALID', async () => {
    for (const tenant of [undefined, 42, '', 'a/b', 'x'.repeat(65)]) {
      refused(await call(app, bearer(hs256(claims({ tenant })))), 'AUTH_INVALID', /tenant/);
    }
  });

  test('no known role: AUTH_FORBIDDEN', async () => {
    for (const roles of [[], ['superuser'], 'admin']) {
      refused(await call(app, bearer(hs256(claims({ roles })))), 'AUTH_FORBIDDEN', /none of the roles/);
    }
  });

  test('an API key in X-API-Key or as a bearer token is checked by the key store', async () => {
    const expected = { tenantId: 'acme', role: 'viewer', subject: 'apikey:0123456789abcdef', via: 'api-key' };
    assert.deepEqual((await call(app, { 'x-api-key': ' ipk_0123456789abcdef_good ' })).body, expected);
    assert.deepEqual((await call(app, bearer('ipk_0123456789abcdef_good'))).body, expected);
    refused(await call(app, { 'x-api-key': 'ipk_0123456789abcdef_bad' }), 'AUTH_INVALID', /API key/);
    // An empty X-API-Key is no key: the bearer token decides.
    assert.equal((await call(app, { 'x-api-key': '', ...bearer(hs256(claims())) })).body.via, 'jwt');
  });

  test('an Authorization header that is not a bearer token: AUTH_MISSING', async () => {
    refused(await call(app, { authorization: 'Basic abc' }), 'AUTH_MISSING', /bearer token/);
  });
});

describe('JWT verification with a custom secret, issuer, audience and limits', () => {
  const secret = 's'.repeat(40);
  let app: FastifyInstance;
  before(async () => {
    mock.timers.enable({ apis: ['Date'], now: NOW * 1000 });
    app = await appWith({
      hsSecret: secret,
      issuer: 'https://idp.example',
      audience: 'imgpipe',
      maxLifetimeSeconds: 3600,
      clockSkewSeconds: 5,
    });
  });
  after(async () => {
    await app.close();
    mock.timers.reset();
  });
  const good = () => claims({ iss: 'https://idp.example', aud: 'imgpipe' });

  test('the custom secret verifies; the development secret does not', async () => {
    assert.equal((await call(app, bearer(hs256(good(), secret)))).status, 200);
    refused(await call(app, bearer(hs256(good()))), 'AUTH_INVALID', /signature/);
  });

  test('a wrong or missing issuer or audience: AUTH_INVALID', async () => {
    for (const wrong of [{ iss: 'https://evil.example' }, { aud: 'other' }, { aud: ['other', 'more'] }]) {
      refused(await call(app, bearer(hs256({ ...good(), ...wrong }, secret))), 'AUTH_INVALID', /(iss|aud) claim value/);
    }
    refused(await call(app, bearer(hs256({ ...good(), iss: undefined }, secret))), 'AUTH_INVALID', /no `iss` claim/);
    refused(await call(app, bearer(hs256({ ...good(), aud: undefined }, secret))), 'AUTH_INVALID', /no `aud` claim/);
    assert.equal((await call(app, bearer(hs256({ ...good(), aud: ['other', 'imgpipe'] }, secret)))).status, 200);
  });

  test('the configured lifetime and skew apply', async () => {
    refused(
      await call(app, bearer(hs256({ ...good(), exp: NOW + 3601 }, secret))),
      'AUTH_INVALID',
      /longer than the 3600 s allowed/,
    );
    assert.equal((await call(app, bearer(hs256({ ...good(), exp: NOW + 3600 }, secret)))).status, 200);
    refused(await call(app, bearer(hs256({ ...good(), nbf: NOW + 6 }, secret))), 'AUTH_INVALID', /not valid yet/);
    assert.equal((await call(app, bearer(hs256({ ...good(), nbf: NOW + 4 }, secret)))).status, 200);
    refused(await call(app, bearer(hs256({ ...good(), iat: NOW + 6 }, secret))), 'AUTH_INVALID', /future/);
    refused(
      await call(app, bearer(hs256({ ...good(), iat: NOW - 100, exp: NOW - 6 }, secret))),
      'AUTH_INVALID',
      /expired/,
    );
    assert.equal((await call(app, bearer(hs256({ ...good(), iat: NOW - 100, exp: NOW - 4 }, secret)))).status, 200);
  });

  test('the skew is exactly the configured seconds', async () => {
    assert.equal((await call(app, bearer(hs256({ ...good(), iat: NOW - 100, exp: NOW - 5 }, secret)))).status, 200);
    refused(
      await call(app, bearer(hs256({ ...good(), iat: NOW - 100, exp: NOW - 5.004 }, secret))),
      'AUTH_INVALID',
      /expired/,
    );
    assert.equal((await call(app, bearer(hs256({ ...good(), nbf: NOW + 5 }, secret)))).status, 200);
    refused(await call(app, bearer(hs256({ ...good(), nbf: NOW + 5.004 }, secret))), 'AUTH_INVALID', /not valid yet/);
  });
});

describe('JWT verification with RS256 keys from a JWKS', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'key-1', alg: 'RS256', use: 'sig' };
  let server: Server;
  let app: FastifyInstance;

  function rs256(payload: object, kid = 'key-1'): string {
    const input = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64(payload)}`;
    return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`;
  }

  before(async () => {
    server = createServer((request, response) => {
      response.writeHead(request.url === '/keys.json' ? 200 : 404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    mock.timers.enable({ apis: ['Date'], now: NOW * 1000 });
    const { port } = server.address() as AddressInfo;
    app = await appWith({ jwksUrl: `http://127.0.0.1:${port}/keys.json` });
  });
  after(async () => {
    await app.close();
    mock.timers.reset();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('a token signed by the JWKS key is accepted; an unknown kid and HS256 are refused', async () => {
    assert.equal((await call(app, bearer(rs256(claims())))).status, 200);
    refused(await call(app, bearer(rs256(claims(), 'key-2'))), 'AUTH_INVALID', /refused/);
    refused(await call(app, bearer(hs256(claims()))), 'AUTH_INVALID', /HS256 are not accepted/);
  });

  test('the time rules hold for RS256 too', async () => {
    refused(await call(app, bearer(rs256(claims({ exp: undefined })))), 'AUTH_INVALID', /no `exp` claim/);
    refused(await call(app, bearer(rs256(claims({ exp: NOW + 90_000 })))), 'AUTH_INVALID', /longer than/);
  });
});

describe('registerAuthenticator configuration', () => {
  test('neither a secret nor a JWKS URL is a configuration error', async () => {
    await assert.rejects(appWith({}), (error) => error instanceof ImgpipeError && error.code === 'CONFIG_INVALID');
  });

  test('tokenError maps the library errors to AUTH_MISSING and AUTH_INVALID', () => {
    assert.equal(tokenError({ code: 'FST_JWT_NO_AUTHORIZATION_IN_HEADER' }).code, 'AUTH_MISSING');
    assert.equal(tokenError({ code: 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED' }).message, 'the token has expired');
    const own = new ImgpipeError('AUTH_FORBIDDEN', 'x');
    assert.equal(tokenError(own), own);
    assert.equal(
      tokenError({ code: 'X', message: 'Authorization token is invalid: The iss claim value is not allowed.' }).message,
      'the token was refused: invalid: The iss claim value is not allowed.',
    );
    assert.equal(tokenError({}).message, 'the token was refused: invalid token');
  });
});
