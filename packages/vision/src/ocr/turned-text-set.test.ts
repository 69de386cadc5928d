/**
 * The shared rendered text set (shared/images/text, truth.json: each image's lines top to bottom) turned a quarter,
 * a half and three quarters clockwise: read against the truth (CER over the whole set, as character-error-rate.ts counts it),
 * the orientation found, and every line's polygon in the turned image's own pixels: turned back by the known
 * rotation, it lands where the same line lies in the upright image (read from the upright image).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Point } from '@imgpipe/contracts';
import { releaseModels } from '../models/model-loader.ts';
import { sharp } from '../sharp-instance.ts';
import { readShared, sharedModelsDir, sharedPath } from '../testing/shared.ts';
import { type CerCount, characterErrorRate, countErrors } from './character-error-rate.ts';
import { type OcrResult, type RecognizeTextOptions, recognizeText } from './recognize-text.ts';

const options: RecognizeTextOptions = { modelsDir: sharedModelsDir() };
const truth = JSON.parse(readFileSync(sharedPath('images', 'text', 'truth.json'), 'utf8')) as Record<string, string[]>;
const names = readdirSync(sharedPath('images', 'text'))
  .filter((name) => name.endsWith('.jpg'))
  .sort();

/** Where a point of the turned image was in the upright width x height image (the turn was clockwise). */
function unturn(p: Point, degrees: 90 | 180 | 270, width: number, height: number): Point {
  // Turned 90 degrees clockwise, upright (x, y) lands at (height - y, x); turned 180, at (width - x, height - y);
  // turned 270, at (y, width - x).
  if (degrees === 90) return { x: p.y, y: height - p.x };
  if (degrees === 180) return { x: width - p.x, y: height - p.y };
  return { x: width - p.y, y: p.x };
}

function bounds(points: readonly Point[]) {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  return { x1: Math.min(...xs), y1: Math.min(...ys), x2: Math.max(...xs), y2: Math.max(...ys) };
}

type Bounds = ReturnType<typeof bounds>;

function iou(a: Bounds, b: Bounds): number {
  const w = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const h = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const area = (r: Bounds) => (r.x2 - r.x1) * (r.y2 - r.y1);
  return (w * h) / (area(a) + area(b) - w * h);
}

describe('the shared text set turned 90, 180 and 270 degrees', () => {
  const upright = new Map<string, { result: OcrResult; width: number; height: number }>();

  before(async () => {
    for (const name of names) {
      const bytes = readShared('images', 'text', name);
      const { width, height } = await sharp(bytes).metadata();
      upright.set(name, { result: await recognizeText(bytes, options), width, height });
    }
  });

  after(async () => {
    await releaseModels();
  });

  for (const degrees of [90, 180, 270] as const) {
    test(`turned ${degrees} degrees: CER at most 1% over the set, orientation ${degrees}, polygons in the turned image`, async (t) => {
      const counts: CerCount[] = [];
      const ious: number[] = [];
      for (const name of names) {
        const bytes = await sharp(readShared('images', 'text', name))
          .rotate(degrees)
          .png()
          .toBuffer();
        const result = await recognizeText(bytes, options);
        const count = countErrors(
          truth[name]!,
          result.lines.map((line) => line.text),
        );
        counts.push(count);
        if (count.edits > 0) t.diagnostic(`${name}: ${count.edits} edits, read ${JSON.stringify(result.fullText)}`);
        assert.equal(result.orientation, degrees, `${name} orientation`);

        const { result: straight, width, height } = upright.get(name)!;
        for (const line of result.lines) {
          const twin = straight.lines.find((other) => other.text === line.text);
          if (!twin) continue; // a line read differently upright has no twin to compare with
          const back = bounds(line.polygon.map((p) => unturn(p, degrees, width, height)));
          const there = bounds(twin.polygon);
          // Detection ran on differently resampled pixels, so the ends of a line may move a little: the boxes must
          // overlap mostly and agree closely across the line (where a quarter turn would put them far apart).
          const overlap = iou(back, there);
          ious.push(overlap);
          assert.ok(overlap >= 0.7, `${name} "${line.text}": IoU ${overlap.toFixed(2)} with the upright line`);
          const lineHeight = there.y2 - there.y1;
          assert.ok(Math.abs(back.y1 - there.y1) <= 0.25 * lineHeight + 2, `${name} "${line.text}" top edge`);
          assert.ok(Math.abs(back.y2 - there.y2) <= 0.25 * lineHeight + 2, `${name} "${line.text}" bottom edge`);
        }
      }
      ious.sort((a, b) => a - b);
      t.diagnostic(
        `IoU with the upright lines: lowest ${ious[0]?.toFixed(2)}, median ${ious[ious.length >> 1]?.toFixed(2)}`,
      );
      const cer = characterErrorRate(counts);
      t.diagnostic(`CER ${(cer * 100).toFixed(2)}% over ${names.length} images turned ${degrees} degrees`);
      assert.ok(cer <= 0.01, `CER ${(cer * 100).toFixed(2)}%`);
    });
  }
});
