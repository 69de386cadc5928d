/**
 * The source of truth of every event's Avro schema. The shared record types are written once here;
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
import { SCHEMA_NAMESPACE } from './topics.ts';

const blobRef = record('BlobRef', 'Where an image (or a derivative of it) is stored in S3-compatible object storage.', [
  field('bucket', 'string', 'Bucket name.'),
  field('key', 'string', 'Object key inside the bucket.'),
  field('sha256', 'string', 'SHA-256 of the object bytes, 64 lowercase hex digits.'),
  field('size', 'long', 'Object size in bytes.'),
  field('contentType', 'string', 'MIME type of the object, e.g. image/jpeg.'),
]);

const modelIdentity = record('ModelIdentity', 'The exact model that produced a result.', [
  field('name', 'string', 'Model name, e.g. yolov8n.'),
  field('version', 'string', 'Model version as published by its source.'),
  field('sha256', 'string', 'SHA-256 of the model file, 64 lowercase hex digits.'),
]);

const stageError = record('StageError', 'Why a stage failed.', [
  field('code', 'string', 'Stable imgpipe error code, e.g. IMAGE_CORRUPT.'),
  field('message', 'string', 'Human-readable specifics.'),
]);

const pixelBox = record('PixelBox', 'An axis-aligned box in pixels of the image after EXIF orientation.', [
  field('x', 'double', 'Left edge in pixels from the left of the oriented image.'),
  field('y', 'double', 'Top edge in pixels from the top of the oriented image.'),
  field('width', 'double', 'Width in pixels.'),
  field('height', 'double', 'Height in pixels.'),
]);

const normalizedBox = record('NormalizedBox', "An axis-aligned box as fractions 0-1 of the oriented image's size.", [
  field('left', 'double', 'Left edge as a fraction of the image width.'),
  field('top', 'double', 'Top edge as a fraction of the image height.'),
  field('width', 'double', 'Width as a fraction of the image width.'),
  field('height', 'double', 'Height as a fraction of the image height.'),
]);

const point = record('Point', 'A point in pixels of the oriented image.', [
  field('x', 'double', 'Pixels from the left edge.'),
  field('y', 'double', 'Pixels from the top edge.'),
]);

const gpsPosition = record('GpsPosition', 'Where the photo was taken (WGS 84).', [
  field('latitude', 'double', 'Degrees north, negative for south.'),
  field('longitude', 'double', 'Degrees east, negative for west.'),
]);

const exifSummary = record('ExifSummary', 'The EXIF facts imgpipe keeps.', [
  optional('make', 'string', 'Camera maker.'),
  optional('model', 'string', 'Camera model.'),
  optional(
    'takenAt',
    'string',
    'Capture time, ISO 8601 as written by the camera (no time zone unless the file has one).',
  ),
  optional('orientation', 'int', 'Original EXIF orientation 1-8, before auto-orientation.'),
  field('hasGps', 'boolean', 'Whether the file carried a GPS position.'),
  optional('gps', gpsPosition, 'The GPS position; only when the deployment keeps it (IMGPIPE_KEEP_GPS=true).'),
]);

const dominantColor = record('DominantColor', 'One of the dominant colours of the image.', [
  field('hex', 'string', 'Colour as #rrggbb.'),
  field('share', 'double', "Share of the image's pixels, 0-1."),
]);

const imageQuality = record('ImageQuality', 'Simple quality measures computed on luma.', [
  field('brightness', 'double', 'Mean luma 0-1.'),
  field('contrast', 'double', 'Standard deviation of luma 0-1.'),
  field('sharpness', 'double', 'Variance of the Laplacian of luma (higher is sharper).'),
]);

const imageInfo = record('ImageInfo', 'What preprocessing learned about the image.', [
  field('width', 'int', 'Width in pixels after EXIF orientation.'),
  field('height', 'int', 'Height in pixels after EXIF orientation.'),
  field('format', 'string', 'Format sniffed from the bytes: jpeg, png, webp, avif, gif or tiff.'),
  field('bytes', 'long', 'Size of the original image in bytes.'),
  field('sha256', 'string', 'SHA-256 of the original image bytes, 64 lowercase hex digits.'),
  field('hasAlpha', 'boolean', 'Whether the image has an alpha channel.'),
  field('exif', exifSummary, 'EXIF summary.'),
  list('colors', dominantColor, 'Dominant colours, largest share first.'),
  field('quality', imageQuality, 'Quality measures.'),
  field(
    'perceptualHash',
    'string',
    '64-bit difference hash as 16 hex digits; Hamming distance <= 10 means near-duplicate.',
  ),
]);

const derivatives = record('Derivatives', 'Images derived from the original by preprocessing.', [
  field('thumbnail', blobRef, 'A small preview (JPEG or WebP).'),
  field('normalized', blobRef, 'The oriented, colour-normalised image the models read.'),
]);

const detectedObject = record('DetectedObject', 'One detected object instance.', [
  field('label', 'string', 'Class label, e.g. person.'),
  field('classId', 'int', "Index of the class in the model's label list."),
  field('confidence', 'double', 'Confidence 0-1.'),
  field('box', pixelBox, 'Bounding box in pixels of the oriented image.'),
  field('boxNormalized', normalizedBox, 'Bounding box as fractions 0-1.'),
]);

const faceLandmarks = record('FaceLandmarks', "Five facial landmarks, from the subject's point of view.", [
  field('rightEye', point, "The subject's right eye."),
  field('leftEye', point, "The subject's left eye."),
  field('nose', point, 'Tip of the nose.'),
  field('mouthRight', point, "Right corner of the mouth (subject's right)."),
  field('mouthLeft', point, "Left corner of the mouth (subject's left)."),
]);

const detectedFace = record('DetectedFace', 'One detected face.', [
  field('confidence', 'double', 'Confidence 0-1.'),
  field('box', pixelBox, 'Bounding box in pixels of the oriented image.'),
  field('boxNormalized', normalizedBox, 'Bounding box as fractions 0-1.'),
  field('landmarks', faceLandmarks, 'Five landmarks.'),
]);

const textWord = record('TextWord', 'One recognised word.', [
  field('text', 'string', 'The word.'),
  field('confidence', 'double', 'Confidence 0-1.'),
  list('polygon', point, 'Corners clockwise from top-left, in pixels of the oriented image.'),
]);

const textLine = record('TextLine', 'One recognised line of text.', [
  field('text', 'string', 'The line.'),
  field('confidence', 'double', 'Confidence 0-1.'),
  list('polygon', point, 'Four corners clockwise from top-left, in pixels of the oriented image.'),
  field('box', pixelBox, 'Bounding box in pixels of the oriented image.'),
  field('boxNormalized', normalizedBox, 'Bounding box as fractions 0-1.'),
  optional('words', { type: 'array', items: textWord }, 'Words of the line, when the recogniser gives them.'),
]);

const recognizedText = record('RecognizedText', 'All text found in the image.', [
  field('fullText', 'string', 'Lines joined with \\n in reading order; empty when none.'),
  list('lines', textLine, 'Lines in reading order.'),
]);

const label = record('Label', 'An object class found in the image, with its instance count.', [
  field('label', 'string', 'Class label.'),
  field('count', 'int', 'Number of instances.'),
  field('confidence', 'double', 'Best confidence among the instances, 0-1.'),
]);

const textInObject = record('TextInObject', 'A text line lying inside a detected object.', [
  field('line', 'int', 'Index into text.lines.'),
  field('object', 'int', 'Index into objects.'),
]);

const stageReport = record('StageReport', "One stage's outcome for the image.", [
  field('status', 'string', 'pending, running, completed, failed or skipped.'),
  optional('error', stageError, 'Why the stage failed; only when status is failed.'),
  optional('model', modelIdentity, 'The model the stage ran, when it runs one.'),
  optional('durationMs', 'double', 'How long the stage took, in milliseconds.'),
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
    list('analyses', 'string', 'Analyses to run, any of detect, faces, ocr; empty means all.'),
    optional('callbackUrl', 'string', 'URL to POST the finished analysis to.'),
    stringMap('attributes', 'string', "The caller's own metadata, returned with the results."),
  ],
);

const imagePreprocessed = record(
  'ImagePreprocessed',
  'Preprocessing finished (or failed) for an image: facts about it and the derivatives the models read.',
  [
    ...envelope(),
    optional('sourceName', 'string', 'The file or upload name the image came from, when known.'),
    list('analyses', 'string', 'Analyses requested, any of detect, faces, ocr; empty means all.'),
    field('status', 'string', 'Outcome of preprocessing: completed or failed.'),
    optional('error', stageError, 'Why preprocessing failed; only when status is failed.'),
    optional('model', modelIdentity, 'The model preprocessing ran, if any.'),
    optional('durationMs', 'double', 'How long preprocessing took, in milliseconds.'),
    field('original', blobRef, 'The original image in object storage.'),
    optional('image', imageInfo, 'What preprocessing learned; null when it failed.'),
    optional('derivatives', derivatives, 'Derived images; null when preprocessing failed.'),
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

const imageAnalyzed = record(
  'ImageAnalyzed',
  'The joined result of every stage for an image: the result contract users read.',
  [
    ...envelope(),
    optional('sourceName', 'string', 'The file or upload name the image came from, when known.'),
    field(
      'status',
      'string',
      'completed when every requested stage completed, partial when some failed, failed when none produced.',
    ),
    optional('image', imageInfo, 'Facts about the image; null when preprocessing failed.'),
    list('labels', label, 'Object classes with instance counts, highest confidence first.'),
    list('objects', detectedObject, 'Detected objects.'),
    list('faces', detectedFace, 'Detected faces.'),
    field('text', recognizedText, 'Recognised text.'),
    list('textInObjects', textInObject, 'Which text line lies inside which object.'),
    stringMap(
      'stages',
      stageReport,
      'Per-stage outcome, keyed by stage name (preprocess, detect, faces, ocr, aggregate).',
    ),
  ],
);

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
    field('stage', 'string', 'The service that gave up: preprocess, detect, faces, ocr, aggregate or results.'),
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
