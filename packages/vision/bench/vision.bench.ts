/**
 * Vision benchmark over shared/images/coco: `npm run bench:vision [-- --workers N --passes N --in-flight N --json]`.
 *
 * Each pass:
 *   1. latency: every image through each stage one call at a time (via the executor, so thread hops count);
 *   2. throughput: all images end to end (preprocess, then detect || faces [|| ocr]) with as many images in
 *      flight as workers (or --in-flight), timing images/s and the main thread's event-loop delay.
 * After each image's stage calls, each model's bare session.run on the same pixels, on this thread, with the
 * workers' thread count (interleaved, so load from other processes hits both alike); the stage/bare ratio is what
 * pre/post-processing and the pool cost on top of inference.
 * The stage/bare ratio is split into the handler's own prepare (letterbox) / inference / decode timings and the
 * executor's hop (stage time minus the handler's time: queueing, structured clone, thread messages).
 * The compute floor (issue 10): per image, the sum of bare session.run of every model (detect, faces, OCR's
 * det+cls+rec as timed inside the OCR call) plus a bare decode of the original file, divided by the cores the
 * workers use; the throughput run's images/s as a fraction of that floor (goal >= 0.7).
 * RSS is printed after each pass (the goal: pass 2 within 10% of pass 1) and the peak at the end.
 * Finally the same throughput run with workers = 0 shows what inference on the main thread does to the loop.
 *
 * OCR hook: when src/ocr/index.ts exports `recognizeTextHandler` (a HandlerRef taking (NormalizedImage,
 * { modelsDir, intraOpNumThreads })), it is timed as a fourth stage; otherwise the bench says it skipped OCR.
 * The OCR stage is timed as the pipeline runs it: text and then barcodes/QR codes in one worker call
 * (readTextAndCodesHandler); `--no-codes` times it without the code search, and the median code search is printed.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { loadVisionConfig } from '../src/config.ts';
import { availableCpus } from '../src/cpu.ts';
import type { StageTimings } from '../src/detect/detect-objects.ts';
import { ultralyticsLetterbox } from '../src/detect/ultralytics.ts';
import { yoloxLetterbox } from '../src/detect/yolox.ts';
import { letterbox } from '../src/geometry/letterbox.ts';
import { loadModel } from '../src/models/model-loader.ts';
import { startEventLoopDelayMonitor } from '../src/pool/event-loop-delay.ts';
import type { HandlerRef, StageFunction } from '../src/pool/handler-ref.ts';
import type { NormalizedImage } from '../src/preprocess/normalized-image.ts';
import { sharp } from '../src/sharp-instance.ts';
import { sharedModelsDir, sharedPath } from '../src/testing/shared.ts';
import { createVision, type Vision } from '../src/vision.ts';
import { recordFigures } from '../../../bench/figures.ts';

const { values: args } = parseArgs({
  options: {
    workers: { type: 'string' },
    passes: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
    'skip-main-thread': { type: 'boolean', default: false },
    'no-codes': { type: 'boolean', default: false },
    'in-flight': { type: 'string' },
  },
});

const modelsDir = process.env['IMGPIPE_MODELS_DIR'] ?? sharedModelsDir();
const config = loadVisionConfig({ ...process.env, IMGPIPE_MODELS_DIR: modelsDir });
const workers = args.workers === undefined ? config.workers : Number(args.workers);
const passes = Number(args.passes);
const inFlight = args['in-flight'] === undefined ? Math.max(1, workers) : Number(args['in-flight']);
const dir = sharedPath('images', 'coco');
const files = (await readdir(dir)).filter((name) => /\.(jpe?g|png)$/i.test(name)).sort();
const images = await Promise.all(files.map(async (name) => new Uint8Array(await readFile(join(dir, name)))));

type Stage = 'preprocess' | 'detect' | 'faces' | 'ocr';
const ocr = await loadOcrHook();

function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
const ms = (value: number) => Math.round(value * 10) / 10;

async function loadOcrHook(): Promise<HandlerRef<StageFunction> | undefined> {
  try {
    const module = (await import(new URL('../src/ocr/index.ts', import.meta.url).href)) as Record<string, unknown>;
    const ref = module['recognizeTextHandler'] as HandlerRef<StageFunction> | undefined;
    if (!ref || typeof ref.module !== 'string') return undefined;
    // The OCR stage reads codes in the same call when the codes module is there (see the note above).
    const codes = (await import(new URL('../src/codes/index.ts', import.meta.url).href).catch(() => ({}))) as Record<
      string,
      unknown
    >;
    const stage = codes['readTextAndCodesHandler'] as HandlerRef<StageFunction> | undefined;
    return stage && typeof stage.module === 'string' ? stage : ref;
  } catch {
    return undefined;
  }
}

async function runStages(vision: Vision, bytes: Uint8Array, timings?: Record<Stage, number[]>) {
  let start = performance.now();
  const { derivatives } = await vision.preprocess(bytes);
  timings?.preprocess.push(performance.now() - start);
  const image = derivatives.normalized;
  const timed = async <T>(stage: Stage, work: () => Promise<T>) => {
    const began = performance.now();
    const result = await work();
    timings?.[stage].push(performance.now() - began);
    return result;
  };
  if (timings) {
    // Latency: one stage at a time, so no stage waits for another in the pool's queue.
    const detected = await timed('detect', () => vision.detectObjects(image));
    handlerTimings.detect.push({ ...detected.timings, totalMs: timings.detect.at(-1)! });
    const faces = await timed('faces', () => vision.detectFaces(image));
    handlerTimings.faces.push({ ...faces.timings, totalMs: timings.faces.at(-1)! });
    if (ocr) {
      const cpu = process.cpuUsage();
      const read = (await timed('ocr', () => vision.run(ocr, image, ocrOptions))) as {
        timings?: { inferenceMs?: number; codesMs?: number };
      };
      if (read.timings?.codesMs !== undefined) {
        codesMs.push(read.timings.codesMs);
        // What the search adds to this image's OCR stage, measured within the same call (so load from other
        // processes, which slows both parts alike, cancels out).
        codesShare.push(read.timings.codesMs / (timings.ocr.at(-1)! - read.timings.codesMs));
      }
      const used = process.cpuUsage(cpu);
      if (read.timings?.inferenceMs !== undefined) {
        ocrInference.push(read.timings.inferenceMs);
        // OCR's session.run CPU, estimated: the call's process CPU times the share of its wall time spent in
        // session.run (the pool is otherwise idle here).
        ocrInferenceCpu.push(((used.user + used.system) / 1000) * (read.timings.inferenceMs / timings.ocr.at(-1)!));
      }
    }
  } else {
    start = performance.now();
    await Promise.all([
      vision.detectObjects(image),
      vision.detectFaces(image),
      ...(ocr ? [vision.run(ocr, image, ocrOptions)] : []),
    ]);
  }
  return image;
}

async function throughput(vision: Vision, inFlight: number) {
  const monitor = startEventLoopDelayMonitor(1);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < images.length) await runStages(vision, images[next++]!);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    imagesPerSecond: images.length / seconds,
    seconds,
    eventLoop: monitor.stop(),
    /** CPU of the whole process (all threads) per image: what a loaded machine cannot inflate. */
    cpuMsPerImage: (cpu.user + cpu.system) / 1000 / images.length,
  };
}

