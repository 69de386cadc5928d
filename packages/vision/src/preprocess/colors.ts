/**
 * Dominant colours of a small RGB downsample: median cut for a deterministic start, then a few k-means rounds.
 * Shares are fractions of the sampled pixels; colours are sorted by share, largest first.
 */
import type { DominantColor } from '@imgpipe/contracts';

/** Boxes narrower than this (per channel, 0-255) are one colour to the eye: not split further. */
const MIN_SPLIT_RANGE = 8;
/** Clusters whose centres end up closer than this (RGB distance) are reported as one colour. */
const MERGE_DISTANCE = 12;

export function dominantColors(rgb: Uint8Array, count = 5, iterations = 8): DominantColor[] {
  const pixels = rgb.length / 3;
  if (pixels === 0) return [];
  // Flat arrays: centroid c is [3c, 3c + 1, 3c + 2].
  const centroids = Float64Array.from(medianCut(rgb, count).flat());
  const clusters = centroids.length / 3;
  const assignment = new Uint8Array(pixels);
  const sizes = new Float64Array(clusters);
  const sums = new Float64Array(clusters * 3);
  for (let round = 0; round < iterations; round++) {
    sums.fill(0);
    sizes.fill(0);
    let changed = false;
    for (let p = 0; p < pixels; p++) {
      const r = rgb[p * 3]!;
      const g = rgb[p * 3 + 1]!;
      const b = rgb[p * 3 + 2]!;
      let best = 0;
      let bestDistance = Number.POSITIVE_INFINITY;
      for (let c = 0; c < clusters; c++) {
        const dr = r - centroids[c * 3]!;
        const dg = g - centroids[c * 3 + 1]!;
        const db = b - centroids[c * 3 + 2]!;
        const distance = dr * dr + dg * dg + db * db;
        if (distance < bestDistance) {
          bestDistance = distance;
          best = c;
        }
      }
      if (assignment[p] !== best) changed = true;
      assignment[p] = best;
      sizes[best]!++;
      sums[best * 3]! += r;
      sums[best * 3 + 1]! += g;
      sums[best * 3 + 2]! += b;
    }
    for (let c = 0; c < clusters; c++) {
      const size = sizes[c]!;
      if (size === 0) continue;
      for (let channel = 0; channel < 3; channel++) centroids[c * 3 + channel] = sums[c * 3 + channel]! / size;
    }
    if (!changed && round > 0) break;
  }
  const merged = mergeClose(
    Array.from({ length: clusters }, (_, c) => ({
      centroid: [centroids[c * 3]!, centroids[c * 3 + 1]!, centroids[c * 3 + 2]!],
      size: sizes[c]!,
    })).filter((cluster) => cluster.size > 0),
  );
  return merged
    .map(({ centroid, size }) => ({ hex: toHex(centroid), share: Math.round((size / pixels) * 1e4) / 1e4 }))
    .sort((a, b) => b.share - a.share || a.hex.localeCompare(b.hex));
}

interface Cluster {
  centroid: number[];
  size: number;
}

function mergeClose(clusters: Cluster[]): Cluster[] {
  const merged = [...clusters].sort((a, b) => b.size - a.size);
  for (let i = 0; i < merged.length; i++) {
    for (let j = merged.length - 1; j > i; j--) {
      const a = merged[i]!;
      const b = merged[j]!;
      if (Math.hypot(...a.centroid.map((value, c) => value - b.centroid[c]!)) >= MERGE_DISTANCE) continue;
      const size = a.size + b.size;
      merged[i] = { centroid: a.centroid.map((value, c) => (value * a.size + b.centroid[c]! * b.size) / size), size };
      merged.splice(j, 1);
    }
  }
  return merged;
}

/** A box of pixel indices with its widest channel and that channel's range. */
interface Box {
  pixels: Float64Array;
  channel: number;
  range: number;
}

function medianCut(rgb: Uint8Array, count: number): number[][] {
  const n = rgb.length / 3;
  const all = new Float64Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const boxes: Box[] = [measured(rgb, all)];
  while (boxes.length < count) {
    let pick = -1;
    let pickScore = 0;
    boxes.forEach((box, index) => {
      const score = box.range * box.pixels.length;
      if (box.range >= MIN_SPLIT_RANGE && box.pixels.length > 1 && score > pickScore) {
        pick = index;
        pickScore = score;
      }
    });
    if (pick < 0) break;
    const { pixels, channel } = boxes[pick]!;
    // By the channel's value, ties by pixel index: one numeric sort of value * n + index, without a comparator.
    const keys = pixels.map((p) => rgb[p * 3 + channel]! * n + p).sort();
    const sorted = keys.map((key) => key % n);
    const middle = sorted.length >> 1;
    boxes.splice(pick, 1, measured(rgb, sorted.subarray(0, middle)), measured(rgb, sorted.subarray(middle)));
  }
  return boxes.map(({ pixels }) => {
    const mean = [0, 0, 0];
    for (const p of pixels) for (let c = 0; c < 3; c++) mean[c]! += rgb[p * 3 + c]!;
    return mean.map((sum) => sum / pixels.length);
  });
}

/** The box's widest channel (the first of equals) and its range. */
function measured(rgb: Uint8Array, pixels: Float64Array): Box {
  const min = [255, 255, 255];
  const max = [0, 0, 0];
  for (const p of pixels) {
    for (let c = 0; c < 3; c++) {
      const value = rgb[p * 3 + c]!;
      if (value < min[c]!) min[c] = value;
      if (value > max[c]!) max[c] = value;
    }
  }
  let channel = 0;
  let range = 0;
  for (let c = 0; c < 3; c++) {
    if (max[c]! - min[c]! > range) {
      channel = c;
      range = max[c]! - min[c]!;
    }
  }
  return { pixels, channel, range };
}

function toHex(color: readonly number[]): string {
  return `#${color.map((value) => Math.round(value).toString(16).padStart(2, '0')).join('')}`;
}
