/**
 * Steps: the concrete libvips work an operation becomes, and the rules for packing them into one sharp pipeline.
 *
 * sharp runs a pipeline's operations in a fixed order, whatever order its methods are called in (src/pipeline.cc):
 * flips and rotation, the pre-resize extract, gamma (darken), resize, the post-resize extract, extend, median,
 * threshold, blur, convolve, recomb, modulate, sharpen, gamma (brighten), linear, normalise, CLAHE, negate. Each at
 * most once. A recipe's steps share a pipeline while they follow that order; the first step that would run out of
 * order (or twice) ends the pipeline: its pixels are taken raw and the next pipeline starts from them. Steps done in
 * JavaScript (edge detection, pixelate) always stand between two pipelines.
 */
import type { Sharp } from 'sharp';
import type { Box } from './geometry.ts';
import type { Kernel, SmartPosition } from './recipe.ts';
import type { RawImage } from './raw-image.ts';

export const SLOTS = [
  'flip',
  'flop',
  'rotate',
  'extract-pre',
  'gamma-pre',
  'resize',
  'extract-post',
  'extend',
  'median',
  'threshold',
  'blur',
  'convolve',
  'recomb',
  'modulate',
  'sharpen',
  'gamma-post',
  'linear',
  'normalise',
  'clahe',
  'negate',
] as const;
export type Slot = (typeof SLOTS)[number];

const EIGHT_BIT: ReadonlySet<Slot> = new Set(['gamma-post', 'clahe', 'negate']);

export type SharpStep =
  | { slot: 'flip' }
  | { slot: 'flop' }
  | { slot: 'rotate'; angle: number; background: string }
  /** Pre or post resize is decided where it lands: after a resize in the same pipeline it is post. */
  | { slot: 'extract'; box: Box }
  | { slot: 'gamma-pre'; gamma: number }
  /** With smart, sharp picks the crop; cropOnly forbids it to scale (a crop of a size, not a resize). */
  | { slot: 'resize'; width: number; height: number; kernel: Kernel; smart?: SmartPosition; cropOnly?: boolean }
  | { slot: 'extend'; top: number; right: number; bottom: number; left: number; background: string }
  | { slot: 'median'; size: number }
  | { slot: 'threshold'; level: number }
  | { slot: 'blur'; sigma: number }
  | { slot: 'convolve'; width: number; height: number; kernel: number[]; scale: number; offset: number }
  | { slot: 'recomb'; matrix: number[][] }
  | { slot: 'modulate'; brightness?: number; saturation?: number; hue?: number }
  | { slot: 'sharpen'; sigma: number; flat: number; jagged: number }
  | { slot: 'gamma-post'; gamma: number }
  | { slot: 'linear'; a: number; b: number }
  | { slot: 'normalise'; lower: number; upper: number }
  | { slot: 'clahe'; width: number; height: number; slope: number }
  | { slot: 'negate' };

export interface RawStep {
  slot: 'raw';
  name: string;
  run(image: RawImage): RawImage;
}

export type Step = SharpStep | RawStep;

/** The steps of one sharp pipeline so far. */
export class PassBuilder {
  readonly steps: SharpStep[] = [];
  private last = -1;
  private readonly used = new Set<string>();

  /** Where a step would run in this pipeline, or undefined when it cannot join it. */
  slotFor(step: SharpStep): Slot | undefined {
    const slot: Slot = step.slot === 'extract' ? (this.used.has('resize') ? 'extract-post' : 'extract-pre') : step.slot;
    if (SLOTS.indexOf(slot) <= this.last) return undefined;
    // Without a rotation, sharp mirrors after the pre-resize extract, whatever the call order.
    if (slot === 'extract-pre' && (this.used.has('flip') || this.used.has('flop')) && !this.used.has('rotate')) {
      return undefined;
    }
    // One gamma call holds both LUTs; the darkening one runs before sharp's post-resize rotation, so not after one
    // whose corners it would change.
    if (
      (slot === 'gamma-pre' || slot === 'gamma-post') &&
      (this.used.has('gamma-pre') || this.used.has('gamma-post'))
    ) {
      return undefined;
    }
    if (slot === 'gamma-pre' && this.hasFreeRotation()) return undefined;
    // convolve and recomb leave floats until the end of the pipeline: CLAHE refuses them, and the gamma LUT and
    // negate (255 - v) assume 8-bit values.
    if (EIGHT_BIT.has(slot) && (this.used.has('convolve') || this.used.has('recomb'))) return undefined;
    // sharp premultiplies alpha before its filters only when the image had alpha from the start.
    if (SLOTS.indexOf(slot) >= SLOTS.indexOf('median') && this.addsAlpha()) return undefined;
    return slot;
  }

