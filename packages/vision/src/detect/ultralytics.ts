/**
 * Ultralytics YOLOv8 / YOLO11 detection exports: output [1, 4+C, N], channel-major; rows cx, cy, w, h in input
 * pixels then C class scores (already sigmoid, no objectness). Input: RGB 0-1, centred letterbox padded with 114.
 */
import type { Candidate } from '../geometry/boxes.ts';
import type { LetterboxSpec } from '../geometry/letterbox.ts';

export function ultralyticsLetterbox(width: number, height: number): LetterboxSpec {
  return { width, height, placement: 'center', padValue: 114, channelOrder: 'rgb', divisor: 255 };
}

export function decodeUltralytics(output: Float32Array, dims: readonly number[], scoreThreshold: number): Candidate[] {
  const channels = dims[1]!;
  const anchors = dims[2]!;
  const classes = channels - 4;
  const candidates: Candidate[] = [];
  for (let i = 0; i < anchors; i++) {
    let best = 0;
    let bestScore = output[4 * anchors + i]!;
    for (let c = 1; c < classes; c++) {
      const value = output[(4 + c) * anchors + i]!;
      if (value > bestScore) {
        bestScore = value;
        best = c;
      }
    }
    if (bestScore < scoreThreshold) continue;
    const cx = output[i]!;
    const cy = output[anchors + i]!;
    const w = output[2 * anchors + i]!;
    const h = output[3 * anchors + i]!;
    candidates.push({
      x1: cx - w / 2,
      y1: cy - h / 2,
      x2: cx + w / 2,
      y2: cy + h / 2,
      score: bestScore,
      classId: best,
    });
  }
  return candidates;
}
