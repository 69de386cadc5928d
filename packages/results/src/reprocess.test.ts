import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { exampleEvents, type ModelIdentity, type StageReport, type UploadAnalysisName } from '@imgpipe/contracts';
import type { Kysely } from 'kysely';
import { type ReprocessQuery, reprocessCandidates } from './reprocess.ts';
import { ResultsRepository } from './results-repository.ts';
import { recordImageUploaded } from './results-stage.ts';
import type { Database } from './schema.ts';
import { deleteTenants, openTestDatabase, testTenant } from './test-fixtures.ts';

let db: Kysely<Database>;
const tenantId = testTenant('reprocess');

before(async () => {
  db = await openTestDatabase();
});

after(async () => {
  await deleteTenants(db, [tenantId]);
  await db.destroy();
});

const sift: ModelIdentity = { name: 'sift', version: 'imgpipe-features-1', sha256: 'a'.repeat(64) };
const siftOtherOptions: ModelIdentity = { ...sift, sha256: 'b'.repeat(64) };

/** An uploaded image, finished, with the features report the aggregate's join would have stored (or none). */
async function image(analyses: UploadAnalysisName[], featuresStage?: StageReport): Promise<string> {
  const imageId = randomUUID();
  const repo = new ResultsRepository(db, { clock: () => new Date('2100-01-01T00:00:00.000Z') });
  await recordImageUploaded(repo, { ...exampleEvents().ImageUploaded, imageId, tenantId, analyses });
  await db
    .updateTable('images')
    .set({ status: 'completed', completed_at: new Date(), features_stage: featuresStage ?? null } as never)
    .where('id', '=', imageId)
    .execute();
  return imageId;
}

async function candidates(query: Omit<ReprocessQuery, 'tenantId'>) {
  const found = [];
  for await (const page of reprocessCandidates(db, { ...query, tenantId })) found.push(...page);
  return found;
}

describe('reprocess --stage features', () => {
  test('all: the images that asked for features; missing: those without a completed result from the current model', async () => {
    const current = await image(['features'], { status: 'completed', model: sift, durationMs: 5 });
    const otherOptions = await image(['detect', 'features'], { status: 'completed', model: siftOtherOptions });
    const failed = await image(['features'], {
      status: 'failed',
      error: { code: 'IMAGE_TRUNCATED', message: 'x' },
      model: sift,
    });
    const absent = await image(['ocr', 'features']);
    const notAsked = await image(['detect', 'faces', 'ocr']);
    const byId = (list: { imageId: string }[]) => list.map((candidate) => candidate.imageId).sort();

    const all = await candidates({ stage: 'features', mode: 'all' });
    assert.deepEqual(byId(all), [current, otherOptions, failed, absent].sort());
    assert.ok(!byId(all).includes(notAsked));
    // Each re-run asks for features alone: no model analysis runs again.
    for (const candidate of all) assert.deepEqual(candidate.event.analyses, ['features']);

    const missing = await candidates({ stage: 'features', mode: 'missing', model: sift });
    assert.deepEqual(byId(missing), [otherOptions, failed, absent].sort());
    const missingForOther = await candidates({ stage: 'features', mode: 'missing', model: siftOtherOptions });
    assert.deepEqual(byId(missingForOther), [current, failed, absent].sort());

    // preprocess re-runs what each image asked for, features included; an analysis stage is unchanged by features.
    const whole = await candidates({ stage: 'preprocess', mode: 'all' });
    assert.deepEqual(whole.find((candidate) => candidate.imageId === absent)?.event.analyses, ['ocr', 'features']);
    assert.deepEqual(whole.find((candidate) => candidate.imageId === current)?.event.analyses, ['features']);
    const detect = await candidates({ stage: 'detect', mode: 'all' });
    assert.deepEqual(byId(detect), [otherOptions, notAsked].sort());
  });
});