const vision = createVision({ config, workers });
const report: Record<string, unknown> = {
  images: images.length,
  workers,
  executor: vision.executor.mode,
  inferenceThreadsPerSession: vision.options.models.intraOpNumThreads,
  ocr: ocr
    ? ocr.name === 'readTextAndCodes'
      ? `timed as the stage runs it (text${args['no-codes'] ? ' only: --no-codes' : ' and codes'})`
      : 'timed'
    : 'skipped (src/ocr/index.ts has no recognizeTextHandler yet)',
};
const passReports: unknown[] = [];
const ocrOptions = { ...vision.options.models, ...(args['no-codes'] ? { codes: false } : {}) };
/** The OCR stage's code search per image (readTextAndCodes' timings.codesMs), last pass only. */
let codesMs: number[] = [];
let codesShare: number[] = [];
let lastRunCpuMsPerImage = Number.NaN;
let lastStageTimings: Record<Stage, number[]> | undefined;
/** OCR's own session.run time per image (detector + recogniser runs, summed inside the call), last pass only. */
let ocrInference: number[] = [];
let ocrInferenceCpu: number[] = [];
/** The detect and faces handlers' own timings and the stage time around them, last pass only. */
type TimedRun = StageTimings & { totalMs: number };
let handlerTimings: { detect: TimedRun[]; faces: TimedRun[] } = { detect: [], faces: [] };

