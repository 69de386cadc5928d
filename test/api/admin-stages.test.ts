/**
 * The pipeline operations routes (POST /v1/admin/stages/{name}/pause|resume, GET /v1/admin/stages,
 * POST /v1/admin/reprocess) over HTTP, against the real API, stack and real worker processes: who may call them,
 * that a pause through the route reaches a running worker (its /readyz detail) and a resume clears it, that a
 * reprocess answers the number of images it queued and that number is the images set up to be missing (read back
 * from images.uploaded, with the images' attributes), and that bad input is refused before anything is queued.
 * Run under the stack lock.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EventCodec, type ImageUploaded } from '@imgpipe/contracts';
import { sql } from 'kysely';
import { endpoints, waitFor } from '../support/kafka.ts';
import { type PipelineService, startServices, stopServices } from '../support/pipeline-services.ts';
import { UploadedTopicWatch } from './leftovers.ts';
import {
  bearer,
  deleteTenantImages,
  problemOf,
  startTestApi,
  type TestApi,
  testTenant,
  tokenFor,
  uniqueJpeg,
} from './support.ts';

const ENV = {
  IMGPIPE_INFERENCE_THREADS: '1',
  IMGPIPE_SHUTDOWN_DEADLINE_MS: '20000',
  IMGPIPE_KAFKA_SESSION_TIMEOUT_MS: '10000',
  IMGPIPE_KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
};

const OPERATOR = testTenant('operator');
const OTHER = testTenant('not-operator');
const TENANT = testTenant('reprocess');

async function expectProblem(response: Response, status: number, code: string): Promise<void> {
  const problem = await problemOf(response);
  assert.equal(response.status, status, JSON.stringify(problem));
  assert.equal(problem['code'], code, JSON.stringify(problem));
}

describe('admin stage routes', () => {
  let api: TestApi;
  let services = new Map<string, PipelineService>();
  const operatorAdmin = bearer(tokenFor(OPERATOR, 'admin'));

  const post = (path: string, headers: Record<string, string>, body?: unknown) =>
    fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  async function detectReadyDetail(): Promise<{ paused: boolean }> {
    const response = await fetch(`http://127.0.0.1:${services.get('detect')!.httpPort}/readyz`);
    return ((await response.json()) as { details: { paused: boolean } }).details;
  }

  before(async () => {
    api = await startTestApi({ operatorTenants: [OPERATOR] });
    services = await startServices(['preprocess', 'detect', 'aggregate', 'results'], ENV);
  });

  after(async () => {
    // Never leave detect paused for whoever runs next.
    await post('/v1/admin/stages/detect/resume', operatorAdmin).catch(() => {});
    await stopServices(services);
    await deleteTenantImages(api.api, [TENANT]);
    await api.close();
  });

  test('no token: 401; an uploader or an admin of a tenant that is not an operator: 403; nothing changes', async () => {
    const routes = [
      () => fetch(`${api.url}/v1/admin/stages`),
      () => post('/v1/admin/stages/detect/pause', {}),
      () => post('/v1/admin/reprocess', {}, { stage: 'detect', mode: 'all', tenant: TENANT }),
    ];
    for (const call of routes) await expectProblem(await call(), 401, 'AUTH_MISSING');
    for (const headers of [bearer(tokenFor(OPERATOR, 'uploader')), bearer(tokenFor(OTHER, 'admin'))]) {
      await expectProblem(await fetch(`${api.url}/v1/admin/stages`, { headers }), 403, 'AUTH_FORBIDDEN');
      await expectProblem(await post('/v1/admin/stages/detect/pause', headers), 403, 'AUTH_FORBIDDEN');
      await expectProblem(
        await post('/v1/admin/reprocess', headers, { stage: 'detect', mode: 'all', tenant: TENANT }),
        403,
        'AUTH_FORBIDDEN',
      );
    }
    // The refused pauses paused nothing: the worker runs and the operator sees detect running.
    assert.equal((await detectReadyDetail()).paused, false);
    const states = await fetch(`${api.url}/v1/admin/stages`, { headers: operatorAdmin });
    assert.equal(states.status, 200);
    const items = ((await states.json()) as { items: { stage: string; paused: boolean }[] }).items;
    assert.equal(items.find((item) => item.stage === 'detect')?.paused, false);
  });

  test('an operator pauses detect through the route: the running worker reports paused; resume clears it', async () => {
    const paused = await post('/v1/admin/stages/detect/pause', operatorAdmin);
    assert.equal(paused.status, 200);
    const body = (await paused.json()) as { stage: string; paused: boolean };
    assert.deepEqual({ stage: body.stage, paused: body.paused }, { stage: 'detect', paused: true });
    await waitFor('the detect worker to report paused', async () =>
      (await detectReadyDetail()).paused ? true : undefined,
    );
    const listed = (await (await fetch(`${api.url}/v1/admin/stages`, { headers: operatorAdmin })).json()) as {
      items: { stage: string; paused: boolean; changedBy?: string }[];
    };
    const detect = listed.items.find((item) => item.stage === 'detect');
    assert.equal(detect?.paused, true);
    assert.match(String(detect?.changedBy), new RegExp(`@${OPERATOR}$`));

    const resumed = await post('/v1/admin/stages/detect/resume', operatorAdmin);
    assert.equal(resumed.status, 200);
    assert.equal(((await resumed.json()) as { paused: boolean }).paused, false);
    await waitFor('the detect worker to report running', async () =>
      (await detectReadyDetail()).paused ? undefined : true,
    );
  });

  test('reprocess --missing through the route queues exactly the images set up as missing, with their attributes; bad input queues nothing', async () => {
    // Four images asking for detect, each with attributes of its own, analysed by the running detect worker.
    const uploaded: { id: string; attributes: Record<string, string> }[] = [];
    for (let index = 0; index < 4; index += 1) {
      const attributes = { camera: `cam-${index}`, batch: TENANT };
      const form = new FormData();
      form.append('analyses', 'detect');
      form.append('attributes', JSON.stringify(attributes));
      form.append('file', new Blob([uniqueJpeg()], { type: 'image/jpeg' }), `dog-${index}.jpg`);
      const response = await fetch(`${api.url}/v1/images`, {
        method: 'POST',
        headers: bearer(tokenFor(TENANT)),
        body: form,
      });
      assert.equal(response.status, 202, await response.clone().text());
      uploaded.push({ id: ((await response.json()) as { imageId: string }).imageId, attributes });
    }
    const db = api.api.deps.db;
    await waitFor(
      'the four images to complete',
      async () => {
        const { rows } = await sql<{ n: number }>`
          select count(*)::int as n from images i join image_stages s on s.image_id = i.id and s.stage = 'detect'
          where i.tenant_id = ${TENANT} and i.status = 'completed' and s.status = 'completed'`.execute(db);
        return rows[0]!.n === 4 ? true : undefined;
      },
      240_000,
      500,
    );
    // Two of them "analysed by an older model": their detect result is missing for the model detect runs now.
    const missing = [uploaded[1]!, uploaded[3]!];
    await db
      .updateTable('image_stages')
      .set({ model_name: 'yolox-older', model_version: '0' })
      .where('stage', '=', 'detect')
      .where(
        'image_id',
        'in',
        missing.map((image) => image.id),
      )
      .execute();

    const watch = await UploadedTopicWatch.start();
    const admin = operatorAdmin;
    // Bad input: refused with stable codes, before anything is queued (checked below with the topic's contents).
    await expectProblem(await post('/v1/admin/stages/nope/pause', admin), 400, 'REQUEST_INVALID');
    for (const body of [
      { stage: 'nope', mode: 'missing', tenant: TENANT },
      { stage: 'aggregate', mode: 'missing', tenant: TENANT },
      { stage: 'detect', mode: ['all', 'missing'], tenant: TENANT },
      { stage: 'detect', mode: 'all,missing', tenant: TENANT },
      { stage: 'detect', mode: 'missing', tenant: TENANT, since: 'yesterday' },
      { stage: 'detect', mode: 'missing', tenant: TENANT, since: '2026-02-30T00:00:00Z' },
      { stage: 'detect', mode: 'missing', tenant: TENANT, extra: true },
      { stage: 'detect', tenant: TENANT },
    ]) {
      const response = await post('/v1/admin/reprocess', admin, body);
      assert.equal(response.status, 400, JSON.stringify(body));
      await expectProblem(response, 400, 'REQUEST_INVALID');
    }
    // A `since` after every upload selects none of them.
    const none = await post('/v1/admin/reprocess', admin, {
      stage: 'detect',
      mode: 'all',
      tenant: TENANT,
      since: new Date(Date.now() + 3_600_000).toISOString(),
    });
    assert.equal(none.status, 202);
    assert.equal(((await none.json()) as { queued: number }).queued, 0);

    const response = await post('/v1/admin/reprocess', admin, { stage: 'detect', mode: 'missing', tenant: TENANT });
    assert.equal(response.status, 202);
    const outcome = (await response.json()) as { queued: number; model: { name: string } | null };
    assert.equal(outcome.queued, missing.length, 'the images set up as missing, and only those');
    assert.notEqual(outcome.model?.name, 'yolox-older');

    // What reached images.uploaded since before the bad requests: exactly those images, once each, with attributes.
    const codec = new EventCodec({ registryUrl: endpoints.schemaRegistryUrl });
    const events = await Promise.all(
      (await watch.eventValuesOf(TENANT)).map(async (value) => (await codec.decode(value)).value as ImageUploaded),
    );
    assert.deepEqual(
      events.map((event) => event.imageId).sort(),
      missing.map((image) => image.id).sort(),
      'one re-queued upload per missing image, nothing for the refused requests',
    );
    for (const event of events) {
      const expected = missing.find((image) => image.id === event.imageId)!;
      assert.deepEqual(event.attributes, expected.attributes, 'the re-queued upload carries the image’s attributes');
      assert.deepEqual(event.analyses, ['detect']);
    }

    // The re-run replaces their detect results with the running model's; then nothing is missing any more.
    await waitFor(
      'the missing images to be re-analysed',
      async () => {
        const rows = await db
          .selectFrom('image_stages')
          .select(['model_name', 'status'])
          .where('stage', '=', 'detect')
          .where(
            'image_id',
            'in',
            missing.map((image) => image.id),
          )
          .execute();
        return rows.every((row) => row.status === 'completed' && row.model_name === outcome.model?.name)
          ? true
          : undefined;
      },
      240_000,
      500,
    );
    const again = await post('/v1/admin/reprocess', admin, { stage: 'detect', mode: 'missing', tenant: TENANT });
    assert.equal(again.status, 202);
    assert.equal(((await again.json()) as { queued: number }).queued, 0);
  });
});
