/**
 * The result contract: what users read, from `imgpipe analyze --json`, the results API and the ImageAnalyzed event.
 * Anchored on AWS Rekognition DetectLabels/DetectText, Google Cloud Vision AnnotateImageResponse and Azure Image
 * Analysis 4.0: every box in pixels of the oriented image and normalised 0-1, confidences 0-1, the model identity on
 * every stage result, and per-stage status with an error code so one failed stage leaves the others standing.
 *
 * Written once, as data shapes (data-shape.ts): each `const` is the shape, the interface of the same name its
 * TypeScript type. The records inside the Avro events (event-schemas.ts) and the HTTP API's JSON Schemas are derived
 * from these; the docs here are the ones schemas/*.avsc and the OpenAPI document carry.
 */
import { ERROR_CATALOGUE, type ErrorCode } from '@imgpipe/core';
import {
  boolean,
  double,
  type Infer,
  int,
  keyedBy,
  listOf,
  long,
  mapOf,
  oneOf,
  optional,
  record,
  required,
  string,
  uuid,
} from './data-shape.ts';
import { STAGES } from './topics.ts';

export const STAGE_STATUSES = ['pending', 'running', 'completed', 'failed', 'skipped'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];
/** Overall: completed when every requested stage completed, partial when some failed, failed when none produced. */
export const IMAGE_STATUSES = ['pending', 'completed', 'partial', 'failed'] as const;
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

export const ModelIdentity = record('ModelIdentity', 'The exact model that produced a result.', {
  name: required(string, 'Model name, e.g. yolov8n.'),
  version: required(string, 'Model version as published by its source.'),
  sha256: required(string, 'SHA-256 of the model file, 64 lowercase hex digits.'),
});
export interface ModelIdentity extends Infer<typeof ModelIdentity> {}

export const StageError = record('StageError', 'Why a stage failed.', {
  code: required(oneOf(ERROR_CODES), 'Stable imgpipe error code, e.g. IMAGE_CORRUPT.'),
  message: required(string, 'Human-readable specifics.'),
});
export interface StageError extends Infer<typeof StageError> {}

export const PixelBox = record('PixelBox', 'An axis-aligned box in pixels of the image after EXIF orientation.', {
  x: required(double, 'Left edge in pixels from the left of the oriented image.'),
  y: required(double, 'Top edge in pixels from the top of the oriented image.'),
  width: required(double, 'Width in pixels.'),
  height: required(double, 'Height in pixels.'),
});
export interface PixelBox extends Infer<typeof PixelBox> {}

export const NormalizedBox = record(
  'NormalizedBox',
  "An axis-aligned box as fractions 0-1 of the oriented image's size.",
  {
    left: required(double, 'Left edge as a fraction of the image width.'),
    top: required(double, 'Top edge as a fraction of the image height.'),
    width: required(double, 'Width as a fraction of the image width.'),
    height: required(double, 'Height as a fraction of the image height.'),
  },
);
export interface NormalizedBox extends Infer<typeof NormalizedBox> {}

export const Point = record('Point', 'A point in pixels of the oriented image.', {
  x: required(double, 'Pixels from the left edge.'),
  y: required(double, 'Pixels from the top edge.'),
});
export interface Point extends Infer<typeof Point> {}

export const GpsPosition = record('GpsPosition', 'Where the photo was taken (WGS 84).', {
  latitude: required(double, 'Degrees north, negative for south.'),
  longitude: required(double, 'Degrees east, negative for west.'),
});
export interface GpsPosition extends Infer<typeof GpsPosition> {}

export const ExifSummary = record('ExifSummary', 'The EXIF facts imgpipe keeps.', {
  make: optional(string, 'Camera maker.'),
  model: optional(string, 'Camera model.'),
  takenAt: optional(string, 'Capture time, ISO 8601 as written by the camera (no time zone unless the file has one).'),
  orientation: optional(int, 'Original EXIF orientation 1-8, before auto-orientation.'),
  hasGps: required(boolean, 'Whether the file carried a GPS position.'),
  gps: optional(GpsPosition, 'The GPS position; only when the deployment keeps it (IMGPIPE_KEEP_GPS=true).'),
});
export interface ExifSummary extends Infer<typeof ExifSummary> {}

