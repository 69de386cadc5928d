import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import type { Kysely } from 'kysely';
import { exampleEvents, type UploadAnalysisName } from '@imgpipe/contracts';
import { countRows, getImage } from './queries.ts';
import { ResultsRepository, type ResultsWrite, type StageRecord, type UploadRecord } from './results-repository.ts';
import { recordImageUploaded, toResultsWrite } from './results-stage.ts';
import type { Database } from './schema.ts';
import {
  deleteTenants,
  openTestDatabase,
  report,
  sampleAnalysis,
  sampleFaces,
  sampleInfo,
  sampleObjects,
  sampleText,
  testTenant,
} from './test-fixtures.ts';
import { seededRandom } from '@imgpipe/core';

let db: Kysely<Database>;
const tenants: string[] = [];
// Far-future instants: the deadline sweep (run by other tests and the real services) never reaches these images.
const clock = () => new Date('2100-01-01T00:00:00.000Z');

before(async () => {
  db = await openTestDatabase();
});

after(async () => {
  await deleteTenants(db, tenants);
  await db.destroy();
});

function tenant(): string {
  const id = testTenant('repo');
  tenants.push(id);
  return id;
}

function upload(imageId: string, tenantId: string, overrides: Partial<UploadRecord> = {}): UploadRecord {
  return {
    imageId,
    tenantId,
    sourceName: 'shop.jpg',
    contentType: 'image/jpeg',
    size: 12345,
    sha256: 'B'.repeat(64),
    blob: { bucket: 'imgpipe', key: `images/${imageId}` },
    analyses: ['detect', 'faces', 'ocr'],
    attributes: sampleAnalysis(imageId).attributes,
    occurredAt: new Date('2099-12-31T23:59:00.000Z'),
    deadlineAt: new Date('2099-12-31T23:59:00.000Z'),
    ...overrides,
  };
}

function stageEvents(imageId: string, tenantId: string): StageRecord[] {
  return [
    { imageId, tenantId, stage: 'preprocess', report: report('preprocess', 'running') },
    { imageId, tenantId, stage: 'preprocess', report: report('preprocess'), info: sampleInfo() },
    { imageId, tenantId, stage: 'detect', report: report('detect'), objects: sampleObjects() },
    { imageId, tenantId, stage: 'faces', report: report('faces'), faces: sampleFaces() },
    { imageId, tenantId, stage: 'ocr', report: report('ocr', 'running') },
    { imageId, tenantId, stage: 'ocr', report: report('ocr'), text: sampleText() },
  ];
}

/** Every row the repository keeps for one image, minus the image id and the image row's version timestamp. */
async function snapshot(imageId: string) {
  const image = await db.selectFrom('images').selectAll().where('id', '=', imageId).executeTakeFirstOrThrow();
  const { id: _id, updated_at: _version, ...imageColumns } = image;
  const rows = async (table: 'image_stages' | 'detections' | 'faces' | 'text_lines' | 'image_labels') =>
    (await db.selectFrom(table).selectAll().where('image_id', '=', imageId).execute())
      .map(({ image_id: _image, ...row }) => row)
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  const all = {
    image: imageColumns,
    stages: await rows('image_stages'),
    detections: await rows('detections'),
    faces: await rows('faces'),
    textLines: await rows('text_lines'),
    labels: await rows('image_labels'),
  };
  // The id also appears inside values (blob key, analysis document); images compared with each other differ only there.
  return JSON.parse(JSON.stringify(all).replaceAll(imageId, '<image id>')) as unknown;
}

