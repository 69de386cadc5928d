/**
 * Barcodes and QR codes in an image, with ZXing-C++ (zxing-wasm): each code's format, decoded text and four corners
 * in pixels of the oriented original. Runs on the OCR stage's pixels (the normalised copy), on the worker pool.
 *
 * Only codes whose check digits / error correction verify are returned (zxing's returnErrors stays off), so a
 * damaged code is not found rather than reported as garbage.
 */
import type { DetectedCode, Point } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import type { ReaderOptions, ReadResult } from 'zxing-wasm/reader';
import { boundingCorners, reportedBox, round } from '../geometry/boxes.ts';
import type { RasterImage } from '../ocr/raster.ts';
import { handlerRef } from '../pool/handler-ref.ts';
import { type ZxingReader, zxingReader } from './zxing-reader.ts';

/** Pixels to search: a NormalizedImage fits; results are reported in originalWidth x originalHeight. */
export interface CodesImage extends RasterImage {
  originalWidth?: number;
  originalHeight?: number;
}

export interface ReadCodesOptions {
  /**
   * Run zxing's own full search (tryHarder, every format, one pass over the full image) instead of the split
   * search below: on shared/images/coco the median search took about 20 ms a photo that way against about 8 ms
   * split (OCR itself takes about 110 ms there), and both found every generated code of the tests.
   */
  tryHarder?: boolean;
  /** Also look for light-on-dark (inverted) codes; off by default (rare in photos, and a second pass). */
  tryInvert?: boolean;
  /** Most codes to return per image. */
  maxCodes?: number;
}

export const DEFAULT_READ_CODES_OPTIONS: Readonly<Required<ReadCodesOptions>> = Object.freeze({
  tryHarder: false,
  tryInvert: false,
  maxCodes: 32,
});

export interface CodesResult {
  codes: DetectedCode[];
  /** The reader that ran: zxing-wasm's version and the SHA-256 of its .wasm. */
  reader: { name: string; version: string; sha256: string };
  timings: { readMs: number };
}

/**
 * Rows (or columns) averaged together for the linear-code passes. Bars of an upright linear code are vertical, so
 * averaging a few rows keeps them while the search touches a quarter of the pixels; its every-row scan (tryHarder)
 * then covers the whole height, where zxing's quick mode scans only 15 rows around the middle and misses a barcode
 * in the top or bottom third of a photo. Codes tilted by more than about 10 degrees blur across 4 rows.
 */
const LINEAR_SQUASH = 4;

interface GreyImage {
  /** RGBA with R = G = B (what zxing's ImageData input takes; its own luma gives the grey back). */
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/**
 * An RGBA image of width x height and a 32-bit view of it, one pixel a word (little-endian, so alpha is the high
 * byte: OPAQUE | grey * GREY_TO_RGB). Int32 rather than Uint32 keeps every word a small integer for the JIT.
 */
function greyImage(width: number, height: number): { image: GreyImage; words: Int32Array } {
  const data = new Uint8ClampedArray(width * height * 4);
  return { image: { data, width, height }, words: new Int32Array(data.buffer) };
}

const OPAQUE = -16777216; // 0xff000000 as an int32
const GREY_TO_RGB = 0x010101;

/** Luma as ZXing-C++ computes it (RGBToLum), one byte per pixel, and the same as a grey RGBA image. */
function luma(image: RasterImage): { grey: Uint8Array; rgba: GreyImage } {
  const channels = image.channels ?? 3;
  const pixels = image.width * image.height;
  if (image.data.length < pixels * channels) {
    throw new ImgpipeError(
      'IMAGE_CORRUPT',
      `codes: ${image.data.length} bytes for ${image.width}x${image.height}x${channels} pixels`,
    );
  }
  const data = image.data;
  const { image: rgba, words } = greyImage(image.width, image.height);
  if (channels === 1) {
    const grey = data.subarray(0, pixels);
    for (let i = 0; i < pixels; i++) words[i] = OPAQUE | (grey[i]! * GREY_TO_RGB);
    return { grey, rgba };
  }
  const grey = new Uint8Array(pixels);
  // A constant stride per loop: measured about 15% faster than one loop striding by `channels`.
  if (channels === 3) {
    for (let i = 0, j = 0; i < pixels; i++, j += 3) {
      const value = (306 * data[j]! + 601 * data[j + 1]! + 117 * data[j + 2]! + 512) >> 10;
      grey[i] = value;
      words[i] = OPAQUE | (value * GREY_TO_RGB);
    }
  } else {
    for (let i = 0, j = 0; i < pixels; i++, j += 4) {
      const value = (306 * data[j]! + 601 * data[j + 1]! + 117 * data[j + 2]! + 512) >> 10;
      grey[i] = value;
      words[i] = OPAQUE | (value * GREY_TO_RGB);
    }
  }
  return { grey, rgba };
}

/** Every k rows averaged into one: width x floor(height / k). */
function squashRows(grey: Uint8Array, width: number, height: number, k: number): GreyImage {
  const rows = Math.floor(height / k);
  const { image, words } = greyImage(width, rows);
  const sums = new Uint16Array(width);
  const half = k >> 1;
  for (let row = 0; row < rows; row++) {
    sums.fill(0);
    for (let r = 0, at = row * k * width; r < k; r++, at += width) {
      for (let x = 0; x < width; x++) sums[x]! += grey[at + x]!;
    }
    const to = row * width;
    for (let x = 0; x < width; x++) words[to + x] = OPAQUE | ((((sums[x]! + half) / k) | 0) * GREY_TO_RGB);
  }
  return image;
}

/** Every k columns averaged into one, transposed: height x floor(width / k), so vertical scan lines become rows. */
function squashColumnsTransposed(grey: Uint8Array, width: number, height: number, k: number): GreyImage {
  const columns = Math.floor(width / k);
  const { image, words } = greyImage(height, columns);
  const half = k >> 1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < columns; x++) {
      let sum = 0;
      for (let r = 0, at = row + x * k; r < k; r++) sum += grey[at + r]!;
      words[x * height + y] = OPAQUE | ((((sum + half) / k) | 0) * GREY_TO_RGB);
    }
  }
  return image;
}

