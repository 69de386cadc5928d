import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ImgpipeError } from '@imgpipe/core';
import {
  createInProcessExecutor,
  createWorkerPool,
  DETECTORS,
  decodeFeatureImage,
  detectKeypointsHandler,
  encodeFeatures,
  type Features,
} from '@imgpipe/vision/features';
import { wholeNumber } from '../cli-args.ts';
import { featureOptionsFromFlags } from '../feature-flags.ts';
import { type Command, EXIT } from '../command.ts';
import { listImageFiles } from '../image-files.ts';
import { createProgress } from '../progress.ts';

const HELP = `Usage: imgpipe features <files or folders...> [options]

Detects keypoints (SIFT or ORB, OpenCV's parameters and defaults) in each image, in this process: no services
needed. Keypoints are reported in pixels of the original image, strongest first.

Options:
  --detector <name>     ${DETECTORS.join(' or ')} (default sift)
  --nfeatures <n>       keep the best n keypoints (SIFT default 0 = all, ORB default 500)
  --param <name=value>  any other detector parameter, repeatable: SIFT nOctaveLayers, contrastThreshold,
                        edgeThreshold, sigma; ORB scaleFactor, nlevels, edgeThreshold, fastThreshold, scoreType
  --max-side <px>       detect on a copy whose long side is at most this (default 1280, the pipeline's normalised
                        size; 0 = full size)
  --top <n>             keypoints listed per image (default 5; with --json all)
  --out <dir>           also write each image's keypoints and descriptors in the stored binary form
                        (docs/features.md) to <dir>/<name>.<detector>.ipkf
  --workers <n>         worker threads (default: the CPUs available; 0 = this thread)
  --json                one object per line and image: file, detector, params, width, height, count, keypoints,
                        timings
  -h, --help            this help

Exit code 0 when every image was read, 1 when any failed (its code on stderr), 2 for usage errors.`;

export const command: Command = {
  summary: 'Detect SIFT or ORB keypoints in image files (OpenCV parameters; no services needed)',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        detector: { type: 'string', default: 'sift' },
        nfeatures: { type: 'string' },
        param: { type: 'string', multiple: true, default: [] },
        'max-side': { type: 'string', default: '1280' },
        top: { type: 'string' },
        out: { type: 'string' },
        workers: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help || positionals.length === 0) {
      console.log(HELP);
      return values.help ? EXIT.ok : EXIT.usage;
    }
    const options = featureOptionsFromFlags(values);
    const maxSide = wholeNumber('--max-side', values['max-side'], 0);
    const top =
      values.top === undefined ? (values.json ? Number.POSITIVE_INFINITY : 5) : wholeNumber('--top', values.top, 0);
    const workers = values.workers === undefined ? undefined : wholeNumber('--workers', values.workers, 0);
    const files = await listImageFiles(positionals);
    if (files.length === 0) {
      console.error('imgpipe features: no image files found');
      return EXIT.usage;
    }
    if (values.out) await mkdir(values.out, { recursive: true });

    const executor =
      workers === 0 ? createInProcessExecutor() : createWorkerPool(workers === undefined ? {} : { size: workers });
    const progress = createProgress({ total: files.length > 1 ? files.length : 0, unit: 'images' });
    const outputs: (string | undefined)[] = [];
    let printed = 0;
    const emit = (index: number, text: string) => {
      outputs[index] = text;
      progress.printAbove(() => {
        while (outputs[printed] !== undefined) {
          console.log(outputs[printed]);
          outputs[printed++] = '';
        }
      });
    };
    const failures: string[] = [];
    let next = 0;
    try {
      await Promise.all(
        Array.from({ length: Math.min(executor.concurrency, files.length) }, async () => {
          while (next < files.length) {
            const index = next++;
            const file = files[index]!;
            try {
              const started = performance.now();
              const image = await decodeFeatureImage(await readFile(file), { maxSide });
              const features = await executor.run(detectKeypointsHandler, image, options);
              const totalMs = performance.now() - started;
              if (values.out) {
                const name = `${basename(file, extname(file))}.${features.detector}.ipkf`;
                await writeFile(join(values.out, name), encodeFeatures(features));
              }
              emit(index, values.json ? jsonLine(file, features, top, totalMs) : textBlock(file, features, image, top));
            } catch (error) {
              const code = error instanceof ImgpipeError ? error.code : 'STAGE_INTERNAL';
              failures.push(`${file}: ${code}`);
              const message = (error as Error).message;
              emit(
                index,
                values.json
                  ? JSON.stringify({ file, error: { code, message } })
                  : `${file}  error  ${code}: ${message}`,
              );
            }
            progress.tick();
          }
        }),
      );
    } finally {
      progress.done();
      await executor.close();
    }
    for (const failure of failures) console.error(`imgpipe features: ${failure}`);
    return failures.length > 0 ? EXIT.failure : EXIT.ok;
  },
};

const round = (value: number, digits: number) => Number(value.toFixed(digits));

function jsonLine(file: string, features: Features, top: number, totalMs: number): string {
  return JSON.stringify({
    file,
    detector: features.detector,
    params: features.params,
    width: features.width,
    height: features.height,
    count: features.keypoints.length,
    keypoints: features.keypoints.slice(0, top).map((k) => ({
      x: round(k.x, 2),
      y: round(k.y, 2),
      size: round(k.size, 2),
      angle: round(k.angle, 2),
      response: Number(k.response.toPrecision(4)),
      octave: k.octave,
    })),
    timings: { detectMs: round(features.timings.detectMs, 1), totalMs: round(totalMs, 1) },
  });
}

function textBlock(file: string, features: Features, image: { width: number; height: number }, top: number): string {
  const scaled = image.width !== features.width ? ` (detected at ${image.width}x${image.height})` : '';
  const lines = [
    `${file}  ${features.detector}  ${features.keypoints.length} keypoints  ${features.width}x${features.height}${scaled}  ${Math.round(features.timings.detectMs)} ms`,
  ];
  for (const k of features.keypoints.slice(0, top)) {
    lines.push(
      `  x ${k.x.toFixed(1).padStart(7)}  y ${k.y.toFixed(1).padStart(7)}  size ${k.size.toFixed(1).padStart(6)}  angle ${k.angle.toFixed(1).padStart(5)}  response ${k.response.toPrecision(3)}`,
    );
  }
  return lines.join('\n');
}
