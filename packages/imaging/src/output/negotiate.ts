/**
 * `format:auto`: the best format the client says it takes, from its Accept header. AVIF when `image/avif` is
 * accepted, else WebP when `image/webp` is, else JPEG (PNG for images with transparency). Only explicit types count:
 * `image/*` and `*\/*` are sent by clients that decode neither, and a q of 0 means "not acceptable" (RFC 9110 12.5.1).
 */
import type { OutputFormat } from '../recipe.ts';

export function acceptedQualities(accept: string | undefined): Map<string, number> {
  const qualities = new Map<string, number>();
  for (const part of (accept ?? '').split(',')) {
    const [type = '', ...params] = part.split(';').map((piece) => piece.trim().toLowerCase());
    if (type === '') continue;
    let q = 1;
    for (const param of params) {
      const match = /^q=([0-9.]+)$/.exec(param);
      if (match) q = Math.min(1, Math.max(0, Number(match[1])));
    }
    qualities.set(type, Math.max(q, qualities.get(type) ?? 0));
  }
  return qualities;
}

export function negotiateFormat(accept: string | undefined, hasAlpha: boolean): OutputFormat {
  const qualities = acceptedQualities(accept);
  if ((qualities.get('image/avif') ?? 0) > 0) return 'avif';
  if ((qualities.get('image/webp') ?? 0) > 0) return 'webp';
  return hasAlpha ? 'png' : 'jpeg';
}
