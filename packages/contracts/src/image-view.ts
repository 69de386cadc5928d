/**
 * What the HTTP API serves about images: the result contract (ImageAnalysis) plus the record's bookkeeping, and the
 * short form of a search page. Shapes like results.ts, so the API's JSON Schemas are generated from them and the
 * results store's read model (packages/results, queries.ts) is checked against them.
 */
import { dateTime, type Infer, listOf, oneOf, optional, record, required, string } from './data-shape.ts';
import { ImageAnalysis, ImageInfo, StageError } from './results.ts';
import { UPLOAD_ANALYSES } from './topics.ts';

const { imageId, sourceName, status, attributes, ...results } = ImageAnalysis.fields;
const info = ImageInfo.fields;

const imageError = optional(
  StageError,
  "Why the image as a whole failed or is partial: the first failed stage's error, or STAGE_TIMEOUT.",
);
const createdAt = required(dateTime, 'When imgpipe first heard of the image.');
const completedAt = optional(dateTime, 'When the image stopped being pending.');

export const ImageView = record('ImageView', 'One image: status, per-stage status and the result contract.', {
  imageId,
  tenantId: required(string, 'The tenant that owns the image.'),
  sourceName,
  contentType: optional(string, 'MIME type the uploader declared.'),
  attributes,
  status,
  requestedAnalyses: required(
    listOf(oneOf(UPLOAD_ANALYSES)),
    'The analyses the upload asked for: the model analyses (all three when it named none of them) and `features` when asked.',
  ),
  requestedRenditions: required(listOf(string), 'The rendition presets the upload asked for; empty when none.'),
  requestedOcrModel: optional(
    string,
    "The OCR model set the upload named (`ocrModel`: ppocr-v4, ppocr-v5); absent when it named none, so the deployment's set reads it. A reprocess reads the image with it again.",
  ),
  requestedOcrLanguages: optional(
    listOf(string),
    'The languages the upload restricted OCR to (`ocrLanguages`), in catalogue order; absent when it named none. A reprocess reads the image with them again.',
  ),
  error: imageError,
  ...results,
  createdAt,
  updatedAt: required(dateTime, "Changes whenever anything about the image changes: the view's version."),
  completedAt,
  deadlineAt: optional(dateTime, 'When unfinished stages are failed with STAGE_TIMEOUT, while the image is pending.'),
});
export interface ImageView extends Infer<typeof ImageView> {}

export const ImageSummary = record('ImageSummary', 'One image in a page of search results.', {
  imageId,
  sourceName,
  attributes,
  status,
  width: optional(info.width.shape, info.width.doc),
  height: optional(info.height.shape, info.height.doc),
  format: optional(info.format.shape, info.format.doc),
  labels: required(listOf(string), 'Label names, most instances first.'),
  error: imageError,
  createdAt,
  completedAt,
});
export interface ImageSummary extends Infer<typeof ImageSummary> {}
