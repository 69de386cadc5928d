/**
 * Throughput of the results repository against the real PostgreSQL: full image lifecycles (upload, four stage
 * outcomes, the analysis), first delivery and replay, sequentially and with concurrent writers.
 *
 *   node packages/results/bench/repository.bench.ts [images=200] [concurrency=4]
 */
import { randomUUID } from 'node:crypto';
import { ResultsRepository } from '../src/results-repository.ts';
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
} from '../src/test-fixtures.ts';

const images = Number(process.argv[2] ?? 200);
const concurrency = Number(process.argv[3] ?? 4);
const db = await openTestDatabase();
const repo = new ResultsRepository(db);
const tenantId = testTenant('bench');
const far = new Date('2100-01-01T00:00:00.000Z');

async function lifecycle(imageId: string): Promise<void> {
  await repo.recordUpload({
    imageId,
    tenantId,
    analyses: ['detect', 'faces', 'ocr'],
    occurredAt: far,
    deadlineAt: far,
  });
  await repo.recordStage({ imageId, tenantId, stage: 'preprocess', report: report('preprocess'), info: sampleInfo() });
  await repo.recordStage({ imageId, tenantId, stage: 'detect', report: report('detect'), objects: sampleObjects() });
  await repo.recordStage({ imageId, tenantId, stage: 'faces', report: report('faces'), faces: sampleFaces() });
  await repo.recordStage({ imageId, tenantId, stage: 'ocr', report: report('ocr'), text: sampleText() });
  await repo.recordAnalysis(sampleAnalysis(imageId), tenantId);
}

async function run(label: string, ids: string[], workers: number): Promise<void> {
  const queue = [...ids];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let id = queue.shift(); id; id = queue.shift()) await lifecycle(id);
    }),
  );
  const ms = performance.now() - started;
  const calls = ids.length * 6;
  console.log(
    `${label.padEnd(34)} ${ids.length} images, ${calls} calls in ${ms.toFixed(0)} ms: ` +
      `${((calls / ms) * 1000).toFixed(0)} calls/s, ${(ms / calls).toFixed(2)} ms/call`,
  );
}

try {
  const first = Array.from({ length: images }, () => randomUUID());
  await run('first delivery, 1 writer', first, 1);
  await run('replay (no changes), 1 writer', first, 1);
  await run(
    `first delivery, ${concurrency} writers`,
    Array.from({ length: images }, () => randomUUID()),
    concurrency,
  );
} finally {
  await deleteTenants(db, [tenantId]);
  await db.destroy();
}
