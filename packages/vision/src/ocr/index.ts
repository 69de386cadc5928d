/**
 * OCR with PaddleOCR PP-OCRv4 (text detection + recognition, optional 180-degree classifier):
 *
 *   const { fullText, lines, model } = await recognizeText(imageOrBytes, { modelsDir });
 *   await vision.run(recognizeTextHandler, normalizedImage, vision.options.models);   // on the worker pool
 */
export {
  type CerCount,
  characterErrorRate,
  countErrors,
  levenshtein,
  normalizeLines,
} from './character-error-rate.ts';
export type { DbOptions } from './db-postprocess.ts';
export { chooseOcrModelSet, languageMask } from './languages.ts';
export type { MergeOptions } from './merge-lines.ts';
export {
  DEFAULT_OCR_MODELS,
  loadOcrModels,
  OCR_MODEL_SETS,
  type OcrModelOptions,
  type OcrModels,
  ocrModelSet,
} from './ocr-models.ts';
export type { RasterImage } from './raster.ts';
export {
  DEFAULT_OCR_TUNING,
  type OcrImage,
  type OcrResult,
  type OcrTimings,
  type OcrTuning,
  type RecognizeTextOptions,
  type TextOrientation,
  recognizeText,
  recognizeTextHandler,
} from './recognize-text.ts';
