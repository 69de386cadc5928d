/**
 * Generated OCR test images with known text: a label of 1-3 lines rendered with librsvg (sharp's SVG input) onto a
 * photo, optionally with the whole image turned by a quarter, half or three-quarter turn or degraded (low contrast,
 * salt-and-pepper noise, blur, JPEG quality 30); a dense page of one or two columns; a Chinese sign on a photo.
 * Tests and the peer comparison use them so the truth is exact and nothing is downloaded; whatever is random comes
 * from a seed.
 */
import { sharp } from '../sharp-instance.ts';
import { seededRandom } from '@imgpipe/core';

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

/** How `degraded` spoils an image. */
export type Degradation = 'low-contrast' | 'salt-and-pepper' | 'blur' | 'jpeg-30';

/** Contrast kept by 'low-contrast': the label's dark-on-light text becomes 0.25 x its difference (about 55 levels). */
export const LOW_CONTRAST = 0.25;
/** Share of pixels 'salt-and-pepper' sets to white or black (half each). */
export const SALT_AND_PEPPER = 0.04;
/** Gaussian sigma, in pixels, of 'blur'. */
export const BLUR_SIGMA = 1.6;

/**
 * The image spoilt one way: its contrast squeezed around mid-grey, a seeded share of pixels set to white or black,
 * a Gaussian blur, or re-encoded as JPEG quality 30. PNG (lossless) except 'jpeg-30'.
 */
export async function degraded(bytes: Uint8Array, how: Degradation, seed = 1): Promise<Uint8Array> {
  switch (how) {
    case 'low-contrast':
      return sharp(bytes)
        .linear(LOW_CONTRAST, 128 * (1 - LOW_CONTRAST))
        .png()
        .toBuffer();
    case 'blur':
      return sharp(bytes).blur(BLUR_SIGMA).png().toBuffer();
    case 'jpeg-30':
      return sharp(bytes).jpeg({ quality: 30 }).toBuffer();
    case 'salt-and-pepper': {
      const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const random = seededRandom(seed);
      for (let i = 0; i < info.width * info.height; i++) {
        const r = random();
        if (r >= SALT_AND_PEPPER) continue;
        data.fill(r < SALT_AND_PEPPER / 2 ? 255 : 0, i * info.channels, (i + 1) * info.channels);
      }
      return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
        .png()
        .toBuffer();
    }
  }
}

const WORDS = (
  'the of and to in is was for on that with as by at from this be are or an which have not has were but all their ' +
  'report pipeline image results order invoice delivery station customer account payment number service ' +
  'between during within without against before after under over system network storage record market ' +
  'Monday Friday March October Berlin Hamburg Lyon Oslo Kafka Node Paris Europe'
).split(' ');

/** A seeded sentence-like word: mostly lower-case words, sometimes capitalised, a number, or with punctuation. */
function pageWord(random: () => number): string {
  const r = random();
  if (r < 0.08) return String(Math.floor(random() * 9000) + 10);
  if (r < 0.11) return `${(random() * 100).toFixed(1)}%`;
  let word = WORDS[Math.floor(random() * WORDS.length)]!;
  if (r < 0.2) word = word[0]!.toUpperCase() + word.slice(1);
  const p = random();
  if (p < 0.08) word += ',';
  else if (p < 0.12) word += '.';
  return word;
}

export interface PageSpec {
  /** Page size in pixels (an A4 page at 150 dpi is 1240 x 1754). */
  width: number;
  height: number;
  fontSize: number;
  columns: 1 | 2;
  seed: number;
}

/**
 * A dense page: lines of seeded words at 1.3 x the font size, filling one column or two (with a gutter of 4 x the
 * font size), black on white, as PNG. Truth is in reading order: the left column top to bottom, then the right.
 */
export async function densePage(spec: PageSpec): Promise<{ bytes: Uint8Array; lines: string[] }> {
  const random = seededRandom(spec.seed);
  const margin = Math.round(spec.width * 0.07);
  const gutter = spec.columns === 2 ? 4 * spec.fontSize : 0;
  const columnWidth = (spec.width - 2 * margin - gutter) / spec.columns;
  const lineHeight = Math.round(spec.fontSize * 1.3);
  const rows = Math.floor((spec.height - 2 * margin) / lineHeight);
  // DejaVu Sans averages about 0.55 em a character over this text; 0.62 keeps every line inside its column.
  const maxChars = Math.floor(columnWidth / (spec.fontSize * 0.62));
  const lines: string[] = [];
  const texts: string[] = [];
  for (let column = 0; column < spec.columns; column++) {
    const x = Math.round(margin + column * (columnWidth + gutter));
    for (let row = 0; row < rows; row++) {
      let line = pageWord(random);
      for (;;) {
        const word = pageWord(random);
        if (line.length + 1 + word.length > maxChars) break;
        line += ` ${word}`;
      }
      lines.push(line);
      const y = margin + (row + 1) * lineHeight - Math.round(spec.fontSize * 0.3);
      texts.push(`<text x="${x}" y="${y}">${escapeXml(line)}</text>`);
    }
  }
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${spec.width}" height="${spec.height}">` +
    `<rect width="100%" height="100%" fill="#ffffff"/>` +
    `<g font-family="DejaVu Sans" font-size="${spec.fontSize}" fill="#111111">${texts.join('')}</g></svg>`;
  return { bytes: await sharp(Buffer.from(svg)).png().toBuffer(), lines };
}

export interface SignSpec {
  /** The sign's lines (Chinese, perhaps with digits), top to bottom. */
  lines: readonly string[];
  fontSize: number;
  left: number;
  top: number;
  /** Panel and text colours, e.g. '#1f7a3a' and '#ffffff'. */
  background: string;
  foreground: string;
}

/** Width of a line in Droid Sans Fallback: a CJK character is one em, anything else about 0.6. */
function signTextWidth(line: string, fontSize: number): number {
  return [...line].reduce((sum, c) => sum + (c.codePointAt(0)! >= 0x2e80 ? 1 : 0.6), 0) * fontSize;
}

/** A sign (a coloured panel with centred lines in Droid Sans Fallback) on the photo resized to `size`, as JPEG 92. */
export async function signOnPhoto(
  photo: Uint8Array,
  size: { width: number; height: number },
  sign: SignSpec,
): Promise<Uint8Array> {
  const lineHeight = Math.round(sign.fontSize * 1.4);
  const pad = Math.round(sign.fontSize * 0.6);
  const width = Math.ceil(Math.max(...sign.lines.map((l) => signTextWidth(l, sign.fontSize))) + 2 * pad);
  const height = sign.lines.length * lineHeight + 2 * pad;
  const texts = sign.lines
    .map(
      (line, i) =>
        `<text x="${width / 2}" y="${pad + (i + 1) * lineHeight - Math.round(sign.fontSize * 0.3)}">${escapeXml(line)}</text>`,
    )
    .join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    `<rect width="100%" height="100%" rx="${pad / 2}" fill="${sign.background}"/>` +
    `<g font-family="Droid Sans Fallback" font-size="${sign.fontSize}" text-anchor="middle" fill="${sign.foreground}">` +
    `${texts}</g></svg>`;
  return sharp(photo)
    .resize(size.width, size.height, { fit: 'cover' })
    .composite([{ input: Buffer.from(svg), left: sign.left, top: sign.top }])
    .jpeg({ quality: 92 })
    .toBuffer();
}
