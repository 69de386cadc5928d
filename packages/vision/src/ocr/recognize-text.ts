/**
 * OCR of one image with PP-OCRv4: detect text lines (DB), cut each out straight, optionally turn upside-down ones,
 * recognise them in width-sorted batches (CTC) and return the lines in reading order.
 *
 * Pre/post-processing follows PaddleOCR's inference defaults (BGR input, ImageNet mean/std in PaddleOCR's channel
 * positions for the detector, (x/255 - 0.5)/0.5 and height 48 for the recogniser); the choices that differ were
 * measured on shared/images/text (see ocr.test.ts and the bench).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  checkOcrLanguages,
  DEFAULT_OCR_MODEL_SET,
  type ModelIdentity,
  type OcrModelSetName,
  type Point,
  type RecognizedText,
  type TextLine,
  type TextWord,
} from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import ort from 'onnxruntime-node';
import { boundingCorners, reportedBox, round } from '../geometry/boxes.ts';
import type { LoadedModel } from '../models/model-loader.ts';
import { handlerRef } from '../pool/handler-ref.ts';
import { sharp } from '../sharp-instance.ts';
import { type DecodedSequence, decodeCtc } from './ctc-decode.ts';
import { boxesFromProbabilityMap, DEFAULT_DB_OPTIONS, type DbOptions } from './db-postprocess.ts';
import { decodeImage } from './decode-image.ts';
import { languageMask } from './languages.ts';
import { DEFAULT_MERGE_OPTIONS, type MergeOptions, mergeLinePieces } from './merge-lines.ts';
import { loadOcrModels, type OcrModelOptions, type OcrModels, ocrModelSet } from './ocr-models.ts';
import { type RasterImage, type RgbPatch, warpQuad } from './raster.ts';
import { readingOrder } from './reading-order.ts';

type Quad = [Point, Point, Point, Point];

/** Pixels to read: RGB by default; a NormalizedImage from preprocess fits, and results use its original size. */
export interface OcrImage extends RasterImage {
  /** Size of the image results are reported in (the oriented original); default width/height. */
  originalWidth?: number;
  originalHeight?: number;
  /**
   * The original's encoded bytes, when `data` is a scaled-down copy: lines too small in `data` for the recogniser's
   * 48-pixel input are cut from these pixels instead (decoded with EXIF orientation applied, only when needed).
   */
  source?: Uint8Array;
}

/** Clockwise turn of the text found, in degrees: turn the image back by this much to read it upright. */
export type TextOrientation = 0 | 90 | 180 | 270;

export interface OcrTuning {
  /** The detector input's longer side is scaled down to this (never up), then both sides snap to multiples of 32. */
  detMaxSideLen: number;
  /** Images whose shorter side is below this are scaled up first (0: never; measured no gain on page.png). */
  detMinSideLen: number;
  db: DbOptions;
  /** Join detector boxes that are pieces of one line (see mergeLinePieces); null keeps PaddleOCR's boxes. */
  mergeLines: MergeOptions | null;
  /** Lines recognised per recogniser run at most; lines of similar aspect share a batch. */
  recBatchSize: number;
  /**
   * A batch's tensor width times its lines stays within this (one line always fits): past about 2,000 columns the
   * recogniser's activations outgrow the CPU caches and each line costs 1.5-2x more than alone (measured with
   * PP-OCRv4 and v5: 5-6 ms per 100 columns in batches up to this, 8-11 ms in six-line batches of 1,280 or more).
   */
  recBatchColumns: number;
  /** Narrowest recogniser input (PaddleOCR pads to 320 at height 48). */
  recMinWidth: number;
  /** Lines read with a lower mean character confidence are dropped. */
  dropScore: number;
  /** Average several reads per output pixel when a line is shrunk to height 48 (reduces aliasing). */
  supersample: boolean;
  /** Probability above which the angle classifier's "180 degrees" turns a line (when the classifier is on). */
  angleThreshold: number;
  /** Insert a space where the space class reaches this probability in a blank run (see decodeCtc); 1 disables. */
  spaceThreshold: number;
  /** Map full-width forms and compatibility characters to their plain forms (NFKC): "：" becomes ":". */
  normalizeText: boolean;
  /**
   * Read lines from `source` (the original) when it is at least this many times larger than `data` and some line
   * in `data` is lower than the recogniser's 48 pixels; Infinity never does.
   */
  sourceMinScale: number;
  /** Lines read from the original are lengthened by this times their height at each end (see widen). */
  sourcePad: number;
}

