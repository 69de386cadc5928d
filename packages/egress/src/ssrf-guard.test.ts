import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { guardedFetch } from './guarded-fetch.ts';
import { addressList, classifyAddress, isPrivateAddress, listContains } from './address-ranges.ts';
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

describe('every special-purpose block: its ends inside with their reason, its neighbours outside', () => {
  const PUBLIC = 'public';
  const cases: [string, string][] = [
    ['0.0.0.0', '"this network" (0.0.0.0/8)'],
    ['0.255.255.255', '"this network" (0.0.0.0/8)'],
    ['1.0.0.0', PUBLIC],
    ['10.0.0.0', 'private (10.0.0.0/8)'],
    ['10.255.255.255', 'private (10.0.0.0/8)'],
    ['100.64.0.0', 'carrier-grade NAT (100.64.0.0/10)'],
    ['100.127.255.255', 'carrier-grade NAT (100.64.0.0/10)'],
    ['127.0.0.0', 'loopback (127.0.0.0/8)'],
    ['127.255.255.255', 'loopback (127.0.0.0/8)'],
    ['169.254.0.0', 'link-local (cloud metadata) (169.254.0.0/16)'],
    ['169.254.255.255', 'link-local (cloud metadata) (169.254.0.0/16)'],
    ['172.16.0.0', 'private (172.16.0.0/12)'],
    ['172.31.255.255', 'private (172.16.0.0/12)'],
    ['191.255.255.255', PUBLIC],
    ['192.0.0.0', 'IETF protocol assignments (192.0.0.0/24)'],
    ['192.0.0.255', 'IETF protocol assignments (192.0.0.0/24)'],
    ['192.0.1.255', PUBLIC],
    ['192.0.2.0', 'documentation (192.0.2.0/24)'],
    ['192.0.2.255', 'documentation (192.0.2.0/24)'],
    ['192.0.3.0', PUBLIC],
    ['192.88.98.255', PUBLIC],
    ['192.88.99.0', '6to4 relay anycast (192.88.99.0/24)'],
    ['192.88.99.255', '6to4 relay anycast (192.88.99.0/24)'],
    ['192.168.0.0', 'private (192.168.0.0/16)'],
    ['192.168.255.255', 'private (192.168.0.0/16)'],
    ['198.18.0.0', 'benchmarking (198.18.0.0/15)'],
    ['198.19.255.255', 'benchmarking (198.18.0.0/15)'],
    ['198.51.99.255', PUBLIC],
    ['198.51.100.0', 'documentation (198.51.100.0/24)'],
    ['198.51.100.255', 'documentation (198.51.100.0/24)'],
    ['198.51.101.0', PUBLIC],
    ['203.0.112.255', PUBLIC],
    ['203.0.113.0', 'documentation (203.0.113.0/24)'],
    ['203.0.113.255', 'documentation (203.0.113.0/24)'],
    ['224.0.0.0', 'multicast (224.0.0.0/4)'],
    ['239.255.255.255', 'multicast (224.0.0.0/4)'],
    ['240.0.0.0', 'reserved (240.0.0.0/4)'],
    ['255.255.255.255', 'reserved (240.0.0.0/4)'],
    ['1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'not global unicast (outside 2000::/3)'],
    ['2000::', PUBLIC],
    ['64:ff9b:1::', 'local-use NAT64 (64:ff9b:1::/48)'],
    ['64:ff9b:1:ffff:ffff:ffff:ffff:ffff', 'local-use NAT64 (64:ff9b:1::/48)'],
    ['64:ff9b:2::', 'not global unicast (outside 2000::/3)'],
    ['100::', 'discard-only (100::/64)'],
    ['100::ffff:ffff:ffff:ffff', 'discard-only (100::/64)'],
    ['100:0:0:1::', 'not global unicast (outside 2000::/3)'],
    ['2001::', 'Teredo tunnel (2001::/32, client 255.255.255.255)'],
    ['2001:0:ffff:ffff:ffff:ffff:ffff:ffff', 'Teredo tunnel (2001::/32, client 0.0.0.0)'],
    ['2001:1::', 'IETF protocol assignments (2001::/23)'],
    ['2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff', 'IETF protocol assignments (2001::/23)'],
    ['2001:200::', PUBLIC],
    ['2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', PUBLIC],
    ['2001:db8::', 'documentation (2001:db8::/32)'],
    ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 'documentation (2001:db8::/32)'],
    ['2001:db9::', PUBLIC],
    ['3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff', PUBLIC],
    ['3fff::', 'documentation (3fff::/20)'],
    ['3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff', 'documentation (3fff::/20)'],
    ['3fff:1000::', PUBLIC],
    ['3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', PUBLIC],
    ['4000::', 'not global unicast (outside 2000::/3)'],
    ['5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'not global unicast (outside 2000::/3)'],
    ['5f00::', 'segment routing (5f00::/16)'],
    ['5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'segment routing (5f00::/16)'],
    ['5f01::', 'not global unicast (outside 2000::/3)'],
    ['fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'not global unicast (outside 2000::/3)'],
    ['fc00::', 'unique local (private) (fc00::/7)'],
    ['fd00::', 'unique local (private) (fc00::/7)'],
    ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'unique local (private) (fc00::/7)'],
    ['fe00::', 'not global unicast (outside 2000::/3)'],
    ['fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'not global unicast (outside 2000::/3)'],
    ['fe80::', 'link-local (fe80::/10)'],
    ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'link-local (fe80::/10)'],
    ['fec0::', 'site-local (fec0::/10)'],
    ['feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'site-local (fec0::/10)'],
    ['ff00::', 'multicast (ff00::/8)'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'multicast (ff00::/8)'],
    ['::1.0.0.0', PUBLIC],
    ['::ffff:0.255.255.255', 'IPv4-mapped 0.255.255.255: "this network" (0.0.0.0/8)'],
  ];
  for (const [address, expected] of cases) {
    test(`${address}: ${expected}`, () => {
      const verdict = classifyAddress(address);
      assert.equal(verdict.public ? PUBLIC : verdict.reason, expected);
    });
  }
});

describe('allow lists (IMGPIPE_EGRESS_ALLOW)', () => {
  test('addresses and CIDR blocks of both families', () => {
    const list = addressList([' 10.1.0.0/16', '127.0.0.1', 'fd00::/8', '::1']);
    const inside = ['10.1.0.0', '10.1.255.255', '127.0.0.1', 'fd00::1', 'fdff::1', '::1'];
    const outside = ['10.2.0.0', '127.0.0.2', 'fc00::1', '::2', 'not-an-address', ''];
    for (const address of inside) assert.equal(listContains(list, address), true, address);
    for (const address of outside) assert.equal(listContains(list, address), false, address);
  });

  test('prefix lengths up to 32 for IPv4 and 128 for IPv6', () => {
    assert.ok(listContains(addressList(['1.2.3.4/32', '1:2::/128', '0.0.0.0/0']), '1:2::'));
    assert.ok(listContains(addressList(['::/0']), '2606:4700::1111'));
    for (const bad of ['1.2.3.4/33', '1:2::/129', '10.0.0.0/-1', '10.0.0.0/8.5', '10.0.0.0/x']) {
      assert.throws(() => addressList([bad]), { name: 'TypeError', message: `"${bad}" has an invalid prefix length` });
    }
  });

  test('an entry that is not an address is refused', () => {
    for (const bad of ['example.com', '10.0.0/8', '']) {
      assert.throws(() => addressList([bad]), {
        name: 'TypeError',
        message: `"${bad}" is not an IP address or CIDR block`,
      });
    }
  });

  test('the guard lets allowed private addresses through, and only those', async () => {
    const guard = new SsrfGuard({ allow: ['fd00::/8', '127.0.0.1'] });
    assert.deepEqual(await guard.check('http://[fd00::5]/'), [{ address: 'fd00::5', family: 6 }]);
    assert.deepEqual(await guard.check('http://127.0.0.1:9/'), [{ address: '127.0.0.1', family: 4 }]);
    await assert.rejects(guard.check('http://[fc00::5]/'), refusedWith('URL_FORBIDDEN'));
    await assert.rejects(guard.check('http://127.0.0.2/'), refusedWith('URL_FORBIDDEN'));
  });
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
      if (!verdict.public) assert.ok(verdict.reason.startsWith(`${form} ${embedded}: `), verdict.reason);
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
    for (const url of ['http://user@public.test/', 'http://:pw@public.test/']) {
      await assert.rejects(guard.check(url), { code: 'URL_FORBIDDEN', message: /with credentials/ }, url);
    }
  });
  test('refuses what is not an absolute URL, quoting at most 100 characters of it', async () => {
    await assert.rejects(guard.check('/relative/path'), {
      code: 'URL_FORBIDDEN',
      message: '"/relative/path" is not an absolute URL',
    });
    const hundred = 'x'.repeat(100);
    assert.throws(() => guard.parse(hundred), { message: `"${hundred}" is not an absolute URL` });
    assert.throws(() => guard.parse(`${hundred}y`), { message: `"${hundred}..." is not an absolute URL` });
  });
  test('a name without addresses is a fetch failure', async () => {
    const empty = new SsrfGuard({ resolver: async () => [] });
    await assert.rejects(empty.check('http://empty.test/'), {
      code: 'URL_FETCH_FAILED',
      message: 'empty.test has no addresses',
    });
  });
  test('a URL object is checked without parsing it again', async () => {
    assert.deepEqual(await guard.check(new URL('https://public.test/')), [{ address: '93.184.216.34', family: 4 }]);
    await assert.rejects(guard.check(new URL('http://[::1]/')), refusedWith('URL_FORBIDDEN'));
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
      assert.equal(
        error.message,
        'the URL points to a private or reserved address (IPv4-translated 127.0.0.1: loopback (127.0.0.0/8))',
      );
      assert.deepEqual(error.details, {
        host: '::ffff:0:7f00:1',
        address: '::ffff:0:7f00:1',
        reason: 'IPv4-translated 127.0.0.1: loopback (127.0.0.0/8)',
      });
      return true;
    });
    await assert.rejects(guard.check('http://mixed.test/'), {
      message:
        'the URL points to a private or reserved address (mixed.test resolves to 192.168.0.10, private (192.168.0.0/16))',
    });
  });
  test('accepts a name with only public addresses', async () => {
    assert.deepEqual(await guard.check('https://public.test/a.jpg'), [{ address: '93.184.216.34', family: 4 }]);
  });
  test('an unresolvable name is a fetch failure, not a refusal', async () => {
    await assert.rejects(guard.check('http://nowhere.test/'), refusedWith('URL_FETCH_FAILED'));
  });
});