// The floor: bare session.run on the same inputs, on this thread, with the workers' intra-op thread count, run
// right after each image's stage calls (while the workers idle) so both see the same load on a shared machine.
const threads = vision.options.models.intraOpNumThreads;
const detector = await loadModel(config.detectModel, { modelsDir, intraOpNumThreads: threads });
const faceModel = await loadModel(config.faceModel, { modelsDir, intraOpNumThreads: threads });
let bare: Record<string, number[]> = { detect: [], faces: [], decode: [] };
/** The same bare work in CPU time of the process (the workers idle meanwhile): load on the machine cannot inflate it. */
let bareCpu: Record<string, number[]> = { detect: [], faces: [], decode: [] };
const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

async function bareRuns(image: NormalizedImage, bytes: Uint8Array): Promise<void> {
  const decodeStarted = performance.now();
  const decodeCpu = process.cpuUsage();
  await sharp(bytes, { failOn: 'error' }).rotate().raw().toBuffer();
  bareCpu['decode']!.push(cpuMs(decodeCpu));
  bare['decode']!.push(performance.now() - decodeStarted);
  const detectorShape = detector.session.inputMetadata[0];
  const size = detectorShape?.isTensor ? (detectorShape.shape[3] as number) : 640;
  const spec = detector.metadata['names'] ? ultralyticsLetterbox(size, size) : yoloxLetterbox(size, size);
  const objectInput = await letterbox(image, spec);
  const faceInput = await letterbox(image, {
    maxSide: 640,
    multiple: 32,
    placement: 'top-left',
    padValue: 0,
    channelOrder: 'bgr',
    divisor: 1,
  });
  for (const [stage, model, input] of [
    ['detect', detector, objectInput],
    ['faces', faceModel, faceInput],
  ] as const) {
    const feeds = {
      [model.session.inputNames[0]!]: new ort.Tensor('float32', input.tensor, [1, 3, input.height, input.width]),
    };
    const began = performance.now();
    const cpu = process.cpuUsage();
    await model.session.run(feeds);
    bare[stage]!.push(performance.now() - began);
    bareCpu[stage]!.push(cpuMs(cpu));
  }
}

// Warm up: load every model in every worker before measuring.
await Promise.all(
  Array.from({ length: Math.max(1, workers) * 2 }, (_, i) => runStages(vision, images[i % images.length]!)),
);

for (let pass = 1; pass <= passes; pass++) {
  const timings: Record<Stage, number[]> = { preprocess: [], detect: [], faces: [], ocr: [] };
  ocrInference = [];
  ocrInferenceCpu = [];
  codesMs = [];
  codesShare = [];
  handlerTimings = { detect: [], faces: [] };
  bare = { detect: [], faces: [], decode: [] };
  bareCpu = { detect: [], faces: [], decode: [] };
  for (const bytes of images) {
    const image = await runStages(vision, bytes, timings);
    await bareRuns(image, bytes);
  }
  lastStageTimings = timings;
  if (codesMs.length > 0) {
    report['codesSearch'] = {
      medianMs: ms(percentile(codesMs, 0.5)),
      p95Ms: ms(percentile(codesMs, 0.95)),
      medianShareOfTextMs: Math.round(percentile(codesShare, 0.5) * 1000) / 1000,
    };
  }
  const run = await throughput(vision, inFlight);
  lastRunCpuMsPerImage = run.cpuMsPerImage;
  global.gc?.();
  const stages = Object.fromEntries(
    (Object.entries(timings) as [Stage, number[]][])
      .filter(([, values]) => values.length > 0)
      .map(([stage, values]) => [
        stage,
        { medianMs: ms(percentile(values, 0.5)), p95Ms: ms(percentile(values, 0.95)) },
      ]),
  );
  passReports.push({
    pass,
    stages,
    imagesPerSecond: Math.round(run.imagesPerSecond * 100) / 100,
    eventLoopDelay: run.eventLoop,
    rssMiB: mib(process.memoryUsage().rss),
  });
}
await vision.close();
report['passes'] = passReports;