  add(step: SharpStep): boolean {
    const slot = this.slotFor(step);
    if (slot === undefined) return false;
    this.last = SLOTS.indexOf(slot);
    this.used.add(slot);
    this.steps.push(step);
    return true;
  }

  get isEmpty(): boolean {
    return this.steps.length === 0;
  }

  private addsAlpha(): boolean {
    return this.steps.some(
      (step) =>
        (step.slot === 'extend' || (step.slot === 'rotate' && step.angle % 90 !== 0)) && step.background.length === 8,
    );
  }

  private hasFreeRotation(): boolean {
    return this.steps.some((step) => step.slot === 'rotate' && step.angle % 90 !== 0);
  }
}

/** Calls the sharp methods for the steps, in their order (sharp's own order for rotation before resize/extract). */
export function applySteps(image: Sharp, steps: readonly SharpStep[]): Sharp {
  let pipeline = image;
  for (const step of steps) pipeline = applyStep(pipeline, step);
  return pipeline;
}

function applyStep(image: Sharp, step: SharpStep): Sharp {
  switch (step.slot) {
    case 'flip':
      return image.flip();
    case 'flop':
      return image.flop();
    case 'rotate':
      return image.rotate(step.angle, { background: `#${step.background}` });
    case 'extract':
      return image.extract(step.box);
    case 'gamma-pre':
      return image.gamma(step.gamma, 1);
    case 'resize':
      return step.smart
        ? image.resize({
            width: step.width,
            height: step.height,
            fit: 'cover',
            position: step.smart === 'smart' ? 'attention' : 'entropy',
            kernel: step.kernel,
            ...(step.cropOnly ? { withoutReduction: true } : {}),
          })
        : image.resize({ width: step.width, height: step.height, fit: 'fill', kernel: step.kernel });
    case 'extend':
      return image.extend({
        top: step.top,
        right: step.right,
        bottom: step.bottom,
        left: step.left,
        background: `#${step.background}`,
      });
    case 'median':
      return image.median(step.size);
    case 'threshold':
      return image.threshold(step.level);
    case 'blur':
      return image.blur(step.sigma);
    case 'convolve':
      return image.convolve({
        width: step.width,
        height: step.height,
        kernel: step.kernel,
        scale: step.scale,
        offset: step.offset,
      });
    case 'recomb':
      return image.recomb(
        step.matrix as [[number, number, number], [number, number, number], [number, number, number]],
      );
    case 'modulate':
      return image.modulate({
        ...(step.brightness !== undefined ? { brightness: step.brightness } : {}),
        ...(step.saturation !== undefined ? { saturation: step.saturation } : {}),
        ...(step.hue !== undefined ? { hue: step.hue } : {}),
      });
    case 'sharpen':
      return image.sharpen({ sigma: step.sigma, m1: step.flat, m2: step.jagged });
    case 'gamma-post':
      return image.gamma(1, step.gamma);
    case 'linear':
      return image.linear(step.a, step.b);
    case 'normalise':
      return image.normalise({ lower: step.lower, upper: step.upper });
    case 'clahe':
      return image.clahe({ width: step.width, height: step.height, maxSlope: step.slope });
    case 'negate':
      return image.negate({ alpha: false });
  }
}
