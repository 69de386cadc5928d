import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { guardedFetch } from './guarded-fetch.ts';
import { isPrivateAddress } from './address-ranges.ts';
import { SsrfGuard } from './ssrf-guard.ts';

function refusedWith(code: string) {
  return (error: unknown) => error instanceof ImgpipeError && error.code === code;
}

describe('private address ranges', () => {
  const cases: [string, boolean][] = [
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['10.0.0.1', true],
    // 172.16.0.0/12 is 172.16.0.0-172.31.255.255: both ends inside, both neighbours outside.
    ['172.16.0.0', true],
    ['172.16.0.1', true],
    ['172.20.1.1', true],
    ['172.31.255.255', true],
    ['172.15.255.255', false],
    ['172.32.0.0', false],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['224.0.0.1', true],
    ['8.8.8.8', false],
    ['93.184.216.34', false],
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fd12:3456::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:10.1.2.3', true],
    ['::ffff:8.8.8.8', false],
    ['64:ff9b::a00:1', true],
    ['64:ff9b::808:808', false],
    ['2002:7f00:1::', true],
    ['2001:db8::1', true],
    ['2606:4700::1111', false],
    ['not-an-address', true],
  ];
  for (const [address, expected] of cases) {
    test(`${address} is ${expected ? 'private' : 'public'}`, () => assert.equal(isPrivateAddress(address), expected));
  }
});

describe('SsrfGuard.check (production default: every private range refused)', () => {
  const guard = new SsrfGuard({
    resolver: async (name) => {
      if (name === 'internal.test') return [{ address: '10.20.30.40', family: 4 }];
      if (name === 'mixed.test') {
        return [
          { address: '93.184.216.34', family: 4 },
          { address: '192.168.0.10', family: 4 },
        ];
      }
      if (name === 'public.test') return [{ address: '93.184.216.34', family: 4 }];
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    },
  });
  for (const url of [
    'http://127.0.0.1/',
    'http://10.0.0.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://0x7f.1/',
    'http://2130706433/',
    'http://internal.test/',
    'http://mixed.test/',
  ]) {
    test(`refuses ${url}`, async () => {
      await assert.rejects(guard.check(url), refusedWith('URL_FORBIDDEN'));
    });
  }
  test('refuses a name the system resolves to loopback (localhost)', async () => {
    await assert.rejects(new SsrfGuard().check('http://localhost:8080/x'), refusedWith('URL_FORBIDDEN'));
  });
  test('refuses other schemes and credentials', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://example.com/x', 'gopher://a/', 'http://user:pw@public.test/']) {
      await assert.rejects(guard.check(url), refusedWith('URL_FORBIDDEN'), url);
    }
  });
  test('accepts a name with only public addresses', async () => {
    assert.deepEqual(await guard.check('https://public.test/a.jpg'), [{ address: '93.184.216.34', family: 4 }]);
  });
  test('an unresolvable name is a fetch failure, not a refusal', async () => {
    await assert.rejects(guard.check('http://nowhere.test/'), refusedWith('URL_FETCH_FAILED'));
  });
});

describe('guardedFetch against a loopback server allowed by the test-only allowlist', () => {
  let server: Server;
  let base: string;
  const guard = new SsrfGuard({ allow: ['127.0.0.1/32'] });

  before(async () => {
    server = createServer((request, response) => {
      if (request.url === '/image') {
        response.writeHead(200, { 'content-type': 'image/png' });
        response.end(Buffer.from('pretend png'));
      } else if (request.url === '/to-metadata') {
        response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
        response.end();
      } else if (request.url === '/to-ipv6-loopback') {
        response.writeHead(301, { location: `http://[::1]:${(server.address() as AddressInfo).port}/image` });
        response.end();
      } else if (request.url === '/to-image') {
        response.writeHead(307, { location: '/image' });
        response.end();
      } else if (request.url === '/big') {
        response.writeHead(200);
        response.end(Buffer.alloc(5000));
      } else {
        response.writeHead(404);
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('fetches an allowed URL and follows a redirect to an allowed one', async () => {
    const direct = await guardedFetch(guard, `${base}/image`);
    assert.equal(direct.status, 200);
    assert.equal(direct.body.toString(), 'pretend png');
    const redirected = await guardedFetch(guard, `${base}/to-image`);
    assert.equal(redirected.url, `${base}/image`);
  });
  test('refuses a redirect to the metadata address', async () => {
    await assert.rejects(guardedFetch(guard, `${base}/to-metadata`), refusedWith('URL_FORBIDDEN'));
  });
  test('refuses a redirect to IPv6 loopback', async () => {
    await assert.rejects(guardedFetch(guard, `${base}/to-ipv6-loopback`), refusedWith('URL_FORBIDDEN'));
  });
  test('caps the body', async () => {
    await assert.rejects(guardedFetch(guard, `${base}/big`, { maxBytes: 1000 }), refusedWith('IMAGE_TOO_LARGE'));
  });
  test('checks the address the socket connects to (DNS rebinding)', async () => {
    let calls = 0;
    const rebinding = new SsrfGuard({
      allow: ['127.0.0.2/32'],
      // An allowed address for the check, loopback for the socket's own lookup.
      resolver: async () => [{ address: calls++ === 0 ? '127.0.0.2' : '127.0.0.1', family: 4 }],
    });
    await assert.rejects(guardedFetch(rebinding, `http://rebind.test:${new URL(base).port}/image`), (error) => {
      return error instanceof ImgpipeError && error.code === 'URL_FORBIDDEN' && calls === 2;
    });
  });
});
