import type { ImageQuality } from '@imgpipe/contracts';

/**
 * Brightness (mean luma), contrast (its standard deviation), both 0-1, and sharpness as the variance of the
 * 4-neighbour Laplacian in 0-255 luma units. Computed on a grey downsample of fixed long side, so sharpness
 * compares across image sizes (below about 100 is usually blurry).
 */
export function imageQuality(grey: Uint8Array, width: number, height: number): ImageQuality {
  const pixels = width * height;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < pixels; i++) {
    const value = grey[i]!;
    sum += value;
    sumSquares += value * value;
  }
  const mean = pixels > 0 ? sum / pixels : 0;
  const variance = pixels > 0 ? Math.max(0, sumSquares / pixels - mean * mean) : 0;

  let lapSum = 0;
  let lapSquares = 0;
  let lapCount = 0;
  for (let y = 1; y < height - 1; y++) {
    const row = y * width;
    for (let x = 1; x < width - 1; x++) {
      const i = row + x;
      const laplacian = 4 * grey[i]! - grey[i - 1]! - grey[i + 1]! - grey[i - width]! - grey[i + width]!;
      lapSum += laplacian;
      lapSquares += laplacian * laplacian;
      lapCount++;
    }
  }
  const lapMean = lapCount > 0 ? lapSum / lapCount : 0;
  const sharpness = lapCount > 0 ? Math.max(0, lapSquares / lapCount - lapMean * lapMean) : 0;
  return {
    brightness: round(mean / 255, 4),
    contrast: round(Math.sqrt(variance) / 255, 4),
    sharpness: round(sharpness, 2),
  };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
