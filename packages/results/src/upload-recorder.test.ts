import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { ImageUploaded } from '@imgpipe/contracts';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { getImage } from './queries.ts';
import { ResultsRepository, type WriteResult } from './results-repository.ts';
import { toResultsWrite, uploadWrite } from './results-stage.ts';
import type { Database } from './schema.ts';
import { deleteTenants, lifecycleEvents, openTestDatabase, settings, testTenant } from './test-fixtures.ts';
import { UploadRecorder } from './upload-recorder.ts';

let db: Kysely<Database>;
/** The same database through a connection that lists every statement sent (BEGIN and COMMIT included). */
let logged: Kysely<Database>;
const statements: string[] = [];
const tenants: string[] = [];

before(async () => {
  db = await openTestDatabase();
  logged = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: settings.databaseUrl, max: 2 }) }),
    log: (event) => {
      if (event.level === 'query') statements.push(event.query.sql);
    },
  });
});

after(async () => {
  await deleteTenants(db, tenants);
  await db.destroy();
  await logged.destroy();
});

function tenant(): string {
  const id = testTenant('recorder');
  tenants.push(id);
  return id;
}

function uploaded(tenantId: string, imageId = randomUUID()): ImageUploaded {
  return lifecycleEvents(imageId, tenantId)[0]!.value as ImageUploaded;
}

/** An image's rows as stored, without its id and tenant (to compare two images' rows). */
async function rowsOf(imageId: string) {
  const image = await db.selectFrom('images').selectAll().where('id', '=', imageId).executeTakeFirst();
  const stages = await db
    .selectFrom('image_stages')
    .selectAll()
    .where('image_id', '=', imageId)
    .orderBy('stage')
    .execute();
  if (!image) return undefined;
  const { id: _id, tenant_id: _tenant, ...row } = image;
  return { row, stages: stages.map(({ image_id: _image, ...stage }) => stage) };
}

/** Uploads unlike each other in every column an upload writes. */
function variedUploads(tenantId: string): ImageUploaded[] {
  const base = uploaded(tenantId);
  const { blob: _blob, source: _source, contentType: _type, ...bare } = uploaded(tenantId);
  return [
    base,
    { ...uploaded(tenantId), analyses: ['detect'], attributes: {}, renditions: ['thumb', 'card', 'thumb'] },
    { ...bare, analyses: ['features'], sha256: 'AB'.repeat(32), renditions: [] },
    {
      ...uploaded(tenantId),
      imageId: randomUUID().toUpperCase(),
      analyses: [],
      occurredAt: base.occurredAt - 5000,
      ocrModel: 'ppocr-v5',
    },
  ];
}

