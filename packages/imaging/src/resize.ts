/**
 * The geometry of `resize`, computed here rather than left to sharp so that every later operation knows the exact
 * size: sharp is then asked for an explicit width x height ("fill"), plus a crop (cover) or padding (contain).
 *
 * - Only a width (or height): scaled to it, the other side round(side x scale).
 * - fill: exactly width x height; inside: the largest size within the box; outside: the smallest size covering it;
 *   cover: outside, then cropped to the box at `position`; contain: inside, then padded to the box at `position`.
 * - The side that decides the scale is exact; the other is rounded (at least 1).
 * - Without `enlarge`, the scale is at most 1 (fill: each side at most the image's), so an image smaller than the box
 *   keeps its size; cover then crops to what fits and contain still pads to the whole box.
 */
import type { Box, Size } from './geometry.ts';
import type { Gravity, ResizeOp, SmartPosition } from './recipe.ts';

export interface ResizePlan {
  /** The size the image is scaled to. */
  scaled: Size;
  /** cover at a gravity: the part of the scaled image kept. */
  crop?: Box;
  /** cover at smart or entropy: sharp picks the crop of `output` size from the scaled image. */
  smart?: SmartPosition;
  /** contain: padding around the scaled image. */
  pad?: { top: number; right: number; bottom: number; left: number };
  output: Size;
}

export function planResize(current: Size, op: ResizeOp): ResizePlan {
  const { width: W, height: H } = current;
  const limit = (scale: number) => (op.enlarge ? scale : Math.min(scale, 1));
  if (op.width === undefined || op.height === undefined) {
    const scale = limit(op.width !== undefined ? op.width / W : op.height! / H);
    const scaled = scaleSize(current, scale, op.width !== undefined ? 'width' : 'height', op);
    return { scaled, output: scaled };
  }
  const w = op.width;
  const h = op.height;
  switch (op.fit) {
    case 'fill': {
      const scaled = op.enlarge ? { width: w, height: h } : { width: Math.min(w, W), height: Math.min(h, H) };
      return { scaled, output: scaled };
    }
    case 'inside':
    case 'contain': {
      const byWidth = w / W <= h / H;
      const scaled = scaleSize(current, limit(byWidth ? w / W : h / H), byWidth ? 'width' : 'height', op);
      if (op.fit === 'inside') return { scaled, output: scaled };
      const [left, right] = split(w - scaled.width, horizontal(op.position as Gravity));
      const [top, bottom] = split(h - scaled.height, vertical(op.position as Gravity));
      return { scaled, pad: { top, right, bottom, left }, output: { width: w, height: h } };
    }
    case 'outside':
    case 'cover': {
      const byWidth = w / W >= h / H;
      const scaled = scaleSize(current, limit(byWidth ? w / W : h / H), byWidth ? 'width' : 'height', op);
      if (op.fit === 'outside') return { scaled, output: scaled };
      const output = { width: Math.min(w, scaled.width), height: Math.min(h, scaled.height) };
      if (op.position === 'smart' || op.position === 'entropy') return { scaled, smart: op.position, output };
      return { scaled, crop: gravityBox(scaled, output, op.position), output };
    }
  }
}

function scaleSize(current: Size, scale: number, exact: 'width' | 'height', op: ResizeOp): Size {
  if (scale === 1) return { ...current };
  if (exact === 'width') {
    return { width: Math.min(op.width!, Math.round(current.width * scale)) || 1, height: side(current.height * scale) };
  }
  return { width: side(current.width * scale), height: Math.min(op.height!, Math.round(current.height * scale)) || 1 };
}

function side(value: number): number {
  return Math.max(1, Math.round(value));
}

/** A box of `size` inside `within`, placed at a gravity (centred offsets round down). */
export function gravityBox(within: Size, size: Size, gravity: Gravity): Box {
  const [left] = split(within.width - size.width, horizontal(gravity));
  const [top] = split(within.height - size.height, vertical(gravity));
  return { left, top, width: size.width, height: size.height };
}

type Align = 'start' | 'middle' | 'end';

function horizontal(gravity: Gravity): Align {
  if (gravity.endsWith('west')) return 'start';
  if (gravity.endsWith('east')) return 'end';
  return 'middle';
}

function vertical(gravity: Gravity): Align {
  if (gravity.startsWith('north')) return 'start';
  if (gravity.startsWith('south')) return 'end';
  return 'middle';
}

/** Splits free space into before and after. */
function split(space: number, align: Align): [number, number] {
  const before = align === 'start' ? 0 : align === 'end' ? space : Math.floor(space / 2);
  return [before, space - before];
}
