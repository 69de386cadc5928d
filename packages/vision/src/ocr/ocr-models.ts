/**
 * The OCR models: a model set of PaddleOCR text detection (DB) and recognition (CTC over the set's dictionary),
 * PP-OCRv4 (default) or PP-OCRv5 mobile, plus the optional PP-OCR mobile 180-degree angle classifier. They come through the shared model loader (manifest names,
 * SHA-256 verified, one cached session per thread), so a worker creates each session once and reuses it.
 */
import { createHash } from 'node:crypto';
import {
  DEFAULT_OCR_MODEL_SET,
  isOcrModelSet,
  type ModelIdentity,
  OCR_MODEL_SET_NAMES,
  type OcrModelSetName,
} from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import { type LoadedModel, loadModel, type ModelRef, readModelAsset } from '../models/model-loader.ts';
import { parseDictionary } from './ctc-decode.ts';

/**
 * The model sets OCR can run, by name (IMGPIPE_OCR_MODEL_SET, an upload's `ocrModel`). Each names its detector,
 * recogniser and dictionary in the manifest; both share the angle classifier (the v5 wheel's cls.onnx is the same
 * 0/180 mobile classifier, not a newer one). The set's name is not part of the result: its model identity is.
 */
export const OCR_MODEL_SETS = {
  'ppocr-v4': {
    detectionModel: 'ppocr-v4-det',
    recognitionModel: 'ppocr-v4-rec',
    dictionary: 'ppocr-keys-v1',
    tuning: {},
  },
  'ppocr-v5': {
    detectionModel: 'ppocr-v5-det',
    recognitionModel: 'ppocr-v5-rec',
    dictionary: 'ppocr-v5-keys',
    // v5 predicts the spaces between Latin words itself: the space inference v4 needs (decodeCtc) only adds
    // spurious ones there ("1, 284.50"). Measured on a generated label: CER 1.2% at 0.03, 0% off; the shared
    // text set 0% either way. Its detector finds small and turned lines only at a larger input and with
    // PaddleOCR's own unclip: on scripts/ocr-compare.sh's set, v4's tuning (960 px, unclip 1.6) lost whole lines
    // (small print 14.6%, turned 90 degrees 27.8%); 1280 px and unclip 1.5 read 0.3% and 0.0%.
    tuning: { spaceThreshold: 1, detMaxSideLen: 1280, db: { unclipRatio: 1.5 } },
  },
} as const satisfies Record<
  OcrModelSetName,
  {
    detectionModel: string;
    recognitionModel: string;
    dictionary: string;
    tuning: { spaceThreshold?: number; detMaxSideLen?: number; db?: { unclipRatio?: number } };
  }
>;

export interface OcrModelOptions {
  modelsDir: string;
  /**
   * The model set (default 'ppocr-v4'); detectionModel, recognitionModel and dictionary below override its parts.
   * An unknown name fails with MODEL_SET_UNKNOWN.
   */
  modelSet?: string;
  /** onnxruntime intra-op threads per session (the loader's default is 1: the pool parallelises images). */
  intraOpNumThreads?: number;
  /** Manifest name or path; default the set's ('ppocr-v4-det'). */
  detectionModel?: ModelRef;
  /** Manifest name or path; default the set's ('ppocr-v4-rec'). */
  recognitionModel?: ModelRef;
  /** The recogniser's character list, one per line; default the set's ('ppocr-keys-v1'). */
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

/** The set's parts, or MODEL_SET_UNKNOWN naming the known sets. */
export function ocrModelSet(name: string = DEFAULT_OCR_MODEL_SET): (typeof OCR_MODEL_SETS)[OcrModelSetName] {
  if (!isOcrModelSet(name)) {
    throw new ImgpipeError(
      'MODEL_SET_UNKNOWN',
      `unknown OCR model set "${name}"; known sets: ${OCR_MODEL_SET_NAMES.join(', ')}`,
      { details: { modelSet: name, known: OCR_MODEL_SET_NAMES } },
    );
  }
  return OCR_MODEL_SETS[name];
}

export async function loadOcrModels(options: OcrModelOptions): Promise<OcrModels> {
  const set = ocrModelSet(options.modelSet);
  const session = {
    modelsDir: options.modelsDir,
    ...(options.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: options.intraOpNumThreads }),
  };
  const [detector, recognizer, dictionary, angleClassifier] = await Promise.all([
    loadModel(options.detectionModel ?? set.detectionModel, session),
    loadModel(options.recognitionModel ?? set.recognitionModel, session),
    readModelAsset(options.dictionary ?? set.dictionary, session),
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