export const DEFAULT_OCR_TUNING: Readonly<OcrTuning> = Object.freeze({
  detMaxSideLen: 960,
  detMinSideLen: 0,
  // Unclip 1.6 rather than PaddleOCR's 1.5: a slightly wider margin helps the recogniser (measured CER on
  // shared/images/text 0.76% at 1.5, 0.09% at 1.6; 2.0 reaches 0% there but clips neighbours on the dense page).
  db: { ...DEFAULT_DB_OPTIONS, unclipRatio: 1.6 },
  mergeLines: DEFAULT_MERGE_OPTIONS,
  recBatchSize: 6,
  recBatchColumns: 1920,
  recMinWidth: 320,
  dropScore: 0.5,
  supersample: true,
  angleThreshold: 0.9,
  // Between letters of one word the space class stays below 0.01; at 0.01 spurious spaces appear ("np. zeros"),
  // at 0.05 some real ones are missed. Measured CER on shared/images/text: no inference 6.99%, 0.05 0.47%, 0.03 0.09%.
  spaceThreshold: 0.03,
  normalizeText: true,
  sourceMinScale: 1.25,
  sourcePad: 0.3,
});

/** Where the models are (see OcrModelOptions) and any tuning to override; plain data, so it crosses to workers. */
export type RecognizeTextOptions = OcrModelOptions &
  Partial<Omit<OcrTuning, 'db'>> & {
    db?: Partial<DbOptions>;
    /**
     * Languages to restrict the recogniser to (contracts' OCR_LANGUAGES; see languages.ts); empty or absent: none.
     * A language imgpipe does not know, or the set cannot read, fails with OCR_LANGUAGE_UNSUPPORTED.
     */
    languages?: readonly string[];
  };

export interface OcrTimings {
  /** Resize, detector run and DB post-processing. */
  detectionMs: number;
  /** Angle classification (0 when off). */
  angleMs: number;
  /** Crops, recogniser runs and decoding. */
  recognitionMs: number;
  /** Decoding the original to read small lines from its pixels (0 when the scaled copy sufficed). */
  sourceMs: number;
  /** The models' own session.run time within the three above: the floor the rest is measured against. */
  inferenceMs: number;
}

/** Adds up session.run time across one call's model runs. */
interface InferenceClock {
  ms: number;
}

export type OcrResult = RecognizedText & { model: ModelIdentity; timings: OcrTimings; orientation: TextOrientation };

const REC_HEIGHT = 48;
const CLS_WIDTH = 192;
/** The angle classifier's input takes a line squeezed at most this much; a longer line is windowed. */
const CLS_WINDOW_STRETCH = 1.5;
/** At most this many windows of a long line are classified. */
const CLS_MAX_WINDOWS = 2;
const DET_MEAN = [0.485, 0.456, 0.406] as const;
const DET_STD = [0.229, 0.224, 0.225] as const;

/** Pixels are RGB; PaddleOCR's models were trained on OpenCV's BGR, so tensors take channels in this order. */
const TENSOR_CHANNELS = [2, 1, 0] as const;

function detectorSize(width: number, height: number, options: OcrTuning): { width: number; height: number } {
  let ratio = 1;
  if (Math.min(width, height) < options.detMinSideLen) ratio = options.detMinSideLen / Math.min(width, height);
  if (Math.max(width, height) * ratio > options.detMaxSideLen) ratio = options.detMaxSideLen / Math.max(width, height);
  return {
    width: Math.max(32, Math.round((width * ratio) / 32) * 32),
    height: Math.max(32, Math.round((height * ratio) / 32) * 32),
  };
}

/** Each tensor channel's value for each byte value: (x/255 - mean) / std, looked up rather than computed per pixel. */
const DET_TABLES = DET_MEAN.map((mean, c) =>
  Float32Array.from({ length: 256 }, (_, x) => (x / 255 - mean) / DET_STD[c]!),
);

function detectorTensor(rgb: Uint8Array, width: number, height: number): ort.Tensor {
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const source = TENSOR_CHANNELS[c]!;
    const table = DET_TABLES[c]!;
    const offset = c * plane;
    for (let i = 0, j = source; i < plane; i++, j += 3) data[offset + i] = table[rgb[j]!]!;
  }
  return new ort.Tensor('float32', data, [1, 3, height, width]);
}

