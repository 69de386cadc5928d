import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { type ImageAnalysis, OCR_LANGUAGES, requestsFeatures, UPLOAD_ANALYSES } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import { createVisionEngine, InProcessPipeline, stagesSettings } from '@imgpipe/stages';
import { createLogger } from '@imgpipe/telemetry';
import { annotateImage } from '@imgpipe/vision/annotate';
import { createInProcessExecutor, createWorkerPool } from '@imgpipe/vision/features';
import { parseAnalyses, parseOcrLanguages, parseOcrModel, wholeNumber } from '../cli-args.ts';
import { type Command, EXIT } from '../command.ts';
import { loadCliConfig } from '../config.ts';
import { formatAnalysis } from '../format-analysis.ts';
import { claimedContentType, listImageFiles } from '../image-files.ts';
import { createProgress } from '../progress.ts';

const HELP = `Usage: imgpipe analyze <files or folders...> [options]

Runs every stage (preprocess, object detection, faces, OCR, aggregate) in this process: no Kafka, storage or
database needed. Folders are searched recursively for .jpg .jpeg .png .webp .avif .gif .tif .tiff files.

Options:
  --json               one result object per line and image (the result contract, plus "file")
  --annotate <dir>     write each image with boxes, faces and text polygons (and with features, the strongest
                       keypoints) drawn to <dir>/<name>.annotated.png
  --analyses <list>    comma-separated subset of ${UPLOAD_ANALYSES.join(',')} (default: detect,faces,ocr;
                       features, keypoints as the pipeline's features stage finds them, only when named)
  --ocr-model <set>    OCR model set for these images: ppocr-v4 or ppocr-v5 (default IMGPIPE_OCR_MODEL_SET, else
                       ppocr-v4); the result's ocr model identity says which models ran
  --ocr-languages <l>  comma-separated languages to restrict OCR to: ${OCR_LANGUAGES.join(',')} (default none);
                       only their scripts, digits and punctuation are read; ja reads with ppocr-v5
  --concurrency <n>    images analysed at once (default 2)
  --workers <n>        vision worker threads (default from IMGPIPE_VISION_WORKERS; 0 = this thread)
  -h, --help           this help

Models are read from IMGPIPE_MODELS_DIR ('imgpipe models fetch' fills it).
Exit code 0 when every image completed, 1 when any failed or was partial (each failure's code on stderr),
2 for usage errors.`;

export const command: Command = {
  summary: 'Analyse image files or folders in-process (no services needed)',
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        annotate: { type: 'string' },
        analyses: { type: 'string' },
        concurrency: { type: 'string', default: '2' },
        'ocr-model': { type: 'string' },
        'ocr-languages': { type: 'string' },
        workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help || positionals.length === 0) {
      console.log(HELP);
      return values.help ? EXIT.ok : EXIT.usage;
    }
    const analyses = parseAnalyses(values.analyses);
    const ocrModel = parseOcrModel(values['ocr-model']);
    const ocrLanguages = parseOcrLanguages(values['ocr-languages']);
    const concurrency = wholeNumber('--concurrency', values.concurrency, 1);
    const workers = values.workers === undefined ? undefined : wholeNumber('--workers', values.workers, 0);
    const config = loadCliConfig([], { vision: stagesSettings.vision, features: stagesSettings.features });
    const files = await listImageFiles(positionals);
    if (files.length === 0) {
      console.error('imgpipe analyze: no image files found');
      return EXIT.usage;
    }
    if (values.annotate) await mkdir(values.annotate, { recursive: true });

    const vision = await createVisionEngine({
      config: config.vision,
      inProcess: true,
      ...(workers === undefined ? {} : { workers }),
    });
    // Keypoints run on a pool of their own (no models): only when asked for.
    const poolSize = workers ?? config.vision.workers;
    const featureExecutor = requestsFeatures({ analyses })
      ? poolSize === 0
        ? createInProcessExecutor()
        : createWorkerPool({ size: poolSize })
      : undefined;
    const pipeline = new InProcessPipeline(vision, createLogger('imgpipe-analyze', 'silent'), {
      ...(featureExecutor ? { features: { executor: featureExecutor, config: config.features } } : {}),
    });
    // On a terminal, a bar on stderr with rate and time left (for more than one image); nothing when piped.
    const progress = createProgress({ total: files.length > 1 ? files.length : 0, unit: 'images' });
    const failures: { file: string; codes: string[] }[] = [];
    let next = 0;
    // Results print in the order the files were given, whichever finishes first.
    const outputs: (string | undefined)[] = [];
    let printed = 0;
    const emit = (index: number, text: string) => {
      outputs[index] = text;
      if (outputs[printed] === undefined) return;
      progress.printAbove(() => {
        while (outputs[printed] !== undefined) {
          console.log(outputs[printed]);
          outputs[printed++] = '';
        }
      });
    };

    const analyzeOne = async (index: number, file: string) => {
      const bytes = await readFile(file);
      const {
        tenantId: _tenant,
        occurredAt: _at,
        ...analysis
      } = await pipeline.analyze({
        bytes,
        sourceName: basename(file),
        contentType: claimedContentType(file),
        analyses,
        ...(ocrModel ? { ocrModel } : {}),
        ...(ocrLanguages.length > 0 ? { ocrLanguages } : {}),
      });
      if (analysis.status !== 'completed') failures.push({ file, codes: failureCodes(analysis) });
      if (values.annotate && analysis.image) await writeAnnotated(values.annotate, file, bytes, analysis);
      emit(index, values.json ? JSON.stringify({ file, ...analysis }) : formatAnalysis(file, analysis));
    };

    try {
      await Promise.all(
        Array.from({ length: Math.min(concurrency, files.length) }, async () => {
          while (next < files.length) {
            const index = next++;
            const file = files[index]!;
            try {
              await analyzeOne(index, file);
            } catch (error) {
              const code = error instanceof ImgpipeError ? error.code : 'STAGE_INTERNAL';
              const message = (error as Error).message;
              failures.push({ file, codes: [code] });
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
      await vision.close();
      await featureExecutor?.close();
    }
    for (const failure of failures) console.error(`imgpipe analyze: ${failure.file}: ${failure.codes.join(', ')}`);
    return failures.length > 0 ? EXIT.failure : EXIT.ok;
  },
};

/** The codes of the stages that failed, leaving out the knock-on STAGE_DEPENDENCY_FAILED of the ones after them. */
function failureCodes(analysis: ImageAnalysis): string[] {
  const codes = Object.values(analysis.stages).flatMap((stage) =>
    stage.status === 'failed' && stage.error ? [stage.error.code] : [],
  );
  const causes = codes.filter((code) => code !== 'STAGE_DEPENDENCY_FAILED');
  return causes.length > 0 ? causes : codes;
}

async function writeAnnotated(dir: string, file: string, bytes: Buffer, analysis: ImageAnalysis): Promise<void> {
  const png = await annotateImage(bytes, {
    objects: analysis.objects,
    faces: analysis.faces,
    text: analysis.text.lines,
    ...(analysis.features ? { keypoints: analysis.features.keypoints } : {}),
  });
  await writeFile(join(dir, `${basename(file, extname(file))}.annotated.png`), png);
}
