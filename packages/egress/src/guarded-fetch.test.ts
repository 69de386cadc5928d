import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { CircuitBreakerGroup, ImgpipeError } from '@imgpipe/core';
import { guardedFetch } from './guarded-fetch.ts';
import { SsrfGuard } from './ssrf-guard.ts';

/** A receiver on loopback (allowed for this test only) whose answer each test sets. */
describe('guardedFetch with circuit breakers per host', () => {
  const guard = new SsrfGuard({ allow: ['127.0.0.1/32'] });
  let server: Server;
  let base: string;
  let status = 200;
  let requests = 0;

  before(async () => {
    server = createServer((_request, response) => {
      requests++;
      response.writeHead(status, { 'content-type': 'text/plain' }).end('answer');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const group = () =>
    new CircuitBreakerGroup('egress', {
      failureThreshold: 2,
      openMs: 60_000,
      openError: (breaker) => new ImgpipeError('URL_HOST_UNAVAILABLE', `${breaker.name} is open`),
    });

  test('5xx answers open the host circuit; then requests fail fast without reaching the host', async () => {
    const breakers = group();
    status = 503;
    requests = 0;
    for (let i = 0; i < 2; i++) {
      const response = await guardedFetch(guard, `${base}/image.jpg`, { breakers });
      assert.equal(response.status, 503, 'the answer itself is returned');
    }
    const host = new URL(base).host;
    assert.equal(breakers.for(host).state, 'open');
    await assert.rejects(guardedFetch(guard, `${base}/image.jpg`, { breakers }), (error: unknown) => {
      assert.ok(error instanceof ImgpipeError);
      assert.equal(error.code, 'URL_HOST_UNAVAILABLE');
      return true;
    });
    assert.equal(requests, 2, 'the open circuit kept the third request from the host');
  });

  test('4xx answers and refusals by the guard are not failures of the host', async () => {
    const breakers = group();
    status = 404;
    for (let i = 0; i < 3; i++) assert.equal((await guardedFetch(guard, `${base}/missing`, { breakers })).status, 404);
    assert.equal(breakers.for(new URL(base).host).state, 'closed');
    const strict = new SsrfGuard();
    for (let i = 0; i < 3; i++) {
      await assert.rejects(guardedFetch(strict, `${base}/x`, { breakers }), /URL|loopback|refused|forbidden/i);
    }
    assert.equal(breakers.for(new URL(base).host).state, 'closed');
  });

  test('a host that refuses connections opens its circuit; other hosts are unaffected', async () => {
    const breakers = group();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const dead = `http://127.0.0.1:${deadPort}/x`;
    for (let i = 0; i < 2; i++) {
      await assert.rejects(guardedFetch(guard, dead, { breakers }), (error: unknown) => {
        assert.equal((error as ImgpipeError).code, 'URL_FETCH_FAILED');
        return true;
      });
    }
    await assert.rejects(guardedFetch(guard, dead, { breakers }), { code: 'URL_HOST_UNAVAILABLE' });
    status = 200;
    assert.equal((await guardedFetch(guard, `${base}/ok`, { breakers })).status, 200);
  });
});
