/**
 * Keypoint benchmark: `npm run bench:features [-- --images N --repeat N --no-opencv --json]`.
 *
 * For the first N photos of shared/images/coco at their normalised size (long side <= 1280; these are <= 640), one
 * warm-up run and then `repeat` timed runs of each detector on this thread, OpenCV's defaults:
 *   SIFT and ORB ms per image (median over images of the median run; wall and CPU time), keypoints per second.
 * The peer: OpenCV's own SIFT and ORB (opencv-python-headless) on the same files, one thread, timed by
 * scripts/features-reference.sh (a venv under /tmp, created on first use); the ratios ours / OpenCV per image, of
 * wall time and of CPU time (each side's own).
 * Peak RSS at the end. The machine's load is printed too: on a shared 2-core machine, CPU time is the steadier
 * figure.
 * Then, against the local stack (skip with --no-http / --no-similar):
 *   POST /v1/features/detect over HTTP (packages/http-api/bench/features-http.ts): the real API in this process, the
 *   first photo sent with fetch; p50/p95 of --misses cache misses (fresh bytes each) and --hits cache hits (each
 *   checked to answer X-Cache: hit). Goal: hit p50 <= 5 ms.
 *   Similar-image queries over --similar-rows synthetic hashes in PostgreSQL (packages/results/bench/
 *   similar-measure.ts, as `npm run bench:similar`). Goal: p50 <= 20 ms at the default maxDistance (7; 6 probes the
 *   same values).
 * All figures end in one table with their goals.
 *
 *   npm run bench:features [-- --images 12 --repeat 3 --hits 200 --misses 5 --similar-rows 1000000]
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeFeatureImage } from '../src/features/decode-feature-image.ts';
import { detectKeypoints } from '../src/features/detect-keypoints.ts';
import type { FeatureImage } from '../src/features/grey.ts';
import { sharedPath } from '../src/testing/shared.ts';

const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: '12' },
    repeat: { type: 'string', default: '3' },
    'no-opencv': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    'no-http': { type: 'boolean', default: false },
    hits: { type: 'string', default: '200' },
    misses: { type: 'string', default: '5' },
    'no-similar': { type: 'boolean', default: false },
    'similar-rows': { type: 'string', default: '1000000' },
    'similar-queries': { type: 'string', default: '200' },
  },
});
const repeat = Math.max(1, Number(args.repeat));
const dir = sharedPath('images', 'coco');
const files = (await readdir(dir))
  .filter((name) => /\.(jpe?g|png)$/i.test(name))
  .sort()
  .slice(0, Number(args.images))
  .map((name) => join(dir, name));
const images: { file: string; image: FeatureImage }[] = [];
for (const file of files)
  images.push({ file, image: await decodeFeatureImage(await readFile(file), { maxSide: 1280 }) });

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[(sorted.length - 1) >> 1]!;
};
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

interface Row {
  file: string;
  width: number;
  height: number;
  sift: { ms: number; cpuMs: number; keypoints: number };
  orb: { ms: number; cpuMs: number; keypoints: number };
}

const load = loadavg()[0]!;
const rows: Row[] = [];
for (const { file, image } of images) {
  const row = { file, width: image.width, height: image.height } as Row;
  for (const detector of ['sift', 'orb'] as const) {
    await detectKeypoints(image, { detector });
    const wall: number[] = [];
    const cpu: number[] = [];
    let keypoints = 0;
    for (let i = 0; i < repeat; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const features = await detectKeypoints(image, { detector });
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      keypoints = features.keypoints.length;
    }
    row[detector] = { ms: median(wall), cpuMs: median(cpu), keypoints };
  }
  rows.push(row);
}

interface OpenCvTiming {
  opencv: string;
  threads: number;
  images: {
    file: string;
    sift: { ms: number; cpuMs: number; keypoints: number };
    orb: { ms: number; cpuMs: number; keypoints: number };
  }[];
}
let opencv: OpenCvTiming | undefined;
let opencvError: string | undefined;
if (!args['no-opencv']) {
  try {
    const script = fileURLToPath(new URL('../../../scripts/features-reference.sh', import.meta.url));
    const out = execFileSync('bash', [script, 'time', ...files, '--repeat', String(repeat), '--threads', '1'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 16 * 1024 * 1024,
    });
    opencv = JSON.parse(out) as OpenCvTiming;
  } catch (error) {
    opencvError = (error as Error).message.split('\n')[0];
  }
}

const summary = (detector: 'sift' | 'orb') => {
  const ms = median(rows.map((r) => r[detector].ms));
  const cpuMs = median(rows.map((r) => r[detector].cpuMs));
  const keypoints = rows.reduce((sum, r) => sum + r[detector].keypoints, 0);
  const seconds = rows.reduce((sum, r) => sum + r[detector].ms, 0) / 1000;
  const peer = opencv?.images.map((p) => p[detector].ms);
  const ratios = opencv ? rows.map((r, i) => r[detector].ms / opencv!.images[i]![detector].ms) : [];
  const cpuRatios = opencv ? rows.map((r, i) => r[detector].cpuMs / opencv!.images[i]![detector].cpuMs) : [];
  return {
    msPerImage: round(ms),
    cpuMsPerImage: round(cpuMs),
    keypointsPerImage: round(keypoints / rows.length, 0),
    keypointsPerSecond: round(keypoints / seconds, 0),
    ...(peer
      ? {
          opencvMsPerImage: round(median(peer)),
          opencvCpuMsPerImage: round(median(opencv!.images.map((p) => p[detector].cpuMs))),
          opencvKeypointsPerImage: round(
            opencv!.images.reduce((s, p) => s + p[detector].keypoints, 0) / rows.length,
            0,
          ),
          ratioToOpenCv: round(median(ratios), 2),
          cpuRatioToOpenCv: round(median(cpuRatios), 2),
        }
      : {}),
  };
};

// Over HTTP: the real API in this process against the local stack's Redis.
type HttpFigures = Awaited<ReturnType<typeof import('../../http-api/bench/features-http.ts').measureFeaturesDetect>>;
let http: (HttpFigures & { file: string }) | undefined;
if (!args['no-http']) {
  const { measureFeaturesDetect } = await import('../../http-api/bench/features-http.ts');
  const file = files[0]!;
  http = {
    file,
    ...(await measureFeaturesDetect({
      image: await readFile(file),
      hits: Number(args.hits),
      misses: Number(args.misses),
    })),
  };
}

// Similar-image queries over synthetic hashes in PostgreSQL, as `npm run bench:similar`.
type SimilarFigures = Awaited<ReturnType<typeof import('../../results/bench/similar-measure.ts').measureSimilar>>;
let similar: SimilarFigures | undefined;
if (!args['no-similar']) {
  const { measureSimilar } = await import('../../results/bench/similar-measure.ts');
  const { createDatabase } = await import('../../results/src/index.ts');
  const { loadConfig, serviceSettings } = await import('@imgpipe/core');
  const settings = loadConfig({ databaseUrl: serviceSettings.databaseUrl });
  const db = createDatabase({ url: settings.databaseUrl, poolSize: 2, applicationName: 'imgpipe-bench-features' });
  try {
    similar = await measureSimilar(db, {
      rows: Number(args['similar-rows']),
      queries: Number(args['similar-queries']),
      log: args.json ? undefined : (line) => console.log(line),
    });
  } finally {
    await db.destroy();
  }
}

const report = {
  images: rows.length,
  repeat,
  loadAverage: round(load, 2),
  sift: summary('sift'),
  orb: summary('orb'),
  opencv: opencv ? { version: opencv.opencv, threads: opencv.threads } : { skipped: opencvError ?? '--no-opencv' },
  peakRssMiB: round(process.resourceUsage().maxRSS / 1024, 0),
  ...(http
    ? {
        http: {
          file: http.file,
          imageBytes: http.imageBytes,
          answerBytes: http.answerBytes,
          keypoints: http.keypoints,
          hitP50Ms: round(http.hit.p50, 2),
          hitP95Ms: round(http.hit.p95, 2),
          hits: http.hit.count,
          missP50Ms: round(http.miss.p50, 1),
          missP95Ms: round(http.miss.p95, 1),
          misses: http.miss.count,
        },
      }
    : {}),
  ...(similar
    ? {
        similar: {
          rows: similar.rows,
          distances: similar.distances.map((d) => ({
            maxDistance: d.maxDistance,
            p50Ms: round(d.p50, 2),
            p95Ms: round(d.p95, 2),
            foundPerQuery: round(d.foundPerQuery, 1),
          })),
          scanMs: round(similar.scanMs, 0),
        },
      }
    : {}),
  loadAverageEnd: round(loadavg()[0]!, 2),
};

if (args.json) {
  console.log(JSON.stringify({ ...report, perImage: rows }));
} else {
  console.log(
    `features benchmark: ${rows.length} COCO photos, ${repeat} timed runs each, load average ${report.loadAverage}`,
  );
  for (const detector of ['sift', 'orb'] as const) {
    const s = report[detector];
    const peer =
      'opencvMsPerImage' in s
        ? `  | OpenCV ${s.opencvMsPerImage} ms (CPU ${s.opencvCpuMsPerImage} ms, ${s.opencvKeypointsPerImage} kp)  ours/OpenCV ${s.ratioToOpenCv}x wall, ${s.cpuRatioToOpenCv}x CPU`
        : '';
    console.log(
      `${detector.padEnd(4)}  ${s.msPerImage} ms/image (CPU ${s.cpuMsPerImage} ms)  ${s.keypointsPerImage} keypoints/image  ${s.keypointsPerSecond} keypoints/s${peer}`,
    );
  }
  if (!opencv) console.log(`OpenCV peer skipped: ${report.opencv.skipped}`);
  else console.log(`peer: OpenCV ${opencv.opencv} (opencv-python-headless), ${opencv.threads} thread`);
  console.log(`peak RSS ${report.peakRssMiB} MiB`);
  printTable();
}

/** Every figure of the run in one table, with the goals. */
function printTable(): void {
  const lines: [string, string, string][] = [];
  const sift = report.sift;
  lines.push([
    'SIFT ms/image (wall; CPU)',
    `${sift.msPerImage}; ${sift.cpuMsPerImage}` +
      ('opencvMsPerImage' in sift
        ? ` (OpenCV ${sift.opencvMsPerImage}; ${sift.opencvCpuMsPerImage}: ${sift.ratioToOpenCv}x, ${sift.cpuRatioToOpenCv}x CPU)`
        : ''),
    'within 2x of OpenCV',
  ]);
  const orb = report.orb;
  lines.push([
    'ORB ms/image (wall; CPU)',
    `${orb.msPerImage}; ${orb.cpuMsPerImage}` +
      ('opencvMsPerImage' in orb ? ` (OpenCV ${orb.opencvMsPerImage}; ${orb.opencvCpuMsPerImage})` : ''),
    '-',
  ]);
  if (report.http) {
    const h = report.http;
    lines.push([
      '/v1/features/detect hit p50 (p95)',
      `${h.hitP50Ms} ms (${h.hitP95Ms}), ${h.hits} hits, ${Math.round(h.answerBytes / 1024)} KiB answer`,
      '<= 5 ms',
    ]);
    lines.push([
      '/v1/features/detect miss p50 (p95)',
      `${h.missP50Ms} ms (${h.missP95Ms}), ${h.misses} misses, ${h.keypoints} keypoints`,
      '-',
    ]);
  } else lines.push(['/v1/features/detect', 'skipped (--no-http)', '<= 5 ms hit p50']);
  if (report.similar) {
    for (const d of report.similar.distances) {
      lines.push([
        `similar p50 (p95), maxDistance ${d.maxDistance}`,
        `${d.p50Ms} ms (${d.p95Ms}), ${report.similar.rows.toLocaleString('en')} hashes`,
        d.maxDistance <= 7 ? '<= 20 ms' : '- (above the default 7)',
      ]);
    }
  } else lines.push(['similar', 'skipped (--no-similar)', '<= 20 ms p50']);
  const widths = [0, 1, 2].map((i) => Math.max(...lines.map((line) => line[i]!.length), 6));
  console.log(`\nsummary (load average ${report.loadAverage} at the start, ${report.loadAverageEnd} at the end)`);
  console.log(`${'figure'.padEnd(widths[0]!)}  ${'measured'.padEnd(widths[1]!)}  goal`);
  for (const [what, measured, goal] of lines)
    console.log(`${what.padEnd(widths[0]!)}  ${measured.padEnd(widths[1]!)}  ${goal}`);
}
