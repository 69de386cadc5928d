/**
 * OCR benchmark: character error rate over shared/images/text and per-image time (median, p95) over those images
 * and documents/page.png, plus the longest event-loop block on the main thread.
 *
 *   node packages/vision/bench/ocr.bench.ts [--json] [--angle] [--rounds N] [--workers N] [--options '{"db":{...}}']
 *
 * --workers N runs OCR on the worker pool (onnxruntime's session.run blocks the thread it runs on, so in process
 * the loop is blocked for each model run); --options overrides RecognizeTextOptions, which is how the tuning
 * choices in recognize-text.ts were measured. The vision bench (vision.bench.ts) times OCR via recognizeTextHandler.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { characterErrorRate, countErrors } from '../src/ocr/character-error-rate.ts';
import { decodeImage } from '../src/ocr/decode-image.ts';
import { releaseModels } from '../src/models/model-loader.ts';
import { defaultModelsDir } from '../src/models/models-dir.ts';
import { type RecognizeTextOptions, recognizeText, recognizeTextHandler } from '../src/ocr/recognize-text.ts';
import { createWorkerPool } from '../src/pool/worker-pool.ts';
import { sharedDir } from '../src/testing/shared.ts';

export interface OcrBenchReport {
  images: number;
  cer: number;
  edits: number;
  referenceCharacters: number;
  perImageCer: Record<string, number>;
  /** Milliseconds for recognizeText on decoded pixels (decode excluded). */
  timeMs: { median: number; p95: number; max: number };
  /** Longest the main thread's event loop was blocked while OCR ran in process (JS pre/post-processing). */
  eventLoopMaxDelayMs: number;
  pageLines: string[];
  /** documents/page.png against expected.json's lines, compared as expected.json says: no case, no spaces. */
  pageCer: number;
}

function caseAndSpaceFree(line: string): string {
  return line.toLowerCase().replace(/\s+/g, '');
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

export async function benchOcr(
  settings: { options?: Partial<RecognizeTextOptions>; rounds?: number; workers?: number } = {},
): Promise<OcrBenchReport> {
  const shared = sharedDir();
  const truth = JSON.parse(await readFile(join(shared, 'images/text/truth.json'), 'utf8')) as Record<string, string[]>;
  const expected = JSON.parse(await readFile(join(shared, 'images/expected.json'), 'utf8')) as Record<
    string,
    { text?: string[] }
  >;
  const pageTruth = expected['documents/page.png']?.text ?? [];
  const options: RecognizeTextOptions = { modelsDir: defaultModelsDir(), ...settings.options };
  // With workers, OCR runs on the pool as in production and the main thread's event loop should stay free.
  const pool = settings.workers ? createWorkerPool({ size: settings.workers }) : undefined;
  try {
    const times: number[] = [];
    const counts = [];
    const perImageCer: Record<string, number> = {};
    const files = [...Object.keys(truth).map((name) => `images/text/${name}`), 'images/documents/page.png'];
    let pageLines: string[] = [];
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    for (let round = 0; round < (settings.rounds ?? 1); round++) {
      for (const file of files) {
        const image = await decodeImage(await readFile(join(shared, file)));
        const started = performance.now();
        const result = pool
          ? await pool.run(recognizeTextHandler, image, options)
          : await recognizeText(image, options);
        times.push(performance.now() - started);
        if (round > 0) continue;
        const lines = result.lines.map((l) => l.text);
        const name = file.split('/').pop()!;
        const reference = truth[name];
        if (reference) {
          const count = countErrors(reference, lines);
          counts.push(count);
          perImageCer[name] = count.edits / count.referenceLength;
        } else {
          pageLines = lines;
        }
      }
    }
    loop.disable();
    times.sort((a, b) => a - b);
    return {
      images: files.length,
      cer: characterErrorRate(counts),
      edits: counts.reduce((s, c) => s + c.edits, 0),
      referenceCharacters: counts.reduce((s, c) => s + c.referenceLength, 0),
      perImageCer,
      timeMs: { median: percentile(times, 0.5), p95: percentile(times, 0.95), max: times[times.length - 1] ?? 0 },
      eventLoopMaxDelayMs: loop.max / 1e6,
      pageLines,
      pageCer: characterErrorRate([countErrors(pageTruth.map(caseAndSpaceFree), pageLines.map(caseAndSpaceFree))]),
    };
  } finally {
    await pool?.close();
    await releaseModels();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      angle: { type: 'boolean', default: false },
      rounds: { type: 'string', default: '1' },
      workers: { type: 'string', default: '0' },
      options: { type: 'string' },
    },
  });
  const report = await benchOcr({
    rounds: Number(values.rounds),
    workers: Number(values.workers),
    options: {
      angleClassifier: values.angle,
      ...(values.options ? (JSON.parse(values.options) as Partial<RecognizeTextOptions>) : {}),
    },
  });
  if (values.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(
      `OCR over ${report.images} images: CER ${(report.cer * 100).toFixed(2)}% (${report.edits} edits / ${report.referenceCharacters} chars), ` +
        `page.png CER ${(report.pageCer * 100).toFixed(2)}% (no case, no spaces), time median ${report.timeMs.median.toFixed(0)} ms, p95 ${report.timeMs.p95.toFixed(0)} ms, max ${report.timeMs.max.toFixed(0)} ms; ` +
        `event loop blocked at most ${report.eventLoopMaxDelayMs.toFixed(0)} ms`,
    );
    const worst = Object.entries(report.perImageCer).filter(([, cer]) => cer > 0);
    for (const [name, cer] of worst) console.log(`  ${name}: CER ${(cer * 100).toFixed(1)}%`);
    console.log(`page.png:\n  ${report.pageLines.join('\n  ')}`);
  }
}
