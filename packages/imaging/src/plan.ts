/**
 * Planning: each operation becomes steps (steps.ts) computed from what is known of the image at that point: its
 * size, whether it may have transparency, and the map from the upright input's coordinates to the current ones
 * (for detection boxes). planOp is pure; applyRecipe runs it op by op against the real image, and planRecipe runs it
 * alone, before any pixel is decoded, to enforce the output pixel limit and to count the pipelines a recipe needs.
 *
 * A free rotation's size is libvips' rounding of the bounding box, and a smart crop's position is libvips' choice:
 * after either the state is not `settled`, and an operation that needs exact geometry (resize, crop) first has the
 * image materialised so the real size and offsets are known.
 */
import { ImgpipeError } from '@imgpipe/core';
import { cropAround, cropBox, cropSize, type DetectionBox, type Detections } from './crop.ts';
import { enhanceSteps } from './enhance.ts';
import { filterSteps } from './filters.ts';
import {
  type Affine,
  type Box,
  compose,
  flipMap,
  flopMap,
  IDENTITY,
  mapBox,
  rotatedSize,
  rotateMap,
  type Size,
  scale,
  translate,
} from './geometry.ts';
import type { TransformLimits } from './limits.ts';
import {
  type ClaheOp,
  type CropDetectionsOp,
  type CropOp,
  type FilterOp,
  type PixelOp,
  type Recipe,
  recipeParts,
} from './recipe.ts';
import { planResize } from './resize.ts';
import { PassBuilder, type Step } from './steps.ts';

export interface PlanState {
  size: Size;
  /** Size and map are exact (not after a free rotation or a smart crop, until the image is materialised). */
  settled: boolean;
  /** Upright input coordinates to current ones. */
  map: Affine;
  /** A smart crop whose offset libvips reports when the pipeline runs: the map still lacks its translation. */
  pendingCrop?: boolean;
  /** Whether the image may have an alpha channel. */
  alpha: boolean;
}

export interface PlanContext {
  limits: Pick<TransformLimits, 'maxOutputPixels'>;
  detections: Detections;
}

export function initialState(size: Size, alpha: boolean): PlanState {
  return { size, settled: true, map: IDENTITY, alpha };
}

/** Operations whose steps depend on the exact size (and crop offsets) of the image. */
export function needsSettled(op: PixelOp): boolean {
  return op.op === 'resize' || op.op === 'crop';
}

