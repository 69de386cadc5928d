/**
 * The detect stage: objects in a normalised image, boxes in pixels of the oriented original and 0-1.
 * YOLOX (default, yolox-nano) and Ultralytics YOLOv8/YOLO11 exports; the format is recognised from the model
 * (Ultralytics metadata_props, else the output layout [1, N, 5+C] vs [1, 4+C, N]) unless given.
 */
import { readFile } from 'node:fs/promises';
import type { DetectedObject, ModelIdentity } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import ort from 'onnxruntime-node';
import { type Candidate, mapBox, nonMaxSuppression, round } from '../geometry/boxes.ts';
import { letterbox } from '../geometry/letterbox.ts';
import { returnFloat32 } from '../geometry/tensor-buffers.ts';
import { type LoadedModel, loadModel, type ModelRef } from '../models/model-loader.ts';
import { handlerRef } from '../pool/handler-ref.ts';
import type { NormalizedImage } from '../preprocess/normalized-image.ts';
import { COCO_CLASSES, parseLabelsFile, parseNamesMetadata } from './coco-classes.ts';
import { decodeUltralytics, ultralyticsLetterbox } from './ultralytics.ts';
import { decodeYolox, yoloxLetterbox } from './yolox.ts';

export type DetectorFormat = 'yolox' | 'ultralytics';

export interface DetectObjectsOptions {
  modelsDir: string;
  /** Manifest name or path of an .onnx file; default 'yolox-nano'. */
  model?: ModelRef;
  format?: DetectorFormat | 'auto';
  /** Class names, overriding the model's own (Ultralytics metadata) and the built-in COCO list. */
  labels?: readonly string[];
  /** A file with one class name per line, same role as labels. */
  labelsFile?: string;
  /** Minimum confidence, default 0.3. */
  scoreThreshold?: number;
  /** Boxes of one class overlapping more than this are merged by NMS, default 0.45. */
  iouThreshold?: number;
  maxDetections?: number;
  intraOpNumThreads?: number;
}

export interface StageTimings {
  /** Resize and tensor conversion. */
  prepareMs: number;
  /** session.run alone. */
  inferenceMs: number;
  /** Decoding and NMS. */
  decodeMs: number;
}

export interface DetectObjectsResult {
  /** Sorted by confidence, highest first. */
  objects: DetectedObject[];
  model: ModelIdentity;
  timings: StageTimings;
}

export const DEFAULT_DETECTOR = 'yolox-nano';
const DEFAULT_INPUT_SIZE = 640;

export async function detectObjects(
  image: NormalizedImage,
  options: DetectObjectsOptions,
): Promise<DetectObjectsResult> {
  const model = await loadModel(options.model ?? DEFAULT_DETECTOR, {
    modelsDir: options.modelsDir,
    ...(options.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: options.intraOpNumThreads }),
  });
  const format = detectorFormat(model, options.format);
  const size = inputSize(model);
  const scoreThreshold = options.scoreThreshold ?? 0.3;

  const started = performance.now();
  const spec =
    format === 'yolox' ? yoloxLetterbox(size.width, size.height) : ultralyticsLetterbox(size.width, size.height);
  const input = await letterbox(image, spec);
  const feeds = {
    [model.session.inputNames[0]!]: new ort.Tensor('float32', input.tensor, [1, 3, input.height, input.width]),
  };
  const prepared = performance.now();
  let output: InstanceType<typeof ort.Tensor>;
  try {
    output = await runModel(model, feeds);
  } finally {
    returnFloat32(input.tensor);
  }
  const inferred = performance.now();

  const data = output.data as Float32Array;
  const candidates =
    format === 'yolox'
      ? decodeYolox(data, output.dims, input, scoreThreshold)
      : decodeUltralytics(data, output.dims, scoreThreshold);
  const kept = nonMaxSuppression(candidates, options.iouThreshold ?? 0.45, options.maxDetections ?? 100);
  const labels = await classNames(model, format, options, classCount(format, output.dims));
  const objects = kept.map((candidate: Candidate) => ({
    label: labels[candidate.classId] ?? `class${candidate.classId}`,
    classId: candidate.classId,
    confidence: round(candidate.score, 4),
    ...mapBox(candidate, input.toOriginal),
  }));
  const decoded = performance.now();
  return {
    objects: objects.filter((object) => object.box.width > 0 && object.box.height > 0),
    model: model.identity,
    timings: { prepareMs: prepared - started, inferenceMs: inferred - prepared, decodeMs: decoded - inferred },
  };
}

export const detectObjectsHandler = handlerRef<typeof detectObjects>(import.meta.url, 'detectObjects');

export async function runModel(
  model: LoadedModel,
  feeds: Record<string, InstanceType<typeof ort.Tensor>>,
): Promise<InstanceType<typeof ort.Tensor>> {
  try {
    const results = await model.session.run(feeds);
    return results[model.session.outputNames[0]!] as InstanceType<typeof ort.Tensor>;
  } catch (error) {
    throw new ImgpipeError('MODEL_INFERENCE_FAILED', `${model.identity.name} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

export function detectorFormat(model: LoadedModel, requested: DetectorFormat | 'auto' | undefined): DetectorFormat {
  if (requested && requested !== 'auto') return requested;
  if (model.metadata['names'] !== undefined || /ultralytics/i.test(model.metadata['author'] ?? ''))
    return 'ultralytics';
  const shape = firstOutputShape(model);
  if (shape && typeof shape[1] === 'number' && typeof shape[2] === 'number') {
    return shape[1] < shape[2] ? 'ultralytics' : 'yolox';
  }
  return 'yolox';
}

function firstOutputShape(model: LoadedModel): readonly (number | string)[] | undefined {
  const output = model.session.outputMetadata[0];
  return output?.isTensor ? output.shape : undefined;
}

function inputSize(model: LoadedModel): { width: number; height: number } {
  const input = model.session.inputMetadata[0];
  const shape = input?.isTensor ? input.shape : [];
  const [height, width] = [shape[2], shape[3]];
  if (typeof width === 'number' && typeof height === 'number' && width > 0 && height > 0) return { width, height };
  const imgsz = (model.metadata['imgsz'] ?? '').match(/\d+/g)?.map(Number);
  if (imgsz && imgsz.length >= 2) return { height: imgsz[0]!, width: imgsz[1]! };
  return { width: DEFAULT_INPUT_SIZE, height: DEFAULT_INPUT_SIZE };
}

function classCount(format: DetectorFormat, dims: readonly number[]): number {
  return format === 'yolox' ? dims[2]! - 5 : dims[1]! - 4;
}

const labelFiles = new Map<string, Promise<string[]>>();

async function classNames(
  model: LoadedModel,
  format: DetectorFormat,
  options: DetectObjectsOptions,
  count: number,
): Promise<readonly string[]> {
  if (options.labels) return options.labels;
  if (options.labelsFile) {
    let reading = labelFiles.get(options.labelsFile);
    if (!reading) {
      reading = readFile(options.labelsFile, 'utf8').then(parseLabelsFile);
      labelFiles.set(options.labelsFile, reading);
    }
    return reading;
  }
  const fromMetadata = parseNamesMetadata(model.metadata['names']);
  if (fromMetadata) return fromMetadata;
  if (format === 'yolox' && count === COCO_CLASSES.length) return COCO_CLASSES;
  return Array.from({ length: count }, (_, index) => `class${index}`);
}
