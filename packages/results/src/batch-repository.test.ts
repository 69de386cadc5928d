import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { type BatchDatabase, BatchRepository, batchStatus } from './batch-repository.ts';
import { getImage } from './queries.ts';
import { ResultsRepository, type ResultsWrite } from './results-repository.ts';
import { toResultsWrite } from './results-stage.ts';
import type { Database } from './schema.ts';
import { deleteTenants, lifecycleEvents, openTestDatabase, testTenant } from './test-fixtures.ts';

let db: Kysely<Database>;
const tenants: string[] = [];

before(async () => {
  db = await openTestDatabase();
});

after(async () => {
  await deleteTenants(db, tenants);
  if (tenants.length > 0) {
    await db
      .withTables<Pick<BatchDatabase, 'batches'>>()
      .deleteFrom('batches')
      .where('tenant_id', 'in', tenants)
      .execute();
  }
  await db.destroy();
});

function tenant(): string {
  const id = testTenant('batches');
  tenants.push(id);
  return id;
}

/** Records the first `events` of an image's six events: 1 uploaded only (pending), 6 every one (completed). */
async function record(tenantId: string, events: number): Promise<string> {
  const imageId = randomUUID();
  const writes = lifecycleEvents(imageId, tenantId)
    .slice(0, events)
    .map((event) => toResultsWrite(event as never))
    .filter((write): write is ResultsWrite => write !== undefined);
  await new ResultsRepository(db).apply(writes);
  return imageId;
}

describe('batch status', () => {
  test('pending while any image is, completed or failed when all are, partial for any other finished mix', () => {
    assert.equal(batchStatus([]), 'pending');
    assert.equal(batchStatus(['completed', 'pending', 'failed']), 'pending');
    assert.equal(batchStatus(['completed', 'completed']), 'completed');
    assert.equal(batchStatus(['failed', 'failed']), 'failed');
    assert.equal(batchStatus(['completed', 'failed']), 'partial');
    assert.equal(batchStatus(['partial', 'partial']), 'partial');
  });
});

describe('BatchRepository', () => {
  test("a batch lists its images in request order with each one's status and renditions, within its tenant", async () => {
    const tenantId = tenant();
    const other = tenant();
    const batches = new BatchRepository(db);
    const done = await record(tenantId, 6);
    const running = await record(tenantId, 1);
    const unrecorded = randomUUID();
    const foreign = await record(other, 6);
    const batchId = randomUUID();
    await batches.create({ batchId, tenantId, renditions: ['thumb'], recipe: 'resize:10x10' });
    await batches.addImages(batchId, [
      { position: 0, imageId: done },
      { position: 2, imageId: unrecorded },
      { position: 1, imageId: running },
      { position: 3, imageId: foreign },
    ]);
    // Idempotent: a position recorded again keeps its first image.
    await batches.addImages(batchId, [{ position: 0, imageId: randomUUID() }]);

    const view = await batches.get(tenantId, batchId.toUpperCase());
    assert.ok(view);
    assert.deepEqual(
      view.images.map(({ position, imageId, status }) => [position, imageId, status]),
      [
        [0, done, 'completed'],
        [1, running, 'pending'],
        [2, unrecorded, 'pending'],
        // Another tenant's image row is not read through a batch.
        [3, foreign, 'pending'],
      ],
    );
    const stored = await getImage(db, tenantId, done);
    assert.ok(stored!.renditions.length > 0, 'the example analysis lists renditions');
    assert.deepEqual(view.images[0]!.renditions, stored!.renditions);
    assert.deepEqual(view.images[1]!.renditions, []);
    assert.deepEqual(view.counts, { images: 4, pending: 3, completed: 1, partial: 0, failed: 0 });
    assert.equal(view.status, 'pending');
    assert.deepEqual([view.renditions, view.recipe], [['thumb'], 'resize:10x10']);

    assert.equal(await batches.get(other, batchId), undefined);
    assert.equal(await batches.get(tenantId, randomUUID()), undefined);
    assert.equal(await batches.get(tenantId, 'not-a-uuid'), undefined);
  });
});