/** Writes a patch into item `item` of a [n, 3, height, tensorWidth] tensor as (x/255-0.5)/0.5; the rest stays 0. */
function writeRecognizerInput(patch: RgbPatch, target: Float32Array, item: number, tensorWidth: number): void {
  const plane = REC_HEIGHT * tensorWidth;
  for (let c = 0; c < 3; c++) {
    const source = TENSOR_CHANNELS[c]!;
    const base = item * 3 * plane + c * plane;
    for (let y = 0; y < patch.height; y++) {
      for (let x = 0; x < patch.width; x++) {
        target[base + y * tensorWidth + x] = patch.data[(y * patch.width + x) * 3 + source]! / 127.5 - 1;
      }
    }
  }
}

async function run(model: LoadedModel, input: ort.Tensor, clock: InferenceClock): Promise<ort.Tensor> {
  const { session } = model;
  const began = performance.now();
  try {
    const outputs = await session.run({ [session.inputNames[0]!]: input });
    clock.ms += performance.now() - began;
    return outputs[session.outputNames[0]!]!;
  } catch (error) {
    throw new ImgpipeError('MODEL_INFERENCE_FAILED', `${model.identity.name} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function distance(a: Point, b: Point): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

interface LineCandidate {
  /** Corners clockwise from top-left in image pixels. */
  polygon: Quad;
  /** The same corners in reading direction: the crop's top-left, top-right, bottom-right, bottom-left. */
  readingQuad: Quad;
  cropWidth: number;
  cropHeight: number;
  /** The box was taller than wide (1.5x): read turned a quarter. */
  vertical: boolean;
}

/**
 * The detector's input size, resized by libvips on its own threads (measured equal to cv2-style bilinear on
 * shared/images: CER 0.09% both), so the event loop stays free.
 */
async function resizeForDetector(image: RasterImage, width: number, height: number): Promise<Uint8Array> {
  const channels = image.channels ?? 3;
  const { data } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels } })
    .toColourspace('srgb')
    .removeAlpha()
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return data;
}

async function detectLines(
  image: RasterImage,
  models: OcrModels,
  options: OcrTuning,
  clock: InferenceClock,
): Promise<LineCandidate[]> {
  const size = detectorSize(image.width, image.height, options);
  const resized = await resizeForDetector(image, size.width, size.height);
  const output = await run(models.detector, detectorTensor(resized, size.width, size.height), clock);
  const [, , mapHeight, mapWidth] = output.dims as [number, number, number, number];
  const boxes = boxesFromProbabilityMap(output.data as Float32Array, mapWidth, mapHeight, options.db);
  await yieldToEventLoop();
  const scaleX = image.width / mapWidth;
  const scaleY = image.height / mapHeight;
  const clip = (p: Point): Point => ({
    x: Math.min(image.width, Math.max(0, p.x * scaleX)),
    y: Math.min(image.height, Math.max(0, p.y * scaleY)),
  });
  const detected = boxes.map((box) => box.rect.corners.map(clip) as Quad);
  const quads = options.mergeLines ? mergeLinePieces(detected, options.mergeLines) : detected;
  const lines: LineCandidate[] = [];
  for (const polygon of quads) {
    const [p0, p1, p2, p3] = polygon;
    const cropWidth = Math.max(distance(p0, p1), distance(p3, p2));
    const cropHeight = Math.max(distance(p0, p3), distance(p1, p2));
    if (cropWidth <= 3 || cropHeight <= 3) continue;
    // Tall boxes hold vertical text: read them turned a quarter counter-clockwise, as PaddleOCR does.
    const vertical = cropHeight / cropWidth >= 1.5;
    lines.push({
      polygon,
      readingQuad: vertical ? [p1, p2, p3, p0] : polygon,
      cropWidth: vertical ? cropHeight : cropWidth,
      cropHeight: vertical ? cropWidth : cropHeight,
      vertical,
    });
  }
  return lines;
}

function cropLine(image: RasterImage, line: LineCandidate, width: number, supersample: boolean): RgbPatch {
  const factor = supersample ? Math.min(3, Math.max(1, Math.floor(line.cropHeight / REC_HEIGHT))) : 1;
  return warpQuad(image, line.readingQuad, width, REC_HEIGHT, factor);
}

function recognizerWidth(line: { cropWidth: number; cropHeight: number }): number {
  return Math.max(1, Math.ceil((REC_HEIGHT * line.cropWidth) / line.cropHeight));
}

/**
 * The parts of a line the angle classifier sees: the whole line when it fits the classifier's 192 x 48 input
 * squeezed at most CLS_WINDOW_STRETCH times, else up to CLS_MAX_WINDOWS windows that do, spread evenly from the
 * line's start to its end (two: its start and its end; a third in the middle changed no read on the dense pages or
 * the shared text sets, and cost a page about 0.2 s). Squeezing a long line whole into 192 columns (as PaddleOCR does) leaves glyphs a tenth of
 * their width, and the classifier then called many upright lines of a dense page upside down with confidence:
 * PP-OCRv4 read 19 of 50 lines (CER 84%) of a one-column 24-px page, all 50 (0.1%) with windows. One window from the
 * middle was not enough: "found at the two" scored 0.99 upside down on documents/page.png.
 */
function classifierWindows(line: LineCandidate): LineCandidate[] {
  const widest = (CLS_WINDOW_STRETCH * CLS_WIDTH) / REC_HEIGHT;
  if (line.cropWidth <= widest * line.cropHeight) return [line];
  const span = (widest * line.cropHeight) / line.cropWidth;
  const count = Math.min(CLS_MAX_WINDOWS, Math.ceil(1 / span));
  const [q0, q1, q2, q3] = line.readingQuad;
  return Array.from({ length: count }, (_, i) => {
    const from = count === 1 ? 0.5 - span / 2 : (i * (1 - span)) / (count - 1);
    const to = from + span;
    return {
      ...line,
      readingQuad: [lerp(q0, q1, from), lerp(q0, q1, to), lerp(q3, q2, to), lerp(q3, q2, from)] as Quad,
      cropWidth: widest * line.cropHeight,
    };
  });
}

/** Turns upside-down lines (reading quad rotated by two corners) where the classifier is confident. */
async function classifyAngles(
  image: RasterImage,
  lines: LineCandidate[],
  models: OcrModels,
  options: OcrTuning,
  clock: InferenceClock,
): Promise<void> {
  const classifier = models.angleClassifier;
  if (!classifier || lines.length === 0) return;
  // A line's flip probability is the mean over its windows.
  const windows = lines.flatMap((line, owner) => classifierWindows(line).map((window) => ({ owner, window })));
  const flipSums = new Float64Array(lines.length);
  const windowCounts = new Uint32Array(lines.length);
  for (let start = 0; start < windows.length; start += options.recBatchSize) {
    const batch = windows.slice(start, start + options.recBatchSize);
    const input = new Float32Array(batch.length * 3 * REC_HEIGHT * CLS_WIDTH);
    for (const [item, { window }] of batch.entries()) {
      const width = Math.min(CLS_WIDTH, recognizerWidth(window));
      writeRecognizerInput(cropLine(image, window, width, options.supersample), input, item, CLS_WIDTH);
      await yieldToEventLoop();
    }
    const output = await run(
      classifier,
      new ort.Tensor('float32', input, [batch.length, 3, REC_HEIGHT, CLS_WIDTH]),
      clock,
    );
    const scores = output.data as Float32Array;
    batch.forEach(({ owner }, item) => {
      flipSums[owner]! += scores[item * 2 + 1]!;
      windowCounts[owner]! += 1;
    });
  }
  const flipScores = Array.from(flipSums, (sum, i) => sum / windowCounts[i]!);
  // Lines the classifier is unsure of (between 1 - threshold and threshold) follow the confident lines that run
  // the same way (quarter-turned or not), weighted by length: the lines of one page are turned together. On the
  // shared text set turned 270 degrees one line scored 0.36 while its neighbour scored 1.0, and was read upside
  // down and dropped.
  const confident = (score: number) => score > options.angleThreshold || score < 1 - options.angleThreshold;
  const votes = new Map<boolean, number>();
  lines.forEach((line, i) => {
    const score = flipScores[i]!;
    if (!confident(score)) return;
    const key = line.vertical;
    votes.set(key, (votes.get(key) ?? 0) + (score > options.angleThreshold ? line.cropWidth : -line.cropWidth));
  });
  lines.forEach((line, i) => {
    const score = flipScores[i]!;
    const flip = confident(score) ? score > options.angleThreshold : (votes.get(line.vertical) ?? 0) > 0;
    if (flip) {
      const [q0, q1, q2, q3] = line.readingQuad;
      line.readingQuad = [q2, q3, q0, q1];
    }
  });
}

interface RecognizedLine {
  line: LineCandidate;
  decoded: DecodedSequence;
  /** Fraction of the recogniser input's width covered by one timestep, relative to the line's own width. */
  stepFraction: number;
}

/**
 * Consecutive runs of `lines` (sorted by aspect, so each line is at least as wide as those before it) of at most
 * recBatchSize lines whose padded tensor stays within recBatchColumns.
 */
export function recognizerBatches<T extends { cropWidth: number; cropHeight: number }>(
  lines: readonly T[],
  options: Pick<OcrTuning, 'recBatchSize' | 'recBatchColumns' | 'recMinWidth'>,
): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  for (const line of lines) {
    const width = Math.max(options.recMinWidth, recognizerWidth(line));
    const fits = batch.length < options.recBatchSize && (batch.length + 1) * width <= options.recBatchColumns;
    if (batch.length > 0 && !fits) {
      batches.push(batch);
      batch = [];
    }
    batch.push(line);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

async function recognizeLines(
  image: RasterImage,
  lines: LineCandidate[],
  models: OcrModels,
  options: OcrTuning,
  clock: InferenceClock,
  allowed: Uint8Array | undefined,
): Promise<RecognizedLine[]> {
  const order = lines
    .map((_, index) => index)
    .sort((a, b) => {
      const ra = lines[a]!.cropWidth / lines[a]!.cropHeight;
      const rb = lines[b]!.cropWidth / lines[b]!.cropHeight;
      return ra - rb;
    });
  const results: RecognizedLine[] = [];
  for (const batch of recognizerBatches(
    order.map((index) => lines[index]!),
    options,
  )) {
    const widths = batch.map(recognizerWidth);
    const tensorWidth = Math.max(options.recMinWidth, ...widths);
    const input = new Float32Array(batch.length * 3 * REC_HEIGHT * tensorWidth);
    for (const [item, line] of batch.entries()) {
      writeRecognizerInput(cropLine(image, line, widths[item]!, options.supersample), input, item, tensorWidth);
      await yieldToEventLoop();
    }
    const output = await run(
      models.recognizer,
      new ort.Tensor('float32', input, [batch.length, 3, REC_HEIGHT, tensorWidth]),
      clock,
    );
    const [, steps, classes] = output.dims as [number, number, number];
    batch.forEach((line, item) => {
      const decoded = decodeCtc(
        output.data as Float32Array,
        item,
        steps,
        classes,
        models.characters,
        options.spaceThreshold,
        allowed,
      );
      results.push({ line, decoded, stepFraction: tensorWidth / steps / widths[item]! });
    });
  }
  return results;
}

function lerp(a: Point, b: Point, t: number): Point {
  return { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t };
}

/**
 * Splits a line at spaces. CTC emits each character at a narrow peak, so a word spans from its first character's
 * peak to its last one's, widened by half a character pitch on each side; positions map linearly along the line.
 */
function wordsOf(recognized: RecognizedLine, normalize: (text: string) => string): TextWord[] {
  const { decoded, line, stepFraction } = recognized;
  const chars = decoded.chars;
  if (chars.length === 0) return [];
  // Character pitch in timesteps (centre to centre); a word reaches half a pitch beyond its outer peaks' steps.
  const centre = (c: (typeof chars)[number]) => (c.firstStep + c.lastStep + 1) / 2;
  const pitch = chars.length > 1 ? (centre(chars[chars.length - 1]!) - centre(chars[0]!)) / (chars.length - 1) : 2;
  const pad = pitch / 2;
  const [q0, q1, q2, q3] = line.readingQuad;
  const words: TextWord[] = [];
  let current: typeof chars = [];
  const flush = () => {
    if (current.length === 0) return;
    const from = Math.max(0, (current[0]!.firstStep - pad) * stepFraction);
    const to = Math.min(1, (current[current.length - 1]!.lastStep + 1 + pad) * stepFraction);
    words.push({
      text: normalize(current.map((c) => c.char).join('')),
      confidence: round(current.reduce((sum, c) => sum + c.confidence, 0) / current.length, 4),
      polygon: [lerp(q0, q1, from), lerp(q0, q1, to), lerp(q3, q2, to), lerp(q3, q2, from)],
    });
    current = [];
  };
  for (const c of chars) {
    if (c.char.trim() === '') flush();
    else current.push(c);
  }
  flush();
  return words;
}

/** The line with its corners multiplied by (sx, sy): from the detector's image to a larger copy of it. */
function scaleLine(line: LineCandidate, sx: number, sy: number): LineCandidate {
  // The reading quad holds the polygon's own corner objects (in another order); keep them shared.
  const moved = new Map<Point, Point>(line.polygon.map((p) => [p, { x: p.x * sx, y: p.y * sy }]));
  const scale = (quad: Quad): Quad => quad.map((p) => moved.get(p) ?? { x: p.x * sx, y: p.y * sy }) as Quad;
  const readingQuad = scale(line.readingQuad);
  const [q0, q1, q2, q3] = readingQuad;
  return {
    polygon: scale(line.polygon),
    readingQuad,
    cropWidth: Math.max(distance(q0, q1), distance(q3, q2)),
    cropHeight: Math.max(distance(q0, q3), distance(q1, q2)),
    vertical: line.vertical,
  };
}

/**
 * The line lengthened by `pad` times its height at both ends, along its reading direction: boxes the detector drew
 * on a scaled-down copy lose the first or last letter's edge, which the original's pixels can give back.
 */
function widen(line: LineCandidate, pad: number): LineCandidate {
  if (pad <= 0) return line;
  const [q0, q1, q2, q3] = line.readingQuad;
  const length = Math.max(distance(q0, q1), 1e-6);
  const t = (pad * line.cropHeight) / length;
  const stretch = (from: Point, to: Point): [Point, Point] => [lerp(from, to, -t), lerp(from, to, 1 + t)];
  const [a0, a1] = stretch(q0, q1);
  const [a3, a2] = stretch(q3, q2);
  const readingQuad: Quad = [a0, a1, a2, a3];
  // The polygon keeps its own corner order (clockwise from top-left in the image); map each corner by identity.
  const moved = new Map<Point, Point>([
    [q0, a0],
    [q1, a1],
    [q2, a2],
    [q3, a3],
  ]);
  return {
    polygon: line.polygon.map((p) => moved.get(p) ?? p) as Quad,
    readingQuad,
    cropWidth: line.cropWidth + 2 * pad * line.cropHeight,
    cropHeight: line.cropHeight,
    vertical: line.vertical,
  };
}

/**
 * The pixels to read lines from, and the lines in its coordinates: the original when the detector's copy is
 * scaled down by at least sourceMinScale and some line is lower there than the recogniser's input (so cutting it
 * from the copy would lose strokes), else the copy itself.
 */
async function readingRaster(
  image: OcrImage,
  lines: LineCandidate[],
  options: OcrTuning,
): Promise<{ raster: RasterImage; lines: LineCandidate[] }> {
  const width = image.originalWidth ?? image.width;
  const height = image.originalHeight ?? image.height;
  const sx = width / image.width;
  const sy = height / image.height;
  if (!image.source || Math.min(sx, sy) < options.sourceMinScale) return { raster: image, lines };
  if (!lines.some((line) => line.cropHeight < REC_HEIGHT)) return { raster: image, lines };
  const original = await decodeImage(image.source);
  // A source that is not the original these sizes describe would put lines in the wrong place: read the copy.
  if (original.width !== width || original.height !== height) return { raster: image, lines };
  return { raster: original, lines: lines.map((line) => widen(scaleLine(line, sx, sy), options.sourcePad)) };
}

/** Which way a line reads: the direction of its reading quad's top edge, to the nearest quarter turn. */
function lineOrientation(line: LineCandidate): TextOrientation {
  const [q0, q1] = line.readingQuad;
  const degrees = (Math.atan2(q1.y - q0.y, q1.x - q0.x) * 180) / Math.PI;
  const quarter = (((Math.round(degrees / 90) % 4) + 4) % 4) as 0 | 1 | 2 | 3;
  return (quarter * 90) as TextOrientation;
}

/** The orientation most of the text (by line length) reads in; 0 when there is none. */
function pageOrientation(lines: readonly LineCandidate[]): TextOrientation {
  const votes = new Map<TextOrientation, number>();
  for (const line of lines) {
    const o = lineOrientation(line);
    votes.set(o, (votes.get(o) ?? 0) + line.cropWidth);
  }
  let best: TextOrientation = 0;
  for (const [o, weight] of votes) if (weight > (votes.get(best) ?? 0)) best = o;
  return best;
}

/** A point of a width x height image, in the frame of that image turned back upright from `orientation`. */
function upright(p: Point, orientation: TextOrientation, width: number, height: number): Point {
  switch (orientation) {
    case 90:
      return { x: p.y, y: width - p.x };
    case 180:
      return { x: width - p.x, y: height - p.y };
    case 270:
      return { x: height - p.y, y: p.x };
    default:
      return p;
  }
}

function tuningOf(options: RecognizeTextOptions): OcrTuning {
  const tuning: OcrTuning = { ...DEFAULT_OCR_TUNING, db: { ...DEFAULT_OCR_TUNING.db, ...options.db } };
  for (const key of Object.keys(DEFAULT_OCR_TUNING) as (keyof OcrTuning)[]) {
    if (key !== 'db' && options[key] !== undefined) Object.assign(tuning, { [key]: options[key] });
  }
  return tuning;
}

/**
 * Reads the text in an image: lines in reading order, each with its 4-point polygon, box, text, confidence and
 * words, in pixels of the oriented original. Takes encoded bytes (EXIF orientation applied) or decoded pixels.
 */
export async function recognizeText(input: OcrImage | Uint8Array, options: RecognizeTextOptions): Promise<OcrResult> {
  // The set's own tuning first (PP-OCRv5 predicts its spaces itself), then the caller's.
  const tuning = tuningOf({ ...ocrModelSet(options.modelSet).tuning, ...options });
  const languages = checkOcrLanguages(
    options.languages ?? [],
    (options.modelSet ?? DEFAULT_OCR_MODEL_SET) as OcrModelSetName,
  );
  const models = await loadOcrModels(options);
  const allowed = languageMask(models.characters, languages);
  const image: OcrImage = input instanceof Uint8Array ? await decodeImage(input) : input;
  const normalize = tuning.normalizeText ? (text: string) => text.normalize('NFKC') : (text: string) => text;

  const clock: InferenceClock = { ms: 0 };
  const started = performance.now();
  const detectedLines = await detectLines(image, models, tuning, clock);
  const detected = performance.now();
  const { raster, lines: candidates } = await readingRaster(image, detectedLines, tuning);
  const sourced = performance.now();
  await classifyAngles(raster, candidates, models, tuning, clock);
  const classified = performance.now();
  const recognized = await recognizeLines(raster, candidates, models, tuning, clock, allowed);
  const finished = performance.now();

  const width = image.originalWidth ?? image.width;
  const height = image.originalHeight ?? image.height;
  const scaleX = width / raster.width;
  const scaleY = height / raster.height;
  const toOriginal = (p: Point): Point => ({ x: round(p.x * scaleX, 2), y: round(p.y * scaleY, 2) });
  const kept = recognized.filter((r) => r.decoded.confidence >= tuning.dropScore && r.decoded.text.trim() !== '');
  const orientation = pageOrientation(kept.map((r) => r.line));
  const uprightPolygons = kept.map((r) =>
    r.line.polygon.map((p) => upright(p, orientation, raster.width, raster.height)),
  );
  const lines: TextLine[] = readingOrder(uprightPolygons).map((index) => {
    const r = kept[index]!;
    const polygon = r.line.polygon.map(toOriginal);
    const { box, boxNormalized } = reportedBox(boundingCorners(polygon), width, height);
    const words = wordsOf(r, normalize).map((word) => ({ ...word, polygon: word.polygon.map(toOriginal) }));
    return {
      text: normalize(r.decoded.text).trim(),
      confidence: round(r.decoded.confidence, 4),
      polygon,
      box,
      boxNormalized,
      words,
    };
  });
  return {
    fullText: lines.map((l) => l.text).join('\n'),
    lines,
    orientation,
    model: models.identity,
    timings: {
      detectionMs: detected - started,
      sourceMs: sourced - detected,
      angleMs: classified - sourced,
      recognitionMs: finished - classified,
      inferenceMs: clock.ms,
    },
  };
}

export const recognizeTextHandler = handlerRef<typeof recognizeText>(import.meta.url, 'recognizeText');
