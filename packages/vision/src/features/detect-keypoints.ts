/**
 * Keypoints and descriptors of an image: the pure function behind the `features` analysis, the CLI and the
 * synchronous endpoint, and its HandlerRef so the same call runs on the vision worker pool.
 *
 *   const result = await detectKeypoints(image, { detector: 'sift', params: { nfeatures: 2000 } });
 *   const result = await vision.run(detectKeypointsHandler, image, { detector: 'orb' });
 *
 * `image` is raw pixels (a NormalizedImage fits): grey, RGB or RGBA. Keypoints come back sorted by response,
 * strongest first, in pixels of the image users see (originalWidth x originalHeight when the pixels are a
 * downscaled copy; pixel centres map onto pixel centres), with OpenCV's size, angle, response and octave.
 * Descriptors: SIFT 128 floats per keypoint (whole numbers 0-255, OpenCV's CV_32F output), ORB 32 bytes.
 */
import { ImgpipeError } from '@imgpipe/core';
import { handlerRef } from '../pool/handler-ref.ts';
import { type FeatureImage, toGrey } from './grey.ts';
import { ORB_DESCRIPTOR_BYTES, orb, type OrbParams } from './orb.ts';
import { type FeatureOptionsInput, normalizeFeatureOptions } from './params.ts';
import { type Keypoint, SIFT_DESCRIPTOR_SIZE, type SiftParams, sift } from './sift.ts';

export interface DetectKeypointsOptions extends FeatureOptionsInput {
  /**
   * Refuse images with more pixels than this (IMAGE_TOO_MANY_PIXELS): SIFT holds about 144 bytes per input pixel
   * while it runs (float planes of the doubled image's pyramid, in a WebAssembly memory of at most 2 GiB, so ~14 MP
   * at most whatever this says). Default 1920 x 1080 (~300 MB at most).
   */
  maxPixels?: number;
}

interface FeaturesCommon {
  /** Size of the image the keypoints' coordinates refer to. */
  width: number;
  height: number;
  /** Strongest first. */
  keypoints: Keypoint[];
  /** Values per keypoint in `descriptors`. */
  descriptorSize: number;
  timings: { greyMs: number; detectMs: number };
}

export interface SiftFeatures extends FeaturesCommon {
  detector: 'sift';
  params: SiftParams;
  descriptorType: 'float32';
  descriptors: Float32Array;
}

export interface OrbFeatures extends FeaturesCommon {
  detector: 'orb';
  params: OrbParams;
  descriptorType: 'binary';
  descriptors: Uint8Array;
}

export type Features = SiftFeatures | OrbFeatures;

export const DEFAULT_FEATURES_MAX_PIXELS = 1920 * 1080;

export async function detectKeypoints(image: FeatureImage, options: DetectKeypointsOptions = {}): Promise<Features> {
  const { maxPixels = DEFAULT_FEATURES_MAX_PIXELS, ...input } = options;
  const chosen = normalizeFeatureOptions(input);
  const pixels = image.width * image.height;
  if (pixels > maxPixels) {
    throw new ImgpipeError(
      'IMAGE_TOO_MANY_PIXELS',
      `${image.width}x${image.height} is more than the ${maxPixels} pixels keypoint detection takes; downscale it first`,
    );
  }
  const started = performance.now();
  const grey = toGrey(image);
  const greyed = performance.now();
  const raw =
    chosen.detector === 'sift'
      ? sift(grey, image.width, image.height, chosen.params)
      : orb(grey, image.width, image.height, chosen.params);
  const detected = performance.now();
  const size = chosen.detector === 'sift' ? SIFT_DESCRIPTOR_SIZE : ORB_DESCRIPTOR_BYTES;
  const order = strongestFirst(raw.keypoints);
  const descriptors =
    chosen.detector === 'sift' ? new Float32Array(order.length * size) : new Uint8Array(order.length * size);
  const toOriginal = originalSpace(image);
  const keypoints = order.map((from, to) => {
    descriptors.set(raw.descriptors.subarray(from * size, (from + 1) * size), to * size);
    return toOriginal(raw.keypoints[from]!);
  });
  const common = {
    width: image.originalWidth ?? image.width,
    height: image.originalHeight ?? image.height,
    keypoints,
    descriptorSize: size,
    timings: { greyMs: greyed - started, detectMs: detected - greyed },
  };
  return chosen.detector === 'sift'
    ? {
        ...common,
        detector: 'sift',
        params: chosen.params,
        descriptorType: 'float32',
        descriptors: descriptors as Float32Array,
      }
    : {
        ...common,
        detector: 'orb',
        params: chosen.params,
        descriptorType: 'binary',
        descriptors: descriptors as Uint8Array,
      };
}

export const detectKeypointsHandler = handlerRef<typeof detectKeypoints>(import.meta.url, 'detectKeypoints');

/** Indices by response, highest first; ties by position so the order does not depend on the detector's. */
function strongestFirst(keypoints: readonly Keypoint[]): number[] {
  return keypoints
    .map((_, i) => i)
    .sort((a, b) => {
      const p = keypoints[a]!;
      const q = keypoints[b]!;
      return q.response - p.response || p.y - q.y || p.x - q.x || p.angle - q.angle;
    });
}

function originalSpace(image: FeatureImage): (keypoint: Keypoint) => Keypoint {
  const sx = (image.originalWidth ?? image.width) / image.width;
  const sy = (image.originalHeight ?? image.height) / image.height;
  if (sx === 1 && sy === 1) return (keypoint) => ({ ...keypoint });
  const sizeScale = Math.sqrt(sx * sy);
  return (keypoint) => ({
    ...keypoint,
    x: (keypoint.x + 0.5) * sx - 0.5,
    y: (keypoint.y + 0.5) * sy - 0.5,
    size: keypoint.size * sizeScale,
  });
}
