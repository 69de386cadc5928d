import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { guardedFetch } from './guarded-fetch.ts';
import { classifyAddress, isPrivateAddress } from './address-ranges.ts';
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
    ['2a00:1450:4001:81b::200e', false],
    ['not-an-address', true],
    ['', true],
    // IPv4: the other special-purpose blocks, each with a neighbour outside it.
    ['9.255.255.255', false],
    ['11.0.0.0', false],
    ['100.63.255.255', false],
    ['100.127.255.255', true],
    ['100.128.0.0', false],
    ['126.255.255.255', false],
    ['128.0.0.0', false],
    ['169.253.255.255', false],
    ['169.255.0.0', false],
    ['192.0.0.8', true],
    ['192.0.1.0', false],
    ['192.0.2.255', true],
    ['192.88.99.1', true],
    ['192.88.100.0', false],
    ['192.167.255.255', false],
    ['192.168.255.255', true],
    ['192.169.0.0', false],
    ['198.17.255.255', false],
    ['198.19.255.255', true],
    ['198.20.0.0', false],
    ['198.51.100.7', true],
    ['203.0.113.200', true],
    ['203.0.114.0', false],
    ['223.255.255.255', false],
    ['239.255.255.255', true],
    ['255.255.255.255', true],
    // IPv6 outside global unicast (2000::/3) is refused by default, listed block or not.
    ['1000::1', true],
    ['4000::1', true],
    ['::2', true],
    ['100::1', true],
    ['fc00::1', true],
    ['febf::1', true],
    ['fec0::1', true],
    ['ff02::1', true],
    // Special-purpose blocks inside 2000::/3.
    ['2001:2::1', true],
    ['2001:1ff:ffff::1', true],
    ['2001:200::1', false],
    ['2001:db8:ffff::1', true],
    ['2001:db9::1', false],
    ['3fff:fff::1', true],
    ['3fff:1000::1', false],
    ['5f00::1', true],
    ['5f01::1', true],
  ];
  for (const [address, expected] of cases) {
    test(`${address} is ${expected ? 'private' : 'public'}`, () => assert.equal(isPrivateAddress(address), expected));
  }
});

