/**
 * validateRecipe: a parsed recipe against the configured limits (operation count, blur and kernel sizes). These are
 * known before any image is read, so a caller can refuse a recipe up front; applyRecipe checks them again.
 */
import { ImgpipeError } from '@imgpipe/core';
import { resolveLimits, type TransformLimits } from './limits.ts';
import { type Recipe, recipeParts } from './recipe.ts';

export function validateRecipe(recipe: Recipe, limits?: Partial<TransformLimits>): Recipe {
  const { maxOperations, maxBlurSigma, maxKernelSize } = resolveLimits(limits);
  const { pixelOps } = recipeParts(recipe);
  if (pixelOps.length > maxOperations) {
    throw new ImgpipeError(
      'RECIPE_TOO_MANY_OPERATIONS',
      `the recipe has ${pixelOps.length} operations, more than the limit of ${maxOperations} (IMGPIPE_TRANSFORM_MAX_OPERATIONS)`,
      { details: { operations: pixelOps.length, limit: maxOperations } },
    );
  }
  for (const op of pixelOps) {
    let window: number | undefined;
    if (op.op === 'gaussian-blur' && op.sigma > maxBlurSigma) {
      throw new ImgpipeError(
        'RECIPE_KERNEL_TOO_LARGE',
        `gaussian-blur: sigma ${op.sigma} is more than the limit of ${maxBlurSigma} (IMGPIPE_TRANSFORM_MAX_BLUR_SIGMA)`,
        { details: { op: op.op, sigma: op.sigma, limit: maxBlurSigma } },
      );
    }
    if (op.op === 'blur') window = 2 * op.radius + 1;
    if (op.op === 'median') window = op.size;
    if (window !== undefined && window > maxKernelSize) {
      throw new ImgpipeError(
        'RECIPE_KERNEL_TOO_LARGE',
        `${op.op}: a ${window}x${window} window is more than the limit of ${maxKernelSize} (IMGPIPE_TRANSFORM_MAX_KERNEL_SIZE)`,
        { details: { op: op.op, window, limit: maxKernelSize } },
      );
    }
  }
  return recipe;
}