type Corners = [Point, Point, Point, Point];
type ZxingInput = Parameters<ZxingReader['readBarcodes']>[0];

interface Pass {
  image: GreyImage;
  options: ReaderOptions;
  /** From the pass's image to the searched image's pixels, corners in the symbol's reading order, clockwise. */
  corners: (position: ReadResult['position']) => Corners;
}

function passes(image: RasterImage, settings: Required<ReadCodesOptions>): Pass[] {
  const common = {
    tryInvert: settings.tryInvert,
    maxNumberOfSymbols: settings.maxCodes,
    returnErrors: false,
  } satisfies ReaderOptions;
  const { grey, rgba: full } = luma(image);
  const { width, height } = image;
  const asRead = (p: ReadResult['position']): Corners => [p.topLeft, p.topRight, p.bottomRight, p.bottomLeft];
  if (settings.tryHarder) {
    return [{ image: full, options: { ...common, tryHarder: true, tryRotate: true }, corners: asRead }];
  }
  const k = LINEAR_SQUASH;
  const centre = (k - 1) / 2;
  return [
    // 2D codes: their detectors search the whole image in quick mode and handle any rotation themselves.
    {
      image: full,
      options: { ...common, formats: ['AllMatrix'], tryHarder: false, tryRotate: false },
      corners: asRead,
    },
    // Linear codes with vertical bars: every row of the squashed image (every k rows of the original).
    {
      image: squashRows(grey, width, height, k),
      options: { ...common, formats: ['AllLinear'], tryHarder: true, tryRotate: false, tryDownscale: false },
      corners: (p) => asRead(p).map((q) => ({ x: q.x, y: q.y * k + centre })) as Corners,
    },
    // Linear codes with horizontal bars (turned a quarter): the transposed image is their mirror image, so the
    // corners come back counter-clockwise; reversed, they run clockwise from the start of the code again.
    {
      image: squashColumnsTransposed(grey, width, height, k),
      options: { ...common, formats: ['AllLinear'], tryHarder: true, tryRotate: false, tryDownscale: false },
      corners: (p) => {
        const [a, b, c, d] = asRead(p).map((q) => ({ x: q.y * k + centre, y: q.x })) as Corners;
        return [d, c, b, a];
      },
    },
  ];
}

function toCode(
  format: string,
  text: string,
  corners: Corners,
  scaleX: number,
  scaleY: number,
  width: number,
  height: number,
): DetectedCode {
  const polygon: Point[] = corners.map((p) => ({ x: round(p.x * scaleX, 2), y: round(p.y * scaleY, 2) }));
  return { format, text, polygon, ...reportedBox(boundingCorners(polygon), width, height) };
}

/** The same symbol found twice (by two passes): same format and text, and one's centre inside the other's box. */
function sameSymbol(a: DetectedCode, b: DetectedCode): boolean {
  if (a.format !== b.format || a.text !== b.text) return false;
  const cx = b.box.x + b.box.width / 2;
  const cy = b.box.y + b.box.height / 2;
  return cx >= a.box.x && cx <= a.box.x + a.box.width && cy >= a.box.y && cy <= a.box.y + a.box.height;
}

/**
 * Finds and decodes the barcodes and QR codes in an image. Corners are the symbol's own (top-left, top-right,
 * bottom-right, bottom-left as the code reads, so a code printed upside down starts at the image's bottom right),
 * scaled to the original's pixels.
 */
export async function readCodes(image: CodesImage, options: ReadCodesOptions = {}): Promise<CodesResult> {
  const settings = { ...DEFAULT_READ_CODES_OPTIONS, ...options };
  const reader = await zxingReader();
  const width = image.originalWidth ?? image.width;
  const height = image.originalHeight ?? image.height;
  const scaleX = width / image.width;
  const scaleY = height / image.height;
  const started = performance.now();
  const codes: DetectedCode[] = [];
  for (const pass of passes(image, settings)) {
    let results: ReadResult[];
    try {
      // zxing's ImageData input is duck-typed ({ data: RGBA, width, height }); the DOM type is not in this build.
      results = await reader.readBarcodes(pass.image as unknown as ZxingInput, pass.options);
    } catch (error) {
      const message = error instanceof Error ? error.message : `threw ${typeof error} ${String(error)}`;
      throw new ImgpipeError('MODEL_INFERENCE_FAILED', `zxing failed: ${message}`, { cause: error });
    }
    for (const result of results) {
      if (!result.isValid || result.error !== '') continue;
      const code = toCode(result.format, result.text, pass.corners(result.position), scaleX, scaleY, width, height);
      if (!codes.some((known) => sameSymbol(known, code) || sameSymbol(code, known))) codes.push(code);
    }
  }
  return {
    codes: codes.slice(0, settings.maxCodes),
    reader: reader.identity,
    timings: { readMs: performance.now() - started },
  };
}

export const readCodesHandler = handlerRef<typeof readCodes>(import.meta.url, 'readCodes');