// OCR runs a detector and then the recogniser once per batch of lines, so its floor is the sum of those
// session.run calls, timed inside each call on the very tensors it built.
if (ocrInference.length > 0) bare['ocr'] = ocrInference;
// stage/bare per image (stage call and bare run back to back, so both see the same load), then the median; and the
// ratio of medians the issue first reported.
report['bareSessionRun'] = Object.fromEntries(
  Object.entries(bare)
    .filter(([stage]) => stage !== 'decode')
    .map(([stage, values]) => {
      const median = percentile(values, 0.5);
      const stageTimes = lastStageTimings?.[stage as Stage] ?? [];
      const perImage = values.map((value, index) => stageTimes[index]! / value);
      return [
        stage,
        {
          medianMs: ms(median),
          p95Ms: ms(percentile(values, 0.95)),
          stageOverBare: Math.round(percentile(perImage, 0.5) * 100) / 100,
          medianStageOverMedianBare: Math.round((percentile(stageTimes, 0.5) / median) * 100) / 100,
        },
      ];
    }),
);

// Where detect's and faces' stage time goes, medians of the handler's own clock and of the hop around it.
report['stageBreakdown'] = Object.fromEntries(
  (Object.entries(handlerTimings) as [string, TimedRun[]][]).map(([stage, runs]) => [
    stage,
    {
      prepareMs: ms(
        percentile(
          runs.map((run) => run.prepareMs),
          0.5,
        ),
      ),
      inferenceMs: ms(
        percentile(
          runs.map((run) => run.inferenceMs),
          0.5,
        ),
      ),
      decodeMs: ms(
        percentile(
          runs.map((run) => run.decodeMs),
          0.5,
        ),
      ),
      hopMs: ms(
        percentile(
          runs.map((run) => run.totalMs - run.prepareMs - run.inferenceMs - run.decodeMs),
          0.5,
        ),
      ),
      /** Stage time over the handler's own session.run, per image: the overhead alone, whatever the load. */
      stageOverOwnRun:
        Math.round(
          percentile(
            runs.map((run) => run.totalMs / run.inferenceMs),
            0.5,
          ) * 100,
        ) / 100,
    },
  ]),
);

// The compute floor: mean per image of decode + every model's bare session.run, over the cores the workers use.
const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const floorParts = Object.fromEntries(Object.entries(bare).map(([part, values]) => [part, mean(values)]));
const perImageMs = Object.values(floorParts).reduce((sum, value) => sum + value, 0);
const coresUsed = Math.min(availableCpus(), Math.max(1, workers) * threads);
const floorImagesPerSecond = (coresUsed * 1000) / perImageMs;
const lastThroughput = (passReports.at(-1) as { imagesPerSecond: number }).imagesPerSecond;
// In CPU time, which load from other processes does not inflate: the bare work's CPU per image (OCR's estimated from
// its call's CPU and its session.run share) over the CPU the whole process burnt per image in the throughput run.
const cpuParts = { ...bareCpu, ...(ocrInferenceCpu.length > 0 ? { ocr: ocrInferenceCpu } : {}) };
const floorCpuMs = Object.values(cpuParts).reduce((sum, values) => sum + mean(values), 0);
report['computeFloor'] = {
  meanMsPerImage: Object.fromEntries(Object.entries(floorParts).map(([part, value]) => [part, ms(value)])),
  sumMsPerImage: ms(perImageMs),
  coresUsed,
  floorImagesPerSecond: Math.round(floorImagesPerSecond * 100) / 100,
  inProcessImagesPerSecond: lastThroughput,
  fractionOfFloor: Math.round((lastThroughput / floorImagesPerSecond) * 100) / 100,
  floorCpuMsPerImage: ms(floorCpuMs),
  inProcessCpuMsPerImage: ms(lastRunCpuMsPerImage),
  cpuFractionOfFloor: Math.round((floorCpuMs / lastRunCpuMsPerImage) * 100) / 100,
};

const rssPerPass = passReports.map((entry) => (entry as { rssMiB: number }).rssMiB);
report['rss'] = {
  perPassMiB: rssPerPass,
  peakMiB: mib(process.resourceUsage().maxRSS * 1024),
  lastOverFirst: Math.round((rssPerPass.at(-1)! / rssPerPass[0]!) * 1000) / 1000,
};

if (!args['skip-main-thread'] && workers > 0) {
  // Contrast: everything on the main thread (workers = 0), same images.
  const inline = createVision({ config, workers: 0 });
  await runStages(inline, images[0]!);
  const run = await throughput(inline, 1);
  await inline.close();
  report['mainThreadContrast'] = {
    imagesPerSecond: Math.round(run.imagesPerSecond * 100) / 100,
    eventLoopDelay: run.eventLoop,
  };
}