export const DominantColor = record('DominantColor', 'One of the dominant colours of the image.', {
  hex: required(string, 'Colour as #rrggbb.'),
  share: required(double, "Share of the image's pixels, 0-1."),
});
export interface DominantColor extends Infer<typeof DominantColor> {}

export const ImageQuality = record('ImageQuality', 'Simple quality measures computed on luma.', {
  brightness: required(double, 'Mean luma 0-1.'),
  contrast: required(double, 'Standard deviation of luma 0-1.'),
  sharpness: required(double, 'Variance of the Laplacian of luma (higher is sharper).'),
});
export interface ImageQuality extends Infer<typeof ImageQuality> {}

export const ImageTexture = record(
  'ImageTexture',
  'Texture statistics of luma (256 px long side): the grey-level co-occurrence matrix (16 levels, neighbours at distance 1, symmetric, the mean over 0°, 45°, 90° and 135°) and the Sobel edge density.',
  {
    contrast: required(
      double,
      'GLCM contrast, sum p(i,j)(i-j)^2 divided by 15^2: 0-1, 0 for a flat image, 1 when every neighbour pair is black against white.',
    ),
    homogeneity: required(
      double,
      'GLCM homogeneity, sum p(i,j)/(1+(i-j)^2): 1/226 to 1, 1 when neighbours have the same level.',
    ),
    energy: required(double, 'GLCM energy, sqrt(sum p(i,j)^2): 1/16 to 1, 1 for a flat image, low for a busy one.'),
    entropy: required(
      double,
      'GLCM entropy, -sum p(i,j) log2 p(i,j), in bits: 0-8, 0 for a flat image, high when neighbours are unpredictable.',
    ),
    edgeDensity: required(
      double,
      'Fraction 0-1 of pixels whose Sobel gradient magnitude is at least 128 (a sharp step of 32 grey levels).',
    ),
  },
);
export interface ImageTexture extends Infer<typeof ImageTexture> {}

export const NormalizedPoint = record('NormalizedPoint', "A point as fractions 0-1 of the oriented image's size.", {
  x: required(double, 'Fraction of the width, from the left edge.'),
  y: required(double, 'Fraction of the height, from the top edge.'),
});
export interface NormalizedPoint extends Infer<typeof NormalizedPoint> {}

export const ImageComposition = record(
  'ImageComposition',
  'Where the visual weight sits, left-right symmetry and horizon tilt, measured on luma (256 px long side).',
  {
    weightCenter: optional(
      NormalizedPoint,
      "Centre of visual weight: the mean position weighted by frequency-tuned saliency (|blurred luma - the image's mean luma|) above its mean; absent when nothing stands out (a flat image).",
    ),
    thirdsDistance: optional(
      double,
      'Distance from weightCenter to the nearest rule-of-thirds intersection divided by the largest possible (sqrt(2)/3, from a corner): 0 on an intersection, 0.5 at the centre, 1 in a corner; absent with weightCenter.',
    ),
    symmetry: required(
      double,
      '1 - mean |luma - its left-right mirror| / 255: 1 for a mirror-symmetric image, 0 for black against white.',
    ),
    horizonTilt: optional(
      double,
      'Tilt in degrees of the dominant near-horizontal straight edge (Hough transform over Sobel edges, within 30° of level, crossing at least half the width), positive when it rises from left to right (turn the image clockwise by it to level it); absent when there is none.',
    ),
  },
);
export interface ImageComposition extends Infer<typeof ImageComposition> {}

