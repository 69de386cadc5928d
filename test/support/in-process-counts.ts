import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Database } from '@imgpipe/results';
import { type Kysely, sql } from 'kysely';
import { sharedPath } from './shared.ts';

const run = promisify(execFile);
const IMGPIPE = fileURLToPath(new URL('../../apps/cli/bin/imgpipe.js', import.meta.url));

/** The rows an image gives in each result table: what the pipeline must store once, and no more. */
export type RowCounts = { detections: number; faces: number; text_lines: number };
export const ROW_TABLES = ['detections', 'faces', 'text_lines'] as const satisfies readonly (keyof RowCounts)[];

/**
 * What `imgpipe analyze` finds in each file in process (no Kafka, no database), by file: the independent expectation
 * the fault suite and the soak hold the pipeline's rows to.
 */
export async function analyzeInProcess(
  files: readonly string[],
  env: Record<string, string> = {},
): Promise<Map<string, RowCounts>> {
  const counts = new Map<string, RowCounts>();
  for (const [file, view] of await analyzeViews(files, env)) {
    counts.set(file, {
      detections: view.objects.length,
      faces: view.faces.length,
      text_lines: view.text.lines.length,
    });
  }
  return counts;
}

/** How many keypoints the features stage finds in each file, in process (`imgpipe analyze --analyses features`). */
export async function keypointsInProcess(
  files: readonly string[],
  env: Record<string, string> = {},
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [file, view] of await analyzeViews(files, env, ['--analyses', 'features'])) {
    counts.set(file, view.features?.count ?? Number.NaN);
  }
  return counts;
}

interface AnalyzeView {
  file: string;
  objects: unknown[];
  faces: unknown[];
  text: { lines: unknown[] };
  features?: { count: number };
}

async function analyzeViews(
  files: readonly string[],
  env: Record<string, string>,
  options: readonly string[] = [],
): Promise<Map<string, AnalyzeView>> {
  const { stdout } = await run(process.execPath, [IMGPIPE, 'analyze', '--json', ...options, ...files], {
    env: { ...process.env, IMGPIPE_MODELS_DIR: process.env['IMGPIPE_MODELS_DIR'] ?? sharedPath('models'), ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  const views = new Map<string, AnalyzeView>();
  for (const line of stdout.trim().split('\n')) {
    const view = JSON.parse(line) as AnalyzeView;
    views.set(view.file, view);
  }
  return views;
}

/** The rows PostgreSQL holds for each of `ids` in each result table (an image with none is absent: count 0). */
export async function storedRowCounts(
  db: Kysely<Database>,
  ids: readonly string[],
): Promise<(imageId: string) => RowCounts> {
  const perTable = new Map<keyof RowCounts, Map<string, number>>();
  for (const table of ROW_TABLES) {
    const { rows } = await sql<{ image_id: string; n: number }>`
      select image_id, count(*)::int as n from ${sql.table(table)}
      where image_id = any(${ids}::uuid[]) group by image_id`.execute(db);
    perTable.set(table, new Map(rows.map((row) => [row.image_id, row.n])));
  }
  return (imageId) => ({
    detections: perTable.get('detections')!.get(imageId) ?? 0,
    faces: perTable.get('faces')!.get(imageId) ?? 0,
    text_lines: perTable.get('text_lines')!.get(imageId) ?? 0,
  });
}