export function planOp(state: PlanState, op: PixelOp, context: PlanContext): { steps: Step[]; next: PlanState } {
  switch (op.op) {
    case 'resize': {
      const plan = planResize(state.size, op);
      checkPixels(plan.scaled, context, 'resize');
      checkPixels(plan.output, context, 'resize');
      const steps: Step[] = [];
      const scaledMap = compose(
        scale(plan.scaled.width / state.size.width, plan.scaled.height / state.size.height),
        state.map,
      );
      if (plan.smart) {
        steps.push({ slot: 'resize', ...plan.output, kernel: op.kernel, smart: plan.smart });
        return { steps, next: { ...state, size: plan.output, settled: false, pendingCrop: true, map: scaledMap } };
      }
      if (!sameSize(plan.scaled, state.size)) steps.push({ slot: 'resize', ...plan.scaled, kernel: op.kernel });
      let map = scaledMap;
      let alpha = state.alpha;
      if (plan.crop && !sameSize(plan.crop, plan.scaled)) {
        steps.push({ slot: 'extract', box: plan.crop });
        map = compose(translate(-plan.crop.left, -plan.crop.top), map);
      }
      if (plan.pad && Object.values(plan.pad).some((side) => side > 0)) {
        steps.push({ slot: 'extend', ...plan.pad, background: op.background });
        map = compose(translate(plan.pad.left, plan.pad.top), map);
        alpha ||= op.background.length === 8;
      }
      return { steps, next: { ...state, size: plan.output, map, alpha } };
    }
    case 'crop':
      return planCrop(state, op, context);
    case 'rotate': {
      if (op.angle === 0) return { steps: [], next: state };
      const rotated = rotatedSize(state.size, op.angle);
      checkPixels(rotated, context, 'rotate');
      const size = { width: rotated.width, height: rotated.height };
      return {
        steps: [{ slot: 'rotate', angle: op.angle, background: op.background }],
        next: {
          ...state,
          size,
          settled: state.settled && rotated.exact,
          map: compose(rotateMap(state.size, size, op.angle), state.map),
          alpha: state.alpha || (!rotated.exact && op.background.length === 8),
        },
      };
    }
    case 'flip':
      return { steps: [{ slot: 'flip' }], next: { ...state, map: compose(flipMap(state.size), state.map) } };
    case 'flop':
      return { steps: [{ slot: 'flop' }], next: { ...state, map: compose(flopMap(state.size), state.map) } };
    case 'edge':
      return { steps: filterSteps(op), next: { ...state, alpha: false } };
    case 'clahe':
      return { steps: enhanceSteps(claheWithin(op, state)), next: state };
    case 'median': {
      const side = Math.min(op.size, largestOdd(Math.min(state.size.width, state.size.height) - slackOf(state)));
      return { steps: side > 1 ? filterSteps({ ...op, size: side }) : [], next: state };
    }
    default:
      return {
        steps: isFilter(op) ? filterSteps(op) : enhanceSteps(op),
        next: state,
      };
  }
}

function planCrop(state: PlanState, op: CropOp, context: PlanContext): { steps: Step[]; next: PlanState } {
  const extract = (box: Box) => {
    if (box.left === 0 && box.top === 0 && sameSize(box, state.size)) return { steps: [], next: state };
    const steps: Step[] = [{ slot: 'extract', box }];
    return {
      steps,
      next: {
        ...state,
        size: { width: box.width, height: box.height },
        map: compose(translate(-box.left, -box.top), state.map),
      },
    };
  };
  const smart = (size: Size, position: 'smart' | 'entropy') => {
    if (sameSize(size, state.size)) return { steps: [], next: state };
    const steps: Step[] = [{ slot: 'resize', ...size, kernel: 'lanczos3', smart: position, cropOnly: true }];
    return { steps, next: { ...state, size, settled: false, pendingCrop: true } };
  };
  switch (op.mode) {
    case 'box':
      return extract(cropBox(state.size, op));
    case 'size': {
      const target = cropSize(state.size, op);
      return 'box' in target ? extract(target.box) : smart(target.size, target.smart);
    }
    case 'faces':
    case 'objects': {
      const boxes = detectionBoxes(op, context.detections).map((box) => mapBox(box, state.map));
      const around = cropAround(boxes, state.size, {
        padding: op.padding,
        ...(op.aspect ? { aspect: op.aspect } : {}),
      });
      if (around) return extract(around);
      // Nothing detected: keep the image, or crop the requested aspect where libvips finds the most interest.
      if (!op.aspect) return { steps: [], next: state };
      const ratio = op.aspect[0] / op.aspect[1];
      const width = Math.min(state.size.width, Math.max(1, Math.round(state.size.height * ratio)));
      const height = Math.min(state.size.height, Math.max(1, Math.round(width / ratio)));
      return smart({ width, height }, 'smart');
    }
  }
}

function detectionBoxes(op: CropDetectionsOp, detections: Detections): readonly DetectionBox[] {
  if (op.mode === 'faces') return detections.faces ?? [];
  const objects = detections.objects ?? [];
  return op.label === undefined ? objects : objects.filter((box) => box.label?.toLowerCase() === op.label);
}

/** The kinds of detection a recipe crops around. */
export function detectionNeedsOf(recipe: Recipe): { faces: boolean; objects: boolean } {
  return detectionNeeds(recipeParts(recipe).pixelOps);
}

