/** Sample pipeline outcomes and database helpers for this package's tests against the real PostgreSQL and Redis. */
import { randomUUID } from 'node:crypto';
import {
  type AnalysisName,
  type DetectedFace,
  type DetectedObject,
  type EventMap,
  exampleEvents,
  type ImageAnalysis,
  type ImageInfo,
  type RecognizedText,
  type StageName,
  type StageReport,
} from '@imgpipe/contracts';
import { loadConfig, serviceSettings } from '@imgpipe/core';
import type { Kysely } from 'kysely';
import { createDatabase } from './database.ts';
import { migrate } from './migrate.ts';
import { labelsFromObjects } from '@imgpipe/contracts';
import type { Database } from './schema.ts';

export const settings = loadConfig({ databaseUrl: serviceSettings.databaseUrl, redisUrl: serviceSettings.redisUrl });

export async function openTestDatabase(): Promise<Kysely<Database>> {
  const db = createDatabase({ url: settings.databaseUrl, poolSize: 4, applicationName: 'imgpipe-db-tests' });
  await migrate(db);
  return db;
}

/** A tenant id no other test run uses, so tests share the real `imgpipe` database without colliding. */
export function testTenant(label: string): string {
  return `test-${label}-${randomUUID().slice(0, 8)}`;
}

export async function deleteTenants(db: Kysely<Database>, tenants: readonly string[]): Promise<void> {
  if (tenants.length > 0) await db.deleteFrom('images').where('tenant_id', 'in', tenants).execute();
}

export const model = (name: string) => ({ name, version: '1.0.0', sha256: 'a'.repeat(64) });

export function report(stage: StageName, status: StageReport['status'] = 'completed'): StageReport {
  return status === 'completed' ? { status, model: model(`${stage}-model`), durationMs: 42 } : { status };
}

export function sampleInfo(overrides: Partial<ImageInfo> = {}): ImageInfo {
  return {
    width: 640,
    height: 480,
    format: 'jpeg',
    bytes: 12345,
    sha256: 'b'.repeat(64),
    hasAlpha: false,
    exif: { make: 'Canon', orientation: 6, hasGps: false },
    colors: [{ hex: '#112233', share: 0.5 }],
    quality: { brightness: 0.5, contrast: 0.25, sharpness: 120.5 },
    perceptualHash: '0123456789abcdef',
    ...overrides,
  };
}

export function sampleObjects(): DetectedObject[] {
  const object = (label: string, classId: number, confidence: number, x: number): DetectedObject => ({
    label,
    classId,
    confidence,
    box: { x, y: 10, width: 100, height: 200 },
    boxNormalized: { left: x / 640, top: 10 / 480, width: 100 / 640, height: 200 / 480 },
  });
  return [object('dog', 16, 0.91, 10), object('person', 0, 0.8734521985054016, 200), object('dog', 16, 0.55, 400)];
}

export function sampleFaces(): DetectedFace[] {
  return [
    {
      confidence: 0.97,
      box: { x: 220, y: 30, width: 40, height: 50 },
      boxNormalized: { left: 220 / 640, top: 30 / 480, width: 40 / 640, height: 50 / 480 },
      landmarks: {
        rightEye: { x: 230, y: 45 },
        leftEye: { x: 250, y: 45 },
        nose: { x: 240, y: 55 },
        mouthRight: { x: 232, y: 68 },
        mouthLeft: { x: 248, y: 68 },
      },
    },
  ];
}

export function sampleText(words = ['Fresh', 'bakery', 'open daily']): RecognizedText {
  const lines = words.map((text, index) => ({
    text,
    confidence: 0.9 - index * 0.1,
    polygon: [
      { x: 10, y: 300 + index * 30 },
      { x: 210, y: 300 + index * 30 },
      { x: 210, y: 325 + index * 30 },
      { x: 10, y: 325 + index * 30 },
    ],
    box: { x: 10, y: 300 + index * 30, width: 200, height: 25 },
    boxNormalized: { left: 10 / 640, top: (300 + index * 30) / 480, width: 200 / 640, height: 25 / 480 },
    ...(index === 0 ? { words: [{ text, confidence: 0.9, polygon: [{ x: 10, y: 300 }] }] } : {}),
  }));
  return { fullText: words.join('\n'), lines };
}

