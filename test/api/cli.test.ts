import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../stack/support.ts';
import { bearer, startTestApi, type TestApi, testTenant } from './support.ts';

describe('imgpipe token and imgpipe apikey against the API', () => {
  let api: TestApi;
  const tenant = testTenant('cli');
  before(async () => {
    api = await startTestApi();
  });
  after(() => api.close());

  test('imgpipe token mints a development token the API accepts, with the role asked for', async () => {
    const minted = await runCli(['token', '--tenant', tenant, '--role', 'viewer', '--ttl', '10m', '--json']);
    assert.equal(minted.code, 0, minted.stderr);
    const { token, role, expiresAt } = JSON.parse(minted.stdout) as { token: string; role: string; expiresAt: string };
    assert.equal(role, 'viewer');
    assert.ok(Date.parse(expiresAt) > Date.now());
    assert.equal((await fetch(`${api.url}/v1/images`, { headers: bearer(token) })).status, 200);
    assert.equal((await fetch(`${api.url}/v1/api-keys`, { headers: bearer(token) })).status, 403);
    const bad = await runCli(['token', '--tenant', tenant, '--role', 'root']);
    assert.equal(bad.code, 2);
  });

  test('imgpipe apikey create, list and revoke', async () => {
    const created = await runCli([
      'apikey',
      'create',
      '--tenant',
      tenant,
      '--role',
      'viewer',
      '--name',
      'cli',
      '--json',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const { id, key } = JSON.parse(created.stdout) as { id: string; key: string };
    assert.equal((await fetch(`${api.url}/v1/images`, { headers: { 'x-api-key': key } })).status, 200);
    const listed = await runCli(['apikey', 'list', '--tenant', tenant, '--json']);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { id: string }[]).map((item) => item.id),
      [id],
    );
    const revoked = await runCli(['apikey', 'revoke', id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await fetch(`${api.url}/v1/images`, { headers: { 'x-api-key': key } })).status, 401);
  });
});