export const ImageScene = record('ImageScene', 'Texture and composition of the image, from preprocessing.', {
  texture: required(ImageTexture, 'Texture statistics.'),
  composition: required(ImageComposition, 'Composition measures.'),
});
export interface ImageScene extends Infer<typeof ImageScene> {}

export const ImageInfo = record('ImageInfo', 'What preprocessing learned about the image.', {
  width: required(int, 'Width in pixels after EXIF orientation.'),
  height: required(int, 'Height in pixels after EXIF orientation.'),
  format: required(string, 'Format sniffed from the bytes: jpeg, png, webp, avif, gif or tiff.'),
  bytes: required(long, 'Size of the original image in bytes.'),
  sha256: required(string, 'SHA-256 of the original image bytes, 64 lowercase hex digits.'),
  hasAlpha: required(boolean, 'Whether the image has an alpha channel.'),
  exif: required(ExifSummary, 'EXIF summary.'),
  colors: required(listOf(DominantColor), 'Dominant colours, largest share first.'),
  quality: required(ImageQuality, 'Quality measures.'),
  perceptualHash: required(
    string,
    '64-bit difference hash as 16 hex digits; Hamming distance <= 10 means near-duplicate.',
  ),
  scene: optional(ImageScene, 'Texture and composition; absent in results written before it existed.'),
});
export interface ImageInfo extends Infer<typeof ImageInfo> {}

export const DetectedObject = record('DetectedObject', 'One detected object instance.', {
  label: required(string, 'Class label, e.g. person.'),
  classId: required(int, "Index of the class in the model's label list."),
  confidence: required(double, 'Confidence 0-1.'),
  box: required(PixelBox, 'Bounding box in pixels of the oriented image.'),
  boxNormalized: required(NormalizedBox, 'Bounding box as fractions 0-1.'),
});
export interface DetectedObject extends Infer<typeof DetectedObject> {}

export const FaceLandmarks = record('FaceLandmarks', "Five facial landmarks, from the subject's point of view.", {
  rightEye: required(Point, "The subject's right eye."),
  leftEye: required(Point, "The subject's left eye."),
  nose: required(Point, 'Tip of the nose.'),
  mouthRight: required(Point, "Right corner of the mouth (subject's right)."),
  mouthLeft: required(Point, "Left corner of the mouth (subject's left)."),
});
export interface FaceLandmarks extends Infer<typeof FaceLandmarks> {}

export const DetectedFace = record('DetectedFace', 'One detected face.', {
  confidence: required(double, 'Confidence 0-1.'),
  box: required(PixelBox, 'Bounding box in pixels of the oriented image.'),
  boxNormalized: required(NormalizedBox, 'Bounding box as fractions 0-1.'),
  landmarks: required(FaceLandmarks, 'Five landmarks.'),
});
export interface DetectedFace extends Infer<typeof DetectedFace> {}

export const TextWord = record('TextWord', 'One recognised word.', {
  text: required(string, 'The word.'),
  confidence: required(double, 'Confidence 0-1.'),
  polygon: required(listOf(Point), 'Corners clockwise from top-left, in pixels of the oriented image.'),
});
export interface TextWord extends Infer<typeof TextWord> {}

export const TextLine = record('TextLine', 'One recognised line of text.', {
  text: required(string, 'The line.'),
  confidence: required(double, 'Confidence 0-1.'),
  polygon: required(listOf(Point), 'Four corners clockwise from top-left, in pixels of the oriented image.'),
  box: required(PixelBox, 'Bounding box in pixels of the oriented image.'),
  boxNormalized: required(NormalizedBox, 'Bounding box as fractions 0-1.'),
  words: optional(listOf(TextWord), 'Words of the line, when the recogniser gives them.'),
});
export interface TextLine extends Infer<typeof TextLine> {}

