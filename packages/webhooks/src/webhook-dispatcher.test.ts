import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type ImageAnalysis, STAGES, type StageName, type StageReport } from '@imgpipe/contracts';
import { loadConfig, serviceSettings } from '@imgpipe/core';
import { createDatabase, type Database, migrate, ResultsRepository } from '@imgpipe/results';
import { SsrfGuard } from '@imgpipe/egress';
import { type Kysely, sql } from 'kysely';
import { verifyWebhook } from './signature.ts';
import { WebhookDispatcher, type WebhookPayload } from './webhook-dispatcher.ts';

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
    attributes: { order: '42' },
    renditions: [],
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('WebhookDispatcher against PostgreSQL and a local receiver', () => {
  let db: Kysely<Database>;
  let server: Server;
  let receiverUrl: string;
  const received: { headers: IncomingHttpHeaders; body: string; answered: number }[] = [];
  const tenantId = `test-webhooks-${randomUUID().slice(0, 8)}`;

  // A schema of its own: results services running against the shared database also poll the delivery queue, and
  // their guard (rightly) refuses this test's loopback receiver.
  const schema = `imgpipe_test_webhooks_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  let admin: Kysely<Database>;

  before(async () => {
    admin = createDatabase({ url: databaseUrl, poolSize: 1 });
    await sql`create schema ${sql.id(schema)}`.execute(admin);
    db = createDatabase({ url: databaseUrl, poolSize: 4, applicationName: 'imgpipe-webhook-tests', schema });
    await migrate(db, { schema });
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        // Fails the first delivery so the dispatcher has to retry.
        const answered = received.length === 0 ? 500 : 204;
        received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), answered });
        response.writeHead(answered);
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/imgpipe`;
  });

  after(async () => {
    await db.destroy();
    await sql`drop schema ${sql.id(schema)} cascade`.execute(admin);
    await admin.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('a completion reaches the receiver signed, and is retried after the receiver fails', async () => {
    const dispatcher = new WebhookDispatcher({
      db,
      // Test-only allowlist: the receiver is on loopback, which production refuses.
      guard: new SsrfGuard({ allow: ['127.0.0.1/32'] }),
      pollIntervalMs: 50,
      initialDelayMs: 100,
    });
    const repository = new ResultsRepository(db);
    const imageId = randomUUID();
    await repository.recordUpload({ imageId, tenantId, analyses: [], occurredAt: new Date() });
    await dispatcher.onUpload({ tenantId, imageId, callbackUrl: receiverUrl });
    assert.deepEqual(await dispatcher.store.deliveriesFor(tenantId, imageId), [], 'nothing is sent while pending');

    const write = await repository.recordAnalysis(completedAnalysis(imageId), tenantId);
    await dispatcher.onChange(write);
    await dispatcher.onChange(write); // a replayed change queues nothing more
    dispatcher.start();
    try {
      const delivered = await until('the delivery to succeed', async () => {
        const [delivery] = await dispatcher.store.deliveriesFor(tenantId, imageId);
        return delivery?.status === 'delivered' ? delivery : undefined;
      });
      assert.equal(delivered.attempts, 2);
      assert.equal(delivered.lastStatusCode, 204);
    } finally {
      await dispatcher.stop();
    }

    assert.deepEqual(
      received.map((request) => request.answered),
      [500, 204],
    );
    const { secret } = await dispatcher.store.settings(tenantId);
    for (const request of received) {
      assert.ok(verifyWebhook({ headers: request.headers, body: request.body, secret }), 'valid signature');
      assert.equal(request.headers['content-type'], 'application/json');
    }
    const [first, second] = received;
    assert.equal(first!.headers['webhook-id'], second!.headers['webhook-id'], 'a retry keeps the delivery id');
    assert.equal(first!.body, second!.body, 'a retry sends the same body');
    assert.equal(verifyWebhook({ headers: first!.headers, body: `${first!.body} `, secret }), false, 'tampered body');
    assert.equal(verifyWebhook({ headers: first!.headers, body: first!.body, secret: 'whsec_b3RoZXI=' }), false);
    const payload = JSON.parse(first!.body) as WebhookPayload;
    assert.equal(payload.type, 'image.completed');
    assert.equal(payload.data.imageId, imageId);
    assert.equal(payload.data.status, 'completed');
    assert.deepEqual(payload.data.attributes, { order: '42' }, "the producer's attributes come back in the webhook");
  });

  test('a callback URL the guard refuses is given up at once, without a connection', async () => {
    const dispatcher = new WebhookDispatcher({ db, guard: new SsrfGuard(), pollIntervalMs: 50, initialDelayMs: 50 });
    const repository = new ResultsRepository(db);
    const imageId = randomUUID();
    await repository.recordUpload({ imageId, tenantId, analyses: [], occurredAt: new Date() });
    await dispatcher.onUpload({ tenantId, imageId, callbackUrl: 'http://10.0.0.1/hook' });
    await dispatcher.onChange(await repository.recordAnalysis(completedAnalysis(imageId), tenantId));
    dispatcher.start();
    try {
      const failed = await until('the delivery to fail', async () => {
        const [delivery] = await dispatcher.store.deliveriesFor(tenantId, imageId);
        return delivery?.status === 'failed' ? delivery : undefined;
      });
      assert.equal(failed.attempts, 1);
      assert.match(failed.lastError ?? '', /^URL_FORBIDDEN/);
    } finally {
      await dispatcher.stop();
    }
  });

  test('the tenant default URL is used when the upload names none', async () => {
    const dispatcher = new WebhookDispatcher({ db, guard: new SsrfGuard({ allow: ['127.0.0.1/32'] }) });
    const imageId = randomUUID();
    await dispatcher.store.setDefaultUrl(tenantId, `${receiverUrl}?default`);
    const repository = new ResultsRepository(db);
    await repository.recordUpload({ imageId, tenantId, analyses: [], occurredAt: new Date() });
    assert.equal(await dispatcher.store.callbackUrlFor(tenantId, imageId), `${receiverUrl}?default`);
    await dispatcher.store.setDefaultUrl(tenantId, null);
    assert.equal(await dispatcher.store.callbackUrlFor(tenantId, imageId), undefined);
  });

  test('observe records callback URLs of uploads a batch applied, not of those it refused', async () => {
    const dispatcher = new WebhookDispatcher({ db, guard: new SsrfGuard() });
    const [applied, refused] = [randomUUID(), randomUUID()];
    const upload = (imageId: string) => ({
      message: {
        eventType: 'ImageUploaded',
        value: { imageId, tenantId, callbackUrl: `https://example.com/${imageId}` },
      },
    });
    const stage = dispatcher.observe({
      handle: async () => [],
      handleBatch: async (items: readonly { message: { eventType: string; value: unknown } }[]) => ({
        outputs: [],
        rejected: items.flatMap((item, index) =>
          (item.message.value as { imageId: string }).imageId === refused ? [{ item: index }] : [],
        ),
      }),
    });
    await stage.handleBatch([
      upload(applied),
      upload(refused),
      { message: { eventType: 'ObjectsDetected', value: {} } },
    ]);
    assert.equal(await dispatcher.store.callbackUrlFor(tenantId, applied), `https://example.com/${applied}`);
    assert.equal(await dispatcher.store.callbackUrlFor(tenantId, refused), undefined);
  });
});
