/**
 * The typed tables of the results database, as kysely sees them. Column names are the SQL ones (snake_case);
 * queries.ts maps rows to the result contract's camelCase shapes.
 *
 * jsonb columns are written as JSON text (node-postgres would turn a JS array into a PostgreSQL array literal)
 * and read back parsed; int8 columns come back as strings.
 */
import type {
  DetectedCode,
  FaceLandmarks,
  FeatureSummary,
  ImageAnalysis,
  ImageInfo,
  ImageStatus,
  Point,
  StageName,
  StageReport,
  StageStatus,
  TextWord,
} from '@imgpipe/contracts';
import type { ColumnType, Selectable } from 'kysely';

type Json<T> = ColumnType<T, string, string>;
type NullableJson<T> = ColumnType<T | null, string | null | undefined, string | null>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export interface ImagesTable {
  id: string;
  tenant_id: string;
  source_name: string | null;
  content_type: string | null;
  byte_size: ColumnType<string | null, number | null | undefined, number | null>;
  sha256: string | null;
  blob_bucket: string | null;
  blob_key: string | null;
  requested_analyses: ColumnType<string[], string[] | undefined, string[]>;
  status: ColumnType<ImageStatus, ImageStatus | undefined, ImageStatus>;
  error_code: string | null;
  error_message: string | null;
  width: number | null;
  height: number | null;
  format: string | null;
  info: NullableJson<ImageInfo>;
  analysis: NullableJson<ImageAnalysis>;
  full_text: string | null;
  /** OCR's page orientation in degrees (0, 90, 180, 270); written with full_text. */
  text_orientation: number | null;
  /** OCR's barcodes and QR codes (RecognizedText.codes); null when OCR did not look for them. */
  text_codes: NullableJson<DetectedCode[]>;
  /** GENERATED ALWAYS from full_text with the 'simple' configuration; never written. */
  search: ColumnType<string, never, never>;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
  completed_at: NullableTimestamp;
  deadline_at: NullableTimestamp;
  /** Null while the image is known only from stage events that overtook its upload event. */
  uploaded_at: NullableTimestamp;
  /** The producer's own string map (ImageUploaded.attributes); '{}' when none. */
  attributes: ColumnType<Record<string, string>, string | undefined, string>;
  /** info.perceptualHash in four 16-bit segments, most significant first (similar-images.ts); null without one. */
  phash_0: number | null;
  phash_1: number | null;
  phash_2: number | null;
  phash_3: number | null;
  /** The rendition presets the upload asked for; '{}' when none. */
  requested_renditions: ColumnType<string[], string[] | undefined, string[]>;
  /** The transform stage's report, from the analysis; null when the upload asked for no renditions. */
  transform: NullableJson<StageReport>;
  /** The features stage's keypoint summary, from the analysis; null unless the upload asked for features and they completed. */
  features: NullableJson<FeatureSummary>;
  /** The features stage's report, from the analysis; null when the upload did not ask for features. */
  features_stage: NullableJson<StageReport>;
  /** The OCR model set the upload named (ImageUploaded.ocrModel); null when it named none (the deployment's). */
  requested_ocr_model: ColumnType<string | null, string | null | undefined, string | null>;
  /** The languages the upload restricted OCR to (canonicalOcrLanguages); null when it named none. */
  requested_ocr_languages: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
}

export interface ImageStagesTable {
  image_id: string;
  stage: StageName;
  status: StageStatus;
  error_code: string | null;
  error_message: string | null;
  model_name: string | null;
  model_version: string | null;
  model_sha256: string | null;
  duration_ms: number | null;
  updated_at: GeneratedTimestamp;
}

/** Pixel box and normalised box columns shared by detections, faces and text lines. */
export interface BoxColumns {
  box_x: number;
  box_y: number;
  box_width: number;
  box_height: number;
  norm_left: number;
  norm_top: number;
  norm_width: number;
  norm_height: number;
}

export interface DetectionsTable extends BoxColumns {
  image_id: string;
  ordinal: number;
  label: string;
  class_id: number;
  confidence: number;
}

export interface FacesTable extends BoxColumns {
  image_id: string;
  ordinal: number;
  confidence: number;
  landmarks: Json<FaceLandmarks>;
}

export interface TextLinesTable extends BoxColumns {
  image_id: string;
  ordinal: number;
  text: string;
  confidence: number;
  polygon: Json<Point[]>;
  words: NullableJson<TextWord[]>;
}

/** The renditions the transform stage stored for an image, in the order asked (ordinal). */
export interface RenditionsTable {
  image_id: string;
  ordinal: number;
  name: string;
  recipe: string;
  key: string;
  format: string;
  width: number;
  height: number;
  bytes: ColumnType<string, number, number>;
}

export interface ImageLabelsTable {
  image_id: string;
  label: string;
  count: number;
  confidence: number;
}

export interface Database {
  images: ImagesTable;
  image_stages: ImageStagesTable;
  detections: DetectionsTable;
  faces: FacesTable;
  text_lines: TextLinesTable;
  image_labels: ImageLabelsTable;
  renditions: RenditionsTable;
}

export type ImageRow = Selectable<ImagesTable>;
export type ImageStageRow = Selectable<ImageStagesTable>;
