/**
 * Transform benchmark: `npm run bench:transform [-- --passes N --concurrency N --json]`.
 *
 * The work is resize + sharpen + WebP (`resize:640x480/sharpen/format:webp:80`) on every photo of
 * ../shared/images/photos, three ways:
 *   1. engine: applyRecipe with the parsed recipe (input checks, planning, one sharp pipeline);
 *   2. sharp: the same operations written directly with sharp (the floor; goal: engine >= 0.9x its images/s);
 *   3. ImageMagick: `convert in -resize 640x480> -unsharp 0x1 -quality 80 webp:-`, one process per image, as a
 *      service shelling out to convert would run it (Debian's ImageMagick 6, /usr/bin/convert).
 * Latency: one image at a time, p50/p95 over `passes` rounds. Throughput: `concurrency` images in flight (default:
 * the CPUs), the median round's images/s. The ways' rounds alternate, so drift hits them alike.
 * Then peak RSS for a 50-megapixel JPEG and PNG generated here, each way in a fresh process (engine and sharp: the
 * child's maxRSS; ImageMagick: GNU time's %M). Last, the rendition cache hit through the HTTP route
 * (GET /v1/images/{id}/renditions/{recipe}, bench/rendition-cache.ts; goal p50 <= 5 ms), which needs the local stack
 * (`--no-http` skips it, `--http-only` runs only it; run it under `flock /tmp/imgpipe-stack.lock` when others use
 * the stack).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { applyRecipe } from '../src/apply.ts';
import { parseRecipe } from '../src/grammar/parse.ts';
import { sharp } from '../src/sharp-instance.ts';
import { sharedPath, sharedPhotos } from '../src/testing/shared.ts';

const run = promisify(execFile);
const RECIPE = 'resize:640x480/sharpen/format:webp:80';
const CONVERT = '/usr/bin/convert';
const MEGAPIXELS_50 = { width: 8660, height: 5774 };

const { values: args } = parseArgs({
  options: {
    passes: { type: 'string', default: '7' },
    concurrency: { type: 'string', default: String(availableParallelism()) },
    json: { type: 'boolean', default: false },
    'rss-child': { type: 'string' },
    'no-http': { type: 'boolean', default: false },
    'http-only': { type: 'boolean', default: false },
    'http-requests': { type: 'string', default: '200' },
    file: { type: 'string' },
  },
});

const recipe = parseRecipe(RECIPE);

type Way = 'engine' | 'sharp' | 'imagemagick';

const transformers: Record<Way, (bytes: Buffer, file: string) => Promise<number>> = {
  async engine(bytes) {
    return (await applyRecipe(bytes, recipe)).bytes.length;
  },
  async sharp(bytes) {
    const output = await sharp(bytes, { failOn: 'error', autoOrient: true })
      .resize({ width: 640, height: 480, fit: 'inside', withoutEnlargement: true })
      .sharpen({ sigma: 1, m1: 1, m2: 2 })
      .keepIccProfile()
      .webp({ quality: 80 })
      .toBuffer();
    return output.length;
  },
  async imagemagick(_bytes, file) {
    const { stdout } = await run(
      CONVERT,
      [file, '-auto-orient', '-resize', '640x480>', '-unsharp', '0x1', '-quality', '80', 'webp:-'],
      { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
    );
    return stdout.length;
  },
};

if (args['rss-child']) {
  // One transform of --file in this fresh process; the parent reads our peak RSS.
  const way = args['rss-child'] as Way;
  const bytes = readFileSync(args.file!);
  const baselineKb = Math.round(process.memoryUsage().rss / 1024);
  const started = performance.now();
  const outputBytes = await transformers[way](bytes, args.file!);
  const ms = performance.now() - started;
  console.log(JSON.stringify({ baselineKb, maxRssKb: process.resourceUsage().maxRSS, ms, outputBytes }));
  process.exit(0);
}

if (args['http-only']) {
  // Only the rendition cache through HTTP (needs the local stack).
  const { measureRenditionCacheHit } = await import('./rendition-cache.ts');
  const dog = readFileSync(sharedPath('images', 'photos', 'dog.jpg'));
  const requests = Number(args['http-requests']);
  const memory = await measureRenditionCacheHit(dog, requests, 64 * 1024 * 1024);
  const s3 = await measureRenditionCacheHit(dog, requests, 0);
  console.log(JSON.stringify({ memory, s3 }, (_key, value) => (typeof value === 'number' ? round(value) : value), 2));
  process.exit(0);
}

const passes = Number(args.passes);
const concurrency = Number(args.concurrency);
const photos = sharedPhotos().map((photo) => ({ ...photo, file: sharedPath('images', 'photos', photo.name) }));
const hasConvert = await run(CONVERT, ['-version'])
  .then(({ stdout }) => String(stdout).split('\n')[0]!)
  .catch(() => undefined);
const ways: Way[] = hasConvert ? ['engine', 'sharp', 'imagemagick'] : ['engine', 'sharp'];

function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

async function latencies(way: Way): Promise<number[]> {
  const times: number[] = [];
  for (const photo of photos) {
    const started = performance.now();
    await transformers[way](photo.bytes, photo.file);
    times.push(performance.now() - started);
  }
  return times;
}

/** Seconds to run every photo once with `concurrency` in flight. */
async function throughput(way: Way): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < photos.length) {
        const photo = photos[next++]!;
        await transformers[way](photo.bytes, photo.file);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

// Warm-up: load libvips' modules, JIT, page cache.
for (const way of ways) await latencies(way);

// Rounds alternate the ways' order; each way's images/s is the median of its rounds, so a burst of load from
// elsewhere on the machine skews one round, not the result.
const latency: Record<string, number[]> = {};
const rates: Record<string, number[]> = {};
for (let pass = 0; pass < passes; pass++) {
  const order = pass % 2 === 0 ? ways : [...ways].reverse();
  for (const way of order) {
    latency[way] = [...(latency[way] ?? []), ...(await latencies(way))];
    rates[way] = [...(rates[way] ?? []), photos.length / (await throughput(way))];
  }
}

const summary = Object.fromEntries(
  ways.map((way) => [
    way,
    {
      imagesPerSecond: round(percentile(rates[way]!, 0.5)),
      p50Ms: round(percentile(latency[way]!, 0.5)),
      p95Ms: round(percentile(latency[way]!, 0.95)),
    },
  ]),
) as Record<Way, { imagesPerSecond: number; p50Ms: number; p95Ms: number }>;

// Peak RSS on a 50-megapixel input, each way in a fresh process: a JPEG (which libvips decodes at 1/8 scale when
// the output is small: shrink-on-load) and a PNG (decoded in full, streamed through the pipeline).
const scratch = mkdtempSync(join(tmpdir(), 'imgpipe-bench-transform-'));
const upscaled = (kernel: 'lanczos3' | 'nearest') =>
  sharp(sharedPath('images', 'photos', 'kite.jpg')).resize({ ...MEGAPIXELS_50, fit: 'fill', kernel });
const bigInputs: Record<string, { file: string; bytes: Buffer }> = {
  jpeg: {
    file: join(scratch, 'fifty-megapixels.jpg'),
    bytes: await upscaled('lanczos3').jpeg({ quality: 90 }).toBuffer(),
  },
  // Nearest-neighbour blocks keep the PNG under the 50 MiB input cap; decoding costs the same per pixel.
  png: { file: join(scratch, 'fifty-megapixels.png'), bytes: await upscaled('nearest').png().toBuffer() },
};
const self = fileURLToPath(import.meta.url);
type Peak = { peakMb: number; baselineMb?: number; ms: number };
const rss: Record<string, Record<string, Peak>> = {};
for (const [kind, input] of Object.entries(bigInputs)) {
  writeFileSync(input.file, input.bytes);
  const peaks: Record<string, Peak> = {};
  for (const way of ['engine', 'sharp'] as const) {
    const { stdout } = await run(process.execPath, [self, '--rss-child', way, '--file', input.file]);
    const child = JSON.parse(String(stdout)) as { baselineKb: number; maxRssKb: number; ms: number };
    peaks[way] = {
      peakMb: round(child.maxRssKb / 1024),
      baselineMb: round(child.baselineKb / 1024),
      ms: round(child.ms),
    };
  }
  if (hasConvert) {
    const started = performance.now();
    const convertArgs = [input.file, '-auto-orient', '-resize', '640x480>', '-unsharp', '0x1', '-quality', '80'];
    const { stderr } = await run('/usr/bin/time', [
      '-f',
      '%M',
      CONVERT,
      ...convertArgs,
      `webp:${join(scratch, 'out.webp')}`,
    ]);
    const kb = Number(String(stderr).trim().split('\n').at(-1));
    peaks['imagemagick'] = { peakMb: round(kb / 1024), ms: round(performance.now() - started) };
  }
  rss[kind] = peaks;
}
rmSync(scratch, { recursive: true, force: true });

// The rendition cache through HTTP: with the API's default memory tier (64 MiB), and with every hit read from S3.
const renditionCacheHit = args['no-http']
  ? null
  : await (async () => {
      const { measureRenditionCacheHit } = await import('./rendition-cache.ts');
      const dog = readFileSync(sharedPath('images', 'photos', 'dog.jpg'));
      const requests = Number(args['http-requests']);
      return {
        memory: await measureRenditionCacheHit(dog, requests, 64 * 1024 * 1024),
        s3: await measureRenditionCacheHit(dog, requests, 0),
      };
    })();

const result = {
  recipe: RECIPE,
  photos: photos.length,
  passes,
  concurrency,
  cpus: availableParallelism(),
  versions: { sharp: sharp.versions.sharp, libvips: sharp.versions.vips, imagemagick: hasConvert ?? null },
  ...summary,
  engineVsSharp: round(summary.engine.imagesPerSecond / summary.sharp.imagesPerSecond),
  engineVsImageMagick: summary.imagemagick
    ? round(summary.engine.imagesPerSecond / summary.imagemagick.imagesPerSecond)
    : null,
  fiftyMegapixels: {
    ...MEGAPIXELS_50,
    bytes: Object.fromEntries(Object.entries(bigInputs).map(([kind, input]) => [kind, input.bytes.length])),
    peakRss: rss,
  },
  renditionCacheHit: renditionCacheHit && {
    requests: renditionCacheHit.memory.requests,
    firstRequestMs: round(renditionCacheHit.memory.missMs),
    hitP50Ms: round(renditionCacheHit.memory.hit.p50Ms),
    hitP95Ms: round(renditionCacheHit.memory.hit.p95Ms),
    s3HitP50Ms: round(renditionCacheHit.s3.hit.p50Ms),
    s3HitP95Ms: round(renditionCacheHit.s3.hit.p95Ms),
    notModifiedP50Ms: round(renditionCacheHit.memory.notModified.p50Ms),
    notModifiedP95Ms: round(renditionCacheHit.memory.notModified.p95Ms),
  },
};

if (args.json) {
  console.log(JSON.stringify(result));
} else {
  console.log(`${RECIPE} on ${photos.length} photos, ${passes} passes, ${concurrency} in flight, ${result.cpus} CPUs`);
  console.log(
    `sharp ${result.versions.sharp} (libvips ${result.versions.libvips}); ${hasConvert ?? `ImageMagick: no ${CONVERT}`}`,
  );
  if (!hasConvert) {
    console.log(
      `ImageMagick's convert is not installed (${CONVERT}; Debian: apt-get install imagemagick): its rows and the ` +
        'engine / ImageMagick ratio are left out',
    );
  }
  console.log('');
  console.log('way           images/s   p50 ms   p95 ms');
  for (const way of ways) {
    const row = summary[way];
    console.log(
      `${way.padEnd(12)} ${String(row.imagesPerSecond).padStart(9)} ${String(row.p50Ms).padStart(8)} ${String(row.p95Ms).padStart(8)}`,
    );
  }
  console.log('');
  console.log(`engine / sharp:        ${result.engineVsSharp}x images/s (goal >= 0.9)`);
  if (result.engineVsImageMagick !== null)
    console.log(`engine / ImageMagick:  ${result.engineVsImageMagick}x images/s`);
  for (const [kind, input] of Object.entries(bigInputs)) {
    const size = `${MEGAPIXELS_50.width}x${MEGAPIXELS_50.height}, ${round(input.bytes.length / 1048576)} MiB`;
    console.log('');
    console.log(`50-megapixel ${kind.toUpperCase()} (${size}), one transform in a fresh process:`);
    for (const [way, row] of Object.entries(rss[kind]!)) {
      const baseline = row.baselineMb === undefined ? '' : ` (process at start ${row.baselineMb} MiB)`;
      console.log(`  ${way.padEnd(12)} peak RSS ${row.peakMb} MiB${baseline}, ${row.ms} ms`);
    }
  }
  const hits = result.renditionCacheHit;
  if (hits) {
    console.log('');
    console.log(
      `rendition cache through HTTP (GET /v1/images/{id}/renditions/{recipe}, ${hits.requests} requests each):`,
    );
    console.log(`  hit (memory tier)      p50 ${hits.hitP50Ms} ms, p95 ${hits.hitP95Ms} ms (goal p50 <= 5 ms)`);
    console.log(`  hit read from S3       p50 ${hits.s3HitP50Ms} ms, p95 ${hits.s3HitP95Ms} ms`);
    console.log(`  If-None-Match (304)    p50 ${hits.notModifiedP50Ms} ms, p95 ${hits.notModifiedP95Ms} ms`);
    console.log(`  first request (render) ${hits.firstRequestMs} ms`);
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
