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

describe('reprocess --stage ocr and the OCR model set an upload named', () => {
  const ocrTenant = testTenant('reprocess-ocr');
  const v4: ModelIdentity = {
    name: 'ppocr-v4-det+ppocr-v4-rec+ppocr-v2-cls',
    version: 'PP-OCRv4',
    sha256: '4'.repeat(64),
  };
  const v5: ModelIdentity = {
    name: 'ppocr-v5-det+ppocr-v5-rec+ppocr-v2-cls',
    version: 'PP-OCRv5',
    sha256: '5'.repeat(64),
  };
  const v5Rebuilt: ModelIdentity = { ...v5, sha256: '6'.repeat(64) };
  after(() => deleteTenants(db, [ocrTenant]));

  /** A finished image whose upload named `ocrModel` (or none), its ocr stage read by `readBy` (or failed). */
  async function read(ocrModel: string | undefined, readBy: ModelIdentity | 'failed'): Promise<string> {
    const imageId = randomUUID();
    const repo = new ResultsRepository(db);
    const { ocrModel: _none, ...upload } = exampleEvents().ImageUploaded;
    await recordImageUploaded(repo, {
      ...upload,
      imageId,
      tenantId: ocrTenant,
      analyses: ['ocr'],
      ...(ocrModel ? { ocrModel } : {}),
    });
    await db.updateTable('images').set({ status: 'completed' }).where('id', '=', imageId).execute();
    await db
      .updateTable('image_stages')
      .set(
        readBy === 'failed'
          ? { status: 'failed', error_code: 'MODEL_INFERENCE_FAILED' }
          : {
              status: 'completed',
              model_name: readBy.name,
              model_version: readBy.version,
              model_sha256: readBy.sha256,
            },
      )
      .where('image_id', '=', imageId)
      .where('stage', '=', 'ocr')
      .execute();
    return imageId;
  }

  async function ocrCandidates(mode: 'all' | 'missing', model?: ModelIdentity) {
    const found = new Map<string, string | undefined>();
    for await (const page of reprocessCandidates(db, {
      stage: 'ocr',
      mode,
      tenantId: ocrTenant,
      ...(model ? { model } : {}),
    })) {
      for (const candidate of page) found.set(candidate.imageId, candidate.event.ocrModel);
    }
    return found;
  }

  test('the re-run names the set the upload named; --missing leaves an image read by the set it named', async () => {
    const namedV4 = await read('ppocr-v4', v4);
    const namedNone = await read(undefined, v4);
    const namedV5 = await read('ppocr-v5', v5);
    const namedV4Failed = await read('ppocr-v4', 'failed');
    assert.equal(
      (await db.selectFrom('images').select('requested_ocr_model').where('id', '=', namedV4).executeTakeFirst())
        ?.requested_ocr_model,
      'ppocr-v4',
    );

    const all = await ocrCandidates('all');
    assert.deepEqual(Object.fromEntries([namedV4, namedNone, namedV5, namedV4Failed].map((id) => [id, all.get(id)])), {
      [namedV4]: 'ppocr-v4',
      [namedNone]: undefined,
      [namedV5]: 'ppocr-v5',
      [namedV4Failed]: 'ppocr-v4',
    });
    assert.equal(all.size, 4);

    // The workers run v5 now: the image that named none was read by v4 (missing); the one that named v4 was read
    // by the set it asked for (not missing), unless its read failed.
    const missing = await ocrCandidates('missing', v5);
    assert.deepEqual([...missing.keys()].sort(), [namedNone, namedV4Failed].sort());
    // v5 rebuilt (another SHA-256): the image that named v5 was read by the older v5, so it is missing too.
    const rebuilt = await ocrCandidates('missing', v5Rebuilt);
    assert.deepEqual([...rebuilt.keys()].sort(), [namedNone, namedV5, namedV4Failed].sort());
    assert.equal(rebuilt.get(namedV5), 'ppocr-v5');
  });

  test('the re-run restricts OCR to the languages the upload named, in their stored spelling', async () => {
    const imageId = randomUUID();
    const { ocrModel: _none, ...upload } = exampleEvents().ImageUploaded;
    await recordImageUploaded(new ResultsRepository(db), {
      ...upload,
      imageId,
      tenantId: ocrTenant,
      analyses: ['ocr'],
      ocrLanguages: ['ja', 'en', 'ja'],
    });
    await db.updateTable('images').set({ status: 'completed' }).where('id', '=', imageId).execute();
    const stored = await db
      .selectFrom('images')
      .select('requested_ocr_languages')
      .where('id', '=', imageId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(stored.requested_ocr_languages, ['en', 'ja']);
    let event: { ocrLanguages?: string[] } | undefined;
    for await (const page of reprocessCandidates(db, { stage: 'ocr', mode: 'all', tenantId: ocrTenant })) {
      event ??= page.find((candidate) => candidate.imageId === imageId)?.event;
    }
    assert.deepEqual(event?.ocrLanguages, ['en', 'ja']);
  });
});
