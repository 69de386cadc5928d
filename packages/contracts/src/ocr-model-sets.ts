/**
 * The OCR model sets an upload may name (`ocrModel`) and a deployment may default to (IMGPIPE_OCR_MODEL_SET). The
 * names are the contract; which files each set loads is @imgpipe/vision's (ocr/ocr-models.ts). Results carry the
 * identity of the models that ran (name, version, SHA-256), not the set's name.
 */
export const OCR_MODEL_SET_NAMES = ['ppocr-v4', 'ppocr-v5'] as const;

export type OcrModelSetName = (typeof OCR_MODEL_SET_NAMES)[number];

export const DEFAULT_OCR_MODEL_SET: OcrModelSetName = 'ppocr-v4';

export function isOcrModelSet(value: unknown): value is OcrModelSetName {
  return typeof value === 'string' && (OCR_MODEL_SET_NAMES as readonly string[]).includes(value);
}
