/**
 * The source of truth of every event's Avro schema. The result contract's records (ImageInfo, DetectedObject, ...)
 * come from its shapes in results.ts; the events' own records are written once here;
 * `scripts/generate-schemas.ts` renders each event as a self-contained .avsc under schemas/ (the public contract that
 * other systems read and that the codec registers), and a unit test fails when the two drift apart.
 *
 * Evolution rules (the registry enforces BACKWARD): add fields only as optional (null first, default null) or with a
 * default; never rename or retype a field; no Avro enums (status-like values are strings, documented per field).
 */
import {
  type AvroRecord,
  field,
  list,
  optional,
  record,
  selfContained,
  stringMap,
  timestampMillis,
  uuid,
} from './avro-schema.ts';
import { avroFieldsOf, avroTypeOf } from './data-shape.ts';
import {
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
import { SCHEMA_NAMESPACE } from './topics.ts';

const blobRef = record('BlobRef', 'Where an image (or a derivative of it) is stored in S3-compatible object storage.', [
  field('bucket', 'string', 'Bucket name.'),
  field('key', 'string', 'Object key inside the bucket.'),
  field('sha256', 'string', 'SHA-256 of the object bytes, 64 lowercase hex digits.'),
  field('size', 'long', 'Object size in bytes.'),
  field('contentType', 'string', 'MIME type of the object, e.g. image/jpeg.'),
]);

// The result contract's records, derived from its shapes (results.ts), so the events and the HTTP API cannot drift.
const modelIdentity = avroTypeOf(ModelIdentity);
const stageError = avroTypeOf(StageError);
const imageInfo = avroTypeOf(ImageInfo);
const detectedObject = avroTypeOf(DetectedObject);
const detectedFace = avroTypeOf(DetectedFace);
const recognizedText = avroTypeOf(RecognizedText);

const derivatives = record('Derivatives', 'Images derived from the original by preprocessing.', [
  field('thumbnail', blobRef, 'A small preview (JPEG or WebP).'),
  field('normalized', blobRef, 'The oriented, colour-normalised image the models read.'),
]);

const kafkaHeader = record('KafkaHeader', 'One Kafka record header.', [
  field('key', 'string', 'Header name.'),
  optional('value', 'bytes', 'Header value bytes; null for a header without a value.'),
]);

/** Fields every pipeline event starts with. Trace context is not here: it travels in Kafka headers. */
function envelope() {
  return [
    field('imageId', uuid, 'The image this event is about (UUID); also the Kafka message key.'),
    field('tenantId', 'string', 'The tenant that owns the image.'),
    field('occurredAt', timestampMillis, 'When this event happened, milliseconds since the Unix epoch (UTC).'),
  ];
}

/** Fields every stage-result event carries, in the shape of the result contract's StageReport. */
function stageOutcome(stage: string) {
  return [
    field('status', 'string', `Outcome of the ${stage} stage: completed, failed or skipped.`),
    optional('error', stageError, 'Why the stage failed; only when status is failed.'),
    optional('model', modelIdentity, 'The model that produced the results; null when the stage ran no model.'),
    optional('durationMs', 'double', 'How long the stage took, in milliseconds.'),
  ];
}

const imageUploaded = record(
  'ImageUploaded',
  'An image entered the pipeline. Exactly one of blob and inline carries the bytes.',
  [
    ...envelope(),
    optional('source', 'string', "Name of the uploaded file, or the producing system's own reference."),
    optional('contentType', 'string', 'MIME type the producer claims; preprocessing sniffs the real format.'),
    optional('blob', blobRef, 'Where the image bytes are stored (claim check). Null when inline is set.'),
    optional(
      'inline',
      'bytes',
      'The image bytes themselves, at most 1000000 bytes (bigger images go by blob). Null when blob is set.',
    ),
    field('sha256', 'string', 'SHA-256 of the image bytes, 64 lowercase hex digits.'),
    field('size', 'long', 'Size of the image in bytes.'),
    list(
      'analyses',
      'string',
      'Analyses to run, any of detect, faces, ocr, features; empty means detect, faces and ocr (features is opt-in: alone it asks for keypoints only).',
    ),
    optional('callbackUrl', 'string', 'URL to POST the finished analysis to.'),
    stringMap('attributes', 'string', "The caller's own metadata, returned with the results."),
    list(
      'renditions',
      'string',
      "Rendition presets to render, names from the deployment's IMGPIPE_RENDITION_PRESETS (e.g. thumb, web); empty means none.",
    ),
    optional(
      'ocrModel',
      'string',
      "The OCR model set to read the image with: ppocr-v4 or ppocr-v5; null means the deployment's (IMGPIPE_OCR_MODEL_SET). An unknown name fails the OCR stage with MODEL_SET_UNKNOWN.",
    ),
    optional(
      'ocrLanguages',
      { type: 'array', items: 'string' },
      "Languages (ISO 639-1: en, de, fr, es, it, pt, nl, zh, ja) to restrict OCR to: only their scripts, digits and punctuation are read. Null or empty means no restriction. With no ocrModel, a language the deployment's set cannot read (ja on ppocr-v4) chooses a set that can; an unknown language, or one the named set cannot read, fails the OCR stage with OCR_LANGUAGE_UNSUPPORTED.",
    ),
  ],
);

const imagePreprocessed = record(
  'ImagePreprocessed',
  'Preprocessing finished (or failed) for an image: facts about it and the derivatives the models read.',
  [
    ...envelope(),
    optional('sourceName', 'string', 'The file or upload name the image came from, when known.'),
    list('analyses', 'string', "ImageUploaded's analyses, unchanged (see there)."),
    field('status', 'string', 'Outcome of preprocessing: completed or failed.'),
    optional('error', stageError, 'Why preprocessing failed; only when status is failed.'),
    optional('model', modelIdentity, 'The model preprocessing ran, if any.'),
    optional('durationMs', 'double', 'How long preprocessing took, in milliseconds.'),
    field('original', blobRef, 'The original image in object storage.'),
    optional('image', imageInfo, 'What preprocessing learned; null when it failed.'),
    optional('derivatives', derivatives, 'Derived images; null when preprocessing failed.'),
    stringMap('attributes', 'string', "The producer's own metadata from ImageUploaded, passed on to ImageAnalyzed."),
    list('renditions', 'string', "ImageUploaded's rendition presets, passed on to the transform stage; empty: none."),
    optional(
      'ocrModel',
      'string',
      "ImageUploaded's OCR model set, passed on to the OCR stage; null: the deployment's.",
    ),
    optional(
      'ocrLanguages',
      { type: 'array', items: 'string' },
      "ImageUploaded's OCR languages, passed on to the OCR stage; null: no restriction.",
    ),
  ],
);

const objectsDetected = record('ObjectsDetected', 'Object detection finished (or failed or was skipped).', [
  ...envelope(),
  ...stageOutcome('detect'),
  list('objects', detectedObject, 'Detected objects, highest confidence first.'),
]);

const facesDetected = record('FacesDetected', 'Face detection finished (or failed or was skipped).', [
  ...envelope(),
  ...stageOutcome('faces'),
  list('faces', detectedFace, 'Detected faces, highest confidence first.'),
]);

const textRecognized = record('TextRecognized', 'Text recognition finished (or failed or was skipped).', [
  ...envelope(),
  ...stageOutcome('ocr'),
  field('text', recognizedText, 'The text found; empty fullText and no lines when none.'),
]);

const imageTransformed = record(
  'ImageTransformed',
  'The transform stage rendered (or failed to render) the rendition presets an upload asked for.',
  [
    ...envelope(),
    ...stageOutcome('transform'),
    list('renditions', avroTypeOf(Rendition), 'The renditions stored, in the order asked; empty when it failed.'),
  ],
);

const featuresExtracted = record(
  'FeaturesExtracted',
  'The features stage found (or failed to find) the keypoints of an image whose upload asked for features.',
  [
    ...envelope(),
    ...stageOutcome('features'),
    optional('features', avroTypeOf(FeatureSummary), 'The keypoint summary; null when the stage failed.'),
  ],
);

const { imageId: _inEnvelope, ...analysisFields } = ImageAnalysis.fields;
const imageAnalyzed = record('ImageAnalyzed', ImageAnalysis.doc, [...envelope(), ...avroFieldsOf(analysisFields)]);

const deadLetter = record(
  'DeadLetter',
  'A message a stage gave up on: the original record verbatim, and why it failed.',
  [
    optional('imageId', uuid, 'The image the failed message was about, when it could be told (usually the key).'),
    optional('tenantId', 'string', 'The tenant of that image, when the failed message could be decoded.'),
    field('sourceTopic', 'string', 'Topic the failed message was read from.'),
    field('partition', 'int', 'Partition it was read from.'),
    field('offset', 'long', 'Its offset in that partition.'),
    optional('key', 'bytes', 'The original message key bytes; null when it had none.'),
    optional('value', 'bytes', 'The original message value bytes, verbatim; null for a tombstone.'),
    list('headers', kafkaHeader, 'The original headers, in order (keys may repeat).'),
    field(
      'stage',
      'string',
      'The service that gave up: preprocess, detect, faces, ocr, aggregate, transform, features or results.',
    ),
    field('errorCode', 'string', 'Stable imgpipe error code, e.g. CODEC_UNKNOWN_SCHEMA.'),
    field('errorMessage', 'string', 'Human-readable specifics.'),
    field('retriable', 'boolean', 'Whether the error was transient (retries ran out) rather than deterministic.'),
    field('attempt', 'int', 'How many attempts were made, 1 for a deterministic failure.'),
    field('failedAt', timestampMillis, 'When the message was dead-lettered, milliseconds since the Unix epoch (UTC).'),
    optional('traceId', 'string', 'W3C trace id (32 hex digits) of the failed message, when it had trace context.'),
  ],
);

/** Every event's schema, by event type, in the self-contained JSON form the registry receives. */
export const EVENT_SCHEMAS = {
  ImageUploaded: selfContained(imageUploaded, SCHEMA_NAMESPACE),
  ImagePreprocessed: selfContained(imagePreprocessed, SCHEMA_NAMESPACE),
  ObjectsDetected: selfContained(objectsDetected, SCHEMA_NAMESPACE),
  FacesDetected: selfContained(facesDetected, SCHEMA_NAMESPACE),
  TextRecognized: selfContained(textRecognized, SCHEMA_NAMESPACE),
  ImageAnalyzed: selfContained(imageAnalyzed, SCHEMA_NAMESPACE),
  ImageTransformed: selfContained(imageTransformed, SCHEMA_NAMESPACE),
  FeaturesExtracted: selfContained(featuresExtracted, SCHEMA_NAMESPACE),
  DeadLetter: selfContained(deadLetter, SCHEMA_NAMESPACE),
} as const satisfies Record<string, AvroRecord>;

/** The .avsc file content for an event type, exactly as committed under schemas/. */
export function schemaFileText(eventType: keyof typeof EVENT_SCHEMAS): string {
  return `${formatJson(EVENT_SCHEMAS[eventType], '')}\n`;
}

const LINE_WIDTH = 120;

/** JSON that reads well: a record's fields one per line, anything short and without nested records on one line. */
function formatJson(value: unknown, indent: string): string {
  const compact = oneLineJson(value);
  if (typeof value !== 'object' || value === null) return compact;
  if (indent.length + compact.length <= LINE_WIDTH && !compact.includes('"fields"')) return compact;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    return `[\n${value.map((item) => inner + formatJson(item, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value).map(
    ([key, item]) => `${inner}${JSON.stringify(key)}: ${formatJson(item, inner)}`,
  );
  return `{\n${entries.join(',\n')}\n${indent}}`;
}

function oneLineJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(oneLineJson).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([key, item]) => `${JSON.stringify(key)}: ${oneLineJson(item)}`)
    .join(', ')}}`;
}
