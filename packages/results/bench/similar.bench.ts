/**
 * Similar-image queries (GET /v1/images/{id}/similar's database part, findSimilarImages) over 1,000,000 synthetic
 * perceptual hashes of one tenant in the real PostgreSQL. The rows are generated inside PostgreSQL
 * (generate_series, seeded random) into a throwaway tenant, analysed, queried, and deleted at the end (also when
 * the run fails). Queries use hashes of stored rows with a few bits flipped, so each has answers; per distance the
 * p50 and p95 of --queries queries are reported, with the candidates the segment index returned and the plan's
 * shape, beside one brute-force scan of the tenant (popcount of every row) for comparison. Goal: p50 <= 20 ms.
 * The measurement itself is similar-measure.ts (`npm run bench:features` runs it too).
 *
 *   npm run bench:similar [-- --rows 1000000 --queries 200]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig, serviceSettings } from '@imgpipe/core';
import { createDatabase } from '../src/index.ts';
import { recordFigures } from '../../../bench/figures.ts';
import { measureSimilar } from './similar-measure.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '200' },
  },
});
const settings = loadConfig({ databaseUrl: serviceSettings.databaseUrl });
const db = createDatabase({ url: settings.databaseUrl, poolSize: 2, applicationName: 'imgpipe-bench-similar' });

console.log(
  `load average ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
try {
  const result = await measureSimilar(db, {
    rows: Number(values.rows),
    queries: Number(values.queries),
    log: (line) => console.log(line),
  });
  const figures: Record<string, number> = {};
  for (const d of result.distances) figures[`similar_p50_ms_d${d.maxDistance}`] = Number(d.p50.toFixed(2));
  figures['similar_scan_ms'] = Math.round(result.scanMs);
  recordFigures('similar', figures);
} finally {
  await db.destroy();
}