/** Deterministic shuffle (mulberry32), so a failing order can be reproduced from its seed. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

describe('ResultsRepository', () => {
  test('recordUpload creates a pending image with a stage row per stage, skipped where not asked for', async () => {
    const repo = new ResultsRepository(db, { clock });
    const tenantId = tenant();
    const imageId = randomUUID();
    const first = await repo.recordUpload(upload(imageId, tenantId, { analyses: ['detect'] }));
    assert.deepEqual(first, { imageId, tenantId, changed: true, status: 'pending' });
    const view = await getImage(db, tenantId, imageId);
    assert.equal(view?.status, 'pending');
    assert.deepEqual(view?.requestedAnalyses, ['detect']);
    assert.deepEqual(Object.fromEntries(Object.entries(view!.stages).map(([stage, r]) => [stage, r.status])), {
      preprocess: 'pending',
      detect: 'pending',
      faces: 'skipped',
      ocr: 'skipped',
      aggregate: 'pending',
    });
    const image = await db.selectFrom('images').selectAll().where('id', '=', imageId).executeTakeFirstOrThrow();
    assert.equal(image.sha256, 'b'.repeat(64), 'stored lower-case');
    assert.equal(image.byte_size, '12345');
    assert.equal(image.blob_key, `images/${imageId}`);

    const before = await snapshot(imageId);
    const replay = await repo.recordUpload(upload(imageId, tenantId, { analyses: ['detect'] }));
    assert.equal(replay.changed, false);
    assert.deepEqual(await snapshot(imageId), before);
    assert.equal((await countRows(db, imageId)).stages, 5);
  });

  test('requestedAnalyses is what the ImageUploaded asked for, features included when asked and only then', async () => {
    const repo = new ResultsRepository(db, { clock });
    const tenantId = tenant();
    const cases: [UploadAnalysisName[], UploadAnalysisName[], string][] = [
      [['features'], ['features'], 'skipped'],
      [['features', 'ocr'], ['ocr', 'features'], 'skipped'],
      [['ocr'], ['ocr'], 'skipped'],
      [[], ['detect', 'faces', 'ocr'], 'pending'],
    ];
    for (const [analyses, expected, detect] of cases) {
      const imageId = randomUUID();
      const event = { ...exampleEvents().ImageUploaded, imageId, tenantId, analyses };
      // The results service's mapping (toResultsWrite) and the ingest API's (recordImageUploaded) agree.
      const write = toResultsWrite({ eventType: 'ImageUploaded', value: event } as never);
      assert.deepEqual(write?.kind === 'upload' ? write.upload.analyses : undefined, expected, analyses.join());
      await recordImageUploaded(repo, event);
      const view = await getImage(db, tenantId, imageId);
      assert.deepEqual(view?.requestedAnalyses, expected, `the view of analyses=${analyses.join()}`);
      assert.equal(view?.stages.detect.status, detect, `detect of analyses=${analyses.join()}`);
    }
  });

  test('each stage writes its rows once, however often it is replayed', async () => {
    const repo = new ResultsRepository(db, { clock });
    const tenantId = tenant();
    const imageId = randomUUID();
    await repo.recordUpload(upload(imageId, tenantId));
    for (const event of stageEvents(imageId, tenantId)) {
      assert.equal((await repo.recordStage(event)).changed, true, `${event.stage} ${event.report.status}`);
    }
    const counts = await countRows(db, imageId);
    assert.deepEqual(counts, { stages: 5, detections: 3, faces: 1, textLines: 3, labels: 2 });
    const before = await snapshot(imageId);
    for (const event of stageEvents(imageId, tenantId)) {
      assert.equal((await repo.recordStage(event)).changed, false, `replayed ${event.stage} ${event.report.status}`);
    }
    assert.deepEqual(await snapshot(imageId), before);

    const view = await getImage(db, tenantId, imageId);
    assert.deepEqual(view?.objects, sampleObjects());
    assert.deepEqual(view?.faces, sampleFaces());
    assert.deepEqual(view?.text, sampleText());
    assert.deepEqual(view?.image, sampleInfo());
    assert.deepEqual(view?.labels, [
      { label: 'dog', count: 2, confidence: 0.91 },
      { label: 'person', count: 1, confidence: 0.8734521985054016 },
    ]);
    assert.deepEqual(view?.stages.detect, report('detect'));
    assert.equal(view?.status, 'pending', 'only the aggregate settles the image');
  });

  test('a stage re-run with different output replaces its rows instead of adding to them', async () => {
    const repo = new ResultsRepository(db, { clock });
    const tenantId = tenant();
    const imageId = randomUUID();
    await repo.recordStage({ imageId, tenantId, stage: 'ocr', report: report('ocr'), text: sampleText() });
    const rerun = sampleText(['Closed']);
    await repo.recordStage({ imageId, tenantId, stage: 'ocr', report: report('ocr'), text: rerun });
    assert.equal((await countRows(db, imageId)).textLines, 1);
    assert.deepEqual((await getImage(db, tenantId, imageId))?.text, rerun);
  });

  test("OCR's barcodes and QR codes are stored and returned; none found is [], an OCR that did not look has none", async () => {
    const repo = new ResultsRepository(db, { clock });
    const tenantId = tenant();
    const imageId = randomUUID();
    const corners = [
      { x: 140.5, y: 120 },
      { x: 372, y: 120.25 },
      { x: 372, y: 352 },
      { x: 140.5, y: 352 },
    ];
    const codes = [
      {
        format: 'QRCode',
        text: 'https://example.org/imgpipe?id=42',
        polygon: corners,
        box: { x: 140.5, y: 120, width: 231.5, height: 232 },
        boxNormalized: { left: 0.087813, top: 0.1, width: 0.144688, height: 0.193333 },
      },
    ];
    await repo.recordStage({
      imageId,
      tenantId,
      stage: 'ocr',
      report: report('ocr'),
      text: { ...sampleText(), codes },
    });
    assert.deepEqual((await getImage(db, tenantId, imageId))?.text, { ...sampleText(), codes });
    await repo.recordStage({
      imageId,
      tenantId,
      stage: 'ocr',
      report: report('ocr'),
      text: { ...sampleText(), codes: [] },
    });
    assert.deepEqual((await getImage(db, tenantId, imageId))?.text.codes, []);
    await repo.recordStage({ imageId, tenantId, stage: 'ocr', report: report('ocr'), text: sampleText() });
    const view = await getImage(db, tenantId, imageId);
    assert.equal(view?.text.codes, undefined);
    assert.ok(view && !Object.hasOwn(view.text, 'codes'), 'no codes key when OCR did not look');
  });

  test('a stage event that overtakes the upload creates a pending image the upload completes', async () => {
    const repo = new ResultsRepository(db, { clock });
    const tenantId = tenant();
    const imageId = randomUUID();
    await repo.recordStage({ imageId, tenantId, stage: 'detect', report: report('detect'), objects: sampleObjects() });
    let view = await getImage(db, tenantId, imageId);
    assert.equal(view?.status, 'pending');
    assert.equal(view?.stages.detect.status, 'completed');
    assert.equal(view?.stages.preprocess.status, 'pending');
    assert.equal(view?.objects.length, 3);

    const uploaded = upload(imageId, tenantId, { analyses: ['detect', 'ocr'] });
    await repo.recordUpload(uploaded);
    view = await getImage(db, tenantId, imageId);
    assert.equal(view?.sourceName, 'shop.jpg');
    assert.equal(view?.stages.detect.status, 'completed', 'the upload does not reset a finished stage');
    assert.equal(view?.stages.faces.status, 'skipped');
    assert.equal(view?.stages.ocr.status, 'pending');
    assert.equal(view?.createdAt, uploaded.occurredAt.toISOString());
    assert.equal(view?.deadlineAt, uploaded.deadlineAt?.toISOString());
    assert.deepEqual(await countRows(db, imageId), { stages: 5, detections: 3, faces: 0, textLines: 0, labels: 2 });
  });

  test("the producer's attributes: stored from ImageUploaded as sent, returned in the view, {} when none", async () => {
    const repo = new ResultsRepository(db, { clock });
    const tenantId = tenant();
    const imageId = randomUUID();
    const attributes = { order: 'A-17', note: 'two\nlines', ключ: 'значение "quoted"', empty: '' };
    const event = { ...exampleEvents().ImageUploaded, imageId, tenantId, attributes };
    // The mapping the results service and the ingest API both use (toResultsWrite, recordImageUploaded).
    const write = toResultsWrite({ eventType: 'ImageUploaded', value: event } as never);
    assert.deepEqual(write?.kind === 'upload' ? write.upload.attributes : undefined, attributes);
    await recordImageUploaded(repo, event);
    const row = await db.selectFrom('images').select('attributes').where('id', '=', imageId).executeTakeFirstOrThrow();
    assert.deepEqual(row.attributes, attributes, 'the PostgreSQL row');
    assert.deepEqual((await getImage(db, tenantId, imageId))?.attributes, attributes, 'the view');

    const bare = randomUUID();
    await repo.recordUpload(upload(bare, tenantId, { attributes: {} }));
    assert.deepEqual((await getImage(db, tenantId, bare))?.attributes, {});
    const older = randomUUID();
    const { attributes: _none, ...withoutAttributes } = upload(older, tenantId);
    await repo.recordUpload(withoutAttributes);
    assert.deepEqual((await getImage(db, tenantId, older))?.attributes, {});
  });

  test('attributes come from the first event that brings them: an ImageAnalyzed that overtook the upload too', async () => {
    const repo = new ResultsRepository(db, { clock });
    const tenantId = tenant();
    const imageId = randomUUID();
    const analysis = sampleAnalysis(imageId);
    await repo.recordAnalysis(analysis, tenantId);
    assert.deepEqual((await getImage(db, tenantId, imageId))?.attributes, analysis.attributes, 'before any upload');
    const same = await repo.recordUpload(upload(imageId, tenantId, { attributes: analysis.attributes }));
    assert.deepEqual((await getImage(db, tenantId, imageId))?.attributes, analysis.attributes);
    assert.equal(same.status, 'completed');
    // A producer that reuses the id with other attributes changes nothing, as with the source name.
    const reused = await repo.recordUpload(upload(imageId, tenantId, { attributes: { other: 'x' } }));
    assert.equal(reused.changed, false);
    assert.deepEqual((await getImage(db, tenantId, imageId))?.attributes, analysis.attributes);
  });

  test('stage statuses only move forward: a late running never overwrites completed or failed', async () => {
    const repo = new ResultsRepository(db, { clock });
    const tenantId = tenant();
    const imageId = randomUUID();
    await repo.recordUpload(upload(imageId, tenantId));
    await repo.recordStage({ imageId, tenantId, stage: 'detect', report: report('detect'), objects: sampleObjects() });
    const late = await repo.recordStage({ imageId, tenantId, stage: 'detect', report: report('detect', 'running') });
    assert.equal(late.changed, false);
    await repo.recordFailure(imageId, tenantId, 'detect', { code: 'MODEL_INFERENCE_FAILED', message: 'late failure' });
    let view = await getImage(db, tenantId, imageId);
    assert.deepEqual(view?.stages.detect, report('detect'));
    assert.equal(view?.objects.length, 3);

    await repo.recordFailure(imageId, tenantId, 'faces', { code: 'MODEL_INFERENCE_FAILED', message: 'boom' });
    await repo.recordStage({ imageId, tenantId, stage: 'faces', report: report('faces', 'running') });
    view = await getImage(db, tenantId, imageId);
    assert.deepEqual(view?.stages.faces, {
      status: 'failed',
      error: { code: 'MODEL_INFERENCE_FAILED', message: 'boom' },
    });
    assert.equal(view?.status, 'pending', 'one failed analysis leaves the others standing');

    // A dead-lettered message redriven successfully may still complete the stage.
    await repo.recordStage({ imageId, tenantId, stage: 'faces', report: report('faces'), faces: sampleFaces() });
    view = await getImage(db, tenantId, imageId);
    assert.equal(view?.stages.faces.status, 'completed');
    assert.equal(view?.faces.length, 1);
  });

  test('a failed preprocess fails the image and its dependants; replaying the upload does not revive it', async () => {
    const repo = new ResultsRepository(db, { clock });
    const tenantId = tenant();
    const imageId = randomUUID();
    await repo.recordUpload(upload(imageId, tenantId, { analyses: ['ocr'] }));
    const failed = await repo.recordFailure(imageId, tenantId, 'preprocess', {
      code: 'IMAGE_CORRUPT',
      message: 'not a JPEG after all',
    });
    assert.equal(failed.status, 'failed');
    const check = async () => {
      const view = await getImage(db, tenantId, imageId);
      assert.equal(view?.status, 'failed');
      assert.deepEqual(view?.error, { code: 'IMAGE_CORRUPT', message: 'not a JPEG after all' });
      assert.equal(view?.completedAt, clock().toISOString());
      assert.equal(view?.stages.preprocess.error?.code, 'IMAGE_CORRUPT');
      assert.equal(view?.stages.ocr.error?.code, 'STAGE_DEPENDENCY_FAILED');
      assert.equal(view?.stages.aggregate.error?.code, 'STAGE_DEPENDENCY_FAILED');
      assert.equal(view?.stages.detect.status, 'skipped');
    };
    await check();
    const before = await snapshot(imageId);
    await repo.recordUpload(upload(imageId, tenantId, { analyses: ['ocr'] }));
    await repo.recordFailure(imageId, tenantId, 'preprocess', {
      code: 'IMAGE_CORRUPT',
      message: 'not a JPEG after all',
    });
    await check();
    assert.deepEqual(await snapshot(imageId), before);
  });

  test('a failed aggregate settles the image on what its stages produced', async () => {
    const repo = new ResultsRepository(db, { clock });
    const tenantId = tenant();
    const imageId = randomUUID();
    await repo.recordUpload(upload(imageId, tenantId, { analyses: ['detect'] }));
    await repo.recordStage({
      imageId,
      tenantId,
      stage: 'preprocess',
      report: report('preprocess'),
      info: sampleInfo(),
    });
    const result = await repo.recordFailure(imageId, tenantId, 'aggregate', { code: 'STAGE_INTERNAL', message: 'bug' });
    assert.equal(result.status, 'partial');
    const view = await getImage(db, tenantId, imageId);
    assert.equal(view?.error?.code, 'STAGE_INTERNAL');
    assert.equal(view?.stages.detect.status, 'pending', 'only preprocess failures fail the other stages');
  });

  test('recordAnalysis stores the final result; replays and older, worse results change nothing', async () => {
    const repo = new ResultsRepository(db, { clock });
    const tenantId = tenant();
    const imageId = randomUUID();
    await repo.recordUpload(upload(imageId, tenantId));
    const analysis = sampleAnalysis(imageId);
    const stored = await repo.recordAnalysis(analysis, tenantId);
    assert.deepEqual(stored, { imageId, tenantId, changed: true, status: 'completed' });
    const view = await getImage(db, tenantId, imageId);
    assert.equal(view?.status, 'completed');
    assert.equal(view?.completedAt, clock().toISOString());
    assert.equal(view?.error, undefined);
    assert.deepEqual(view?.objects, analysis.objects);
    assert.deepEqual(view?.faces, analysis.faces);
    assert.deepEqual(view?.text, analysis.text);
    assert.deepEqual(view?.stages, analysis.stages);
    assert.deepEqual(view?.textInObjects, analysis.textInObjects);
    assert.deepEqual(view?.labels, [
      { label: 'face', count: 1, confidence: 0.97 },
      { label: 'dog', count: 2, confidence: 0.91 },
      { label: 'person', count: 1, confidence: 0.8734521985054016 },
    ]);
    const image = await db
      .selectFrom('images')
      .select(['analysis', 'full_text'])
      .where('id', '=', imageId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(image.analysis, JSON.parse(JSON.stringify(analysis)));
    assert.equal(image.full_text, 'Fresh\nbakery\nopen daily');

    const before = await snapshot(imageId);
    assert.equal((await repo.recordAnalysis(analysis, tenantId)).changed, false);
    const worse = sampleAnalysis(imageId, { status: 'partial', labels: [] });
    assert.equal((await repo.recordAnalysis(worse, tenantId)).status, 'completed');
    for (const event of stageEvents(imageId, tenantId)) await repo.recordStage(event);
    assert.deepEqual(await snapshot(imageId), before);
  });

  test('an event naming another tenant’s image is refused and changes nothing', async () => {
    const repo = new ResultsRepository(db, { clock });
    const owner = tenant();
    const intruder = tenant();
    const imageId = randomUUID();
    await repo.recordUpload(upload(imageId, owner));
    const before = await snapshot(imageId);
    await assert.rejects(
      repo.recordStage({ imageId, tenantId: intruder, stage: 'detect', report: report('detect'), objects: [] }),
      (error: unknown) => error instanceof ImgpipeError && error.code === 'EVENT_TENANT_MISMATCH' && !error.retriable,
    );
    await assert.rejects(repo.recordUpload(upload(imageId, intruder)), { code: 'EVENT_TENANT_MISMATCH' });
    assert.deepEqual(await snapshot(imageId), before);
  });

  test('an image id that is not a UUID is a malformed event', async () => {
    const repo = new ResultsRepository(db, { clock });
    await assert.rejects(repo.recordUpload(upload('not-a-uuid', tenant())), { code: 'CODEC_INVALID_PAYLOAD' });
  });

  test('every call replayed twice, in shuffled orders, leaves exactly the rows of one in-order pass', async () => {
    const repo = new ResultsRepository(db, { clock });
    const tenantId = tenant();
    const calls = (imageId: string): (() => Promise<unknown>)[] => [
      () => repo.recordUpload(upload(imageId, tenantId)),
      ...stageEvents(imageId, tenantId).map((event) => () => repo.recordStage(event)),
      () => repo.recordAnalysis(sampleAnalysis(imageId), tenantId),
    ];
    const reference = randomUUID();
    for (const call of calls(reference)) await call();
    const expected = await snapshot(reference);
    assert.deepEqual(await countRows(db, reference), { stages: 5, detections: 3, faces: 1, textLines: 3, labels: 3 });

    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const imageId = randomUUID();
      const twice = [...calls(imageId), ...calls(imageId)];
      for (const call of shuffled(twice, seed)) await call();
      assert.deepEqual(await snapshot(imageId), expected, `shuffle seed ${seed}`);
      assert.deepEqual(await countRows(db, imageId), await countRows(db, reference));
    }
  });

  test('concurrent deliveries of the same events converge on the same rows', async () => {
    const repo = new ResultsRepository(db, { clock });
    const tenantId = tenant();
    const imageId = randomUUID();
    const events = stageEvents(imageId, tenantId);
    await Promise.all([
      repo.recordUpload(upload(imageId, tenantId)),
      ...events.map((event) => repo.recordStage(event)),
      ...events.map((event) => repo.recordStage(event)),
      repo.recordAnalysis(sampleAnalysis(imageId), tenantId),
    ]);
    assert.deepEqual(await countRows(db, imageId), { stages: 5, detections: 3, faces: 1, textLines: 3, labels: 3 });
    assert.equal((await getImage(db, tenantId, imageId))?.status, 'completed');
  });
});

describe('ResultsRepository.apply (batches)', () => {
  /** Every kind of write for one image, a dead letter and late, replayed and out-of-order news among them. */
  function lifecycle(imageId: string, tenantId: string): ResultsWrite[] {
    return [
      { kind: 'upload', upload: upload(imageId, tenantId) },
      ...stageEvents(imageId, tenantId).map((outcome): ResultsWrite => ({ kind: 'stage', outcome })),
      {
        kind: 'stage',
        outcome: {
          imageId,
          tenantId,
          stage: 'faces',
          report: { status: 'failed', error: { code: 'MODEL_INFERENCE_FAILED', message: 'x' } },
        },
      },
      { kind: 'analysis', analysis: sampleAnalysis(imageId), tenantId },
    ];
  }

  async function applyInChunks(repo: ResultsRepository, writes: ResultsWrite[], sizes: number[]): Promise<void> {
    let start = 0;
    for (let i = 0; start < writes.length; i += 1) {
      const size = sizes[i % sizes.length]!;
      const { rejected } = await repo.apply(writes.slice(start, start + size));
      assert.deepEqual(rejected, []);
      start += size;
    }
  }

  test('a batch converges on the rows of its writes applied one by one, in any order and chunking', async () => {
    const repo = new ResultsRepository(db, { clock });
    const tenantId = tenant();
    for (const seed of [11, 12, 13, 14, 15, 16]) {
      // The same shuffled sequence (replays included) for three images of each variant, interleaved.
      const order = shuffled([...lifecycle('x', tenantId).keys(), ...lifecycle('x', tenantId).keys()], seed);
      const variant = () => {
        const ids = [randomUUID(), randomUUID(), randomUUID()];
        const writes = order.flatMap((position) => ids.map((id) => lifecycle(id, tenantId)[position]!));
        return { ids, writes };
      };
      const oneByOne = variant();
      for (const write of oneByOne.writes) assert.deepEqual((await repo.apply([write])).rejected, []);
      const whole = variant();
      await applyInChunks(repo, whole.writes, [whole.writes.length]);
      const chunked = variant();
      await applyInChunks(repo, chunked.writes, [1, 7, 3, 16]);
      for (let i = 0; i < 3; i += 1) {
        const expected = await snapshot(oneByOne.ids[i]!);
        assert.deepEqual(await snapshot(whole.ids[i]!), expected, `seed ${seed}, one batch, image ${i}`);
        assert.deepEqual(await snapshot(chunked.ids[i]!), expected, `seed ${seed}, chunks, image ${i}`);
      }
    }
  });

  test('a replayed batch changes nothing and says so; two events for one image change it once', async () => {
    const repo = new ResultsRepository(db, { clock });
    const tenantId = tenant();
    const [a, b] = [randomUUID(), randomUUID()];
    const writes: ResultsWrite[] = [
      { kind: 'upload', upload: upload(a, tenantId) },
      {
        kind: 'stage',
        outcome: { imageId: a, tenantId, stage: 'detect', report: report('detect'), objects: sampleObjects() },
      },
      { kind: 'stage', outcome: { imageId: b, tenantId, stage: 'ocr', report: report('ocr'), text: sampleText() } },
    ];
    const first = await repo.apply(writes);
    assert.deepEqual(first.changed, [true, true, true]);
    assert.deepEqual(
      first.images.map(({ imageId, changed }) => ({ imageId, changed })),
      [
        { imageId: a, changed: true },
        { imageId: b, changed: true },
      ],
    );
    const before = [await snapshot(a), await snapshot(b)];
    const replay = await repo.apply(writes);
    assert.deepEqual(replay.changed, [false, false, false]);
    assert.ok(replay.images.every((image) => !image.changed));
    assert.deepEqual([await snapshot(a), await snapshot(b)], before);
    assert.deepEqual(await countRows(db, a), { stages: 5, detections: 3, faces: 0, textLines: 0, labels: 2 });
  });

  test('a write that can never apply is refused alone; the rest of the batch is applied', async () => {
    const repo = new ResultsRepository(db, { clock });
    const [owner, intruder] = [tenant(), tenant()];
    const [a, b] = [randomUUID(), randomUUID()];
    await repo.recordUpload(upload(a, owner));
    const result = await repo.apply([
      {
        kind: 'stage',
        outcome: { imageId: a, tenantId: intruder, stage: 'detect', report: report('detect'), objects: [] },
      },
      { kind: 'upload', upload: upload('not-a-uuid', owner) },
      {
        kind: 'stage',
        outcome: { imageId: a, tenantId: owner, stage: 'faces', report: report('faces'), faces: sampleFaces() },
      },
      { kind: 'upload', upload: upload(b, owner) },
    ]);
    assert.deepEqual(
      result.rejected.map(({ index, error }) => [index, error.code, error.retriable]),
      [
        [0, 'EVENT_TENANT_MISMATCH', false],
        [1, 'CODEC_INVALID_PAYLOAD', false],
      ],
    );
    assert.deepEqual(result.changed, [false, false, true, true]);
    const view = await getImage(db, owner, a);
    assert.equal(view?.stages.detect.status, 'pending', "the intruder's write left no trace");
    assert.equal(view?.faces.length, 1);
    assert.equal((await getImage(db, owner, b))?.status, 'pending');
  });

  test('ImageAnalyzed fills only the stages whose own events have not arrived; those keep their own rows', async () => {
    const repo = new ResultsRepository(db, { clock });
    const tenantId = tenant();
    const imageId = randomUUID();
    const own = sampleObjects().slice(0, 1);
    await repo.recordUpload(upload(imageId, tenantId));
    await repo.recordStage({ imageId, tenantId, stage: 'detect', report: report('detect'), objects: own });
    // An analysis that joined another run of detect: it does not overwrite the rows detect's own event wrote.
    await repo.recordAnalysis(sampleAnalysis(imageId), tenantId);
    const view = await getImage(db, tenantId, imageId);
    assert.deepEqual(view?.objects, own);
    assert.deepEqual(view?.faces, sampleFaces(), 'faces had not reported: filled from the analysis');
    assert.deepEqual(view?.text, sampleText(), 'ocr had not reported: filled from the analysis');
    assert.equal(view?.status, 'completed');
    assert.deepEqual(
      view?.labels.map((label) => label.label),
      ['face', 'dog', 'person'],
      'labels are the analysis’s',
    );
  });
});
