import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { findRecentBySha, getImage, getImages, searchImages } from './queries.ts';
import { ResultsRepository } from './results-repository.ts';
import type { Database } from './schema.ts';
import {
  deleteTenants,
  openTestDatabase,
  report,
  sampleAnalysis,
  sampleObjects,
  sampleText,
  testTenant,
} from './test-fixtures.ts';

let db: Kysely<Database>;
let repo: ResultsRepository;
const tenantId = testTenant('queries');
const otherTenant = testTenant('queries-other');
const base = Date.parse('2100-05-01T12:00:00.000Z');
const ids: string[] = [];

/**
 * Seven images a minute apart (the last two at the same instant, so the id breaks the tie):
 * 0 bakery sign with a dog, 1 parking ticket, 2 still pending, 3-6 plain completed.
 */
before(async () => {
  db = await openTestDatabase();
  repo = new ResultsRepository(db);
  for (let index = 0; index < 7; index++) {
    const imageId = randomUUID();
    ids.push(imageId);
    const occurredAt = new Date(base + Math.min(index, 5) * 60_000);
    await repo.recordUpload({
      imageId,
      tenantId,
      sourceName: `image-${index}.jpg`,
      sha256: index === 1 ? 'c'.repeat(64) : `${index}`.repeat(64),
      analyses: ['detect', 'faces', 'ocr'],
      attributes: { index: String(index) },
      occurredAt,
    });
    if (index === 2) continue;
    const text = index === 0 ? sampleText(['Fresh bakery', 'open daily']) : sampleText([`Parking ticket ${index}`]);
    const objects = index === 0 ? sampleObjects() : [];
    const labels = index === 0 ? [{ label: 'dog', count: 2, confidence: 0.91 }] : [];
    const attributes = { index: String(index) };
    await repo.recordAnalysis(sampleAnalysis(imageId, { text, objects, labels, attributes }), tenantId);
  }
});

after(async () => {
  await deleteTenants(db, [tenantId, otherTenant]);
  await db.destroy();
});

describe('getImages', () => {
  test('reads many images exactly as getImage reads each; other tenants and non-ids are left out', async () => {
    const views = await getImages(db, [
      ...ids.map((imageId) => ({ tenantId, imageId: imageId.toUpperCase() })),
      { tenantId: otherTenant, imageId: ids[0]! },
      { tenantId, imageId: 'not-a-uuid' },
      { tenantId, imageId: randomUUID() },
    ]);
    assert.deepEqual([...views.keys()].sort(), [...ids].sort());
    for (const imageId of ids) assert.deepEqual(views.get(imageId), await getImage(db, tenantId, imageId), imageId);
    assert.ok((views.get(ids[0]!)?.objects.length ?? 0) > 0, 'with rows of every kind');
    assert.ok((views.get(ids[0]!)?.text.lines[0]?.words?.length ?? 0) > 0);
    assert.equal((await getImages(db, [])).size, 0);
  });
});

describe('getImage', () => {
  test('returns the whole view to its tenant, and nothing to anyone else', async () => {
    const view = await getImage(db, tenantId, ids[0]!);
    assert.equal(view?.imageId, ids[0]);
    assert.equal(view?.tenantId, tenantId);
    assert.equal(view?.status, 'completed');
    assert.equal(view?.sourceName, 'image-0.jpg');
    assert.equal(view?.objects.length, 3);
    assert.deepEqual(view?.stages.ocr, report('ocr'));
    assert.equal(view?.image?.width, 640);
    assert.equal(await getImage(db, otherTenant, ids[0]!), undefined);
    assert.equal(await getImage(db, tenantId, randomUUID()), undefined);
    assert.equal(await getImage(db, tenantId, 'not-a-uuid'), undefined);
  });

  test('shows a pending image with its stages pending', async () => {
    const view = await getImage(db, tenantId, ids[2]!);
    assert.equal(view?.status, 'pending');
    assert.equal(view?.stages.detect.status, 'pending');
    assert.deepEqual(view?.objects, []);
    assert.deepEqual(view?.text, { fullText: '', lines: [] });
  });
});

