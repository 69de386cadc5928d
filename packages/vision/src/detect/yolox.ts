/**
 * YOLOX decoding (models/README.md): rows are the stride-8, 16 and 32 grids in row-major order; columns
 * [tx, ty, tw, th, obj, p0..pC-1] with obj and p already sigmoid. cx=(tx+gx)*s, w=exp(tw)*s, score=obj*max(p).
 * Input: BGR, raw 0-255, top-left letterbox padded with 114.
 */
import { ImgpipeError } from '@imgpipe/core';
import type { Candidate } from '../geometry/boxes.ts';
import type { LetterboxSpec } from '../geometry/letterbox.ts';

export const YOLOX_STRIDES = [8, 16, 32] as const;

export function yoloxLetterbox(width: number, height: number): LetterboxSpec {
  return { width, height, placement: 'top-left', padValue: 114, channelOrder: 'bgr', divisor: 1 };
}

export function yoloxAnchorCount(width: number, height: number): number {
  return YOLOX_STRIDES.reduce((sum, stride) => sum + (width / stride) * (height / stride), 0);
}

export function decodeYolox(
  output: Float32Array,
  dims: readonly number[],
  input: { width: number; height: number },
  scoreThreshold: number,
): Candidate[] {
  const rows = dims[1]!;
  const columns = dims[2]!;
  const classes = columns - 5;
  if (rows !== yoloxAnchorCount(input.width, input.height) || classes < 1) {
    throw new ImgpipeError(
      'MODEL_INVALID',
      `a YOLOX output of [${dims.join(', ')}] does not fit a ${input.width}x${input.height} input`,
    );
  }
  const candidates: Candidate[] = [];
  let row = 0;
  for (const stride of YOLOX_STRIDES) {
    const gridWidth = input.width / stride;
    const gridHeight = input.height / stride;
    for (let gy = 0; gy < gridHeight; gy++) {
      for (let gx = 0; gx < gridWidth; gx++, row++) {
        const base = row * columns;
        const objectness = output[base + 4]!;
        if (objectness < scoreThreshold) continue;
        let best = 0;
        let bestScore = output[base + 5]!;
        for (let c = 1; c < classes; c++) {
          const value = output[base + 5 + c]!;
          if (value > bestScore) {
            bestScore = value;
            best = c;
          }
        }
        const score = objectness * bestScore;
        if (score < scoreThreshold) continue;
        const cx = (output[base]! + gx) * stride;
        const cy = (output[base + 1]! + gy) * stride;
        const w = Math.exp(output[base + 2]!) * stride;
        const h = Math.exp(output[base + 3]!) * stride;
        candidates.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score, classId: best });
      }
    }
  }
  return candidates;
}
