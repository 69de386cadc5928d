/**
 * Pictures for people to check keypoints and matches:
 *
 *   keypointsSvg(keypoints, { unit })        SVG elements (circles of the keypoint's size with its orientation) in
 *                                            the keypoints' pixel space, for an overlay such as the annotator's;
 *   await matchPicture(a, b, found)          a PNG of the two images side by side at one height, inlier matches
 *                                            joined by green lines, other ratio-test matches by thin red ones, and
 *                                            A's outline projected into B by the homography in blue.
 *
 * Images are the original encoded bytes (EXIF-oriented here): keypoints are in the oriented original's pixels.
 */
import { sharp } from '../sharp-instance.ts';
import { projectPoint } from './homography.ts';
import type { FeatureMatch } from './match-features.ts';
import type { Keypoint } from './sift.ts';

export interface KeypointsSvgOptions {
  /** Keypoint-space pixels per output pixel, so strokes stay 1-2 output pixels wide; default 1. */
  unit?: number;
  /** Draw at most this many, strongest first; default 500. */
  max?: number;
  colour?: string;
}

export function keypointsSvg(keypoints: readonly Keypoint[], options: KeypointsSvgOptions = {}): string {
  const unit = options.unit ?? 1;
  const colour = options.colour ?? '#ffd600';
  const stroke = 1.5 * unit;
  const parts: string[] = [];
  for (const k of keypoints.slice(0, options.max ?? 500)) {
    const r = Math.max(k.size / 2, 2 * unit);
    // OpenCV's angle is clockwise in image coordinates (y down): the tip is at (cos, sin).
    const radians = (k.angle * Math.PI) / 180;
    const tx = k.x + r * Math.cos(radians);
    const ty = k.y + r * Math.sin(radians);
    parts.push(
      `<circle cx="${n(k.x)}" cy="${n(k.y)}" r="${n(r)}" fill="none" stroke="${colour}" stroke-width="${n(stroke)}"/>`,
      `<line x1="${n(k.x)}" y1="${n(k.y)}" x2="${n(tx)}" y2="${n(ty)}" stroke="${colour}" stroke-width="${n(stroke)}"/>`,
    );
  }
  return parts.join('');
}

export interface MatchSide {
  /** The image's encoded bytes (the original). */
  bytes: Uint8Array;
  keypoints: readonly Keypoint[];
}

export interface MatchPictureOptions {
  /** Height of the picture; default the taller image's height, at most 720. */
  height?: number;
  /** Draw the ratio-test matches that are not inliers too; default true. */
  outliers?: boolean;
  /** Encoding of the picture; default png (jpeg at quality 85 is several times smaller for photos). */
  format?: 'png' | 'jpeg';
}

export async function matchPicture(
  a: MatchSide,
  b: MatchSide,
  found: Pick<FeatureMatch, 'matches' | 'inliers' | 'homography'>,
  options: MatchPictureOptions = {},
): Promise<Uint8Array> {
  const [ma, mb] = await Promise.all([a, b].map((side) => sharp(side.bytes).metadata()));
  const size = (m: typeof ma) => ({ width: m!.autoOrient.width, height: m!.autoOrient.height });
  const sa = size(ma);
  const sb = size(mb);
  const height = Math.max(1, Math.round(options.height ?? Math.min(720, Math.max(sa.height, sb.height))));
  const scaleA = height / sa.height;
  const scaleB = height / sb.height;
  const wa = Math.max(1, Math.round(sa.width * scaleA));
  const wb = Math.max(1, Math.round(sb.width * scaleB));
  const gap = 8;
  const [pa, pb] = await Promise.all([
    sharp(a.bytes, { autoOrient: true }).resize({ width: wa, height, fit: 'fill' }).png().toBuffer(),
    sharp(b.bytes, { autoOrient: true }).resize({ width: wb, height, fit: 'fill' }).png().toBuffer(),
  ]);
  const offset = wa + gap;
  const line = (m: { queryIndex: number; trainIndex: number }, colour: string, width: number) => {
    const p = a.keypoints[m.queryIndex]!;
    const q = b.keypoints[m.trainIndex]!;
    return `<line x1="${n(p.x * scaleA)}" y1="${n(p.y * scaleA)}" x2="${n(offset + q.x * scaleB)}" y2="${n(q.y * scaleB)}" stroke="${colour}" stroke-width="${width}" stroke-opacity="0.85"/>`;
  };
  const inlier = new Set(found.inliers.map((m) => `${m.queryIndex}:${m.trainIndex}`));
  const parts: string[] = [];
  if (options.outliers ?? true) {
    for (const m of found.matches)
      if (!inlier.has(`${m.queryIndex}:${m.trainIndex}`)) parts.push(line(m, '#ff1744', 1));
  }
  for (const m of found.inliers) parts.push(line(m, '#00e676', 1.5));
  if (found.homography) {
    const corners = [
      { x: 0, y: 0 },
      { x: sa.width - 1, y: 0 },
      { x: sa.width - 1, y: sa.height - 1 },
      { x: 0, y: sa.height - 1 },
    ].map((corner) => projectPoint(found.homography!, corner));
    if (corners.every((c) => Number.isFinite(c.x) && Number.isFinite(c.y))) {
      const points = corners.map((c) => `${n(offset + c.x * scaleB)},${n(c.y * scaleB)}`).join(' ');
      parts.push(`<polygon points="${points}" fill="none" stroke="#2979ff" stroke-width="3"/>`);
    }
  }
  const width = wa + gap + wb;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
  const picture = await sharp({ create: { width, height, channels: 3, background: '#202020' } })
    .composite([
      { input: pa, top: 0, left: 0 },
      { input: pb, top: 0, left: offset },
      { input: Buffer.from(svg), top: 0, left: 0 },
    ])
    .toFormat(options.format ?? 'png', options.format === 'jpeg' ? { quality: 85 } : {})
    .toBuffer();
  return new Uint8Array(picture.buffer, picture.byteOffset, picture.byteLength);
}

const n = (value: number) => Number(value.toFixed(2));
