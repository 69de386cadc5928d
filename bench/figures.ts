import { appendFileSync } from 'node:fs';

/**
 * A benchmark's headline figures, for `npm run bench:table`: appended as one JSON line to the file named by
 * IMGPIPE_BENCH_FIGURES (nothing happens without it), so the table is built from the same run the benchmark printed.
 */
export function recordFigures(bench: string, figures: Record<string, number>): void {
  const file = process.env['IMGPIPE_BENCH_FIGURES'];
  if (file) appendFileSync(file, `${JSON.stringify({ bench, figures })}\n`);
}
