/**
 * Model input from the normalised RGB pixels: one tight loop that resizes (bilinear, as OpenCV's INTER_LINEAR that
 * YOLOX's and YuNet's own preprocessing use) and writes a padded planar (CHW) float32 tensor in the channel order
 * and value range the model wants. No intermediate RGB buffer and no libvips pipeline: for a 640x426 image to
 * 416x416 that was 4-6 ms of sharp per call (issue 10, stage time over bare session.run). The loop runs in
 * WebAssembly (letterbox-wasm.ts), bit for bit what letterboxPixelsInJs below computes.
 */
import type { NormalizedImage } from '../preprocess/normalized-image.ts';
import type { InputToOriginal } from './boxes.ts';
import { letterboxKernel, type PlanarTarget, type RgbPixels, type Sampling } from './letterbox-wasm.ts';
import { borrowFloat32 } from './tensor-buffers.ts';

export interface LetterboxSpec {
  /** Fixed input size (e.g. 416x416); or omit and give maxSide + multiple for dynamic-size models. */
  width?: number;
  height?: number;
  /** Dynamic inputs: scale so the long side is at most this (never enlarged), then pad up to `multiple`. */
  maxSide?: number;
  multiple?: number;
  placement: 'top-left' | 'center';
  padValue: number;
  channelOrder: 'rgb' | 'bgr';
  /** Divide 0-255 values by this (1 for raw values, 255 for 0-1). */
  divisor: number;
}

export interface ModelInput {
  /** May be handed back with returnFloat32 once the model has run on it. */
  tensor: Float32Array;
  width: number;
  height: number;
  /** Maps input pixels back to the oriented original image. */
  toOriginal: InputToOriginal;
}

export async function letterbox(image: NormalizedImage, spec: LetterboxSpec): Promise<ModelInput> {
  let inputWidth: number;
  let inputHeight: number;
  let resizedWidth: number;
  let resizedHeight: number;
  if (spec.width !== undefined && spec.height !== undefined) {
    inputWidth = spec.width;
    inputHeight = spec.height;
    const ratio = Math.min(inputWidth / image.width, inputHeight / image.height);
    resizedWidth = Math.max(1, Math.min(inputWidth, Math.round(image.width * ratio)));
    resizedHeight = Math.max(1, Math.min(inputHeight, Math.round(image.height * ratio)));
  } else {
    const maxSide = spec.maxSide ?? Math.max(image.width, image.height);
    const ratio = Math.min(1, maxSide / Math.max(image.width, image.height));
    resizedWidth = Math.max(1, Math.round(image.width * ratio));
    resizedHeight = Math.max(1, Math.round(image.height * ratio));
    const multiple = spec.multiple ?? 1;
    inputWidth = Math.ceil(resizedWidth / multiple) * multiple;
    inputHeight = Math.ceil(resizedHeight / multiple) * multiple;
  }
  const padX = spec.placement === 'center' ? Math.round((inputWidth - resizedWidth) / 2 - 0.1) : 0;
  const padY = spec.placement === 'center' ? Math.round((inputHeight - resizedHeight) / 2 - 0.1) : 0;

  // A reused buffer (see tensor-buffers.ts): the padding is written on every call.
  const tensor = borrowFloat32(3 * inputWidth * inputHeight);
  const padded = resizedWidth < inputWidth || resizedHeight < inputHeight;
  const target: PlanarTarget = {
    tensor,
    width: inputWidth,
    height: inputHeight,
    resizedWidth,
    resizedHeight,
    padX,
    padY,
    order: spec.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2],
    scale: 1 / spec.divisor,
    ...(padded ? { pad: spec.padValue / spec.divisor } : {}),
  };
  letterboxKernel().run(image, target, bilinearSampling(image, resizedWidth, resizedHeight));
  return {
    tensor,
    width: inputWidth,
    height: inputHeight,
    toOriginal: {
      padX,
      padY,
      scaleX: image.originalWidth / resizedWidth,
      scaleY: image.originalHeight / resizedHeight,
      originalWidth: image.originalWidth,
      originalHeight: image.originalHeight,
    },
  };
}