{
  const bare = report['bareSessionRun'] as Record<string, { stageOverBare: number }>;
  const floor = report['computeFloor'] as { fractionOfFloor: number; cpuFractionOfFloor: number };
  recordFigures('vision', {
    detectStageOverBare: bare['detect']!.stageOverBare,
    facesStageOverBare: bare['faces']!.stageOverBare,
    fractionOfFloor: floor.fractionOfFloor,
    cpuFractionOfFloor: floor.cpuFractionOfFloor,
  });
}

if (args.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  console.log(
    `vision bench: ${images.length} COCO images, ${report['executor']} with ${workers} workers x ${threads} onnxruntime threads; OCR ${report['ocr']}`,
  );
  for (const entry of passReports as {
    pass: number;
    stages: Record<string, { medianMs: number; p95Ms: number }>;
    imagesPerSecond: number;
    eventLoopDelay: { p99Ms: number; maxMs: number };
    rssMiB: number;
  }[]) {
    const stages = Object.entries(entry.stages)
      .map(([stage, { medianMs, p95Ms }]) => `${stage} ${medianMs}/${p95Ms}`)
      .join(', ');
    console.log(
      `  pass ${entry.pass}: median/p95 ms ${stages}; end to end ${entry.imagesPerSecond} images/s; event-loop delay p99 ${entry.eventLoopDelay.p99Ms} ms (max ${entry.eventLoopDelay.maxMs}); RSS ${entry.rssMiB} MiB`,
    );
  }
  const codes = report['codesSearch'] as { medianMs: number; p95Ms: number; medianShareOfTextMs: number } | undefined;
  if (codes) {
    console.log(
      `  codes search inside the ocr stage: median ${codes.medianMs} ms, p95 ${codes.p95Ms} ms; per image it adds a median ${(codes.medianShareOfTextMs * 100).toFixed(1)}% to the stage's text reading`,
    );
  }
  for (const [stage, value] of Object.entries(report['bareSessionRun'] as Record<string, Record<string, number>>)) {
    console.log(
      `  bare session.run ${stage}: median ${value['medianMs']} ms, p95 ${value['p95Ms']} ms; stage/bare per image, median ${value['stageOverBare']}${stage === 'ocr' ? '' : ' (goal <= 1.2)'} (median stage / median bare ${value['medianStageOverMedianBare']})`,
    );
  }
  for (const [stage, value] of Object.entries(report['stageBreakdown'] as Record<string, Record<string, number>>)) {
    console.log(
      `  ${stage} stage median: prepare ${value['prepareMs']} ms, session.run ${value['inferenceMs']} ms, decode ${value['decodeMs']} ms, executor hop ${value['hopMs']} ms; stage / its own session.run ${value['stageOverOwnRun']}`,
    );
  }
  const floor = report['computeFloor'] as {
    meanMsPerImage: Record<string, number>;
    sumMsPerImage: number;
    coresUsed: number;
    floorImagesPerSecond: number;
    inProcessImagesPerSecond: number;
    fractionOfFloor: number;
    floorCpuMsPerImage: number;
    inProcessCpuMsPerImage: number;
    cpuFractionOfFloor: number;
  };
  console.log(
    `  compute floor: ${Object.entries(floor.meanMsPerImage)
      .map(([part, value]) => `${part} ${value}`)
      .join(
        ' + ',
      )} = ${floor.sumMsPerImage} ms per image on ${floor.coresUsed} cores -> ${floor.floorImagesPerSecond} images/s; in-process ${floor.inProcessImagesPerSecond} images/s = ${floor.fractionOfFloor} of the floor (goal >= 0.7)`,
  );
  console.log(
    `  in CPU time: floor ${floor.floorCpuMsPerImage} ms per image, in-process ${floor.inProcessCpuMsPerImage} ms per image (all threads) = ${floor.cpuFractionOfFloor}`,
  );
  const rss = report['rss'] as { perPassMiB: number[]; peakMiB: number; lastOverFirst: number };
  console.log(
    `  RSS per pass ${rss.perPassMiB.join(' -> ')} MiB (last/first ${rss.lastOverFirst}; goal <= 1.10), peak ${rss.peakMiB} MiB`,
  );
  const contrast = report['mainThreadContrast'] as
    | { imagesPerSecond: number; eventLoopDelay: { p99Ms: number; maxMs: number } }
    | undefined;
  if (contrast) {
    console.log(
      `  same work on the main thread (workers 0): ${contrast.imagesPerSecond} images/s; event-loop delay p99 ${contrast.eventLoopDelay.p99Ms} ms (max ${contrast.eventLoopDelay.maxMs})`,
    );
  }
}