describe("the socket's lookup function", () => {
  const guard = new SsrfGuard({
    resolver: async (name) => {
      if (name === 'both.test') {
        return [
          { address: '93.184.216.34', family: 4 },
          { address: '2606:4700::1111', family: 6 },
          { address: '8.8.8.8', family: 4 },
        ];
      }
      if (name === 'v4.test') return [{ address: '8.8.4.4', family: 4 }];
      if (name === 'six-first.test') {
        return [
          { address: '2606:4700::1111', family: 6 },
          { address: '1.1.1.1', family: 4 },
        ];
      }
      return [{ address: '10.0.0.1', family: 4 }];
    },
  });
  const lookup = (hostname: string, options: { all?: boolean; family?: number | string }) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: unknown; family?: number }>((resolve) => {
      guard.lookupFunction()(hostname, options, (error, address, family) => resolve({ error, address, family }));
    });

  test('one address: the first of the wanted family', async () => {
    assert.deepEqual(await lookup('both.test', {}), { error: null, address: '93.184.216.34', family: 4 });
    for (const family of [4, 'IPv4']) {
      assert.deepEqual(await lookup('six-first.test', { family }), { error: null, address: '1.1.1.1', family: 4 });
    }
    for (const family of [6, 'IPv6']) {
      assert.deepEqual(await lookup('both.test', { family }), { error: null, address: '2606:4700::1111', family: 6 });
    }
  });

  test('all addresses of the wanted family', async () => {
    assert.deepEqual((await lookup('both.test', { all: true, family: 4 })).address, [
      { address: '93.184.216.34', family: 4 },
      { address: '8.8.8.8', family: 4 },
    ]);
    assert.equal(((await lookup('both.test', { all: true, family: 0 })).address as unknown[]).length, 3);
  });

  test('no address of the wanted family is ENOTFOUND; a private one is the refusal', async () => {
    const none = await lookup('v4.test', { family: 6 });
    assert.equal(none.error?.code, 'ENOTFOUND');
    assert.equal(none.error?.message, 'v4.test has no IPv6 address');
    assert.deepEqual(none.address, []);
    const refused = await lookup('private.test', {});
    assert.ok(refused.error instanceof ImgpipeError && refused.error.code === 'URL_FORBIDDEN');
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