export function detectionNeeds(ops: readonly PixelOp[]): { faces: boolean; objects: boolean } {
  const crops = ops.filter(
    (op): op is CropDetectionsOp => op.op === 'crop' && (op.mode === 'faces' || op.mode === 'objects'),
  );
  return { faces: crops.some((op) => op.mode === 'faces'), objects: crops.some((op) => op.mode === 'objects') };
}

/**
 * After a pipeline has run: the real size, and a smart crop's offset (libvips reports where it cropped, as
 * cropOffsetLeft/Top, negative) added to the map.
 */
export function settle(state: PlanState, actual: Size, cropOffset?: { left: number; top: number }): PlanState {
  let map = state.map;
  if (state.pendingCrop && cropOffset) map = compose(translate(cropOffset.left, cropOffset.top), map);
  return { size: actual, settled: true, map, alpha: state.alpha };
}

export interface RecipePlan {
  /** sharp pipelines the recipe needs (a raw round trip between two). */
  pipelines: number;
  /** Steps done in JavaScript on raw pixels. */
  rawSteps: number;
  /** The output size (a free rotation's rounding may differ by a pixel). */
  size: Size;
  alpha: boolean;
}

/** The whole recipe planned up front, without pixels: enforces the output pixel limit and counts pipelines. */
export function planRecipe(ops: readonly PixelOp[], start: PlanState, context: PlanContext): RecipePlan {
  let state = start;
  let pass = new PassBuilder();
  let pipelines = 1;
  let rawSteps = 0;
  for (const op of ops) {
    if (needsSettled(op) && !state.settled) {
      pass = new PassBuilder();
      pipelines++;
      state = settle(state, state.size);
    }
    const { steps, next } = planOp(state, op, context);
    for (const step of steps) {
      if (step.slot === 'raw') {
        rawSteps++;
        pass = new PassBuilder();
        pipelines++;
      } else if (!pass.add(step)) {
        pass = new PassBuilder();
        pipelines++;
        pass.add(step);
      }
    }
    state = next;
  }
  return { pipelines, rawSteps, size: state.size, alpha: state.alpha };
}

/**
 * libvips refuses a window larger than the image (CLAHE's "window too large", the median's rank): a window that
 * covers the whole image is what such a recipe means.
 */
function claheWithin(op: ClaheOp, state: PlanState): ClaheOp {
  return {
    ...op,
    width: Math.max(1, Math.min(op.width, state.size.width - slackOf(state))),
    height: Math.max(1, Math.min(op.height, state.size.height - slackOf(state))),
  };
}

/** After a free rotation the planned size may be a pixel more than the real one. */
function slackOf(state: PlanState): number {
  return state.settled ? 0 : 1;
}

function largestOdd(n: number): number {
  return n % 2 === 1 ? n : n - 1;
}

function checkPixels(size: Size, context: PlanContext, op: string): void {
  const pixels = size.width * size.height;
  if (pixels > context.limits.maxOutputPixels) {
    throw new ImgpipeError(
      'TRANSFORM_OUTPUT_TOO_MANY_PIXELS',
      `${op}: a ${size.width}x${size.height} image has ${pixels} pixels, more than the limit of ${context.limits.maxOutputPixels} (IMGPIPE_TRANSFORM_MAX_OUTPUT_PIXELS)`,
      { details: { width: size.width, height: size.height, limit: context.limits.maxOutputPixels } },
    );
  }
}

function sameSize(a: Size, b: Size): boolean {
  return a.width === b.width && a.height === b.height;
}

function isFilter(op: PixelOp): op is FilterOp {
  return [
    'blur',
    'gaussian-blur',
    'median',
    'sharpen',
    'edge',
    'emboss',
    'contour',
    'grayscale',
    'sepia',
    'negate',
    'threshold',
    'pixelate',
  ].includes(op.op);
}
