/**
 * The geometry of `crop`: a box in pixels or fractions, a size at a gravity or smart position, or the area around
 * detections (faces, objects) that the caller supplies. Boxes are clamped to the image; one entirely outside it is
 * TRANSFORM_CROP_OUTSIDE_IMAGE.
 */
import { ImgpipeError } from '@imgpipe/core';
import { type Box, clipBox, type Size } from './geometry.ts';
import type { CropBoxOp, CropSizeOp, Gravity, SmartPosition } from './recipe.ts';
import { gravityBox } from './resize.ts';

/** A detected face or object, in pixels of the upright input image. */
export interface DetectionBox extends Box {
  label?: string;
  score?: number;
}

export interface Detections {
  faces?: readonly DetectionBox[];
  objects?: readonly DetectionBox[];
}

/**
 * Where detections come from: called at most once per transform, only when the recipe crops around faces or
 * objects, with the kinds it needs. A stored result or an on-the-fly detector stands behind it.
 */
export type DetectionSource = (needs: { faces: boolean; objects: boolean }) => Promise<Detections>;

export function cropBox(current: Size, op: CropBoxOp): Box {
  const box =
    op.unit === 'fraction'
      ? {
          left: Math.round(op.left * current.width),
          top: Math.round(op.top * current.height),
          width: Math.max(1, Math.round(op.width * current.width)),
          height: Math.max(1, Math.round(op.height * current.height)),
        }
      : { left: op.left, top: op.top, width: op.width, height: op.height };
  const clipped = clipBox(box, current);
  if (!clipped) {
    throw new ImgpipeError(
      'TRANSFORM_CROP_OUTSIDE_IMAGE',
      `crop: the box ${box.width}x${box.height} at ${box.left},${box.top} lies outside the ${current.width}x${current.height} image`,
      { details: { box, image: current } },
    );
  }
  return clipped;
}

/** A crop of a size: at a gravity (a box), or at smart/entropy (sharp picks where). Sides clamp to the image. */
export function cropSize(current: Size, op: CropSizeOp): { box: Box } | { smart: SmartPosition; size: Size } {
  const toPixels = (value: number | undefined, whole: number) =>
    value === undefined
      ? whole
      : Math.min(whole, op.unit === 'fraction' ? Math.max(1, Math.round(value * whole)) : value);
  const size = { width: toPixels(op.width, current.width), height: toPixels(op.height, current.height) };
  if (op.position === 'smart' || op.position === 'entropy') return { smart: op.position, size };
  return { box: gravityBox(current, size, op.position as Gravity) };
}

export interface AroundOptions {
  /** Added on each side, as a fraction of the union box's width (left, right) and height (top, bottom). */
  padding: number;
  /** Width and height of an aspect ratio to keep. */
  aspect?: readonly [number, number];
}

/**
 * The crop around a set of boxes: their union, padded, widened or heightened to the aspect ratio (about its centre),
 * shrunk (keeping the aspect) if larger than the image, then shifted, never shrunk further, to lie inside the image.
 * Undefined when there are no boxes. The result always contains the boxes when the image is large enough to.
 */
export function cropAround(boxes: readonly Box[], image: Size, options: AroundOptions): Box | undefined {
  const inside = boxes.map((box) => clipBox(box, image)).filter((box): box is Box => box !== undefined);
  if (inside.length === 0) return undefined;
  const left = Math.min(...inside.map((box) => box.left));
  const top = Math.min(...inside.map((box) => box.top));
  const right = Math.max(...inside.map((box) => box.left + box.width));
  const bottom = Math.max(...inside.map((box) => box.top + box.height));
  const centreX = (left + right) / 2;
  const centreY = (top + bottom) / 2;
  let width = (right - left) * (1 + 2 * options.padding);
  let height = (bottom - top) * (1 + 2 * options.padding);
  if (options.aspect) {
    const ratio = options.aspect[0] / options.aspect[1];
    if (width / height < ratio) width = height * ratio;
    else height = width / ratio;
    const fit = Math.min(1, image.width / width, image.height / height);
    width *= fit;
    height *= fit;
  } else {
    width = Math.min(width, image.width);
    height = Math.min(height, image.height);
  }
  const w = Math.max(1, Math.min(image.width, Math.round(width)));
  const h = Math.max(1, Math.min(image.height, Math.round(height)));
  const x = Math.round(Math.min(Math.max(centreX - w / 2, 0), image.width - w));
  const y = Math.round(Math.min(Math.max(centreY - h / 2, 0), image.height - h));
  return { left: x, top: y, width: w, height: h };
}
