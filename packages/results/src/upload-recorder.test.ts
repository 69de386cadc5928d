import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { ImageUploaded } from '@imgpipe/contracts';
import type { Kysely } from 'kysely';
import { getImage } from './queries.ts';
import { type BatchWriteResult, ResultsRepository, type ResultsWrite } from './results-repository.ts';
import { toResultsWrite } from './results-stage.ts';
import type { Database } from './schema.ts';
import { deleteTenants, lifecycleEvents, openTestDatabase, testTenant } from './test-fixtures.ts';
import { UploadRecorder } from './upload-recorder.ts';

let db: Kysely<Database>;
const tenants: string[] = [];

before(async () => {
  db = await openTestDatabase();
});

after(async () => {
  await deleteTenants(db, tenants);
  await db.destroy();
});

function tenant(): string {
  const id = testTenant('recorder');
  tenants.push(id);
  return id;
}

function uploaded(tenantId: string, imageId = randomUUID()): ImageUploaded {
  return lifecycleEvents(imageId, tenantId)[0]!.value as ImageUploaded;
}

/** A repository that counts the transactions it is asked to run and the writes in each. */
class CountingRepository extends ResultsRepository {
  readonly batches: number[] = [];
  override apply(writes: readonly ResultsWrite[], options?: { durable?: boolean }): Promise<BatchWriteResult> {
    this.batches.push(writes.length);
    return super.apply(writes, options);
  }
}

describe('UploadRecorder', () => {
  test('concurrent uploads share transactions, and every one is recorded as its event says', async () => {
    const tenantId = tenant();
    const repository = new CountingRepository(db);
    const recorder = new UploadRecorder(repository, db);
    const events = Array.from({ length: 24 }, () => uploaded(tenantId));
    const results = await Promise.all(events.map((event) => recorder.record(event)));

    assert.deepEqual(
      results.map((result) => result.imageId),
      events.map((event) => event.imageId),
    );
    assert.ok(results.every((result) => result.status === 'pending' && result.changed));
    assert.equal(repository.batches[0], 1, 'the first upload is written at once, alone');
    assert.ok(repository.batches.length < events.length, `batches: ${repository.batches.join(', ')}`);
    assert.equal(
      repository.batches.reduce((sum, size) => sum + size, 0),
      events.length,
    );
    const rows = await db
      .selectFrom('images')
      .select(['id', 'status', 'sha256', 'byte_size', 'blob_key'])
      .where('tenant_id', '=', tenantId)
      .execute();
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const event of events) {
      const row = byId.get(event.imageId);
      assert.ok(row, `image ${event.imageId} recorded`);
      assert.deepEqual(
        { status: row.status, sha256: row.sha256, size: Number(row.byte_size), key: row.blob_key },
        { status: 'pending', sha256: event.sha256, size: event.size, key: event.blob!.key },
      );
    }
  });

  test('a write that cannot apply fails alone; the others in its transaction are recorded', async () => {
    const owner = tenant();
    const other = tenant();
    const repository = new CountingRepository(db);
    const recorder = new UploadRecorder(repository, db);
    const taken = uploaded(owner);
    await recorder.record(taken);
    const intruder = { ...uploaded(other), imageId: taken.imageId };
    const fine = [uploaded(other), uploaded(other)];
    const outcomes = await Promise.allSettled([
      recorder.record(fine[0]!),
      recorder.record(intruder),
      recorder.record(fine[1]!),
    ]);

    assert.equal(outcomes[0]!.status, 'fulfilled');
    assert.equal(outcomes[2]!.status, 'fulfilled');
    assert.equal(outcomes[1]!.status, 'rejected');
    assert.equal((outcomes[1] as PromiseRejectedResult).reason.code, 'EVENT_TENANT_MISMATCH');
    for (const event of fine) assert.equal((await getImage(db, other, event.imageId))?.status, 'pending');
    assert.equal(await getImage(db, other, taken.imageId), undefined);
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