export function sampleAnalysis(imageId: string, overrides: Partial<ImageAnalysis> = {}): ImageAnalysis {
  const objects = sampleObjects();
  return {
    imageId,
    sourceName: 'shop.jpg',
    status: 'completed',
    image: sampleInfo(),
    labels: [...labelsFromObjects(objects), { label: 'face', count: 1, confidence: 0.97 }],
    objects,
    faces: sampleFaces(),
    text: sampleText(),
    textInObjects: [{ line: 0, object: 1 }],
    stages: {
      preprocess: report('preprocess'),
      detect: report('detect'),
      faces: report('faces'),
      ocr: report('ocr'),
      aggregate: report('aggregate'),
    },
    attributes: { album: 'shop', reference: 'A-17' },
    renditions: [],
    ...overrides,
  };
}

/** An event as decoded (its type name and value), typed by its name. */
export type PipelineEvent = { [T in keyof EventMap]: { eventType: T; value: EventMap[T] } }[keyof EventMap];

/**
 * The six events of one image's trip through the pipeline, as the results service decodes them: upload, preprocess,
 * detect, faces, ocr (all completed) and the aggregate's joined result, consistent with each other as the real
 * stages make them (the analysis carries the same reports and rows as the stage events). `at` dates them.
 */
export function lifecycleEvents(imageId: string, tenantId: string, at = Date.UTC(2099, 0, 1)): PipelineEvent[] {
  const examples = exampleEvents();
  const envelope = { imageId, tenantId };
  const analyses: AnalysisName[] = ['detect', 'faces', 'ocr'];
  const uploaded: EventMap['ImageUploaded'] = {
    ...examples.ImageUploaded,
    ...envelope,
    occurredAt: at,
    analyses,
    blob: { ...examples.ImageUploaded.blob!, key: `uploads/${imageId}` },
  };
  delete uploaded.callbackUrl;
  const preprocessed: EventMap['ImagePreprocessed'] = {
    ...examples.ImagePreprocessed,
    ...envelope,
    occurredAt: at + 150,
    analyses,
  };
  const detected: EventMap['ObjectsDetected'] = { ...examples.ObjectsDetected, ...envelope, occurredAt: at + 400 };
  const { error: _error, ...facesBase } = examples.FacesDetected;
  const faces: EventMap['FacesDetected'] = {
    ...facesBase,
    ...envelope,
    occurredAt: at + 380,
    status: 'completed',
    faces: examples.ImageAnalyzed.faces.length > 0 ? examples.ImageAnalyzed.faces : examples.FacesDetected.faces,
  };
  const recognized: EventMap['TextRecognized'] = { ...examples.TextRecognized, ...envelope, occurredAt: at + 650 };
  const report = (outcome: { status: StageReport['status']; model?: StageReport['model']; durationMs?: number }) => ({
    status: outcome.status,
    ...(outcome.model ? { model: outcome.model } : {}),
    ...(outcome.durationMs !== undefined ? { durationMs: outcome.durationMs } : {}),
  });
  const analyzed: EventMap['ImageAnalyzed'] = {
    ...envelope,
    occurredAt: at + 700,
    sourceName: preprocessed.sourceName!,
    status: 'completed',
    image: preprocessed.image!,
    labels: labelsFromObjects(detected.objects),
    objects: detected.objects,
    faces: faces.faces,
    text: recognized.text,
    textInObjects: [],
    stages: {
      preprocess: report(preprocessed),
      detect: report(detected),
      faces: report(faces),
      ocr: report(recognized),
      aggregate: { status: 'completed', durationMs: 2 },
    },
    attributes: uploaded.attributes,
    // The upload asked for the example's presets: its analysis lists the example's renditions.
    renditions: examples.ImageAnalyzed.renditions,
    transform: examples.ImageAnalyzed.transform!,
    features: examples.ImageAnalyzed.features!,
    featuresStage: examples.ImageAnalyzed.featuresStage!,
  };
  return [
    { eventType: 'ImageUploaded', value: uploaded },
    { eventType: 'ImagePreprocessed', value: preprocessed },
    { eventType: 'ObjectsDetected', value: detected },
    { eventType: 'FacesDetected', value: faces },
    { eventType: 'TextRecognized', value: recognized },
    { eventType: 'ImageAnalyzed', value: analyzed },
  ];
}