describe('IPv6 forms that embed an IPv4 address are judged by that address', () => {
  const cases: [string, string, boolean, string][] = [
    // [address, form, public, embedded address]
    ['::127.0.0.1', 'IPv4-compatible', false, '127.0.0.1'],
    ['::7f00:1', 'IPv4-compatible', false, '127.0.0.1'],
    ['::10.0.0.1', 'IPv4-compatible', false, '10.0.0.1'],
    ['::8.8.8.8', 'IPv4-compatible', true, '8.8.8.8'],
    ['::ffff:127.0.0.1', 'IPv4-mapped', false, '127.0.0.1'],
    ['::ffff:7f00:1', 'IPv4-mapped', false, '127.0.0.1'],
    ['::FFFF:A9FE:A9FE', 'IPv4-mapped', false, '169.254.169.254'],
    ['0:0:0:0:0:ffff:172.31.255.255', 'IPv4-mapped', false, '172.31.255.255'],
    ['::ffff:8.8.8.8', 'IPv4-mapped', true, '8.8.8.8'],
    ['::ffff:0:127.0.0.1', 'IPv4-translated', false, '127.0.0.1'],
    ['::ffff:0:7f00:1', 'IPv4-translated', false, '127.0.0.1'],
    ['::ffff:0:c0a8:101', 'IPv4-translated', false, '192.168.1.1'],
    ['::ffff:0:808:808', 'IPv4-translated', true, '8.8.8.8'],
    ['64:ff9b::7f00:1', 'NAT64', false, '127.0.0.1'],
    ['64:ff9b::169.254.169.254', 'NAT64', false, '169.254.169.254'],
    ['64:ff9b::a00:1', 'NAT64', false, '10.0.0.1'],
    ['64:ff9b::808:808', 'NAT64', true, '8.8.8.8'],
    ['2002:7f00:1::', '6to4', false, '127.0.0.1'],
    ['2002:a9fe:a9fe:1::1', '6to4', false, '169.254.169.254'],
    ['2002:ac1f:ffff::', '6to4', false, '172.31.255.255'],
    ['2002:808:808::1', '6to4', true, '8.8.8.8'],
  ];
  for (const [address, form, isPublic, embedded] of cases) {
    test(`${address}: ${form} ${embedded}, ${isPublic ? 'public' : 'refused'}`, () => {
      const verdict = classifyAddress(address);
      assert.equal(verdict.public, isPublic);
      assert.equal(verdict.embedded, embedded);
      if (!isPublic) assert.match(verdict.reason ?? '', new RegExp(`^${form} ${embedded.replaceAll('.', '\\.')}: `));
    });
  }

  test('Teredo (2001::/32) is refused whatever it carries; the client address is the last 32 bits inverted', () => {
    // Client 8.8.8.8 (0x08080808) is written inverted: f7f7:f7f7.
    const verdict = classifyAddress('2001:0:4136:e378:8000:63bf:f7f7:f7f7');
    assert.deepEqual(verdict, {
      public: false,
      reason: 'Teredo tunnel (2001::/32, client 8.8.8.8)',
      embedded: '8.8.8.8',
    });
    assert.equal(classifyAddress('2001::ffff:fffe').embedded, '0.0.0.1');
  });

  test('local-use NAT64 (64:ff9b:1::/48) is refused whatever it carries', () => {
    assert.deepEqual(classifyAddress('64:ff9b:1::808:808'), {
      public: false,
      reason: 'local-use NAT64 (64:ff9b:1::/48)',
    });
  });

  test(':: and ::1 are the unspecified and loopback addresses, not IPv4-compatible ones', () => {
    assert.deepEqual(classifyAddress('::'), { public: false, reason: 'unspecified (::/128)' });
    assert.deepEqual(classifyAddress('::1'), { public: false, reason: 'loopback (::1/128)' });
    assert.deepEqual(classifyAddress('::2'), {
      public: false,
      reason: 'IPv4-compatible 0.0.0.2: "this network" (0.0.0.0/8)',
      embedded: '0.0.0.2',
    });
  });

  test('reasons name the block; zone indexes are ignored; non-addresses are not public', () => {
    assert.deepEqual(classifyAddress('10.1.2.3'), { public: false, reason: 'private (10.0.0.0/8)' });
    assert.deepEqual(classifyAddress('fe80::1%eth0'), { public: false, reason: 'link-local (fe80::/10)' });
    assert.deepEqual(classifyAddress('4000::1'), { public: false, reason: 'not global unicast (outside 2000::/3)' });
    assert.deepEqual(classifyAddress('8.8.8.8'), { public: true });
    assert.deepEqual(classifyAddress('2606:4700::1111'), { public: true });
    assert.deepEqual(classifyAddress('example.com'), { public: false, reason: 'not an IP address' });
  });
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
    'http://[::127.0.0.1]/',
    'http://[::ffff:0:7f00:1]/',
    'http://[::ffff:0:127.0.0.1]/',
    'http://[::7f00:1]:8080/',
    'http://[::ffff:a9fe:a9fe]/latest/meta-data/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://[2002:7f00:1::1]/',
    'http://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/',
    'http://[fd00:ec2::254]/',
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
  test('accepts public IPv6 literals, embedded public IPv4 included, without fetching anything', async () => {
    for (const [url, address] of [
      ['https://[2606:4700::1111]/a.jpg', '2606:4700::1111'],
      ['https://[::ffff:8.8.8.8]/a.jpg', '::ffff:808:808'],
      ['https://[64:ff9b::808:808]/a.jpg', '64:ff9b::808:808'],
    ] as const) {
      assert.deepEqual(await guard.check(url), [{ address, family: 6 }], url);
    }
  });
  test('a refusal names the address and why', async () => {
    await assert.rejects(guard.check('http://[::ffff:0:7f00:1]/'), (error: unknown) => {
      assert.ok(error instanceof ImgpipeError);
      assert.equal(error.code, 'URL_FORBIDDEN');
      assert.match(error.message, /IPv4-translated 127\.0\.0\.1: loopback \(127\.0\.0\.0\/8\)/);
      assert.deepEqual(error.details, {
        host: '::ffff:0:7f00:1',
        address: '::ffff:0:7f00:1',
        reason: 'IPv4-translated 127.0.0.1: loopback (127.0.0.0/8)',
      });
      return true;
    });
    await assert.rejects(guard.check('http://internal.test/'), /internal\.test resolves to 10\.20\.30\.40, private/);
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
