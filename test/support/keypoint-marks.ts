import sharp from 'sharp';

/** A keypoint as results report it: pixels of the oriented original, pixel centres at whole numbers (OpenCV). */
export interface KeypointLike {
  x: number;
  y: number;
  size: number;
}

/**
 * An annotated image's pixels and where a keypoint's circle should be on it, computed here from OpenCV's
 * drawKeypoints convention (DRAW_RICH_KEYPOINTS: a circle of radius size / 2 around the centre), not from the
 * annotator: `marked(k)` says whether the pixels where the circle crosses the keypoint's row on the left (a 3 x 3
 * neighbourhood, as anti-aliasing spreads a 1.5 px stroke over two) show the annotator's magenta (#ff00ff).
 */
export async function keypointMarks(png: Uint8Array, original: { width: number }) {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const scale = info.width / original.width;
  const pixel = (x: number, y: number) => {
    const at = (y * info.width + x) * 3;
    return [data[at]!, data[at + 1]!, data[at + 2]!];
  };
  // At least about three quarters magenta, whatever it was blended with.
  const magenta = ([r, g, b]: number[]) => r! - g! > 120 && b! - g! > 120;
  const near = (k: KeypointLike) => {
    // The annotator keeps circles at least 2 output pixels wide; these keypoints are larger.
    const radius = Math.max((k.size / 2) * scale, 2);
    const cx = Math.round((k.x + 0.5) * scale - 0.5 - radius);
    const cy = Math.round((k.y + 0.5) * scale - 0.5);
    const around: number[][] = [];
    for (let dy = -1; dy <= 1; dy += 1) {
      for (let dx = -1; dx <= 1; dx += 1) {
        const x = cx + dx;
        const y = cy + dy;
        if (x >= 0 && y >= 0 && x < info.width && y < info.height) around.push(pixel(x, y));
      }
    }
    return around;
  };
  return {
    width: info.width,
    height: info.height,
    marked: (k: KeypointLike) => near(k).some(magenta),
    around: near,
  };
}