export const DetectedCode = record('DetectedCode', 'One barcode or QR code found and decoded in the image.', {
  format: required(string, "ZXing's format name: QRCode, MicroQRCode, Code128, EAN13, EAN8, UPCA, DataMatrix, ..."),
  text: required(string, 'The decoded content as text.'),
  polygon: required(
    listOf(Point),
    "The symbol's four corners as it reads (top-left, top-right, bottom-right, bottom-left), in pixels of the oriented image.",
  ),
  box: required(PixelBox, 'Bounding box in pixels of the oriented image.'),
  boxNormalized: required(NormalizedBox, 'Bounding box as fractions 0-1.'),
});
export interface DetectedCode extends Infer<typeof DetectedCode> {}

export const RecognizedText = record('RecognizedText', 'All text found in the image.', {
  fullText: required(string, 'Lines joined with \\n in reading order; empty when none.'),
  lines: required(listOf(TextLine), 'Lines in reading order.'),
  orientation: optional(
    int,
    'Clockwise turn of the text found, in degrees (0, 90, 180 or 270): turn the image back by this to read it upright. Polygons stay in the original image.',
  ),
  codes: optional(
    listOf(DetectedCode),
    'Barcodes and QR codes the OCR stage decoded (only codes whose checksum or error correction verifies); absent from results read before codes were read.',
  ),
});
export interface RecognizedText extends Infer<typeof RecognizedText> {}

export const Label = record('Label', 'An object class found in the image, with its instance count.', {
  label: required(string, 'Class label.'),
  count: required(int, 'Number of instances.'),
  confidence: required(double, 'Best confidence among the instances, 0-1.'),
});
export interface Label extends Infer<typeof Label> {}

export const TextInObject = record('TextInObject', 'A text line lying inside a detected object.', {
  line: required(int, 'Index into text.lines.'),
  object: required(int, 'Index into objects.'),
});
export interface TextInObject extends Infer<typeof TextInObject> {}

export const StageReport = record('StageReport', "One stage's outcome for the image.", {
  status: required(oneOf(STAGE_STATUSES), 'pending, running, completed, failed or skipped.'),
  error: optional(StageError, 'Why the stage failed; only when status is failed.'),
  model: optional(ModelIdentity, 'The model the stage ran, when it runs one.'),
  durationMs: optional(double, 'How long the stage took, in milliseconds.'),
});
export interface StageReport extends Infer<typeof StageReport> {}

export const Rendition = record(
  'Rendition',
  'One rendition preset the upload asked for, rendered from the original by the transform stage and stored in S3.',
  {
    name: required(string, 'The preset, e.g. thumb.'),
    recipe: required(string, "The preset's recipe in its canonical string form."),
    key: required(
      string,
      'Object key in the bucket: the rendition cache key, so GET /v1/images/{id}/renditions/{recipe} serves it.',
    ),
    format: required(string, 'Output format: jpeg, png, webp, avif, tiff, gif or bmp.'),
    width: required(int, 'Width in pixels.'),
    height: required(int, 'Height in pixels.'),
    bytes: required(long, 'Size in bytes.'),
  },
);
export interface Rendition extends Infer<typeof Rendition> {}

export const Keypoint = record(
  'Keypoint',
  "One keypoint as OpenCV's KeyPoint reports it, in pixels of the oriented original (pixel centres at whole numbers).",
  {
    x: required(double, 'Column, pixels of the original.'),
    y: required(double, 'Row, pixels of the original.'),
    size: required(double, 'Diameter of the meaningful neighbourhood, pixels of the original.'),
    angle: required(double, 'Orientation in degrees, 0-360, clockwise in image coordinates.'),
    response: required(double, 'Strength: SIFT |D(x)| of the refined extremum, ORB the Harris score.'),
    octave: required(int, "OpenCV's packed octave (SIFT: octave, layer and sub-layer bytes; ORB: pyramid level)."),
  },
);
export interface Keypoint extends Infer<typeof Keypoint> {}

