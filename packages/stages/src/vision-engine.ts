import type {
  AnalysisName,
  DetectedFace,
  DetectedObject,
  ImageInfo,
  ModelIdentity,
  RecognizedText,
} from '@imgpipe/contracts';

/** Encoded image bytes as stored in object storage. */
export interface StoredImage {
  bytes: Buffer;
  contentType: string;
}

export interface PreprocessOutput {
  info: ImageInfo;
  thumbnail: StoredImage;
  /** The oriented, sRGB, size-capped image every model reads. */
  normalized: StoredImage;
}

/** What an upload may choose about its OCR. */
export interface RecognizeTextRequest {
  /** The OCR model set (ppocr-v4, ppocr-v5); the deployment's IMGPIPE_OCR_MODEL_SET when absent. */
  modelSet?: string;
  /**
   * Languages to restrict the read to (OCR_LANGUAGES). With no modelSet, the deployment's set reads them if it can,
   * else the first set that can (ja: ppocr-v5). OCR_LANGUAGE_UNSUPPORTED for an unknown language, or one the named
   * set cannot read.
   */
  languages?: readonly string[];
}

/** Where a model's boxes must land: pixels of the oriented original, whatever size the normalised image has. */
export interface OriginalSize {
  width: number;
  height: number;
}

export interface ModelRun<T> {
  result: T;
  model: ModelIdentity;
}

/**
 * The analysis the pipeline's stages need, implemented by @imgpipe/vision. Stages depend on this narrow shape so
 * that the Kafka workers and the in-process runner share handlers, and tests can count calls.
 */
export interface VisionEngine {
  preprocess(bytes: Buffer): Promise<PreprocessOutput>;
  detectObjects(normalized: Buffer, original: OriginalSize): Promise<ModelRun<DetectedObject[]>>;
  detectFaces(normalized: Buffer, original: OriginalSize): Promise<ModelRun<DetectedFace[]>>;
  /**
   * `source` fetches the original's bytes; it is called only when the original is larger than the normalised
   * image, so small print can be read from the original's pixels.
   */
  recognizeText(
    normalized: Buffer,
    original: OriginalSize,
    source?: () => Promise<Buffer>,
    options?: RecognizeTextRequest,
  ): Promise<ModelRun<RecognizedText>>;
  /**
   * Runs each named stage once per worker thread on a tiny image, so models load (and are verified) before the
   * first real message: a missing or corrupt model stops the process at start-up instead of failing every image.
   * Resolves to the identity of the model each analysis ran (what its results will carry).
   */
  warmUp(stages: readonly ('preprocess' | AnalysisName)[]): Promise<Partial<Record<AnalysisName, ModelIdentity>>>;
  close(): Promise<void>;
}
