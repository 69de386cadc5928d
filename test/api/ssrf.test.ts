import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SsrfGuard } from '@imgpipe/egress';
import {
  bearer,
  DOG_JPEG,
  deleteTenantImages,
  problemOf,
  startTestApi,
  type TestApi,
  tenantImageCount,
  testTenant,
  tokenFor,
} from './support.ts';

async function postUrl(api: TestApi, token: string, body: object): Promise<Response> {
  return fetch(`${api.url}/v1/images`, {
    method: 'POST',
    headers: { ...bearer(token), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function assertRefused(response: Response, code = 'URL_FORBIDDEN'): Promise<void> {
  const problem = await problemOf(response);
  assert.equal(response.status, 422, JSON.stringify(problem));
  assert.equal(problem['code'], code);
}

describe('URL ingest behind the SSRF guard (production default: every private range refused)', () => {
  let api: TestApi;
  const tenant = testTenant('ssrf');
  const token = tokenFor(tenant);

  before(async () => {
    // The production guard, with one test resolver name added: internal.example resolves to a private address.
    const guard = new SsrfGuard({
      resolver: async (name) => {
        if (name === 'internal.example') return [{ address: '10.1.2.3', family: 4 }];
        const { lookup } = await import('node:dns/promises');
        return lookup(name, { all: true });
      },
    });
    api = await startTestApi({ guard });
  });
  after(async () => {
    await deleteTenantImages(api.api, [tenant]);
    await api.close();
  });

  for (const url of [
    'http://127.0.0.1/image.jpg',
    'http://10.0.0.1/image.jpg',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]/image.jpg',
    // IPv6 forms that carry a loopback IPv4 address (IPv4-compatible, IPv4-translated).
    'http://[::127.0.0.1]/image.jpg',
    'http://[::ffff:0:7f00:1]/image.jpg',
  ]) {
    test(`refuses ${url}`, async () => {
      await assertRefused(await postUrl(api, token, { url }));
    });
  }

  test('refuses a name that resolves to a private address (localhost, and a resolver-injected name)', async () => {
    await assertRefused(await postUrl(api, token, { url: 'http://localhost:8080/image.jpg' }));
    await assertRefused(await postUrl(api, token, { url: 'http://internal.example/image.jpg' }));
  });

  test('refuses non-http schemes', async () => {
    await assertRefused(await postUrl(api, token, { url: 'file:///etc/passwd' }));
  });

  test('refuses a callback URL to a private address at upload time', async () => {
    const response = await fetch(`${api.url}/v1/images?callbackUrl=${encodeURIComponent('http://10.0.0.1/hook')}`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'image/jpeg' },
      body: DOG_JPEG,
    });
    await assertRefused(response);
    assert.equal(await tenantImageCount(api.api, tenant), 0);
  });
});

describe('redirects are checked hop by hop', () => {
  let api: TestApi;
  let server: Server;
  let origin: string;
  const tenant = testTenant('ssrf-redirect');
  const token = tokenFor(tenant);

  before(async () => {
    server = createServer((request, response) => {
      const port = (server.address() as AddressInfo).port;
      const redirects: Record<string, string> = {
        '/to-metadata': 'http://169.254.169.254/latest/meta-data/',
        '/to-private': 'http://10.0.0.1/image.jpg',
        '/to-ipv6-loopback': `http://[::1]:${port}/dog.jpg`,
        '/to-dog': '/dog.jpg',
      };
      const target = redirects[request.url ?? ''];
      if (target) {
        response.writeHead(302, { location: target });
        response.end();
      } else if (request.url === '/dog.jpg') {
        response.writeHead(200, { 'content-type': 'image/jpeg' });
        response.end(DOG_JPEG);
      } else {
        response.writeHead(404);
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Test-only allowlist: the first hop to this loopback server is permitted, nothing else private is.
    api = await startTestApi({ guard: new SsrfGuard({ allow: ['127.0.0.1/32'] }) });
  });
  after(async () => {
    await deleteTenantImages(api.api, [tenant]);
    await api.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  for (const path of ['/to-metadata', '/to-private', '/to-ipv6-loopback']) {
    test(`refuses a redirect ${path}`, async () => {
      await assertRefused(await postUrl(api, token, { url: `${origin}${path}` }));
    });
  }

  test('follows a redirect to an allowed address and ingests the image', async () => {
    const response = await postUrl(api, token, { url: `${origin}/to-dog`, analyses: ['detect'] });
    assert.equal(response.status, 202);
    const body = (await response.json()) as { imageId: string; sourceName: string };
    assert.equal(body.sourceName, 'dog.jpg');
    assert.equal(await tenantImageCount(api.api, tenant), 1);
  });

  test('a URL that answers 404 is URL_FETCH_FAILED', async () => {
    await assertRefused(await postUrl(api, token, { url: `${origin}/missing.jpg` }), 'URL_FETCH_FAILED');
  });
});
