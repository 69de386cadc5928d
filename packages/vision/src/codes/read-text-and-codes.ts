/**
 * The OCR stage's work on one image: text (recognizeText) and then barcodes and QR codes (readCodes) on the same
 * pixels, in one call on one worker thread, so the image crosses to the worker once. Codes ride in the OCR stage
 * rather than a stage of their own because the search costs less than a consumer group's fetch and decode of the
 * normalised image would (about 8 ms of the OCR stage's 110 ms median on shared/images/coco; see docs/results.md).
 */
import { recognizeText, type OcrImage, type OcrResult, type RecognizeTextOptions } from '../ocr/recognize-text.ts';
import { handlerRef } from '../pool/handler-ref.ts';
import { type CodesResult, type ReadCodesOptions, readCodes } from './read-codes.ts';
import { resetZxingReader } from './zxing-reader.ts';

export type ReadTextAndCodesOptions = RecognizeTextOptions & {
  /** Options of the code search, or false to skip it (the result then has no `codes`). */
  codes?: ReadCodesOptions | false;
};

export type TextAndCodesResult = OcrResult & {
  /** The code reader that ran; absent when codes were off. */
  codesReader?: CodesResult['reader'];
  /** Why the code search failed, when it did (the result then has no `codes`: not looked). */
  codesError?: string;
  timings: OcrResult['timings'] & { codesMs: number };
};

export async function readTextAndCodes(image: OcrImage, options: ReadTextAndCodesOptions): Promise<TextAndCodesResult> {
  const { codes: codesOptions, ...ocrOptions } = options;
  const text = await recognizeText(image, ocrOptions);
  if (codesOptions === false) return { ...text, timings: { ...text.timings, codesMs: 0 } };
  // The pixels OCR detected on (the normalised copy), not the original: `source` is only read for small print.
  const { source: _original, ...pixels } = image;
  let found: CodesResult;
  try {
    found = await readCodes(pixels, codesOptions ?? {});
  } catch (error) {
    // The code search is an extra on the text: a reader that fails (zxing's wasm can throw non-Error values from a
    // state it does not recover from) must not fail the text with it. The text stands, without codes (not looked),
    // the failure is said in `codesError`, and the next image gets a fresh reader.
    resetZxingReader();
    return {
      ...text,
      codesError: error instanceof Error ? error.message : String(error),
      timings: { ...text.timings, codesMs: 0 },
    };
  }
  return {
    ...text,
    codes: found.codes,
    codesReader: found.reader,
    timings: { ...text.timings, codesMs: found.timings.readMs },
  };
}

export const readTextAndCodesHandler = handlerRef<typeof readTextAndCodes>(import.meta.url, 'readTextAndCodes');
