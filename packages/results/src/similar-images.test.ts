/**
 * Similar images by perceptual hash against the real PostgreSQL: the results writer stores the preprocess hash's
 * segments, and findSimilarImages answers exactly what a brute-force scan of every row (64-bit popcount on
 * BigInt, an independent computation) finds, for several distances, over random hashes with planted neighbours.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type Kysely, sql } from 'kysely';
import { ResultsRepository } from './results-repository.ts';
import type { Database } from './schema.ts';
import { findSimilarImages, tenantHashes, valuesWithin } from './similar-images.ts';
import { deleteTenants, openTestDatabase, report, sampleInfo, testTenant } from './test-fixtures.ts';
import { seededRandom as random } from '@imgpipe/core';

const tenantId = testTenant('similar');
const otherTenant = testTenant('similar-other');
let db: Kysely<Database>;

const hex = (value: bigint) => value.toString(16).padStart(16, '0');
function popcount(value: bigint): number {
  let n = 0;
  for (let x = value; x; x >>= 1n) n += Number(x & 1n);
  return n;
}

describe('similar images by perceptual hash', () => {
  const rows: { id: string; hash: bigint }[] = [];
  const query = 0x8f3c_21d0_7a55_e10bn;
  const next = random(7);
  const randomHash = () => (BigInt(Math.floor(next() * 2 ** 32)) << 32n) | BigInt(Math.floor(next() * 2 ** 32));

  before(async () => {
    db = await openTestDatabase();
    // 3,000 random hashes, and 40 planted at distances 0-12 from the query (bits flipped at random places).
    for (let i = 0; i < 3000; i++) rows.push({ id: randomUUID(), hash: randomHash() });
    for (let i = 0; i < 40; i++) {
      let hash = query;
      const flips = new Set<number>();
      while (flips.size < i % 13) flips.add(Math.floor(next() * 64));
      for (const bit of flips) hash ^= 1n << BigInt(bit);
      rows.push({ id: randomUUID(), hash });
    }
    for (let start = 0; start < rows.length; start += 500) {
      await db
        .insertInto('images')
        .values(
          rows.slice(start, start + 500).map((row) => ({
            id: row.id,
            tenant_id: tenantId,
            phash_0: Number((row.hash >> 48n) & 0xffffn),
            phash_1: Number((row.hash >> 32n) & 0xffffn),
            phash_2: Number((row.hash >> 16n) & 0xffffn),
            phash_3: Number(row.hash & 0xffffn),
          })),
        )
        .execute();
    }
    // The same hash in another tenant is never found.
    await db
      .insertInto('images')
      .values({
        id: randomUUID(),
        tenant_id: otherTenant,
        phash_0: 0x8f3c,
        phash_1: 0x21d0,
        phash_2: 0x7a55,
        phash_3: 0xe10b,
      })
      .execute();
  });

  after(async () => {
    await deleteTenants(db, [tenantId, otherTenant]);
    await db.destroy();
  });

  test('probes: 1, 17 and 137 values within 0, 1 and 2 bit flips of a 16-bit segment, all distinct', () => {
    for (const [radius, count] of [
      [0, 1],
      [1, 17],
      [2, 137],
    ] as const) {
      const values = valuesWithin(0xbeef, radius);
      assert.equal(new Set(values).size, count);
      for (const v of values) assert.ok(popcount(BigInt(v ^ 0xbeef)) <= radius && v >= 0 && v <= 0xffff);
    }
  });

  for (const maxDistance of [0, 3, 6, 9, 12]) {
    test(`maxDistance ${maxDistance}: exactly the rows a brute-force scan finds, nearest first`, async () => {
      const expected = rows
        .map((row) => ({ imageId: row.id, distance: popcount(row.hash ^ query) }))
        .filter((row) => row.distance <= maxDistance)
        .sort((a, b) => a.distance - b.distance || (a.imageId < b.imageId ? -1 : 1));
      const found = await findSimilarImages(db, { tenantId, hash: hex(query), maxDistance });
      assert.deepEqual(
        found.map((f) => ({ imageId: f.imageId, distance: f.distance })),
        expected,
      );
      assert.ok(expected.length >= Math.min(maxDistance, 12), `${expected.length} planted within ${maxDistance}`);
      for (const f of found) assert.equal(f.perceptualHash, hex(rows.find((row) => row.id === f.imageId)!.hash));
    });
  }

  test('excludeId and limit', async () => {
    const all = await findSimilarImages(db, { tenantId, hash: hex(query), maxDistance: 6 });
    const some = await findSimilarImages(db, {
      tenantId,
      hash: hex(query),
      maxDistance: 6,
      excludeId: all[0]!.imageId,
      limit: 2,
    });
    assert.deepEqual(some, all.slice(1, 3));
  });

  test('the results writer stores the preprocess hash as its four segments', async () => {
    const repo = new ResultsRepository(db);
    const imageId = randomUUID();
    await repo.recordStage({
      imageId,
      tenantId: otherTenant,
      stage: 'preprocess',
      report: report('preprocess'),
      info: sampleInfo({ perceptualHash: 'C3D2e1f0a9b8c7d6' }),
    });
    const row = await db
      .selectFrom('images')
      .select(['phash_0', 'phash_1', 'phash_2', 'phash_3'])
      .where('id', '=', imageId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { phash_0: 0xc3d2, phash_1: 0xe1f0, phash_2: 0xa9b8, phash_3: 0xc7d6 });
    const listed = await tenantHashes(db, otherTenant);
    assert.ok(listed.some((item) => item.imageId === imageId && item.perceptualHash === 'c3d2e1f0a9b8c7d6'));
    // The migration's backfill expression reads a stored info the same way.
    const backfill = await sql<{
      s: number;
    }>`select ('x' || substr(${'c3d2e1f0a9b8c7d6'}, 5, 4))::bit(16)::integer as s`.execute(db);
    assert.equal(backfill.rows[0]!.s, 0xe1f0);
  });
});
