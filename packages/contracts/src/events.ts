/**
 * TypeScript shapes of the events, matching schemas/*.avsc. Avro `long` is a JS number (safe to 2^53: byte sizes,
 * offsets and epoch milliseconds all fit); timestamps are epoch milliseconds; `bytes` is a Buffer. An optional Avro
 * field (union with null) is an optional property: the codec writes an absent property as null and leaves null out
 * when it decodes, so decoded events have the same shape as the result contract in results.ts.
 */
import type {
  DetectedFace,
  DetectedObject,
  FeatureSummary,
  ImageAnalysis,
  ImageInfo,
  ModelIdentity,
  RecognizedText,
  Rendition,
  StageError,
} from './results.ts';
import type { EventType, UploadAnalysisName, WorkerStageName } from './topics.ts';

export interface EventEnvelope {
  /** UUID; also the Kafka message key (UTF-8). */
  imageId: string;
  tenantId: string;
  /** Epoch milliseconds. */
  occurredAt: number;
}

export interface BlobRef {
  bucket: string;
  key: string;
  sha256: string;
  size: number;
  contentType: string;
}

/**
 * Largest image a producer may inline in ImageUploaded; bigger images go to object storage as a BlobRef. Not 1 MiB:
 * Kafka's default limits (broker message.max.bytes 1048588, Java producer max.request.size 1048576) apply to the
 * whole record, so the image must leave room for the rest of the event and for its copy inside a DeadLetter.
 */
export const INLINE_IMAGE_MAX_BYTES = 1_000_000;

export interface ImageUploaded extends EventEnvelope {
  source?: string;
  contentType?: string;
  blob?: BlobRef;
  inline?: Buffer;
  sha256: string;
  size: number;
  /**
   * Empty means detect, faces and ocr; `features` is opt-in (alone it asks for keypoints only). Strings on the wire;
   * producers outside imgpipe may send names this version does not know.
   */
  analyses: UploadAnalysisName[];
  callbackUrl?: string;
  attributes: Record<string, string>;
  /** Rendition presets to render (names of the deployment's IMGPIPE_RENDITION_PRESETS); empty: none. */
  renditions: string[];
  /** The OCR model set to read the image with (OCR_MODEL_SET_NAMES); absent: the deployment's IMGPIPE_OCR_MODEL_SET. */
  ocrModel?: string;
  /** Languages to restrict OCR to (OCR_LANGUAGES); absent or empty: no restriction. */
  ocrLanguages?: string[];
}

export type StageOutcomeStatus = 'completed' | 'failed' | 'skipped';

export interface StageOutcome {
  status: StageOutcomeStatus;
  error?: StageError;
  model?: ModelIdentity;
  durationMs?: number;
}

export interface Derivatives {
  thumbnail: BlobRef;
  normalized: BlobRef;
}

export interface ImagePreprocessed extends EventEnvelope, StageOutcome {
  sourceName?: string;
  analyses: UploadAnalysisName[];
  original: BlobRef;
  image?: ImageInfo;
  derivatives?: Derivatives;
  /** ImageUploaded's attributes, unchanged, so the aggregate can put them in ImageAnalyzed. */
  attributes: Record<string, string>;
  /** ImageUploaded's rendition presets, unchanged: what the transform stage renders and the aggregate waits for. */
  renditions: string[];
  /** ImageUploaded's OCR model set, unchanged: what the OCR stage reads the image with. */
  ocrModel?: string;
  /** ImageUploaded's OCR languages, unchanged. */
  ocrLanguages?: string[];
}

export interface ObjectsDetected extends EventEnvelope, StageOutcome {
  objects: DetectedObject[];
}

export interface FacesDetected extends EventEnvelope, StageOutcome {
  faces: DetectedFace[];
}

export interface TextRecognized extends EventEnvelope, StageOutcome {
  text: RecognizedText;
}

/** The transform stage's outcome: every requested rendition, or why none was stored. */
export interface ImageTransformed extends EventEnvelope, StageOutcome {
  renditions: Rendition[];
}

/** The features stage's outcome: the keypoint summary and the stored record's key, or why there are none. */
export interface FeaturesExtracted extends EventEnvelope, StageOutcome {
  features?: FeatureSummary;
}

export interface ImageAnalyzed extends ImageAnalysis {
  tenantId: string;
  occurredAt: number;
}

export interface KafkaHeader {
  key: string;
  value?: Buffer;
}

export interface DeadLetter {
  imageId?: string;
  tenantId?: string;
  sourceTopic: string;
  partition: number;
  offset: number;
  key?: Buffer;
  value?: Buffer;
  headers: KafkaHeader[];
  stage: WorkerStageName | 'results';
  errorCode: string;
  errorMessage: string;
  retriable: boolean;
  attempt: number;
  /** Epoch milliseconds. */
  failedAt: number;
  traceId?: string;
}

export interface EventMap {
  ImageUploaded: ImageUploaded;
  ImagePreprocessed: ImagePreprocessed;
  ObjectsDetected: ObjectsDetected;
  FacesDetected: FacesDetected;
  TextRecognized: TextRecognized;
  ImageAnalyzed: ImageAnalyzed;
  ImageTransformed: ImageTransformed;
  FeaturesExtracted: FeaturesExtracted;
  DeadLetter: DeadLetter;
}

export type EventOf<T extends EventType> = EventMap[T];

/** What `EventCodec.decode` returns; switch on `eventType` to narrow `value`. */
export type DecodedEvent = {
  [T in EventType]: { eventType: T; schemaId: number; value: EventMap[T] };
}[EventType];
