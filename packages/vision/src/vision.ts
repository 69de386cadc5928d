/**
 * The vision stages behind one object, for the in-process runner (`imgpipe analyze`) and the Kafka workers alike:
 *
 *   const vision = createVision();                      // config from the environment; worker pool by default
 *   const { info, derivatives } = await vision.preprocess(bytes);
 *   const { objects, model } = await vision.detectObjects(derivatives.normalized);
 *   const { faces } = await vision.detectFaces(derivatives.normalized);
 *   await vision.close();
 *
 * Each call runs the pure stage handler on the executor (worker threads, or this thread with workers = 0); the
 * handlers themselves are exported too, for callers that want to run them directly.
 */
import { type DetectObjectsOptions, type DetectObjectsResult, detectObjectsHandler } from './detect/detect-objects.ts';
import { type DetectFacesOptions, type DetectFacesResult, detectFacesHandler } from './faces/detect-faces.ts';
import { deriveInferenceThreads, loadVisionConfig, type VisionConfig } from './config.ts';
import { createInProcessExecutor, type StageExecutor } from './pool/executor.ts';
import type { HandlerArgs, HandlerRef, HandlerResult, StageFunction } from './pool/handler-ref.ts';
import { createWorkerPool } from './pool/worker-pool.ts';
import type { NormalizedImage } from './preprocess/normalized-image.ts';
import type { PreprocessOptions } from './preprocess/options.ts';
import type { OcrModelSetName } from '@imgpipe/contracts';
import { type PreprocessResult, preprocessHandler } from './preprocess/preprocess.ts';

export interface VisionStageOptions {
  preprocess: PreprocessOptions;
  detect: DetectObjectsOptions;
  faces: DetectFacesOptions;
  /** What OCR and other model stages should pass to loadModel. */
  models: { modelsDir: string; intraOpNumThreads: number };
  /** Whether the OCR stage also reads barcodes and QR codes. */
  ocrCodes: boolean;
  /** The OCR model set an image is read with unless its upload names one. */
  ocrModelSet: OcrModelSetName;
}

export interface Vision {
  readonly executor: StageExecutor;
  readonly options: VisionStageOptions;
  preprocess(bytes: Uint8Array, overrides?: Partial<PreprocessOptions>): Promise<PreprocessResult>;
  detectObjects(image: NormalizedImage, overrides?: Partial<DetectObjectsOptions>): Promise<DetectObjectsResult>;
  detectFaces(image: NormalizedImage, overrides?: Partial<DetectFacesOptions>): Promise<DetectFacesResult>;
  /** Any other stage handler (e.g. OCR) on the same executor. */
  run<F extends StageFunction>(handler: HandlerRef<F>, ...args: HandlerArgs<F>): Promise<HandlerResult<F>>;
  close(): Promise<void>;
}

export interface CreateVisionOptions {
  config?: VisionConfig;
  /** Overrides config.workers: 0 runs every stage on this thread. */
  workers?: number;
}

export function visionStageOptions(config: VisionConfig, intraOpNumThreads: number): VisionStageOptions {
  const models = { modelsDir: config.modelsDir, intraOpNumThreads };
  return {
    preprocess: {
      maxBytes: config.maxImageBytes,
      maxPixels: config.maxImagePixels,
      keepGps: config.keepGps,
      normalizedMaxSide: config.normalizedMaxSide,
      thumbnailSize: 256,
    },
    detect: {
      ...models,
      model: config.detectModel,
      ...(config.detectLabelsFile ? { labelsFile: config.detectLabelsFile } : {}),
      scoreThreshold: config.detectScoreThreshold,
      iouThreshold: config.detectIouThreshold,
    },
    faces: {
      ...models,
      model: config.faceModel,
      scoreThreshold: config.faceScoreThreshold,
      iouThreshold: config.faceIouThreshold,
    },
    models,
    ocrCodes: config.ocrCodes,
    ocrModelSet: config.ocrModelSet,
  };
}

export function createVision(options: CreateVisionOptions = {}): Vision {
  const config = options.config ?? loadVisionConfig();
  const workers = options.workers ?? config.workers;
  const executor = workers > 0 ? createWorkerPool({ size: workers }) : createInProcessExecutor();
  const stageOptions = visionStageOptions(config, deriveInferenceThreads(config, workers));
  return {
    executor,
    options: stageOptions,
    preprocess: (bytes, overrides) =>
      executor.run(preprocessHandler, bytes, { ...stageOptions.preprocess, ...overrides }),
    detectObjects: (image, overrides) =>
      executor.run(detectObjectsHandler, image, { ...stageOptions.detect, ...overrides }),
    detectFaces: (image, overrides) => executor.run(detectFacesHandler, image, { ...stageOptions.faces, ...overrides }),
    run: (handler, ...args) => executor.run(handler, ...args),
    close: () => executor.close(),
  };
}
