/**
 * Bilinear resampling of 8-bit grey pixels as OpenCV's resize(INTER_LINEAR_EXACT) does it (the ORB pyramid):
 * pixel centres at half-integers, edge pixels replicated, weights in 8-bit fixed point, the result rounded from
 * 16 fractional bits. Checked against cv2.resize in resize.test.ts's fixture.
 */
interface Taps {
  index: Int32Array;
  /** Weight of index[i] out of 256; index[i] + 1 gets 256 - weight. */
  weight: Int32Array;
}

function taps(src: number, dst: number): Taps {
  const index = new Int32Array(dst);
  const weight = new Int32Array(dst);
  const scale = src / dst;
  for (let d = 0; d < dst; d++) {
    const f = (d + 0.5) * scale - 0.5;
    let s = Math.floor(f);
    let frac = f - s;
    if (s < 0) {
      s = 0;
      frac = 0;
    }
    if (s >= src - 1) {
      s = src - 1;
      frac = 0;
    }
    const w1 = Math.round(frac * 256);
    index[d] = s;
    weight[d] = 256 - w1;
  }
  return { index, weight };
}

export function resizeLinearExact(
  src: Uint8Array,
  srcWidth: number,
  srcHeight: number,
  dst: Uint8Array,
  dstWidth: number,
  dstHeight: number,
): void {
  const xs = taps(srcWidth, dstWidth);
  const ys = taps(srcHeight, dstHeight);
  const rowA = new Int32Array(dstWidth);
  const rowB = new Int32Array(dstWidth);
  const horizontal = (y: number, out: Int32Array) => {
    const o = y * srcWidth;
    for (let x = 0; x < dstWidth; x++) {
      const s = xs.index[x]!;
      const w = xs.weight[x]!;
      out[x] = w === 256 ? src[o + s]! << 8 : src[o + s]! * w + src[o + s + 1]! * (256 - w);
    }
  };
  let loadedA = -1;
  let loadedB = -1;
  for (let y = 0; y < dstHeight; y++) {
    const s = ys.index[y]!;
    const w = ys.weight[y]!;
    const s1 = Math.min(s + 1, srcHeight - 1);
    if (loadedA !== s) {
      if (loadedB === s) {
        rowA.set(rowB);
      } else {
        horizontal(s, rowA);
      }
      loadedA = s;
    }
    if (w !== 256 && loadedB !== s1) {
      horizontal(s1, rowB);
      loadedB = s1;
    }
    const o = y * dstWidth;
    if (w === 256) {
      for (let x = 0; x < dstWidth; x++) dst[o + x] = (rowA[x]! * 256 + 32768) >> 16;
    } else {
      const w1 = 256 - w;
      for (let x = 0; x < dstWidth; x++) dst[o + x] = (rowA[x]! * w + rowB[x]! * w1 + 32768) >> 16;
    }
  }
}
