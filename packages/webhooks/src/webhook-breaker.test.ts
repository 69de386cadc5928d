import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type ImageAnalysis, STAGES, type StageName, type StageReport } from '@imgpipe/contracts';
import { loadConfig, serviceSettings } from '@imgpipe/core';
import { SsrfGuard } from '@imgpipe/egress';
import { createDatabase, type Database, migrate, ResultsRepository } from '@imgpipe/results';
import { type Kysely, sql } from 'kysely';
import { WebhookDispatcher } from './webhook-dispatcher.ts';

const { databaseUrl } = loadConfig({ databaseUrl: serviceSettings.databaseUrl });

function completedAnalysis(imageId: string): ImageAnalysis {
  const stages = Object.fromEntries(
    STAGES.map((stage) => [stage, { status: 'completed', durationMs: 5 } satisfies StageReport]),
  ) as Record<StageName, StageReport>;
  return {
    imageId,
    status: 'completed',
    labels: [],
    objects: [],
    faces: [],
    text: { fullText: '', lines: [] },
    textInObjects: [],
    stages,
    attributes: {},
    renditions: [],
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A receiver on loopback that answers every request with `status`, counting them. */
async function receiver(status: number): Promise<{ server: Server; url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      hits++;
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, hits: () => hits };
}

describe('WebhookDispatcher circuit breakers per receiver', () => {
  // A schema of its own, as in webhook-dispatcher.test.ts: other results services poll the shared queue.
  const schema = `imgpipe_test_webhook_breaker_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const tenantId = `test-webhook-breaker-${randomUUID().slice(0, 8)}`;
  let admin: Kysely<Database>;
  let db: Kysely<Database>;
  let down: Awaited<ReturnType<typeof receiver>>;
  let up: Awaited<ReturnType<typeof receiver>>;

  before(async () => {
    admin = createDatabase({ url: databaseUrl, poolSize: 1 });
    await sql`create schema ${sql.id(schema)}`.execute(admin);
    db = createDatabase({ url: databaseUrl, poolSize: 4, applicationName: 'imgpipe-webhook-tests', schema });
    await migrate(db, { schema });
    down = await receiver(503);
    up = await receiver(204);
  });
  after(async () => {
    await db.destroy();
    await sql`drop schema ${sql.id(schema)} cascade`.execute(admin);
    await admin.destroy();
    for (const { server } of [down, up]) await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function completedImageWithCallback(dispatcher: WebhookDispatcher, url: string): Promise<string> {
    const repository = new ResultsRepository(db);
    const imageId = randomUUID();
    await repository.recordUpload({ imageId, tenantId, analyses: [], occurredAt: new Date() });
    await dispatcher.onUpload({ tenantId, imageId, callbackUrl: url });
    await dispatcher.onChange(await repository.recordAnalysis(completedAnalysis(imageId), tenantId));
    return imageId;
  }

  test('a failing receiver opens its circuit: later deliveries to it fail without a request, others go on', async () => {
    const dispatcher = new WebhookDispatcher({
      db,
      guard: new SsrfGuard({ allow: ['127.0.0.1/32'] }),
      pollIntervalMs: 50,
      // No retry within the test: each delivery is attempted once.
      initialDelayMs: 10 * 60_000,
      batchSize: 1,
      breakerFailures: 2,
      breakerOpenMs: 5 * 60_000,
    });
    const toDown: string[] = [];
    for (let i = 0; i < 4; i++) toDown.push(await completedImageWithCallback(dispatcher, down.url));
    const toUp = await completedImageWithCallback(dispatcher, up.url);
    dispatcher.start();
    try {
      const attempted = await until('every delivery to be attempted once', async () => {
        const deliveries = await Promise.all(
          [...toDown, toUp].map(async (imageId) => (await dispatcher.store.deliveriesFor(tenantId, imageId))[0]),
        );
        const done = (delivery: (typeof deliveries)[number]) =>
          delivery !== undefined && (delivery.status === 'delivered' || delivery.lastError !== undefined);
        return deliveries.every(done) ? deliveries : undefined;
      });
      assert.equal(down.hits(), 2, 'two failures opened the circuit; the other two deliveries sent nothing');
      const refused = attempted.slice(0, 4).filter((delivery) => /circuit is open/.test(delivery!.lastError ?? ''));
      assert.equal(refused.length, 2);
      for (const delivery of refused) {
        assert.equal(delivery!.status, 'pending', 'refused by the circuit: retried later, not given up');
        assert.ok(new Date(delivery!.nextAttemptAt).getTime() > Date.now() + 60_000);
      }
      assert.equal(attempted[4]!.status, 'delivered', 'another receiver is not affected');
      assert.equal(up.hits(), 1);
      const host = new URL(down.url).host;
      assert.equal(dispatcher.breakers.for(host).state, 'open');
      assert.deepEqual(dispatcher.breakers.counts(), { closed: 1, open: 1, 'half-open': 0 });
    } finally {
      await dispatcher.stop();
    }
  });
});
