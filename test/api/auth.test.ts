import assert from 'node:assert/strict';
import { createHmac, createSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DEV_JWT_SECRET, mintDevToken } from '@imgpipe/http-api';
import {
  bearer,
  deleteTenantImages,
  problemOf,
  startTestApi,
  type TestApi,
  testTenant,
  tokenFor,
  uniqueJpeg,
  uploadRaw,
} from './support.ts';

const b64 = (value: object | string) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function claims(tenant: string, roles = ['uploader']) {
  const now = Math.floor(Date.now() / 1000);
  return { sub: 'test', tenant, roles, iat: now, exp: now + 600 };
}

async function expectProblem(response: Response, status: number, code: string): Promise<Record<string, unknown>> {
  const problem = await problemOf(response);
  assert.equal(response.status, status, JSON.stringify(problem));
  assert.equal(problem['code'], code);
  assert.equal(problem['status'], status);
  assert.equal(problem['type'], `/errors/${code}`);
  for (const field of ['title', 'detail', 'instance']) assert.equal(typeof problem[field], 'string', field);
  return problem;
}

describe('authentication and authorisation', () => {
  let api: TestApi;
  const tenant = testTenant('auth');
  const other = testTenant('auth-other');
  let imageId: string;

  before(async () => {
    api = await startTestApi();
    const response = await uploadRaw(api.url, tokenFor(tenant), uniqueJpeg());
    assert.equal(response.status, 202);
    imageId = ((await response.json()) as { imageId: string }).imageId;
  });
  after(async () => {
    await deleteTenantImages(api.api, [tenant, other]);
    await api.close();
  });

  test('no token: 401 AUTH_MISSING', async () => {
    const response = await fetch(`${api.url}/v1/images/${imageId}`);
    await expectProblem(response, 401, 'AUTH_MISSING');
  });

  test('expired token: 401 AUTH_INVALID', async () => {
    const expired = tokenFor(tenant, 'viewer', { now: new Date(Date.now() - 2 * 3600_000), ttlSeconds: 60 });
    const problem = await expectProblem(
      await fetch(`${api.url}/v1/images/${imageId}`, { headers: bearer(expired) }),
      401,
      'AUTH_INVALID',
    );
    assert.match(String(problem['detail']), /expired/);
  });

  test('wrong signature: 401 AUTH_INVALID', async () => {
    const forged = mintDevToken({ tenant, roles: ['admin'], secret: 'not-the-secret-the-api-trusts-at-all' });
    await expectProblem(
      await fetch(`${api.url}/v1/images/${imageId}`, { headers: bearer(forged) }),
      401,
      'AUTH_INVALID',
    );
  });

  test('alg none: 401 AUTH_INVALID', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims(tenant, ['admin']))}.`;
    await expectProblem(
      await fetch(`${api.url}/v1/images/${imageId}`, { headers: bearer(unsigned) }),
      401,
      'AUTH_INVALID',
    );
  });

  test('a token signed with an algorithm the API does not accept (HS512): 401 AUTH_INVALID', async () => {
    const input = `${b64({ alg: 'HS512', typ: 'JWT' })}.${b64(claims(tenant))}`;
    const token = `${input}.${createHmac('sha512', DEV_JWT_SECRET).update(input).digest('base64url')}`;
    await expectProblem(
      await fetch(`${api.url}/v1/images/${imageId}`, { headers: bearer(token) }),
      401,
      'AUTH_INVALID',
    );
  });

  test('a viewer uploading: 403 AUTH_FORBIDDEN', async () => {
    const response = await uploadRaw(api.url, tokenFor(tenant, 'viewer'), uniqueJpeg());
    await expectProblem(response, 403, 'AUTH_FORBIDDEN');
  });

  test('a revoked API key: 401 AUTH_INVALID', async () => {
    const created = await fetch(`${api.url}/v1/api-keys`, {
      method: 'POST',
      headers: { ...bearer(tokenFor(tenant, 'admin')), 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'viewer', name: 'test client' }),
    });
    assert.equal(created.status, 201);
    const { id, key } = (await created.json()) as { id: string; key: string };
    assert.match(key, /^ipk_[0-9a-f]{16}_/);
    const before = await fetch(`${api.url}/v1/images/${imageId}`, { headers: { 'x-api-key': key } });
    assert.equal(before.status, 200, 'the key works before it is revoked');
    const viaBearer = await fetch(`${api.url}/v1/images/${imageId}`, { headers: bearer(key) });
    assert.equal(viaBearer.status, 200, 'the key also works as a bearer token');

    const revoked = await fetch(`${api.url}/v1/api-keys/${id}`, {
      method: 'DELETE',
      headers: bearer(tokenFor(tenant, 'admin')),
    });
    assert.equal(revoked.status, 200);
    const problem = await expectProblem(
      await fetch(`${api.url}/v1/images/${imageId}`, { headers: { 'x-api-key': key } }),
      401,
      'AUTH_INVALID',
    );
    assert.match(String(problem['detail']), /revoked/);
  });

  test("another tenant's image id: 404 RESOURCE_NOT_FOUND, as for an id that does not exist", async () => {
    const outsider = bearer(tokenFor(other, 'admin'));
    for (const path of ['', '/annotated', '/events']) {
      const response = await fetch(`${api.url}/v1/images/${imageId}${path}`, { headers: outsider });
      await expectProblem(response, 404, 'RESOURCE_NOT_FOUND');
    }
    const unknown = await fetch(`${api.url}/v1/images/${randomUUID()}`, { headers: outsider });
    const [theirs, missing] = [
      await (await fetch(`${api.url}/v1/images/${imageId}`, { headers: outsider })).json(),
      await unknown.json(),
    ] as Record<string, unknown>[];
    assert.equal(theirs!['title'], missing!['title']);
    const search = await fetch(`${api.url}/v1/images`, { headers: outsider });
    assert.deepEqual(((await search.json()) as { items: unknown[] }).items, [], 'search sees only the own tenant');
    const own = await fetch(`${api.url}/v1/images/${imageId}`, { headers: bearer(tokenFor(tenant, 'viewer')) });
    assert.equal(own.status, 200);
  });
});

describe('RS256 tokens from an identity provider (JWKS)', () => {
  let api: TestApi;
  let jwks: Server;
  const tenant = testTenant('rs256');
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'test-key-1';

  function rs256(payload: object, keyId = kid): string {
    const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: keyId })}.${b64(payload)}`;
    return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`;
  }

  before(async () => {
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
    jwks = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    api = await startTestApi({ jwt: { jwksUrl, issuer: 'https://idp.test/' } });
  });
  after(async () => {
    await api.close();
    await new Promise<void>((resolve) => jwks.close(() => resolve()));
  });

  test('a token signed by the JWKS key with the right issuer is accepted', async () => {
    const token = rs256({ ...claims(tenant, ['viewer']), iss: 'https://idp.test/' });
    const response = await fetch(`${api.url}/v1/images`, { headers: bearer(token) });
    assert.equal(response.status, 200);
  });

  test('a wrong issuer, an unknown key id, and an HS256 token are refused when only RS256 is configured', async () => {
    const wrongIssuer = rs256({ ...claims(tenant, ['viewer']), iss: 'https://evil.test/' });
    const unknownKid = rs256({ ...claims(tenant, ['viewer']), iss: 'https://idp.test/' }, 'other-key');
    const hs256 = tokenFor(tenant, 'viewer');
    for (const token of [wrongIssuer, unknownKid, hs256]) {
      await expectProblem(await fetch(`${api.url}/v1/images`, { headers: bearer(token) }), 401, 'AUTH_INVALID');
    }
  });
});
