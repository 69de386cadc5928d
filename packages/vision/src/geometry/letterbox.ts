/**
 * Model input from the normalised RGB pixels: one sharp resize to the scaled size, then a single tight loop that
 * writes a padded planar (CHW) float32 tensor in the channel order and value range the model wants.
 */
import type { NormalizedImage } from '../preprocess/normalized-image.ts';
import { rawInput } from '../preprocess/normalized-image.ts';
import { sharp } from '../sharp-instance.ts';
import type { InputToOriginal } from './boxes.ts';

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

  const pixels =
    resizedWidth === image.width && resizedHeight === image.height
      ? image.data
      : await sharp(image.data, rawInput(image))
          .resize({ width: resizedWidth, height: resizedHeight, fit: 'fill' })
          .raw()
          .toBuffer();

  const plane = inputWidth * inputHeight;
  const tensor = new Float32Array(3 * plane).fill(spec.padValue / spec.divisor);
  const [first, second, third] = spec.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const scale = 1 / spec.divisor;
  for (let y = 0; y < resizedHeight; y++) {
    let source = y * resizedWidth * 3;
    let target = (y + padY) * inputWidth + padX;
    for (let x = 0; x < resizedWidth; x++) {
      tensor[target] = pixels[source + first]! * scale;
      tensor[plane + target] = pixels[source + second]! * scale;
      tensor[2 * plane + target] = pixels[source + third]! * scale;
      source += 3;
      target++;
    }
  }
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