export const FeatureSummary = record(
  'FeatureSummary',
  "The features stage's keypoints of an image: how many, with what, the strongest few, and where every keypoint and descriptor is stored.",
  {
    detector: required(string, 'sift or orb.'),
    params: required(
      string,
      'The complete detector parameters, canonical (e.g. sift:contrastThreshold=0.04,edgeThreshold=10,nOctaveLayers=3,nfeatures=0,sigma=1.6).',
    ),
    maxSide: required(
      int,
      "The cap on the long side detection ran at: a larger original was downscaled to it, a smaller one ran at its own size; coordinates are the original's.",
    ),
    width: required(int, 'Width of the coordinate space: the oriented original.'),
    height: required(int, 'Height of the coordinate space.'),
    count: required(int, 'Keypoints found; the stored record holds every one.'),
    keypoints: required(
      listOf(Keypoint),
      "The strongest keypoints by response, at most the deployment's IMGPIPE_FEATURES_TOP_KEYPOINTS.",
    ),
    descriptorType: required(string, 'float32 (SIFT: 128 values 0-255 per keypoint) or binary (ORB: 256 bits).'),
    descriptorSize: required(int, 'Descriptor values per keypoint: 128 (SIFT) or 32 bytes (ORB).'),
    descriptorsKey: required(
      string,
      "Object key, in the deployment's bucket, of every keypoint and descriptor in imgpipe's IPKF form (decodeFeatures reads it): from the original's SHA-256 and the options, so equal bytes share it.",
    ),
    descriptorsBytes: required(long, 'Size of that object in bytes.'),
  },
);
export interface FeatureSummary extends Infer<typeof FeatureSummary> {}

/** What `attributes` holds wherever it appears: ImageUploaded's map, carried unchanged to every result. */
export const ATTRIBUTES_DOC =
  "The producer's own metadata, as ImageUploaded.attributes (or the upload's attributes) gave it: {} when none.";

/** The joined result of every stage for an image; the ImageAnalyzed event is this plus its envelope. */
export const ImageAnalysis = record(
  'ImageAnalysis',
  'The joined result of every stage for an image: the result contract users read.',
  {
    imageId: required(uuid, 'The image (UUID).'),
    sourceName: optional(string, 'The file or upload name the image came from, when known.'),
    status: required(
      oneOf(IMAGE_STATUSES),
      'completed when every requested stage completed, partial when some failed, failed when none produced.',
    ),
    image: optional(ImageInfo, 'Facts about the image; null when preprocessing failed.'),
    labels: required(listOf(Label), 'Object classes with instance counts, highest confidence first.'),
    objects: required(listOf(DetectedObject), 'Detected objects.'),
    faces: required(listOf(DetectedFace), 'Detected faces.'),
    text: required(RecognizedText, 'Recognised text.'),
    textInObjects: required(listOf(TextInObject), 'Which text line lies inside which object.'),
    stages: required(
      keyedBy(STAGES, StageReport),
      'Per-stage outcome, keyed by stage name (preprocess, detect, faces, ocr, aggregate).',
    ),
    // Last, so the Avro field came after every field that ImageAnalyzed had before it (added with a default).
    attributes: required(mapOf(string), ATTRIBUTES_DOC),
    // Added after attributes with defaults (empty, null): images that asked for no renditions carry neither.
    renditions: required(
      listOf(Rendition),
      'The renditions the upload asked for, in the order asked; empty when none.',
    ),
    transform: optional(
      StageReport,
      "The transform stage's outcome; only when the upload asked for renditions (a failed one makes the image partial).",
    ),
    // Added after transform, optional (null): images that did not ask for features carry neither.
    features: optional(
      FeatureSummary,
      'Keypoints, when the upload asked for features and the features stage completed.',
    ),
    featuresStage: optional(
      StageReport,
      "The features stage's outcome (its model: the detector, a version and the SHA-256 of its canonical parameters); only when the upload asked for features (a failed one makes the image partial).",
    ),
  },
);
export interface ImageAnalysis extends Infer<typeof ImageAnalysis> {}
