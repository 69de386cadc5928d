import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { sweepExpired } from './deadline-sweep.ts';
import { getImage } from './queries.ts';
import { ResultsRepository } from './results-repository.ts';
import type { Database } from './schema.ts';
import { deleteTenants, openTestDatabase, report, sampleAnalysis, sampleInfo, testTenant } from './test-fixtures.ts';

let db: Kysely<Database>;
const tenants: string[] = [];

before(async () => {
  db = await openTestDatabase();
});

after(async () => {
  await deleteTenants(db, tenants);
  await db.destroy();
});

/** The sweep is global, so the test only ever makes deadlines that have really passed and filters by tenant. */
async function setUp() {
  const tenantId = testTenant('sweep');
  tenants.push(tenantId);
  const repo = new ResultsRepository(db);
  const now = new Date();
  const past = new Date(now.getTime() - 60_000);
  const future = new Date(now.getTime() + 3_600_000);
  const image = async (deadlineAt: Date) => {
    const imageId = randomUUID();
    await repo.recordUpload({ imageId, tenantId, analyses: ['detect', 'ocr'], occurredAt: past, deadlineAt });
    return imageId;
  };
  const preprocessed = await image(past);
  await repo.recordStage({
    imageId: preprocessed,
    tenantId,
    stage: 'preprocess',
    report: report('preprocess'),
    info: sampleInfo(),
  });
  await repo.recordStage({ imageId: preprocessed, tenantId, stage: 'ocr', report: report('ocr', 'running') });
  const untouched = await image(past);
  const completed = await image(past);
  await repo.recordAnalysis(sampleAnalysis(completed), tenantId);
  const notYetDue = await image(future);
  return { tenantId, now, preprocessed, untouched, completed, notYetDue };
}

describe('sweepExpired', () => {
  test('times out pending images past their deadline and leaves the others alone', async () => {
    const { tenantId, now, preprocessed, untouched, completed, notYetDue } = await setUp();
    const swept = (await sweepExpired(db, now)).filter((image) => image.tenantId === tenantId);
    assert.deepEqual(new Set(swept.map((image) => image.imageId)), new Set([preprocessed, untouched]));

    const partial = await getImage(db, tenantId, preprocessed);
    assert.equal(partial?.status, 'partial');
    assert.equal(partial?.error?.code, 'STAGE_TIMEOUT');
    assert.equal(partial?.completedAt, now.toISOString());
    assert.equal(partial?.stages.preprocess.status, 'completed');
    assert.equal(partial?.stages.ocr.status, 'failed');
    assert.equal(partial?.stages.ocr.error?.code, 'STAGE_TIMEOUT');
    assert.equal(partial?.stages.detect.error?.code, 'STAGE_TIMEOUT');
    assert.equal(partial?.stages.faces.status, 'skipped');
    assert.equal(partial?.stages.aggregate.error?.code, 'STAGE_TIMEOUT');

    const failed = await getImage(db, tenantId, untouched);
    assert.equal(failed?.status, 'failed');
    assert.equal(failed?.error?.code, 'STAGE_TIMEOUT');
    assert.equal(failed?.stages.preprocess.error?.code, 'STAGE_TIMEOUT');

    assert.equal((await getImage(db, tenantId, completed))?.status, 'completed');
    assert.equal((await getImage(db, tenantId, completed))?.error, undefined);
    assert.equal((await getImage(db, tenantId, notYetDue))?.status, 'pending');

    const again = (await sweepExpired(db, now)).filter((image) => image.tenantId === tenantId);
    assert.deepEqual(again, [], 'a settled image is not swept twice');
  });

  test('replicas sweeping at once share the images without settling any twice', async () => {
    const { tenantId, now, preprocessed, untouched } = await setUp();
    const results = await Promise.all([
      sweepExpired(db, now, { batchSize: 1 }),
      sweepExpired(db, now, { batchSize: 1 }),
      sweepExpired(db, now, { batchSize: 1 }),
    ]);
    const ours = results
      .flat()
      .filter((image) => image.tenantId === tenantId)
      .map((image) => image.imageId);
    assert.deepEqual(ours.sort(), [preprocessed, untouched].sort());
  });

  test('a late result after the timeout still lands, and the final analysis settles the image', async () => {
    const { tenantId, now, preprocessed } = await setUp();
    await sweepExpired(db, now);
    const repo = new ResultsRepository(db);
    await repo.recordStage({ imageId: preprocessed, tenantId, stage: 'detect', report: report('detect'), objects: [] });
    assert.equal((await getImage(db, tenantId, preprocessed))?.stages.detect.status, 'completed');
    await repo.recordAnalysis(sampleAnalysis(preprocessed), tenantId);
    const view = await getImage(db, tenantId, preprocessed);
    assert.equal(view?.status, 'completed');
    assert.equal(view?.error, undefined);
  });
});
