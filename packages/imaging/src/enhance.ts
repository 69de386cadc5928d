/**
 * The enhancements as pipeline steps: brightness, saturation and hue are libvips' LCh modulation; contrast a linear
 * map about mid-grey; gamma a lookup table; sharpness a 3x3 blend with a smoothed copy (PIL's ImageEnhance.Sharpness:
 * smooth + factor x (image - smooth)); auto-level the percentile stretch (normalise); CLAHE libvips' hist_local.
 */
import type { EnhanceOp } from './recipe.ts';
import type { Step } from './steps.ts';

/** PIL's SMOOTH filter, the "blurred" end of sharpness. */
export const SMOOTH_KERNEL = [1, 1, 1, 1, 5, 1, 1, 1, 1] as const;

/** factor x identity + (1 - factor) x smooth: 0 is the smooth image, 1 the original, 2 twice the detail. */
export function sharpnessKernel(factor: number): number[] {
  const smoothSum = SMOOTH_KERNEL.reduce((sum, value) => sum + value, 0);
  return SMOOTH_KERNEL.map((value, index) => (1 - factor) * (value / smoothSum) + (index === 4 ? factor : 0));
}

export function enhanceSteps(op: EnhanceOp): Step[] {
  switch (op.op) {
    case 'brightness':
      return [{ slot: 'modulate', brightness: op.factor }];
    case 'saturation':
      return [{ slot: 'modulate', saturation: op.factor }];
    case 'hue':
      return op.degrees === 0 ? [] : [{ slot: 'modulate', hue: op.degrees }];
    case 'contrast':
      return [{ slot: 'linear', a: op.factor, b: 128 * (1 - op.factor) }];
    case 'gamma':
      // libvips applies gamma as a LUT either before the resize (darkening) or after everything (brightening).
      if (op.gamma === 1) return [];
      return op.gamma > 1 ? [{ slot: 'gamma-post', gamma: op.gamma }] : [{ slot: 'gamma-pre', gamma: 1 / op.gamma }];
    case 'sharpness':
      return [{ slot: 'convolve', width: 3, height: 3, kernel: sharpnessKernel(op.factor), scale: 1, offset: 0 }];
    case 'auto-level':
      return [{ slot: 'normalise', lower: op.lower, upper: op.upper }];
    case 'clahe':
      return [{ slot: 'clahe', width: op.width, height: op.height, slope: op.slope }];
  }
}
