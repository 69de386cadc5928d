/**
 * Barcodes and QR codes with ZXing-C++ (zxing-wasm, its .wasm loaded from node_modules, never fetched):
 *
 *   const { codes } = await readCodes(normalizedImage);                        // format, text, corners, box
 *   await vision.run(readTextAndCodesHandler, image, vision.options.models);    // the OCR stage: text, then codes
 */
export {
  type CodesImage,
  type CodesResult,
  DEFAULT_READ_CODES_OPTIONS,
  type ReadCodesOptions,
  readCodes,
  readCodesHandler,
} from './read-codes.ts';
export {
  type ReadTextAndCodesOptions,
  readTextAndCodes,
  readTextAndCodesHandler,
  type TextAndCodesResult,
} from './read-text-and-codes.ts';
