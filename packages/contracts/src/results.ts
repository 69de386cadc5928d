/**
 * The result contract: what users read, from `imgpipe analyze --json`, the results API and the ImageAnalyzed event.
 * Anchored on AWS Rekognition DetectLabels/DetectText, Google Cloud Vision AnnotateImageResponse and Azure Image
 * Analysis 4.0: every box in pixels of the oriented image and normalised 0-1, confidences 0-1, the model identity on
 * every stage result, and per-stage status with an error code so one failed stage leaves the others standing.
 */
import type { ErrorCode } from '@imgpipe/core';
import type { StageName } from './topics.ts';

export type StageStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped';
/** Overall: completed when every requested stage completed, partial when some failed, failed when none produced. */
export type ImageStatus = 'pending' | 'completed' | 'partial' | 'failed';

export interface ModelIdentity {
  name: string;
  version: string;
  sha256: string;
}

/** Pixels of the image after EXIF orientation. */
export interface PixelBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Fractions 0-1 of the oriented image's width and height. */
export interface NormalizedBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface StageError {
  code: ErrorCode;
  message: string;
}

export interface ExifSummary {
  make?: string;
  model?: string;
  /** ISO 8601 as written by the camera (no time zone unless the file has one). */
  takenAt?: string;
  /** Original EXIF orientation 1-8, before auto-orientation. */
  orientation?: number;
  hasGps: boolean;
  /** Only when configured (IMGPIPE_KEEP_GPS=true); otherwise just the flag above. */
  gps?: { latitude: number; longitude: number };
}

export interface DominantColor {
  /** #rrggbb */
  hex: string;
  /** Share of the image's pixels, 0-1. */
  share: number;
}

export interface ImageQuality {
  /** Mean luma 0-1. */
  brightness: number;
  /** Standard deviation of luma 0-1. */
  contrast: number;
  /** Variance of the Laplacian of luma (higher is sharper). */
  sharpness: number;
}

export interface ImageInfo {
  width: number;
  height: number;
  /** Sniffed from the bytes: jpeg, png, webp, avif, gif, tiff. */
  format: string;
  bytes: number;
  sha256: string;
  hasAlpha: boolean;
  exif: ExifSummary;
  colors: DominantColor[];
  quality: ImageQuality;
  /** 64-bit difference hash as 16 hex digits; Hamming distance <= 10 means near-duplicate. */
  perceptualHash: string;
}

export interface DetectedObject {
  label: string;
  classId: number;
  confidence: number;
  box: PixelBox;
  boxNormalized: NormalizedBox;
}

export interface FaceLandmarks {
  rightEye: Point;
  leftEye: Point;
  nose: Point;
  mouthRight: Point;
  mouthLeft: Point;
}

export interface DetectedFace {
  confidence: number;
  box: PixelBox;
  boxNormalized: NormalizedBox;
  landmarks: FaceLandmarks;
}

export interface TextWord {
  text: string;
  confidence: number;
  polygon: Point[];
}

export interface TextLine {
  text: string;
  confidence: number;
  /** Four corners clockwise from top-left, in pixels of the oriented image. */
  polygon: Point[];
  box: PixelBox;
  boxNormalized: NormalizedBox;
  words?: TextWord[];
}

export interface RecognizedText {
  /** Lines joined with \n in reading order. */
  fullText: string;
  lines: TextLine[];
}

export interface Label {
  label: string;
  count: number;
  /** Best confidence among the instances. */
  confidence: number;
}

export interface StageReport {
  status: StageStatus;
  error?: StageError;
  model?: ModelIdentity;
  durationMs?: number;
}

export interface ImageAnalysis {
  imageId: string;
  /** The file or upload name the image came from, when known. */
  sourceName?: string;
  status: ImageStatus;
  image?: ImageInfo;
  labels: Label[];
  objects: DetectedObject[];
  faces: DetectedFace[];
  text: RecognizedText;
  /** Which text line lies inside which object (indexes into `text.lines` and `objects`). */
  textInObjects: { line: number; object: number }[];
  stages: Record<StageName, StageReport>;
}
