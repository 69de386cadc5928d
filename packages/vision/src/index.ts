/**
 * @imgpipe/vision: pure image analysis on bytes and tensors (sharp, onnxruntime-node). No Kafka, S3 or databases.
 * Stages are pure async functions of (input, options) -> output that run the same in process or on the worker pool.
 */
export { type Annotations, type AnnotateOptions, annotateImage } from './annotate/annotate.ts';
export { deriveInferenceThreads, loadVisionConfig, type VisionConfig, visionSettings } from './config.ts';
export { availableCpus, cgroupCpuLimit, cpuShare } from './cpu.ts';
export { COCO_CLASSES, parseLabelsFile, parseNamesMetadata } from './detect/coco-classes.ts';
export {
  DEFAULT_DETECTOR,
  type DetectObjectsOptions,
  type DetectObjectsResult,
  type DetectorFormat,
  detectObjects,
  detectObjectsHandler,
  type StageTimings,
} from './detect/detect-objects.ts';
export {
  DEFAULT_FACE_DETECTOR,
  type DetectFacesOptions,
  type DetectFacesResult,
  detectFaces,
  detectFacesHandler,
} from './faces/detect-faces.ts';
export { iou, nonMaxSuppression } from './geometry/boxes.ts';
export * from './models/index.ts';
export * from './pool/index.ts';
export { hammingDistance } from './preprocess/dhash.ts';
export { type ExifOptions, parseExif } from './preprocess/exif.ts';
export {
  decodeNormalizedImage,
  type EncodedImage,
  encodeNormalizedImage,
  NORMALIZED_CONTENT_TYPE,
  NORMALIZED_LEVEL_FASTEST,
  type NormalizedImage,
  normalizedImageAsPng,
} from './preprocess/normalized-image.ts';
export { DEFAULT_PREPROCESS_OPTIONS, type PreprocessOptions } from './preprocess/options.ts';
export { type PreprocessResult, preprocess, preprocessHandler } from './preprocess/preprocess.ts';
export { IMAGE_FORMATS, type ImageFormat, type SniffResult, sniffFormat } from './preprocess/sniff.ts';
export {
  type CreateVisionOptions,
  createVision,
  type Vision,
  type VisionStageOptions,
  visionStageOptions,
} from './vision.ts';
export * from './ocr/index.ts';
export * from './codes/index.ts';
