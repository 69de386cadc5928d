/**
 * Accounts against the real API, PostgreSQL and Redis: sign-in answers, the sign-in throttle, refresh rotation and
 * reuse detection, sign-out, disabled users and role changes at the next refresh, cookie mode with its CSRF token,
 * the access token on the existing routes, the audit trail, and `imgpipe user` for operators.
 *
 * The API trusts X-Forwarded-For here, so that each test signs in from an address of its own and the per-IP throttle
 * of one test never meets another's.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { AccountService } from '@imgpipe/accounts';
import {
  bearer,
  deleteTenantImages,
  problemOf,
  startTestApi,
  type TestApi,
  testTenant,
  uniqueJpeg,
  uploadRaw,
} from './support.ts';

const CLI = fileURLToPath(new URL('../../apps/cli/bin/imgpipe.js', import.meta.url));
const ACCOUNTS = {
  accessTtlSeconds: 900,
  refreshTtlSeconds: 3600,
  sessionTtlSeconds: 7200,
  loginFreeFailures: 3,
  loginIpFreeFailures: 8,
  loginDelayMs: 1000,
  loginMaxDelayMs: 60_000,
  loginFailureWindowSeconds: 600,
};
const PASSWORD = 'violet tram under the bridge';

interface Session {
  accessToken: string;
  refreshToken?: string;
  csrfToken?: string;
  expiresIn: number;
  user: { id: string; username: string; role: string; tenantId: string };
}

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

/** Runs the CLI with `input` on its standard input (never the password on the command line). */
function runCliWithInput(args: string[], input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('accounts: sign-in, sessions and users', () => {
  let api: TestApi;
  let accounts: AccountService;
  const tenant = testTenant('accounts');
  let adminToken: string;
  // One address per test and run (the throttle's counters outlive a run in Redis): 10.<random>.<random>.<n>.
  const ips = new Map<string, string>();
  const [a, b] = randomBytes(2);
  const ipFor = (label: string) => {
    if (!ips.has(label)) ips.set(label, `10.${a}.${b}.${ips.size + 1}`);
    return ips.get(label)!;
  };

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const login = (username: string, password: string, ip: string, extra: Record<string, unknown> = {}) =>
    post('/v1/auth/login', { tenant, username, password, ...extra }, { 'x-forwarded-for': ip });
  const signIn = async (username: string, ip: string, password = PASSWORD): Promise<Session> => {
    const response = await login(username, password, ip);
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as Session;
  };
  const refresh = (refreshToken: string) =>
    post('/v1/auth/refresh', { refreshToken }, { 'x-forwarded-for': ipFor('refresh') });
  const auditEvents = async (userId?: string) => {
    const response = await fetch(`${api.url}/v1/auth/audit?limit=1000${userId ? `&userId=${userId}` : ''}`, {
      headers: bearer(adminToken),
    });
    assert.equal(response.status, 200);
    return ((await response.json()) as { items: { event: string; detail: Record<string, unknown> }[] }).items;
  };

  before(async () => {
    api = await startTestApi({ trustProxy: true, accounts: ACCOUNTS });
    accounts = new AccountService(api.api.deps.db, { refreshTtlSeconds: 3600, sessionTtlSeconds: 7200 });
    const cli = { actor: 'test' };
    await accounts.createUser({ tenantId: tenant, username: 'admin', role: 'admin', password: PASSWORD }, cli);
    for (const [username, role] of [
      ['uploader', 'uploader'],
      ['viewer', 'viewer'],
      ['throttled', 'viewer'],
      ['rotating', 'viewer'],
      ['leaving', 'viewer'],
      ['disabled-later', 'uploader'],
      ['demoted-later', 'uploader'],
      ['cookie', 'viewer'],
    ] as const) {
      await accounts.createUser({ tenantId: tenant, username, role, password: PASSWORD }, cli);
    }
    adminToken = (await signIn('admin', ipFor('setup'))).accessToken;
  });

  after(async () => {
    if (!api) return;
    const db = api.api.deps.db as never as import('@imgpipe/accounts').AccountDatabase;
    await deleteTenantImages(api.api, [tenant]);
    await db.deleteFrom('auth_audit').where('tenant_id', '=', tenant).execute();
    await db.deleteFrom('users').where('tenant_id', '=', tenant).execute();
    await api.close();
  });

  test('a wrong password, an unknown user and a disabled user get the same answer', async (t) => {
    await accounts.createUser(
      { tenantId: tenant, username: 'gone', role: 'viewer', password: PASSWORD },
      { actor: 'test' },
    );
    await accounts.setDisabled(tenant, { username: 'gone' }, true, { actor: 'test' });
    const answers: { status: number; body: Record<string, unknown>; ms: number }[] = [];
    for (const [username, password] of [
      ['viewer', 'not the password at all'],
      ['nobody-by-this-name', 'not the password at all'],
      ['gone', PASSWORD],
    ] as const) {
      const started = performance.now();
      const response = await login(username, password, ipFor(`same-${username}`));
      const ms = performance.now() - started;
      const { requestId: _id, ...body } = await problemOf(response);
      answers.push({ status: response.status, body, ms });
    }
    assert.equal(answers[0]!.status, 401);
    assert.equal(answers[0]!.body['code'], 'AUTH_LOGIN_FAILED');
    assert.deepEqual(answers[1], { ...answers[1]!, status: answers[0]!.status, body: answers[0]!.body });
    assert.deepEqual(answers[2], { ...answers[2]!, status: answers[0]!.status, body: answers[0]!.body });
    // Timing is reported, not asserted (shared CI cores): each path runs one argon2id verification.
    t.diagnostic(
      `wrong password ${answers[0]!.ms.toFixed(0)} ms, unknown user ${answers[1]!.ms.toFixed(0)} ms, ` +
        `disabled user ${answers[2]!.ms.toFixed(0)} ms`,
    );
    const reasons = (await auditEvents())
      .filter((entry) => entry.event === 'login_failed')
      .map((entry) => entry.detail['reason']);
    for (const reason of ['wrong password', 'unknown user', 'user disabled'])
      assert.ok(reasons.includes(reason), reason);
  });

  test('repeated failures throttle the username with a delay that doubles, even for the right password', async () => {
    const ip = ipFor('throttle');
    for (let i = 0; i < ACCOUNTS.loginFreeFailures; i++) {
      assert.equal((await login('throttled', 'wrong password here', ip)).status, 401, `free failure ${i + 1}`);
    }
    // The first failure past the free ones imposes 1 s; the attempt right after it is refused unchecked.
    assert.equal((await login('throttled', 'wrong password here', ip)).status, 401);
    const first = await login('throttled', PASSWORD, ip);
    assert.equal(first.status, 429);
    assert.equal((await problemOf(first))['code'], 'AUTH_LOGIN_THROTTLED');
    assert.equal(first.headers.get('retry-after'), '1');
    const waitUntilAllowed = async () => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const response = await login('throttled', 'wrong password here', ip);
        if (response.status !== 429) return response;
        assert.ok(Date.now() < deadline, 'the throttle never let the username try again');
        await delay(100);
      }
    };
    // The next failure doubles the delay.
    assert.equal((await waitUntilAllowed()).status, 401);
    const second = await login('throttled', PASSWORD, ip);
    assert.equal(second.status, 429);
    assert.equal(second.headers.get('retry-after'), '2');
    const details = (await problemOf(second))['details'] as { retryAfterMs: number };
    assert.ok(details.retryAfterMs > 1000 && details.retryAfterMs <= 2000, JSON.stringify(details));
    // Another user from another address is not affected.
    assert.equal((await login('viewer', PASSWORD, ipFor('throttle-other'))).status, 200);
    const events = (await auditEvents()).map((entry) => entry.event);
    assert.ok(events.includes('login_throttled'));
  });

  test('failures for many usernames from one address throttle that address', async () => {
    const ip = ipFor('ip-throttle');
    for (let i = 0; i < ACCOUNTS.loginIpFreeFailures + 1; i++) {
      assert.equal((await login(`someone-${i}`, 'wrong password here', ip)).status, 401);
    }
    const refused = await login('viewer', PASSWORD, ip);
    assert.equal(refused.status, 429);
    assert.equal((await problemOf(refused))['code'], 'AUTH_LOGIN_THROTTLED');
  });

  test('the access token carries the usual claims and the role: a viewer reads, an uploader uploads', async () => {
    const uploader = await signIn('uploader', ipFor('roles'));
    const claims = claimsOf(uploader.accessToken);
    assert.equal(claims['tenant'], tenant);
    assert.deepEqual(claims['roles'], ['uploader']);
    assert.equal(claims['sub'], `user:${uploader.user.id}`);
    assert.equal((claims['exp'] as number) - (claims['iat'] as number), 900);
    assert.equal(uploader.expiresIn, 900);
    assert.equal((await uploadRaw(api.url, uploader.accessToken, uniqueJpeg())).status, 202);

    const viewer = await signIn('viewer', ipFor('roles'));
    assert.equal((await fetch(`${api.url}/v1/images`, { headers: bearer(viewer.accessToken) })).status, 200);
    const upload = await uploadRaw(api.url, viewer.accessToken, uniqueJpeg());
    assert.equal(upload.status, 403);
    assert.equal((await problemOf(upload))['code'], 'AUTH_FORBIDDEN');
    const me = await fetch(`${api.url}/v1/auth/me`, { headers: bearer(viewer.accessToken) });
    assert.deepEqual(await me.json(), {
      tenantId: tenant,
      role: 'viewer',
      subject: `user:${viewer.user.id}`,
      via: 'jwt',
    });
  });

  test('every refresh rotates the token; reusing a rotated one revokes the session, the newest token too', async () => {
    const session = await signIn('rotating', ipFor('rotate'));
    const first = await refresh(session.refreshToken!);
    assert.equal(first.status, 200);
    const rotated = (await first.json()) as Session;
    assert.notEqual(rotated.refreshToken, session.refreshToken);
    assert.equal(claimsOf(rotated.accessToken)['sid'], claimsOf(session.accessToken)['sid']);
    assert.equal((await fetch(`${api.url}/v1/images`, { headers: bearer(rotated.accessToken) })).status, 200);
    const second = await refresh(rotated.refreshToken!);
    assert.equal(second.status, 200);
    const newest = (await second.json()) as Session;

    // The first token again: refused, and the session is gone.
    const reuse = await refresh(session.refreshToken!);
    assert.equal(reuse.status, 401);
    assert.equal((await problemOf(reuse))['code'], 'AUTH_REFRESH_INVALID');
    const afterReuse = await refresh(newest.refreshToken!);
    assert.equal(afterReuse.status, 401);
    assert.match(String((await problemOf(afterReuse))['detail']), /revoked/);
    const events = (await auditEvents(session.user.id)).map((entry) => entry.event);
    assert.deepEqual(events.slice(0, 4), ['refresh_refused', 'refresh_reused', 'refresh_rotated', 'refresh_rotated']);
  });

  test('logout revokes the session', async () => {
    const session = await signIn('leaving', ipFor('logout'));
    const other = await signIn('leaving', ipFor('logout'));
    const out = await post('/v1/auth/logout', { refreshToken: session.refreshToken });
    assert.equal(out.status, 204);
    assert.equal((await refresh(session.refreshToken!)).status, 401);
    // Only that session: the user's other one goes on.
    assert.equal((await refresh(other.refreshToken!)).status, 200);
    // Signing out twice, or with a token nobody issued, is not an error.
    assert.equal((await post('/v1/auth/logout', { refreshToken: session.refreshToken })).status, 204);
    assert.equal(
      (await post('/v1/auth/logout', { refreshToken: `irt_${randomBytes(32).toString('base64url')}` })).status,
      204,
    );
    assert.ok((await auditEvents(session.user.id)).some((entry) => entry.event === 'logout'));
  });

  test("a disabled user's session ends at its next refresh; a new role applies from the next refresh", async () => {
    const disabled = await signIn('disabled-later', ipFor('disable'));
    const demoted = await signIn('demoted-later', ipFor('disable'));
    const patch = (id: string, body: unknown) =>
      fetch(`${api.url}/v1/users/${id}`, {
        method: 'PATCH',
        headers: { ...bearer(adminToken), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal((await patch(disabled.user.id, { disabled: true })).status, 200);
    const demotedUser = (await (await patch(demoted.user.id, { role: 'viewer' })).json()) as { role: string };
    assert.equal(demotedUser.role, 'viewer');

    const refused = await refresh(disabled.refreshToken!);
    assert.equal(refused.status, 401);
    assert.equal((await problemOf(refused))['code'], 'AUTH_REFRESH_INVALID');
    assert.equal((await login('disabled-later', PASSWORD, ipFor('disable'))).status, 401);

    // The old access token still has the old role until it expires (15 minutes at most); the refreshed one not.
    assert.deepEqual(claimsOf(demoted.accessToken)['roles'], ['uploader']);
    const refreshed = (await (await refresh(demoted.refreshToken!)).json()) as Session;
    assert.deepEqual(claimsOf(refreshed.accessToken)['roles'], ['viewer']);
    assert.equal(refreshed.user.role, 'viewer');
    assert.equal((await uploadRaw(api.url, refreshed.accessToken, uniqueJpeg())).status, 403);

    const disabledEvents = (await auditEvents(disabled.user.id)).map((entry) => entry.event);
    for (const event of ['user_disabled', 'sessions_revoked', 'refresh_refused']) {
      assert.ok(disabledEvents.includes(event), `${event} in ${disabledEvents.join(', ')}`);
    }
    const roleChange = (await auditEvents(demoted.user.id)).find((entry) => entry.event === 'role_changed');
    assert.deepEqual(roleChange?.detail, { from: 'uploader', to: 'viewer' });
  });

  test('cookie mode: HttpOnly SameSite=Strict refresh cookie on /v1/auth, and refresh and logout need the CSRF token', async () => {
    const ip = ipFor('cookie');
    const response = await login('cookie', PASSWORD, ip, { refreshTokenIn: 'cookie' });
    assert.equal(response.status, 200);
    const body = (await response.json()) as Session;
    assert.equal(body.refreshToken, undefined, 'the refresh token is not readable by scripts');
    assert.ok(body.csrfToken);
    const cookies = response.headers.getSetCookie();
    const refreshCookie = cookies.find((cookie) => cookie.startsWith('imgpipe_refresh='))!;
    const csrfCookie = cookies.find((cookie) => cookie.startsWith('imgpipe_csrf='))!;
    assert.match(refreshCookie, /; Path=\/v1\/auth; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
    assert.match(csrfCookie, new RegExp(`^imgpipe_csrf=${body.csrfToken}; Path=/; Max-Age=\\d+; SameSite=Strict$`));
    const cookieHeader = (value: string) => ({ cookie: value.split(';')[0]!, 'x-forwarded-for': ip });

    // Without the header, and with another session's token: 403, and the session is not touched.
    for (const csrf of [undefined, 'AAAA', (await signIn('viewer', ip)).accessToken.slice(0, 43)]) {
      const refused = await post(
        '/v1/auth/refresh',
        {},
        {
          ...cookieHeader(refreshCookie),
          ...(csrf ? { 'x-csrf-token': csrf } : {}),
        },
      );
      assert.equal(refused.status, 403, `csrf ${csrf}`);
      assert.equal((await problemOf(refused))['code'], 'AUTH_CSRF_INVALID');
    }
    const refusedLogout = await post('/v1/auth/logout', {}, cookieHeader(refreshCookie));
    assert.equal(refusedLogout.status, 403);

    const refreshed = await post(
      '/v1/auth/refresh',
      {},
      {
        ...cookieHeader(refreshCookie),
        'x-csrf-token': body.csrfToken!,
      },
    );
    assert.equal(refreshed.status, 200, await refreshed.clone().text());
    const next = refreshed.headers.getSetCookie().find((cookie) => cookie.startsWith('imgpipe_refresh='))!;
    assert.notEqual(next.split(';')[0], refreshCookie.split(';')[0], 'the cookie is rotated too');
    assert.equal(((await refreshed.json()) as Session).csrfToken, body.csrfToken, 'same session, same CSRF token');

    const out = await post('/v1/auth/logout', {}, { ...cookieHeader(next), 'x-csrf-token': body.csrfToken! });
    assert.equal(out.status, 204);
    const cleared = out.headers.getSetCookie();
    assert.ok(
      cleared.some((cookie) => /^imgpipe_refresh=; Path=\/v1\/auth; Max-Age=0;/.test(cookie)),
      cleared.join(),
    );
    assert.equal(
      (await post('/v1/auth/refresh', {}, { ...cookieHeader(next), 'x-csrf-token': body.csrfToken! })).status,
      401,
    );
  });

  test('cookies are Secure for any host but a loopback one', async () => {
    const response = await api.api.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      headers: { host: 'imgpipe.example.com', 'content-type': 'application/json', 'x-forwarded-for': ipFor('secure') },
      payload: { tenant, username: 'viewer', password: PASSWORD, refreshTokenIn: 'cookie' },
    });
    assert.equal(response.statusCode, 200);
    const cookies = [response.headers['set-cookie']].flat().map(String);
    assert.equal(cookies.length, 2);
    for (const cookie of cookies) assert.match(cookie, /; Secure; SameSite=Strict$/);
  });

  test('admins manage users over the API; the password policy and the last admin are enforced', async () => {
    const headers = { ...bearer(adminToken), 'content-type': 'application/json' };
    const weak = await fetch(`${api.url}/v1/users`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ username: 'newbie', password: 'password1234', role: 'viewer' }),
    });
    assert.equal(weak.status, 422);
    assert.equal((await problemOf(weak))['code'], 'AUTH_PASSWORD_WEAK');
    const created = await fetch(`${api.url}/v1/users`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ username: 'Newbie', password: 'a long enough passphrase', role: 'viewer' }),
    });
    assert.equal(created.status, 201);
    assert.equal(((await created.json()) as { username: string }).username, 'newbie');
    const taken = await fetch(`${api.url}/v1/users`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ username: 'NEWBIE', password: 'a long enough passphrase', role: 'viewer' }),
    });
    assert.equal(taken.status, 409);
    const admin = (await (await fetch(`${api.url}/v1/users`, { headers })).json()) as {
      items: { id: string; username: string }[];
    };
    const self = admin.items.find((user) => user.username === 'admin')!;
    const lastAdmin = await fetch(`${api.url}/v1/users/${self.id}`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ role: 'viewer' }),
    });
    assert.equal(lastAdmin.status, 409);
    assert.equal((await problemOf(lastAdmin))['code'], 'AUTH_LAST_ADMIN');
    const viewer = await signIn('viewer', ipFor('admin-api'));
    assert.equal((await fetch(`${api.url}/v1/users`, { headers: bearer(viewer.accessToken) })).status, 403);
  });

  test('imgpipe user: create (password from stdin), list, set-role, reset-password and disable', async () => {
    const cliTenant = testTenant('accounts-cli');
    try {
      const created = await runCliWithInput(
        ['user', 'create', '--tenant', cliTenant, '--username', 'first-admin', '--role', 'admin', '--json'],
        `${PASSWORD}\n`,
      );
      assert.equal(created.code, 0, created.stderr);
      assert.equal((JSON.parse(created.stdout) as { role: string }).role, 'admin');
      const weak = await runCliWithInput(
        ['user', 'create', '--tenant', cliTenant, '--username', 'weak', '--role', 'viewer'],
        'short\n',
      );
      assert.equal(weak.code, 1);
      assert.match(weak.stderr, /AUTH_PASSWORD_WEAK|at least 12/);
      const noPassword = await runCliWithInput(
        ['user', 'create', '--tenant', cliTenant, '--username', 'x', '--role', 'viewer'],
        '',
      );
      assert.equal(noPassword.code, 2, noPassword.stderr);

      const signInCli = (password: string) =>
        post(
          '/v1/auth/login',
          { tenant: cliTenant, username: 'first-admin', password },
          { 'x-forwarded-for': ipFor('cli') },
        );
      const session = (await (await signInCli(PASSWORD)).json()) as Session;
      assert.deepEqual(claimsOf(session.accessToken)['roles'], ['admin']);

      const second = await runCliWithInput(
        ['user', 'create', '--tenant', cliTenant, '--username', 'second', '--role', 'uploader'],
        `${PASSWORD}\n`,
      );
      assert.equal(second.code, 0, second.stderr);
      const listed = await runCliWithInput(['user', 'list', '--tenant', cliTenant, '--json'], '');
      assert.deepEqual(
        (JSON.parse(listed.stdout) as { username: string; role: string }[]).map((u) => `${u.username}:${u.role}`),
        ['first-admin:admin', 'second:uploader'],
      );
      const promoted = await runCliWithInput(
        ['user', 'set-role', 'second', '--tenant', cliTenant, '--role', 'admin'],
        '',
      );
      assert.equal(promoted.code, 0, promoted.stderr);

      const reset = await runCliWithInput(
        ['user', 'reset-password', 'first-admin', '--tenant', cliTenant],
        'a brand new passphrase\n',
      );
      assert.equal(reset.code, 0, reset.stderr);
      assert.equal((await refresh(session.refreshToken!)).status, 401, 'a new password ends the sessions');
      assert.equal((await signInCli(PASSWORD)).status, 401);
      assert.equal((await signInCli('a brand new passphrase')).status, 200);

      const disabled = await runCliWithInput(['user', 'disable', 'first-admin', '--tenant', cliTenant], '');
      assert.equal(disabled.code, 0, disabled.stderr);
      assert.equal((await signInCli('a brand new passphrase')).status, 401);
      const missing = await runCliWithInput(['user', 'disable', 'nobody', '--tenant', cliTenant], '');
      assert.equal(missing.code, 1);

      const events = (await accounts.audit(cliTenant)).map((entry) => `${entry.event}:${entry.actor}`);
      for (const event of ['user_created:cli', 'role_changed:cli', 'password_reset:cli', 'user_disabled:cli']) {
        assert.ok(events.includes(event), `${event} in ${events.join(', ')}`);
      }
    } finally {
      const db = api.api.deps.db as never as import('@imgpipe/accounts').AccountDatabase;
      await db.deleteFrom('auth_audit').where('tenant_id', '=', cliTenant).execute();
      await db.deleteFrom('users').where('tenant_id', '=', cliTenant).execute();
    }
  });
});
