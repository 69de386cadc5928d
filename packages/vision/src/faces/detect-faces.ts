/**
 * The faces stage: YuNet (yunet_n_dynamic.onnx) on the normalised image scaled to a long side of at most 640 and
 * padded (bottom/right) to multiples of 32. Per stride s in 8, 16, 32 the outputs cls_s, obj_s [1,N,1],
 * bbox_s [1,N,4] and kps_s [1,N,10] cover a row-major grid; score = sqrt(cls*obj), cx=(gx+dx)*s, w=exp(dw)*s,
 * landmark k = ((gx+kx)*s, (gy+ky)*s), in the order right eye, left eye, nose, right and left mouth corner.
 */
import type { DetectedFace, FaceLandmarks, ModelIdentity } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import ort from 'onnxruntime-node';
import { type Candidate, mapBox, mapPoint, nonMaxSuppression, round } from '../geometry/boxes.ts';
import { letterbox } from '../geometry/letterbox.ts';
import { returnFloat32 } from '../geometry/tensor-buffers.ts';
import type { StageTimings } from '../detect/detect-objects.ts';
import { loadModel, type ModelRef } from '../models/model-loader.ts';
import { handlerRef } from '../pool/handler-ref.ts';
import type { NormalizedImage } from '../preprocess/normalized-image.ts';

export interface DetectFacesOptions {
  modelsDir: string;
  /** Default 'yunet-n'. */
  model?: ModelRef;
  /** Long side the image is scaled down to for the model, default 640. */
  maxSide?: number;
  /** Default 0.6. */
  scoreThreshold?: number;
  /** Default 0.3. */
  iouThreshold?: number;
  maxFaces?: number;
  intraOpNumThreads?: number;
}

export interface DetectFacesResult {
  /** Sorted by confidence, highest first. */
  faces: DetectedFace[];
  model: ModelIdentity;
  timings: StageTimings;
}

export const DEFAULT_FACE_DETECTOR = 'yunet-n';
const STRIDES = [8, 16, 32] as const;
const LANDMARKS = ['rightEye', 'leftEye', 'nose', 'mouthRight', 'mouthLeft'] as const;

interface FaceCandidate extends Candidate {
  landmarks: { x: number; y: number }[];
}

export async function detectFaces(image: NormalizedImage, options: DetectFacesOptions): Promise<DetectFacesResult> {
  const model = await loadModel(options.model ?? DEFAULT_FACE_DETECTOR, {
    modelsDir: options.modelsDir,
    ...(options.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: options.intraOpNumThreads }),
  });
  const scoreThreshold = options.scoreThreshold ?? 0.6;

  const started = performance.now();
  const input = await letterbox(image, {
    maxSide: options.maxSide ?? 640,
    multiple: 32,
    placement: 'top-left',
    padValue: 0,
    channelOrder: 'bgr',
    divisor: 1,
  });
  const feeds = {
    [model.session.inputNames[0]!]: new ort.Tensor('float32', input.tensor, [1, 3, input.height, input.width]),
  };
  const prepared = performance.now();
  let outputs: Record<string, InstanceType<typeof ort.Tensor>>;
  try {
    outputs = (await model.session.run(feeds)) as Record<string, InstanceType<typeof ort.Tensor>>;
  } catch (error) {
    throw new ImgpipeError('MODEL_INFERENCE_FAILED', `${model.identity.name} failed: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    returnFloat32(input.tensor);
  }
  const inferred = performance.now();

  const candidates: FaceCandidate[] = [];
  for (const stride of STRIDES) {
    const output = (name: string) => {
      const tensor = outputs[`${name}_${stride}`];
      if (!tensor)
        throw new ImgpipeError(
          'MODEL_INVALID',
          `${model.identity.name} has no output ${name}_${stride}: not a YuNet model`,
        );
      return tensor.data as Float32Array;
    };
    const [cls, obj, bbox, kps] = [output('cls'), output('obj'), output('bbox'), output('kps')];
    const columns = input.width / stride;
    const rows = input.height / stride;
    for (let i = 0; i < rows * columns; i++) {
      const score = Math.sqrt(clamp01(cls[i]!) * clamp01(obj[i]!));
      if (score < scoreThreshold) continue;
      const gx = i % columns;
      const gy = Math.floor(i / columns);
      const cx = (gx + bbox[i * 4]!) * stride;
      const cy = (gy + bbox[i * 4 + 1]!) * stride;
      const w = Math.exp(bbox[i * 4 + 2]!) * stride;
      const h = Math.exp(bbox[i * 4 + 3]!) * stride;
      const landmarks = LANDMARKS.map((_, k) => ({
        x: (gx + kps[i * 10 + k * 2]!) * stride,
        y: (gy + kps[i * 10 + k * 2 + 1]!) * stride,
      }));
      candidates.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score, classId: 0, landmarks });
    }
  }
  const kept = nonMaxSuppression(candidates, options.iouThreshold ?? 0.3, options.maxFaces ?? 200, false);
  const faces = kept
    .map((face) => ({
      confidence: round(face.score, 4),
      ...mapBox(face, input.toOriginal),
      landmarks: Object.fromEntries(
        LANDMARKS.map((name, k) => [name, mapPoint(face.landmarks[k]!, input.toOriginal)]),
      ) as unknown as FaceLandmarks,
    }))
    .filter((face) => face.box.width > 0 && face.box.height > 0);
  const decoded = performance.now();
  return {
    faces,
    model: model.identity,
    timings: { prepareMs: prepared - started, inferenceMs: inferred - prepared, decodeMs: decoded - inferred },
  };
}

export const detectFacesHandler = handlerRef<typeof detectFaces>(import.meta.url, 'detectFaces');

function clamp01(value: number): number {
  return Math.min(Math.max(value, 0), 1);
}
