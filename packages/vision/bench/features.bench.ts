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

const report = {
  images: rows.length,
  repeat,
  loadAverage: round(load, 2),
  sift: summary('sift'),
  orb: summary('orb'),
  opencv: opencv ? { version: opencv.opencv, threads: opencv.threads } : { skipped: opencvError ?? '--no-opencv' },
  peakRssMiB: round(process.resourceUsage().maxRSS / 1024, 0),
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
}