describe('UploadRecorder', () => {
  test('writes the rows the fold writes, for each kind of upload, one statement per transaction', async () => {
    const tenantId = tenant();
    const clock = () => new Date(Date.UTC(2099, 5, 1, 12));
    const repository = new ResultsRepository(logged, { clock, defaultDeadlineMs: 123_000 });
    const recorder = new UploadRecorder(repository, logged);
    const events = variedUploads(tenantId);
    const twins = events.map((event) => ({ ...event, imageId: randomUUID() }));
    statements.length = 0;
    const results = await Promise.all(events.map((event) => recorder.record(event)));
    const sent = [...statements];
    await repository.apply(
      twins.map((event) => uploadWrite(event)),
      { durable: false },
    );

    assert.deepEqual(
      results,
      events.map(
        (event): WriteResult => ({ imageId: event.imageId.toLowerCase(), tenantId, changed: true, status: 'pending' }),
      ),
    );
    // The first upload alone, the three that queued behind it together: one statement each, no BEGIN or COMMIT.
    assert.equal(sent.length, 2, sent.join('\n'));
    assert.ok(sent.every((text) => text.startsWith('with input as materialized')));
    for (const [index, event] of events.entries()) {
      const recorded = await rowsOf(event.imageId.toLowerCase());
      assert.ok(recorded, `image ${index} recorded`);
      assert.deepEqual(recorded, await rowsOf(twins[index]!.imageId), `upload ${index}: the fold's rows`);
    }
  });

  test('either order with the results service, replayed, and on an image the pipeline has moved on', async () => {
    const tenantId = tenant();
    const repository = new ResultsRepository(db);
    const recorder = new UploadRecorder(repository, db);

    const first = uploaded(tenantId);
    assert.equal((await recorder.record(first)).changed, true);
    const recorded = await rowsOf(first.imageId);
    assert.equal((await recorder.record(first)).changed, false, 'replayed');
    assert.equal((await repository.apply([uploadWrite(first)])).changed[0], false, 'the results service after');
    assert.deepEqual(await rowsOf(first.imageId), recorded);

    const late = uploaded(tenantId);
    await repository.apply([uploadWrite(late)]);
    const before = await rowsOf(late.imageId);
    assert.deepEqual(await recorder.record(late), {
      imageId: late.imageId,
      tenantId,
      changed: false,
      status: 'pending',
    });
    assert.deepEqual(await rowsOf(late.imageId), before, 'the results service first');

    // A stage's event overtook the upload: the upload fills in the row as the fold does on a twin image.
    const [overtaken, twin] = [randomUUID(), randomUUID()];
    const [upload, preprocessed] = lifecycleEvents(overtaken, tenantId);
    const [twinUpload, twinPreprocessed] = lifecycleEvents(twin, tenantId);
    const clocked = new ResultsRepository(db, { clock: () => new Date(Date.UTC(2099, 5, 1)) });
    await clocked.apply([toResultsWrite(preprocessed!)!, toResultsWrite(twinPreprocessed!)!]);
    assert.equal((await new UploadRecorder(clocked, db).record(upload!.value as ImageUploaded)).changed, true);
    await clocked.apply([
      uploadWrite({ ...(twinUpload!.value as ImageUploaded), blob: (upload!.value as ImageUploaded).blob }),
    ]);
    assert.deepEqual(await rowsOf(overtaken), await rowsOf(twin));

    const finished = randomUUID();
    const events = lifecycleEvents(finished, tenantId);
    await repository.apply(events.map((event) => toResultsWrite(event)!));
    const done = await rowsOf(finished);
    const result = await recorder.record(events[0]!.value as ImageUploaded);
    assert.deepEqual([result.changed, result.status], [false, 'completed']);
    assert.deepEqual(await rowsOf(finished), done, 'status never moves back');
  });
  test('a write that cannot apply fails alone; the others in its transaction are recorded', async () => {
    const owner = tenant();
    const other = tenant();
    const recorder = new UploadRecorder(new ResultsRepository(db), db);
    const taken = uploaded(owner);
    await recorder.record(taken);
    const intruder = { ...uploaded(other), imageId: taken.imageId };
    const malformed = { ...uploaded(other), imageId: 'not-a-uuid' };
    const fine = [uploaded(other), uploaded(other), uploaded(other)];
    const outcomes = await Promise.allSettled([
      recorder.record(fine[0]!),
      recorder.record(intruder),
      recorder.record(fine[1]!),
      recorder.record(malformed),
      recorder.record(fine[2]!),
    ]);

    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal((outcomes[1] as PromiseRejectedResult).reason.code, 'EVENT_TENANT_MISMATCH');
    assert.equal((outcomes[3] as PromiseRejectedResult).reason.code, 'CODEC_INVALID_PAYLOAD');
    for (const event of fine) assert.equal((await getImage(db, other, event.imageId))?.status, 'pending');
    assert.equal(await getImage(db, other, taken.imageId), undefined);
    assert.equal((await getImage(db, owner, taken.imageId))?.status, 'pending');
  });

  test('discard removes a pending row, but never an image the pipeline has moved on', async () => {
    const tenantId = tenant();
    const recorder = new UploadRecorder(new ResultsRepository(db), db);
    const refused = uploaded(tenantId);
    await recorder.record(refused);
    await recorder.discard(tenantId, refused.imageId);
    assert.equal(await getImage(db, tenantId, refused.imageId), undefined);

    const finished = randomUUID();
    const repository = new ResultsRepository(db);
    await repository.apply(lifecycleEvents(finished, tenantId).map((event) => toResultsWrite(event)!));
    await recorder.discard(tenantId, finished);
    assert.equal((await getImage(db, tenantId, finished))?.status, 'completed');
  });
});