describe('searchImages', () => {
  test('finds an image by a word of its OCR text, in web-search syntax', async () => {
    const found = await searchImages(db, { tenantId, text: 'bakery' });
    assert.deepEqual(
      found.items.map((item) => item.imageId),
      [ids[0]],
    );
    assert.deepEqual(found.items[0]?.labels, ['dog']);
    assert.equal(found.nextCursor, undefined);
    const phrase = await searchImages(db, { tenantId, text: '"parking ticket" -bakery' });
    assert.equal(phrase.items.length, 5);
    assert.equal((await searchImages(db, { tenantId: otherTenant, text: 'bakery' })).items.length, 0);
    assert.equal((await searchImages(db, { tenantId, text: 'croissant' })).items.length, 0);
  });

  test('finds an image by the exact text of a barcode or QR code it holds, with code= and with text=', async () => {
    const codesTenant = testTenant('queries-codes');
    try {
      const withCode = randomUUID();
      const qr = {
        format: 'QRCode',
        text: 'https://example.org/menu?table=7',
        polygon: [
          { x: 10, y: 10 },
          { x: 60, y: 10 },
          { x: 60, y: 60 },
          { x: 10, y: 60 },
        ],
        box: { x: 10, y: 10, width: 50, height: 50 },
        boxNormalized: { left: 0.015625, top: 0.020833, width: 0.078125, height: 0.104167 },
      };
      const ocr = { tenantId: codesTenant, stage: 'ocr' as const, report: report('ocr') };
      await repo.recordStage({ ...ocr, imageId: withCode, text: { ...sampleText(), codes: [qr] } });
      await repo.recordStage({ ...ocr, imageId: randomUUID(), text: { ...sampleText(), codes: [] } });
      await repo.recordStage({ ...ocr, imageId: randomUUID(), text: sampleText() });
      const found = await searchImages(db, { tenantId: codesTenant, code: qr.text });
      assert.deepEqual(
        found.items.map((item) => item.imageId),
        [withCode],
      );
      assert.equal(
        (await searchImages(db, { tenantId: codesTenant, code: 'https://example.org/menu' })).items.length,
        0,
      );
      assert.equal((await searchImages(db, { tenantId, code: qr.text })).items.length, 0, 'another tenant');
      // Free text finds a code by its exact text too, beside the words of the text.
      assert.deepEqual(
        (await searchImages(db, { tenantId: codesTenant, text: ` ${qr.text} ` })).items.map((item) => item.imageId),
        [withCode],
      );
      assert.equal((await searchImages(db, { tenantId: codesTenant, text: 'bakery' })).items.length, 3);
      assert.equal((await searchImages(db, { tenantId: codesTenant, text: 'table=7' })).items.length, 0);
      // The containment both use is one images_text_codes_idx serves (migration 0011): with sequential scans off,
      // the planner reaches text_codes through it.
      const plan = await db.transaction().execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx);
        const wanted = JSON.stringify([{ text: qr.text }]);
        return (
          await sql<{
            'QUERY PLAN': string;
          }>`explain select id from images where text_codes @> ${wanted}::jsonb`.execute(trx)
        ).rows
          .map((row) => row['QUERY PLAN'])
          .join('\n');
      });
      assert.match(plan, /images_text_codes_idx/, plan);
    } finally {
      await deleteTenants(db, [codesTenant]);
    }
  });

  test("every summary carries its image's attributes, a pending image's too", async () => {
    const page = await searchImages(db, { tenantId, limit: 10 });
    assert.equal(page.items.length, 7);
    for (const item of page.items) {
      assert.deepEqual(item.attributes, { index: String(ids.indexOf(item.imageId)) }, item.imageId);
    }
  });

  test('finds images by label and by status', async () => {
    assert.deepEqual(
      (await searchImages(db, { tenantId, label: 'dog' })).items.map((item) => item.imageId),
      [ids[0]],
    );
    assert.equal((await searchImages(db, { tenantId, label: 'cat' })).items.length, 0);
    assert.deepEqual(
      (await searchImages(db, { tenantId, status: 'pending' })).items.map((item) => item.imageId),
      [ids[2]],
    );
    const recent = await searchImages(db, { tenantId, since: new Date(base + 4 * 60_000) });
    assert.deepEqual(new Set(recent.items.map((item) => item.imageId)), new Set([ids[4], ids[5], ids[6]]));
  });

  test('pages through every image newest first with an opaque cursor, without gaps or repeats', async () => {
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await searchImages(db, { tenantId, limit: 3, ...(cursor ? { cursor } : {}) });
      pages.push(page.items.map((item) => item.imageId));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(
      pages.map((page) => page.length),
      [3, 3, 1],
    );
    const tied = [ids[5]!, ids[6]!].sort().reverse();
    assert.deepEqual(pages.flat(), [...tied, ids[4], ids[3], ids[2], ids[1], ids[0]]);
  });

  test('rejects a cursor it did not issue and a limit out of range', async () => {
    await assert.rejects(searchImages(db, { tenantId, cursor: 'bm90LWEtY3Vyc29y' }), { code: 'REQUEST_INVALID' });
    await assert.rejects(searchImages(db, { tenantId, limit: 0 }), { code: 'REQUEST_INVALID' });
    await assert.rejects(searchImages(db, { tenantId, limit: 101 }), { code: 'REQUEST_INVALID' });
  });
});

describe('findRecentBySha', () => {
  test('finds the newest image with the same bytes since a point in time, for the same tenant only', async () => {
    const found = await findRecentBySha(db, tenantId, 'C'.repeat(64), new Date(base));
    assert.equal(found?.imageId, ids[1]);
    assert.equal(found?.status, 'completed');
    assert.deepEqual(found?.requestedAnalyses, ['detect', 'faces', 'ocr']);
    assert.equal(await findRecentBySha(db, tenantId, 'c'.repeat(64), new Date(base + 2 * 60_000)), undefined);
    assert.equal(await findRecentBySha(db, otherTenant, 'c'.repeat(64), new Date(base)), undefined);
  });
});
