/**
 * The real format of image bytes, from their magic numbers: names and content types are never trusted.
 * Accepted: JPEG, PNG, WebP, AVIF, GIF (first frame), TIFF (first page).
 */
export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export type SniffResult = { supported: true; format: ImageFormat } | { supported: false; looksLike?: string };

export function sniffFormat(bytes: Uint8Array): SniffResult {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { supported: true, format: 'jpeg' };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { supported: true, format: 'png' };
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return { supported: true, format: 'gif' };
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return { supported: true, format: 'webp' };
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { supported: true, format: 'tiff' };
  }
  if (startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])) {
    return { supported: true, format: 'tiff' };
  }
  if (ascii(bytes, 4, 4) === 'ftyp') {
    const brands = isoBrands(bytes);
    if (brands.includes('avif') || brands.includes('avis')) return { supported: true, format: 'avif' };
    if (brands.some((brand) => ['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1'].includes(brand))) {
      return { supported: false, looksLike: 'HEIC/HEIF (HEVC)' };
    }
    return { supported: false, looksLike: `an ISO media file (${brands[0] ?? 'unknown brand'})` };
  }
  return { supported: false, ...describeUnsupported(bytes) };
}

function describeUnsupported(bytes: Uint8Array): { looksLike?: string } {
  if (ascii(bytes, 0, 2) === 'BM') return { looksLike: 'BMP' };
  if (ascii(bytes, 0, 5) === '%PDF-') return { looksLike: 'PDF' };
  if (ascii(bytes, 0, 4) === '8BPS') return { looksLike: 'Photoshop PSD' };
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return { looksLike: 'ICO' };
  if (
    startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20]) ||
    startsWith(bytes, [0xff, 0x4f, 0xff, 0x51])
  ) {
    return { looksLike: 'JPEG 2000' };
  }
  if (startsWith(bytes, [0xff, 0x0a])) return { looksLike: 'JPEG XL' };
  const head = ascii(bytes, 0, Math.min(bytes.length, 256)).trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return { looksLike: 'SVG' };
  if (head.startsWith('<')) return { looksLike: 'HTML or XML text' };
  if (isMostlyText(bytes)) return { looksLike: 'text' };
  return {};
}

function isoBrands(bytes: Uint8Array): string[] {
  const size = bytes.length >= 4 ? new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0) : 0;
  const end = Math.min(bytes.length, Math.max(16, size));
  const brands = [ascii(bytes, 8, 4)];
  for (let offset = 16; offset + 4 <= end; offset += 4) brands.push(ascii(bytes, offset, 4));
  return brands;
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  if (bytes.length < prefix.length) return false;
  return prefix.every((value, index) => bytes[index] === value);
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  let text = '';
  for (let i = offset; i < offset + length && i < bytes.length; i++) text += String.fromCharCode(bytes[i]!);
  return text;
}

function isMostlyText(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 512);
  let printable = 0;
  for (const byte of sample) if (byte === 9 || byte === 10 || byte === 13 || (byte >= 32 && byte < 127)) printable++;
  return sample.length > 0 && printable / sample.length > 0.95;
}
