/**
 * Generated OCR test images with known text: a label of 1-3 lines rendered with librsvg (sharp's SVG input) onto a
 * photo, optionally with the whole image turned by a quarter, half or three-quarter turn. Tests and the peer
 * comparison use them so the truth is exact and nothing is downloaded.
 */
import { sharp } from '../sharp-instance.ts';

export interface LabelSpec {
  /** The label's lines, top to bottom. */
  lines: readonly string[];
  /** Cap-to-descender size in pixels (the SVG font-size). */
  fontSize: number;
  /** The label's top-left corner on the background, in pixels. */
  left: number;
  top: number;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An SVG of dark text on a light, opaque label (so the photo under it does not matter for the truth). */
export function labelSvg(lines: readonly string[], fontSize: number): { svg: Buffer; width: number; height: number } {
  const lineHeight = Math.round(fontSize * 1.5);
  const pad = Math.round(fontSize * 0.8);
  const longest = Math.max(...lines.map((line) => line.length));
  const width = Math.ceil(longest * fontSize * 0.62 + 2 * pad);
  const height = lines.length * lineHeight + 2 * pad;
  const texts = lines
    .map(
      (line, i) =>
        `<text x="${pad}" y="${pad + (i + 1) * lineHeight - Math.round(fontSize * 0.4)}">${escapeXml(line)}</text>`,
    )
    .join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="100%" height="100%" fill="#f4f1e8"/>` +
    `<g font-family="DejaVu Sans" font-size="${fontSize}" fill="#1a1a1a">${texts}</g></svg>`;
  return { svg: Buffer.from(svg), width, height };
}

/** The photo resized to width x height (cover) with the label composited on it, as JPEG quality 92. */
export async function labelOnPhoto(
  photo: Uint8Array,
  size: { width: number; height: number },
  label: LabelSpec,
): Promise<Uint8Array> {
  const { svg } = labelSvg(label.lines, label.fontSize);
  return sharp(photo)
    .resize(size.width, size.height, { fit: 'cover' })
    .composite([{ input: svg, left: label.left, top: label.top }])
    .jpeg({ quality: 92 })
    .toBuffer();
}

/** The bytes turned clockwise by `degrees` (0, 90, 180 or 270), pixels rotated (no EXIF tag), as PNG. */
export async function turned(bytes: Uint8Array, degrees: 0 | 90 | 180 | 270): Promise<Uint8Array> {
  return sharp(bytes).rotate(degrees).png().toBuffer();
}
