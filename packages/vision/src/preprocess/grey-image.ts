/** A single-channel 8-bit image, row-major, one byte per pixel: what the texture and composition measures read. */
export interface GreyImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/**
 * Half the size by 2x2 box averages (a side of 1 stays 1; an odd last row or column is dropped). Preprocess halves
 * its 512 px quality sample to the 256 px long side the scene measures use, without a second resize in sharp.
 */
export function halve(image: GreyImage): GreyImage {
  const { data, width, height } = image;
  const halfWidth = width > 1 ? width >> 1 : 1;
  const halfHeight = height > 1 ? height >> 1 : 1;
  const stepX = width > 1 ? 2 : 1;
  const stepY = height > 1 ? 2 : 1;
  const out = new Uint8Array(halfWidth * halfHeight);
  for (let y = 0; y < halfHeight; y++) {
    const top = y * stepY * width;
    const bottom = top + (stepY - 1) * width;
    for (let x = 0; x < halfWidth; x++) {
      const left = x * stepX;
      const right = left + stepX - 1;
      const sum = data[top + left]! + data[top + right]! + data[bottom + left]! + data[bottom + right]!;
      out[y * halfWidth + x] = (sum + 2) >> 2;
    }
  }
  return { data: out, width: halfWidth, height: halfHeight };
}
