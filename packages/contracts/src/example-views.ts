/**
 * One complete instance of each HTTP view, with every optional field set, built from the example ImageAnalyzed event
 * (tests of the API's schemas and of the results store's read model start from them). Fresh objects on every call.
 */
import { exampleEvents } from './example-events.ts';
import type { ImageSummary, ImageView } from './image-view.ts';

export function exampleImageView(): ImageView {
  const { occurredAt, tenantId, imageId, sourceName, status, attributes, ...results } = exampleEvents().ImageAnalyzed;
  return {
    imageId,
    tenantId,
    ...(sourceName === undefined ? {} : { sourceName }),
    contentType: 'image/jpeg',
    attributes,
    status,
    requestedAnalyses: ['detect', 'faces', 'ocr'],
    requestedRenditions: ['thumb'],
    requestedOcrModel: 'ppocr-v4',
    requestedOcrLanguages: ['en', 'de'],
    error: { code: 'MODEL_INFERENCE_FAILED', message: 'the face model failed while running' },
    ...results,
    createdAt: new Date(occurredAt - 700).toISOString(),
    updatedAt: new Date(occurredAt).toISOString(),
    completedAt: new Date(occurredAt).toISOString(),
    deadlineAt: new Date(occurredAt + 600_000).toISOString(),
  };
}

export function exampleImageSummary(): ImageSummary {
  const view = exampleImageView();
  const image = view.image!;
  return {
    imageId: view.imageId,
    ...(view.sourceName === undefined ? {} : { sourceName: view.sourceName }),
    attributes: view.attributes,
    status: view.status,
    width: image.width,
    height: image.height,
    format: image.format,
    labels: view.labels.map((label) => label.label),
    ...(view.error === undefined ? {} : { error: view.error }),
    createdAt: view.createdAt,
    ...(view.completedAt === undefined ? {} : { completedAt: view.completedAt }),
  };
}
