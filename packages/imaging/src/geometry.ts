/**
 * Sizes, boxes and the map from the upright input's pixel coordinates to the current image's, carried through the
 * geometry operations so that detection boxes (given in the upright input) land where their content went.
 */

export interface Size {
  width: number;
  height: number;
}

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** x' = a x + b y + c, y' = d x + e y + f. */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

export const IDENTITY: Affine = Object.freeze({ a: 1, b: 0, c: 0, d: 0, e: 1, f: 0 });

/** `second` after `first`. */
export function compose(second: Affine, first: Affine): Affine {
  return {
    a: second.a * first.a + second.b * first.d,
    b: second.a * first.b + second.b * first.e,
    c: second.a * first.c + second.b * first.f + second.c,
    d: second.d * first.a + second.e * first.d,
    e: second.d * first.b + second.e * first.e,
    f: second.d * first.c + second.e * first.f + second.f,
  };
}

export function translate(dx: number, dy: number): Affine {
  return { a: 1, b: 0, c: dx, d: 0, e: 1, f: dy };
}

export function scale(sx: number, sy: number): Affine {
  return { a: sx, b: 0, c: 0, d: 0, e: sy, f: 0 };
}

/** Mirror top to bottom within an image of this height (pixel edges: y -> height - y). */
export function flipMap(size: Size): Affine {
  return { a: 1, b: 0, c: 0, d: 0, e: -1, f: size.height };
}

/** Mirror left to right. */
export function flopMap(size: Size): Affine {
  return { a: -1, b: 0, c: size.width, d: 0, e: 1, f: 0 };
}

function isRightAngle(angle: number): boolean {
  return angle % 90 === 0;
}

/**
 * The size after a clockwise rotation: swapped for 90 and 270; for other angles the bounding box of the rotated
 * image, rounded as libvips rounds it (exact: true only for right angles, whose size is certain).
 */
export function rotatedSize(size: Size, angle: number): Size & { exact: boolean } {
  if (isRightAngle(angle)) {
    const quarter = (angle / 90) % 2 === 1;
    return quarter
      ? { width: size.height, height: size.width, exact: true }
      : { width: size.width, height: size.height, exact: true };
  }
  const radians = (angle * Math.PI) / 180;
  const cos = Math.abs(Math.cos(radians));
  const sin = Math.abs(Math.sin(radians));
  return {
    width: Math.max(1, Math.round(size.width * cos + size.height * sin)),
    height: Math.max(1, Math.round(size.width * sin + size.height * cos)),
    exact: false,
  };
}

/** The map of a clockwise rotation about the image centre onto an output of `to` size (centres aligned). */
export function rotateMap(from: Size, to: Size, angle: number): Affine {
  const radians = (angle * Math.PI) / 180;
  const cos = Math.cos(radians);
  const sin = Math.sin(radians);
  // In image coordinates (y down) a clockwise turn is x' = x cos - y sin, y' = x sin + y cos.
  const rotation: Affine = { a: cos, b: -sin, c: 0, d: sin, e: cos, f: 0 };
  return compose(
    translate(to.width / 2, to.height / 2),
    compose(rotation, translate(-from.width / 2, -from.height / 2)),
  );
}

/** The axis-aligned box around a box's four corners after the map. */
export function mapBox(box: Box, map: Affine): Box {
  const corners = [
    [box.left, box.top],
    [box.left + box.width, box.top],
    [box.left, box.top + box.height],
    [box.left + box.width, box.top + box.height],
  ].map(([x, y]) => [map.a * x! + map.b * y! + map.c, map.d * x! + map.e * y! + map.f] as const);
  const xs = corners.map(([x]) => x);
  const ys = corners.map(([, y]) => y);
  const left = Math.min(...xs);
  const top = Math.min(...ys);
  return { left, top, width: Math.max(...xs) - left, height: Math.max(...ys) - top };
}

/** Clips a box to the image; undefined when nothing of it is inside. */
export function clipBox(box: Box, size: Size): Box | undefined {
  const left = Math.max(0, box.left);
  const top = Math.max(0, box.top);
  const right = Math.min(size.width, box.left + box.width);
  const bottom = Math.min(size.height, box.top + box.height);
  if (right <= left || bottom <= top) return undefined;
  return { left, top, width: right - left, height: bottom - top };
}
