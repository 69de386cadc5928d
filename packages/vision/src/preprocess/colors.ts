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
  let centroids = medianCut(rgb, count);
  const assignment = new Uint8Array(pixels);
  let sizes = new Array<number>(centroids.length).fill(0);
  for (let round = 0; round < iterations; round++) {
    const sums = centroids.map(() => [0, 0, 0]);
    sizes = new Array<number>(centroids.length).fill(0);
    let changed = false;
    for (let p = 0; p < pixels; p++) {
      const r = rgb[p * 3]!;
      const g = rgb[p * 3 + 1]!;
      const b = rgb[p * 3 + 2]!;
      let best = 0;
      let bestDistance = Number.POSITIVE_INFINITY;
      for (let c = 0; c < centroids.length; c++) {
        const centroid = centroids[c]!;
        const dr = r - centroid[0]!;
        const dg = g - centroid[1]!;
        const db = b - centroid[2]!;
        const distance = dr * dr + dg * dg + db * db;
        if (distance < bestDistance) {
          bestDistance = distance;
          best = c;
        }
      }
      if (assignment[p] !== best) changed = true;
      assignment[p] = best;
      sizes[best]!++;
      const sum = sums[best]!;
      sum[0]! += r;
      sum[1]! += g;
      sum[2]! += b;
    }
    centroids = centroids.map((centroid, c) => {
      const size = sizes[c]!;
      const sum = sums[c]!;
      return size === 0 ? centroid : [sum[0]! / size, sum[1]! / size, sum[2]! / size];
    });
    if (!changed && round > 0) break;
  }
  const clusters = mergeClose(
    centroids.map((centroid, c) => ({ centroid, size: sizes[c]! })).filter((cluster) => cluster.size > 0),
  );
  return clusters
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

function medianCut(rgb: Uint8Array, count: number): number[][] {
  const all = Array.from({ length: rgb.length / 3 }, (_, i) => i);
  const boxes: number[][] = [all];
  while (boxes.length < count) {
    let pick = -1;
    let pickScore = 0;
    let pickChannel = 0;
    boxes.forEach((box, index) => {
      const [channel, range] = widestChannel(rgb, box);
      const score = range * box.length;
      if (range >= MIN_SPLIT_RANGE && box.length > 1 && score > pickScore) {
        pick = index;
        pickScore = score;
        pickChannel = channel;
      }
    });
    if (pick < 0) break;
    const box = boxes[pick]!.sort((a, b) => rgb[a * 3 + pickChannel]! - rgb[b * 3 + pickChannel]! || a - b);
    const middle = box.length >> 1;
    boxes.splice(pick, 1, box.slice(0, middle), box.slice(middle));
  }
  return boxes.map((box) => {
    const mean = [0, 0, 0];
    for (const p of box) for (let c = 0; c < 3; c++) mean[c]! += rgb[p * 3 + c]!;
    return mean.map((sum) => sum / box.length);
  });
}

function widestChannel(rgb: Uint8Array, box: readonly number[]): [channel: number, range: number] {
  let best: [number, number] = [0, 0];
  for (let c = 0; c < 3; c++) {
    let min = 255;
    let max = 0;
    for (const p of box) {
      const value = rgb[p * 3 + c]!;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    if (max - min > best[1]) best = [c, max - min];
  }
  return best;
}

function toHex(color: readonly number[]): string {
  return `#${color.map((value) => Math.round(value).toString(16).padStart(2, '0')).join('')}`;
}
