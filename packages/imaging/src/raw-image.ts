/** Decoded pixels, 8 bits per sample, rows top to bottom, channels interleaved (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA). */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

export function hasAlpha(image: Pick<RawImage, 'channels'>): boolean {
  return image.channels === 2 || image.channels === 4;
}

/** Rec. 709 luma of sRGB values, the grey that `grayscale` and the edge filters use. */
export const LUMA = [0.2126, 0.7152, 0.0722] as const;

/** One grey channel: luma for colour images, the grey channel for grey ones; alpha is dropped. */
export function toGrey(image: RawImage): RawImage {
  const { width, height, channels, data } = image;
  if (channels === 1) return image;
  const out = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < out.length; i++, p += channels) {
    out[i] = channels < 3 ? data[p]! : Math.round(LUMA[0] * data[p]! + LUMA[1] * data[p + 1]! + LUMA[2] * data[p + 2]!);
  }
  return { data: out, width, height, channels: 1 };
}

/** Alpha composited over white, alpha dropped: for outputs without transparency (JPEG, BMP). */
export function flattenOnWhite(image: RawImage): RawImage {
  const { width, height, channels, data } = image;
  if (channels === 1 || channels === 3) return image;
  const colour = channels - 1;
  const out = new Uint8Array(width * height * colour);
  for (let p = 0, q = 0; p < data.length; p += channels, q += colour) {
    const alpha = data[p + colour]! / 255;
    for (let c = 0; c < colour; c++) out[q + c] = Math.round(data[p + c]! * alpha + 255 * (1 - alpha));
  }
  return { data: out, width, height, channels: colour as 1 | 3 };
}
