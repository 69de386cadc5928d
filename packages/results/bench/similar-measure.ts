/**
 * The similar-image query measurement (findSimilarImages over `rows` synthetic perceptual hashes of one throwaway
 * tenant in the real PostgreSQL), shared by `npm run bench:similar` and `npm run bench:features`: rows generated
 * inside PostgreSQL (generate_series, seeded random), analysed, queried with stored hashes with 0-3 bits flipped
 * (so each query has answers), per distance p50/p95 of `queries` queries, the plan's shape at distance 3 and one
 * brute-force popcount scan for comparison; the tenant's rows are deleted at the end (also when the run fails).
 *
 *   const result = await measureSimilar(db, { rows: 1_000_000, queries: 200 });
 */
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { findSimilarImages, migrate } from '../src/index.ts';
import type { Database } from '../src/schema.ts';
import { seededRandom as random } from '@imgpipe/core';

export interface SimilarDistanceFigures {
  maxDistance: number;
  p50: number;
  p95: number;
  max: number;
  queries: number;
  foundPerQuery: number;
}

export interface SimilarMeasurement {
  tenant: string;
  rows: number;
  distances: SimilarDistanceFigures[];
  scanMs: number;
  insertMs: number;
  cleanupMs: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const ms = (value: number) => `${value.toFixed(2)} ms`;

type Db = Kysely<Database>;

export async function measureSimilar(
  db: Db,
  options: { rows: number; queries: number; log?: (line: string) => void },
): Promise<SimilarMeasurement> {
  const log = options.log ?? (() => {});
  const ROWS = options.rows;
  const QUERIES = options.queries;
  const TENANT = `bench-similar-${randomUUID().slice(0, 8)}`;
  log(`similar: tenant ${TENANT}; ${ROWS} rows`);
  const distances: SimilarDistanceFigures[] = [];
  let scanMs = Number.NaN;
  let insertMs = Number.NaN;
  let cleanupMs = Number.NaN;
  try {
    await migrate(db);
    let started = performance.now();
    // One statement: ids and hashes made by PostgreSQL, seeded so every run stores the same hashes.
    await sql`select setseed(0.42)`.execute(db);
    await sql`
      insert into images (id, tenant_id, status, phash_0, phash_1, phash_2, phash_3)
      select gen_random_uuid(), ${TENANT}, 'completed',
             floor(random() * 65536)::int, floor(random() * 65536)::int,
             floor(random() * 65536)::int, floor(random() * 65536)::int
      from generate_series(1, ${ROWS})
    `.execute(db);
    insertMs = performance.now() - started;
    started = performance.now();
    await sql`analyze images`.execute(db);
    log(
      `insert ${(insertMs / 1000).toFixed(1)} s (${Math.round(ROWS / (insertMs / 1000))} rows/s), analyze ${ms(performance.now() - started)}`,
    );

    // Query hashes: stored rows' hashes with 0-3 random bits flipped (each query has at least that row to find).
    // A 1 % sample of the table's pages, more when the tenant is small, so there are enough rows to draw from.
    const sample = await sql<{ h: string }>`
      select lpad(to_hex(phash_0), 4, '0') || lpad(to_hex(phash_1), 4, '0') || lpad(to_hex(phash_2), 4, '0') ||
             lpad(to_hex(phash_3), 4, '0') as h
      from images tablesample system (${sql.lit(ROWS >= 200_000 ? 1 : 100)}) where tenant_id = ${TENANT}
      limit ${QUERIES}
    `.execute(db);
    const next = random(1);
    const queries = sample.rows.map((row) => {
      let hash = BigInt(`0x${row.h}`);
      for (let flips = Math.floor(next() * 4); flips > 0; flips--) hash ^= 1n << BigInt(Math.floor(next() * 64));
      return hash.toString(16).padStart(16, '0');
    });
    if (queries.length === 0) throw new Error('similar: no stored hashes sampled to query with');

    for (const maxDistance of [3, 6, 10]) {
      // Warm-up: the index pages a run touches come into shared buffers as in a serving database.
      for (const hash of queries.slice(0, 20)) await findSimilarImages(db, { tenantId: TENANT, hash, maxDistance });
      const times: number[] = [];
      let found = 0;
      for (const hash of queries) {
        const t = performance.now();
        const result = await findSimilarImages(db, { tenantId: TENANT, hash, maxDistance });
        times.push(performance.now() - t);
        found += result.length;
      }
      times.sort((a, b) => a - b);
      const figures = {
        maxDistance,
        p50: percentile(times, 0.5),
        p95: percentile(times, 0.95),
        max: times.at(-1)!,
        queries: queries.length,
        foundPerQuery: found / queries.length,
      };
      distances.push(figures);
      log(
        `maxDistance ${String(maxDistance).padStart(2)}: p50 ${ms(figures.p50)}  p95 ${ms(figures.p95)}  max ${ms(figures.max)}  ` +
          `(${queries.length} queries, ${figures.foundPerQuery.toFixed(1)} found per query)`,
      );
    }
    // The plan of one query at distance 3: four index lookups OR-ed, never a scan of the tenant.
    const q = queries[0]!;
    const seg = (i: number) => Number.parseInt(q.slice(i * 4, i * 4 + 4), 16);
    const plan = await sql<{ 'QUERY PLAN': string }>`
      explain (analyze, buffers) select id from images where tenant_id = ${TENANT}
        and (phash_0 = ${seg(0)} or phash_1 = ${seg(1)} or phash_2 = ${seg(2)} or phash_3 = ${seg(3)})
    `.execute(db);
    log('plan (maxDistance 3):');
    for (const row of plan.rows) log(`  ${row['QUERY PLAN']}`);
    // For comparison: the brute-force answer, a popcount over every row of the tenant.
    started = performance.now();
    const scan = await sql<{ n: string }>`
      select count(*) as n from images where tenant_id = ${TENANT} and bit_count(
        ((phash_0::bigint << 48) | (phash_1::bigint << 32) | (phash_2::bigint << 16) | phash_3::bigint)::bit(64)
        # ${`x${q}`}::bit(64)) <= 3
    `.execute(db);
    scanMs = performance.now() - started;
    const indexed = await findSimilarImages(db, { tenantId: TENANT, hash: q, maxDistance: 3 });
    log(
      `brute-force scan of the tenant (popcount of every row): ${ms(scanMs)}, ${scan.rows[0]!.n} within 3 ` +
        `(the index found ${indexed.length}${String(indexed.length) === scan.rows[0]!.n ? ', the same' : ': MISMATCH'})`,
    );
  } finally {
    const started = performance.now();
    await db.deleteFrom('images').where('tenant_id', '=', TENANT).execute();
    cleanupMs = performance.now() - started;
    log(`cleaned up the bench tenant in ${(cleanupMs / 1000).toFixed(1)} s`);
  }
  return { tenant: TENANT, rows: ROWS, distances, scanMs, insertMs, cleanupMs };
}
