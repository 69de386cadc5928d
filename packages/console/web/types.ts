/** The parts of the API's image views the console shows (docs/results.md has the whole contract). */

export type ImageStatus = 'pending' | 'completed' | 'partial' | 'failed';
export type StageStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface StageError {
  code: string;
  message: string;
}

export interface StageReport {
  status: StageStatus;
  error?: StageError;
  model?: { name: string; version: string };
  durationMs?: number;
}

export interface ImageView {
  imageId: string;
  sourceName?: string;
  status: ImageStatus;
  error?: StageError;
  image?: {
    width: number;
    height: number;
    format: string;
    bytes: number;
    exif: Record<string, unknown>;
    colors: { hex: string; share: number }[];
    quality: Record<string, unknown>;
    /** Texture and composition (docs/results.md); absent in results written before it existed. */
    scene?: {
      texture: { contrast: number; homogeneity: number; energy: number; entropy: number; edgeDensity: number };
      composition: {
        weightCenter?: Point;
        thirdsDistance?: number;
        symmetry: number;
        horizonTilt?: number;
      };
    };
  };
  labels: { name: string; count: number; confidence?: number }[];
  objects: { label: string; confidence: number; box: Box }[];
  faces: { confidence: number; box: Box; landmarks: Record<string, Point> }[];
  text: { fullText: string; lines: { text: string; confidence: number; polygon: Point[] }[] };
  stages: Record<string, StageReport>;
  /** Only when the upload asked for features and the stage completed (packages/contracts/src/results.ts). */
  features?: {
    detector: string;
    width: number;
    height: number;
    count: number;
    keypoints: { x: number; y: number; size: number; angle: number; response: number }[];
  };
  featuresStage?: StageReport;
  attributes: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  completedAt?: string;
}

export interface ImageSummary {
  imageId: string;
  sourceName?: string;
  status: ImageStatus;
  labels: string[];
  error?: StageError;
  createdAt: string;
  width?: number;
  height?: number;
}

export interface SearchPage {
  items: ImageSummary[];
  nextCursor?: string;
}

export const STAGE_NAMES = ['preprocess', 'detect', 'faces', 'ocr', 'aggregate'] as const;
export const ANALYSES = ['detect', 'faces', 'ocr', 'features'] as const;
/** Checked at upload unless the user changes them; features is opt-in (an empty list never implies it). */
export const DEFAULT_ANALYSES = ['detect', 'faces', 'ocr'] as const;
export const TERMINAL: ReadonlySet<string> = new Set(['completed', 'partial', 'failed']);
