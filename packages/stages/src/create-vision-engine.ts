import {
  chooseOcrModelSet,
  createVision,
  DEFAULT_OCR_TUNING,
  decodeNormalizedImage,
  encodeNormalizedImage,
  NORMALIZED_CONTENT_TYPE,
  NORMALIZED_LEVEL_FASTEST,
  normalizedImageAsPng,
  readTextAndCodesHandler,
  type Vision,
  type VisionConfig,
} from '@imgpipe/vision';
import type { AnalysisName, ModelIdentity } from '@imgpipe/contracts';
import type { OriginalSize, VisionEngine } from './vision-engine.ts';

export interface CreateVisionEngineOptions {
  /** The process's vision settings (models, limits, thresholds, threads); loaded from the environment when absent. */
  config?: VisionConfig;
  /** Worker threads for the stages (0 runs them on this thread); defaults to the vision config. */
  workers?: number;
  /**
   * The engine serves an InProcessPipeline, whose normalised image never leaves this process: it is kept at
   * zstd's fastest level, and the stages after preprocess start from the pixels preprocess made instead of decoding it
   * (about 70 ms less per 1200 x 900 image). Off for Kafka workers, whose copy crosses S3.
   */
  inProcess?: boolean;
}

const SOURCE_MIN_SCALE = DEFAULT_OCR_TUNING.sourceMinScale;

const CONTENT_TYPES = { webp: 'image/webp', png: 'image/png', jpeg: 'image/jpeg' } as const;

/** A Buffer over the same memory (no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The pipeline's VisionEngine over @imgpipe/vision. Between stages the normalised image travels losslessly
 * (through S3 in the workers, through memory in the in-process runner), so both modes feed the models the same pixels.
 */
export async function createVisionEngine(options: CreateVisionEngineOptions = {}): Promise<VisionEngine> {
  const vision: Vision = createVision({
    ...(options.config ? { config: options.config } : {}),
    ...(options.workers === undefined ? {} : { workers: options.workers }),
  });
  // The in-process runner hands detect, faces and OCR the very same Buffer of the normalised image: decode it once, or
  // never when preprocess ran here too (inProcess). A Kafka worker gets a fresh Buffer per message, so there each
  // decode is its own and the entry is collected.
  const decoded = new WeakMap<Buffer, { original: OriginalSize; image: ReturnType<typeof decodeNormalizedImage> }>();
  const decode = (bytes: Buffer, original: OriginalSize) => {
    const known = decoded.get(bytes);
    if (known && known.original.width === original.width && known.original.height === original.height) {
      return known.image;
    }
    const image = decodeNormalizedImage(bytes, original);
    decoded.set(bytes, { original, image });
    image.catch(() => decoded.delete(bytes));
    return image;
  };
  const engine: VisionEngine = {
    async preprocess(bytes) {
      const { info, derivatives } = await vision.preprocess(bytes);
      const encoded = await encodeNormalizedImage(
        derivatives.normalized,
        options.inProcess ? { compressionLevel: NORMALIZED_LEVEL_FASTEST } : {},
      );
      const normalized = asBuffer(encoded);
      if (options.inProcess) {
        const original = { width: info.width, height: info.height };
        decoded.set(normalized, { original, image: Promise.resolve(derivatives.normalized) });
      }
      return {
        info,
        thumbnail: {
          bytes: Buffer.from(derivatives.thumbnail.data),
          contentType: CONTENT_TYPES[derivatives.thumbnail.format],
        },
        normalized: { bytes: normalized, contentType: NORMALIZED_CONTENT_TYPE },
      };
    },
    async detectObjects(normalized, original) {
      const { objects, model } = await vision.detectObjects(await decode(normalized, original));
      return { result: objects, model };
    },
    async detectFaces(normalized, original) {
      const { faces, model } = await vision.detectFaces(await decode(normalized, original));
      return { result: faces, model };
    },
    async recognizeText(normalized, original, source, request) {
      // An unknown set or language (a producer outside imgpipe may name any) fails here, before any work:
      // MODEL_SET_UNKNOWN, OCR_LANGUAGE_UNSUPPORTED.
      const languages = request?.languages ?? [];
      const modelSet = chooseOcrModelSet(request?.modelSet, languages, vision.options.ocrModelSet);
      const image = await decode(normalized, original);
      // The same rule as recognizeText's sourceMinScale: only a clearly larger original is worth fetching.
      const larger = Math.min(original.width / image.width, original.height / image.height) >= SOURCE_MIN_SCALE;
      const input = source && larger ? { ...image, source: await source() } : image;
      // Barcodes and QR codes in the same worker call, on the same pixels (see readTextAndCodes).
      const { model, fullText, lines, orientation, codes } = await vision.run(readTextAndCodesHandler, input, {
        ...vision.options.models,
        modelSet,
        ...(languages.length > 0 ? { languages } : {}),
        ...(vision.options.ocrCodes ? {} : { codes: false as const }),
      });
      return { result: { fullText, lines, orientation, ...(codes ? { codes } : {}) }, model };
    },
    async warmUp(stages) {
      const side = 64;
      const grey = { width: side, height: side, originalWidth: side, originalHeight: side };
      const image = { ...grey, data: new Uint8Array(side * side * 3).fill(128) };
      // Preprocess starts from an image file; the analyses from the stored normalised image.
      const png = asBuffer(await normalizedImageAsPng(image));
      const normalized = asBuffer(await encodeNormalizedImage(image));
      const size = { width: side, height: side };
      const models: Partial<Record<AnalysisName, ModelIdentity>> = {};
      const runs = {
        preprocess: () => engine.preprocess(png),
        detect: async () => {
          models.detect = (await engine.detectObjects(normalized, size)).model;
        },
        faces: async () => {
          models.faces = (await engine.detectFaces(normalized, size)).model;
        },
        ocr: async () => {
          models.ocr = (await engine.recognizeText(normalized, size)).model;
        },
      };
      await Promise.all(
        Array.from({ length: vision.executor.concurrency }, () => Promise.all(stages.map((stage) => runs[stage]()))),
      );
      return models;
    },
    close: () => vision.close(),
  };
  return engine;
}
