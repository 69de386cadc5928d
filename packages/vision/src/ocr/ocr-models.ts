/**
 * The OCR models: PaddleOCR PP-OCRv4 text detection (DB) and recognition (CTC over ppocr_keys_v1), plus the
 * optional PP-OCR mobile 180-degree angle classifier. They come through the shared model loader (manifest names,
 * SHA-256 verified, one cached session per thread), so a worker creates each session once and reuses it.
 */
import { createHash } from 'node:crypto';
import type { ModelIdentity } from '@imgpipe/contracts';
import { type LoadedModel, loadModel, type ModelRef, readModelAsset } from '../models/model-loader.ts';
import { parseDictionary } from './ctc-decode.ts';

export interface OcrModelOptions {
  modelsDir: string;
  /** onnxruntime intra-op threads per session (the loader's default is 1: the pool parallelises images). */
  intraOpNumThreads?: number;
  /** Manifest name or path; default 'ppocr-v4-det'. */
  detectionModel?: ModelRef;
  /** Manifest name or path; default 'ppocr-v4-rec'. */
  recognitionModel?: ModelRef;
  /** The recogniser's character list, one per line; default 'ppocr-keys-v1'. */
  dictionary?: ModelRef;
  /**
   * Turn upside-down lines before recognition with the angle classifier (default on: text at 180 and 270 degrees
   * cannot be read without it; it costs one small model run per 6 lines). false turns it off.
   */
  angleClassifier?: boolean;
  /** Manifest name or path; default 'ppocr-v2-cls'. */
  angleModel?: ModelRef;
}

export const DEFAULT_OCR_MODELS = {
  detectionModel: 'ppocr-v4-det',
  recognitionModel: 'ppocr-v4-rec',
  dictionary: 'ppocr-keys-v1',
  angleModel: 'ppocr-v2-cls',
} as const;

export interface OcrModels {
  detector: LoadedModel;
  recognizer: LoadedModel;
  angleClassifier?: LoadedModel;
  /** characters[i] is recogniser class i + 1 (class 0 is the CTC blank); the last one is the appended space. */
  characters: readonly string[];
  /**
   * The result's model identity: names joined with "+", and a SHA-256 over each part's "name sha256" line
   * (detector, recogniser, dictionary, then classifier), so any changed file changes it.
   */
  identity: ModelIdentity;
  /** Each file's own identity, for logs and `imgpipe models list`. */
  parts: ModelIdentity[];
}

const dictionaries = new Map<string, readonly string[]>();

export async function loadOcrModels(options: OcrModelOptions): Promise<OcrModels> {
  const session = {
    modelsDir: options.modelsDir,
    ...(options.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: options.intraOpNumThreads }),
  };
  const [detector, recognizer, dictionary, angleClassifier] = await Promise.all([
    loadModel(options.detectionModel ?? DEFAULT_OCR_MODELS.detectionModel, session),
    loadModel(options.recognitionModel ?? DEFAULT_OCR_MODELS.recognitionModel, session),
    readModelAsset(options.dictionary ?? DEFAULT_OCR_MODELS.dictionary, session),
    options.angleClassifier !== false
      ? loadModel(options.angleModel ?? DEFAULT_OCR_MODELS.angleModel, session)
      : undefined,
  ]);
  let characters = dictionaries.get(dictionary.identity.sha256);
  if (!characters) {
    characters = parseDictionary(new TextDecoder().decode(dictionary.bytes));
    dictionaries.set(dictionary.identity.sha256, characters);
  }
  const parts = [detector.identity, recognizer.identity, dictionary.identity];
  if (angleClassifier) parts.push(angleClassifier.identity);
  const models = parts.filter((part) => part !== dictionary.identity);
  const digest = createHash('sha256');
  for (const part of parts) digest.update(`${part.name} ${part.sha256}\n`);
  return {
    detector,
    recognizer,
    ...(angleClassifier ? { angleClassifier } : {}),
    characters,
    identity: {
      name: models.map((part) => part.name).join('+'),
      version: [...new Set(models.map((part) => part.version))].join('+'),
      sha256: digest.digest('hex'),
    },
    parts,
  };
}