/** resizeBilinear's sampling for a resize to width x height; none when the size is the image's (a copy). */
export function bilinearSampling(
  image: { width: number; height: number },
  width: number,
  height: number,
): { columns: Sampling; rows: Sampling } | undefined {
  if (width === image.width && height === image.height) return undefined;
  const ratioX = image.width / width;
  const ratioY = image.height / height;
  return { columns: (x) => sampleAt(x, ratioX, image.width), rows: (y) => sampleAt(y, ratioY, image.height) };
}

/**
 * The letterbox's pixels in JavaScript: what letterbox-wasm.ts computes, kept as the reference its test compares
 * against (and the clearest statement of the arithmetic).
 */
export function letterboxPixelsInJs(image: RgbPixels, target: PlanarTarget): void {
  const plane = target.width * target.height;
  const { tensor } = target;
  if (target.pad !== undefined) tensor.fill(target.pad);
  const planes = [tensor.subarray(0, plane), tensor.subarray(plane, 2 * plane), tensor.subarray(2 * plane)] as const;
  const into = {
    planes,
    order: target.order,
    scale: target.scale,
    width: target.width,
    padX: target.padX,
    padY: target.padY,
  };
  if (target.resizedWidth === image.width && target.resizedHeight === image.height) copyPixels(image, into);
  else resizeBilinear(image, target.resizedWidth, target.resizedHeight, into);
}

interface TensorTarget {
  planes: readonly [Float32Array, Float32Array, Float32Array];
  /** Source channel (0 R, 1 G, 2 B) of each plane. */
  order: readonly [number, number, number];
  scale: number;
  width: number;
  padX: number;
  padY: number;
}

function copyPixels(image: RgbPixels, target: TensorTarget): void {
  const pixels = image.data;
  const [p0, p1, p2] = target.planes;
  const [c0, c1, c2] = target.order;
  const { scale } = target;
  for (let y = 0; y < image.height; y++) {
    let source = y * image.width * 3;
    const start = (y + target.padY) * target.width + target.padX;
    const end = start + image.width;
    for (let at = start; at < end; at++, source += 3) {
      p0[at] = pixels[source + c0]! * scale;
      p1[at] = pixels[source + c1]! * scale;
      p2[at] = pixels[source + c2]! * scale;
    }
  }
}

/** Half-pixel-centred bilinear sampling, edges clamped: OpenCV's INTER_LINEAR, straight into the planes. */
function resizeBilinear(image: RgbPixels, width: number, height: number, target: TensorTarget): void {
  const pixels = image.data;
  const [p0, p1, p2] = target.planes;
  const [c0, c1, c2] = target.order;
  const { scale } = target;
  const rowBytes = image.width * 3;
  const left = new Int32Array(width);
  const right = new Int32Array(width);
  const weight = new Float32Array(width);
  const ratioX = image.width / width;
  for (let x = 0; x < width; x++) {
    const [low, high, fraction] = sampleAt(x, ratioX, image.width);
    left[x] = low * 3;
    right[x] = high * 3;
    weight[x] = fraction;
  }
  const ratioY = image.height / height;
  for (let y = 0; y < height; y++) {
    const [low, high, fy] = sampleAt(y, ratioY, image.height);
    const top = low * rowBytes;
    const bottom = high * rowBytes;
    let at = (y + target.padY) * target.width + target.padX;
    for (let x = 0; x < width; x++, at++) {
      const a = top + left[x]!;
      const b = top + right[x]!;
      const c = bottom + left[x]!;
      const d = bottom + right[x]!;
      const fx = weight[x]!;
      p0[at] = lerp2(pixels, a + c0, b + c0, c + c0, d + c0, fx, fy) * scale;
      p1[at] = lerp2(pixels, a + c1, b + c1, c + c1, d + c1, fx, fy) * scale;
      p2[at] = lerp2(pixels, a + c2, b + c2, c + c2, d + c2, fx, fy) * scale;
    }
  }
}

function sampleAt(index: number, ratio: number, size: number): [number, number, number] {
  const position = Math.min(Math.max((index + 0.5) * ratio - 0.5, 0), size - 1);
  const low = Math.floor(position);
  return [low, Math.min(low + 1, size - 1), position - low];
}

function lerp2(pixels: Uint8Array, a: number, b: number, c: number, d: number, fx: number, fy: number): number {
  const top = pixels[a]! + (pixels[b]! - pixels[a]!) * fx;
  const bottom = pixels[c]! + (pixels[d]! - pixels[c]!) * fx;
  return top + (bottom - top) * fy;
}
