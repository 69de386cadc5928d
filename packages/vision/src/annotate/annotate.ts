/**
 * Draws results onto the oriented image for people to check: object boxes with labels, face boxes with their five
 * landmarks, OCR line polygons with their text, and on request keypoints (as OpenCV's drawKeypoints with
 * DRAW_RICH_KEYPOINTS: a circle of the keypoint's size, a radius along its angle). The overlay is an SVG whose viewBox is the oriented original's
 * pixel space (the space every result is in), composited by sharp at the output size.
 */
import type { DetectedFace, DetectedObject, Keypoint, TextLine } from '@imgpipe/contracts';
import { keypointsSvg } from '../features/match-picture.ts';
import { type NormalizedImage, rawInput, toUint8Array } from '../preprocess/normalized-image.ts';
import { sharp } from '../sharp-instance.ts';

export interface Annotations {
  objects?: readonly DetectedObject[];
  faces?: readonly DetectedFace[];
  text?: readonly TextLine[];
  /**
   * Keypoints (a features result's `keypoints`), in KEYPOINT_COLOUR beneath the other annotations: a circle of
   * radius size / 2 (at least 2 output pixels) around (x, y) and a line from the centre along `angle` (degrees,
   * clockwise in image coordinates: 0 points right, 90 down), as OpenCV's drawKeypoints with DRAW_RICH_KEYPOINTS.
   */
  keypoints?: readonly Keypoint[];
}

/** Magenta: no other annotation uses it and photos rarely contain it. */
export const KEYPOINT_COLOUR = '#ff00ff';

export interface AnnotateOptions {
  format?: 'png' | 'jpeg';
  /** Long side of the output; default the source's size (normalised images are already capped). */
  maxSide?: number;
}

/** source: the original image bytes (auto-oriented here) or the normalised image from preprocess. */
export async function annotateImage(
  source: Uint8Array | NormalizedImage,
  annotations: Annotations,
  options: AnnotateOptions = {},
): Promise<Uint8Array> {
  const isRaw = !(source instanceof Uint8Array);
  const base = isRaw ? sharp(source.data, rawInput(source)) : sharp(source, { autoOrient: true, failOn: 'error' });
  let space: { width: number; height: number };
  let size: { width: number; height: number };
  if (isRaw) {
    space = { width: source.originalWidth, height: source.originalHeight };
    size = { width: source.width, height: source.height };
  } else {
    const metadata = await sharp(source).metadata();
    space = { width: metadata.autoOrient.width, height: metadata.autoOrient.height };
    size = space;
  }
  const maxSide = options.maxSide ?? Math.max(size.width, size.height);
  const ratio = Math.min(1, maxSide / Math.max(size.width, size.height));
  const width = Math.max(1, Math.round(size.width * ratio));
  const height = Math.max(1, Math.round(size.height * ratio));
  const svg = overlay(annotations, space, { width, height });
  const image = base.resize({ width, height, fit: 'fill' }).composite([{ input: Buffer.from(svg), top: 0, left: 0 }]);
  const encoded =
    options.format === 'jpeg' ? await image.jpeg({ quality: 90 }).toBuffer() : await image.png().toBuffer();
  return toUint8Array(encoded);
}

function overlay(
  annotations: Annotations,
  space: { width: number; height: number },
  output: { width: number; height: number },
): string {
  // Strokes and type in output pixels, whatever the original's size.
  const unit = space.width / output.width;
  const stroke = 2 * unit;
  const font = 13 * unit;
  const parts: string[] = [];
  if (annotations.keypoints?.length) {
    // Keypoints put pixel centres at whole numbers (OpenCV's convention), SVG at halves: half a pixel across.
    const marks = keypointsSvg(annotations.keypoints, { unit, colour: KEYPOINT_COLOUR });
    parts.push(`<g transform="translate(0.5 0.5)">${marks}</g>`);
  }
  for (const object of annotations.objects ?? []) {
    const colour = colourFor(object.label);
    const { x, y, width, height } = object.box;
    parts.push(
      `<rect x="${x}" y="${y}" width="${width}" height="${height}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>`,
      label(`${object.label} ${Math.round(object.confidence * 100)}%`, x, y, colour, font),
    );
  }
  for (const face of annotations.faces ?? []) {
    const { x, y, width, height } = face.box;
    parts.push(
      `<rect x="${x}" y="${y}" width="${width}" height="${height}" fill="none" stroke="#00e5ff" stroke-width="${stroke}"/>`,
      label(`face ${Math.round(face.confidence * 100)}%`, x, y + height + font * 1.4, '#00e5ff', font),
    );
    const dots: [keyof DetectedFace['landmarks'], string][] = [
      ['rightEye', '#ff1744'],
      ['leftEye', '#2979ff'],
      ['nose', '#00e676'],
      ['mouthRight', '#ff9100'],
      ['mouthLeft', '#d500f9'],
    ];
    for (const [name, colour] of dots) {
      const point = face.landmarks[name];
      parts.push(`<circle cx="${point.x}" cy="${point.y}" r="${2.5 * unit}" fill="${colour}"/>`);
    }
  }
  for (const line of annotations.text ?? []) {
    const points = line.polygon.map((point) => `${point.x},${point.y}`).join(' ');
    parts.push(`<polygon points="${points}" fill="none" stroke="#ffd600" stroke-width="${stroke}"/>`);
    const first = line.polygon[0];
    if (first) parts.push(label(line.text, first.x, first.y, '#ffd600', font));
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${output.width}" height="${output.height}" ` +
    `viewBox="0 0 ${space.width} ${space.height}" preserveAspectRatio="none">${parts.join('')}</svg>`
  );
}

function label(text: string, x: number, y: number, colour: string, font: number): string {
  const top = Math.max(font * 1.3, y);
  const width = font * 0.62 * text.length + font * 0.6;
  return (
    `<rect x="${x}" y="${top - font * 1.3}" width="${width}" height="${font * 1.3}" fill="${colour}" fill-opacity="0.85"/>` +
    `<text x="${x + font * 0.3}" y="${top - font * 0.35}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" ` +
    `font-size="${font}" fill="#000">${escapeXml(text)}</text>`
  );
}

function colourFor(name: string): string {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `hsl(${hash % 360}, 90%, 55%)`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
