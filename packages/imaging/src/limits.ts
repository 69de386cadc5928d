/**
 * What a transform may cost, from typed settings read once at start-up. The input caps are the preprocessing
 * stage's own variables and defaults (IMGPIPE_MAX_IMAGE_BYTES, IMGPIPE_MAX_IMAGE_PIXELS), so an image the pipeline
 * accepts can be transformed and one it refuses is refused here too.
 */
import { type ConfigEnv, type ConfigOf, int, loadConfig, num } from '@imgpipe/core';

export interface TransformLimits {
  /** Larger inputs fail with IMAGE_TOO_LARGE. */
  maxInputBytes: number;
  /** Inputs whose header declares more pixels (all frames counted) fail with IMAGE_TOO_MANY_PIXELS, before decoding. */
  maxInputPixels: number;
  /** No intermediate or output image may have more pixels (TRANSFORM_OUTPUT_TOO_MANY_PIXELS). */
  maxOutputPixels: number;
  /** Pixel operations per recipe; settings (format, metadata, auto-orient) do not count (RECIPE_TOO_MANY_OPERATIONS). */
  maxOperations: number;
  /** Largest Gaussian blur sigma (RECIPE_KERNEL_TOO_LARGE). */
  maxBlurSigma: number;
  /** Largest window side of box blur (2 x radius + 1) and median (RECIPE_KERNEL_TOO_LARGE). */
  maxKernelSize: number;
  /** Animated inputs with more frames fail with IMAGE_TOO_MANY_FRAMES. */
  maxFrames: number;
}

/** The preprocessing caps' defaults (packages/vision/src/preprocess/options.ts), repeated: imaging does not import vision. */
const PREPROCESS_MAX_BYTES = 50 * 1024 * 1024;
const PREPROCESS_MAX_PIXELS = 100_000_000;

export const DEFAULT_TRANSFORM_LIMITS: Readonly<TransformLimits> = Object.freeze({
  maxInputBytes: PREPROCESS_MAX_BYTES,
  maxInputPixels: PREPROCESS_MAX_PIXELS,
  maxOutputPixels: PREPROCESS_MAX_PIXELS,
  maxOperations: 25,
  maxBlurSigma: 50,
  maxKernelSize: 15,
  maxFrames: 200,
});

export const transformLimitSettings = {
  maxInputBytes: int('IMGPIPE_MAX_IMAGE_BYTES', {
    default: DEFAULT_TRANSFORM_LIMITS.maxInputBytes,
    min: 1,
    description: 'Larger inputs fail with IMAGE_TOO_LARGE (shared with preprocessing)',
  }),
  maxInputPixels: int('IMGPIPE_MAX_IMAGE_PIXELS', {
    default: DEFAULT_TRANSFORM_LIMITS.maxInputPixels,
    min: 1,
    description:
      'Images declaring more pixels fail with IMAGE_TOO_MANY_PIXELS, before decoding (shared with preprocessing)',
  }),
  maxOutputPixels: int('IMGPIPE_TRANSFORM_MAX_OUTPUT_PIXELS', {
    default: DEFAULT_TRANSFORM_LIMITS.maxOutputPixels,
    min: 1,
    description: 'Recipes making a larger intermediate or output image fail with TRANSFORM_OUTPUT_TOO_MANY_PIXELS',
  }),
  maxOperations: int('IMGPIPE_TRANSFORM_MAX_OPERATIONS', {
    default: DEFAULT_TRANSFORM_LIMITS.maxOperations,
    min: 1,
    max: 256,
    description: 'Pixel operations per recipe (RECIPE_TOO_MANY_OPERATIONS)',
  }),
  maxBlurSigma: num('IMGPIPE_TRANSFORM_MAX_BLUR_SIGMA', {
    default: DEFAULT_TRANSFORM_LIMITS.maxBlurSigma,
    min: 0.3,
    max: 1000,
    description: 'Largest gaussian-blur sigma (RECIPE_KERNEL_TOO_LARGE)',
  }),
  maxKernelSize: int('IMGPIPE_TRANSFORM_MAX_KERNEL_SIZE', {
    default: DEFAULT_TRANSFORM_LIMITS.maxKernelSize,
    min: 3,
    max: 199,
    description: 'Largest window side of blur (2 x radius + 1) and median (RECIPE_KERNEL_TOO_LARGE)',
  }),
  maxFrames: int('IMGPIPE_TRANSFORM_MAX_FRAMES', {
    default: DEFAULT_TRANSFORM_LIMITS.maxFrames,
    min: 1,
    description: 'Animated inputs with more frames fail with IMAGE_TOO_MANY_FRAMES',
  }),
} as const;

export type TransformLimitsConfig = ConfigOf<typeof transformLimitSettings>;

export function loadTransformLimits(env?: ConfigEnv): TransformLimits {
  return { ...loadConfig(transformLimitSettings, env) };
}

export function resolveLimits(limits: Partial<TransformLimits> | undefined): TransformLimits {
  return { ...DEFAULT_TRANSFORM_LIMITS, ...limits };
}
