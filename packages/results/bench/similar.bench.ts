/**
 * Similar-image queries (GET /v1/images/{id}/similar's database part, findSimilarImages) over 1,000,000 synthetic
 * perceptual hashes of one tenant in the real PostgreSQL. The rows are generated inside PostgreSQL
 * (generate_series, seeded random) into a throwaway tenant, analysed, queried, and deleted at the end (also when
 * the run fails). Queries use hashes of stored rows with a few bits flipped, so each has answers; per distance the
 * p50 and p95 of --queries queries are reported, with the candidates the segment index returned and the plan's
 * shape, beside one brute-force scan of the tenant (popcount of every row) for comparison. Goal: p50 <= 20 ms.
 *
 *   npm run bench:similar [-- --rows 1000000 --queries 200]
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig, serviceSettings } from '@imgpipe/core';
import { sql } from 'kysely';
import { createDatabase, findSimilarImages, migrate } from '../src/index.ts';
import { recordFigures } from '../../../bench/figures.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '200' },
  },
});
const ROWS = Number(values.rows);
const QUERIES = Number(values.queries);
const TENANT = `bench-similar-${randomUUID().slice(0, 8)}`;
const settings = loadConfig({ databaseUrl: serviceSettings.databaseUrl });
const db = createDatabase({ url: settings.databaseUrl, poolSize: 2, applicationName: 'imgpipe-bench-similar' });

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const ms = (value: number) => `${value.toFixed(2)} ms`;

/** mulberry32: the same query set every run. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

console.log(
  `load average ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}; tenant ${TENANT}; ${ROWS} rows`,
);
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
  const insertMs = performance.now() - started;
  started = performance.now();
  await sql`analyze images`.execute(db);
  console.log(
    `insert ${(insertMs / 1000).toFixed(1)} s (${Math.round(ROWS / (insertMs / 1000))} rows/s), analyze ${ms(performance.now() - started)}`,
  );

  // Query hashes: stored rows' hashes with 0-3 random bits flipped (each query has at least that row to find).
  const sample = await sql<{ h: string }>`
    select lpad(to_hex(phash_0), 4, '0') || lpad(to_hex(phash_1), 4, '0') || lpad(to_hex(phash_2), 4, '0') ||
           lpad(to_hex(phash_3), 4, '0') as h
    from images tablesample system (1) where tenant_id = ${TENANT} limit ${QUERIES}
  `.execute(db);
  const next = random(1);
  const queries = sample.rows.map((row) => {
    let hash = BigInt(`0x${row.h}`);
    for (let flips = Math.floor(next() * 4); flips > 0; flips--) hash ^= 1n << BigInt(Math.floor(next() * 64));
    return hash.toString(16).padStart(16, '0');
  });

  const figures: Record<string, number> = {};
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
    const p50 = percentile(times, 0.5);
    figures[`similar_p50_ms_d${maxDistance}`] = Number(p50.toFixed(2));
    console.log(
      `maxDistance ${String(maxDistance).padStart(2)}: p50 ${ms(p50)}  p95 ${ms(percentile(times, 0.95))}  max ${ms(times.at(-1)!)}  ` +
        `(${queries.length} queries, ${(found / queries.length).toFixed(1)} found per query)`,
    );
  }
  // The plan of one query at distance 3: four index lookups OR-ed, never a scan of the tenant.
  const q = queries[0]!;
  const seg = (i: number) => Number.parseInt(q.slice(i * 4, i * 4 + 4), 16);
  const plan = await sql<{ 'QUERY PLAN': string }>`
    explain (analyze, buffers) select id from images where tenant_id = ${TENANT}
      and (phash_0 = ${seg(0)} or phash_1 = ${seg(1)} or phash_2 = ${seg(2)} or phash_3 = ${seg(3)})
  `.execute(db);
  console.log('plan (maxDistance 3):');
  for (const row of plan.rows) console.log(`  ${row['QUERY PLAN']}`);
  // For comparison: the brute-force answer, a popcount over every row of the tenant.
  started = performance.now();
  const scan = await sql<{ n: string }>`
    select count(*) as n from images where tenant_id = ${TENANT} and bit_count(
      ((phash_0::bigint << 48) | (phash_1::bigint << 32) | (phash_2::bigint << 16) | phash_3::bigint)::bit(64)
      # ${`x${q}`}::bit(64)) <= 3
  `.execute(db);
  const scanMs = performance.now() - started;
  figures['similar_scan_ms'] = Math.round(scanMs);
  const indexed = await findSimilarImages(db, { tenantId: TENANT, hash: q, maxDistance: 3 });
  console.log(
    `brute-force scan of the tenant (popcount of every row): ${ms(scanMs)}, ${scan.rows[0]!.n} within 3 ` +
      `(the index found ${indexed.length}${String(indexed.length) === scan.rows[0]!.n ? ', the same' : ': MISMATCH'})`,
  );
  recordFigures('similar', figures);
} finally {
  const started = performance.now();
  await db.deleteFrom('images').where('tenant_id', '=', TENANT).execute();
  console.log(`cleaned up the bench tenant in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await db.destroy();
}
