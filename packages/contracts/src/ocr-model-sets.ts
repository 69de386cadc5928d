import { ImgpipeError } from '@imgpipe/core';

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

/**
 * The languages an upload may restrict OCR to (`ocrLanguages`, ISO 639-1). A restriction keeps the recogniser to
 * the languages' scripts (plus digits, punctuation and symbols): a Latin-only document is never read with Chinese
 * characters. The Latin-script languages share one alphabet here (basic Latin plus Latin-1 and Latin Extended-A
 * letters); no registry package ships per-language recognisers, so a restriction narrows the set's own recogniser.
 */
export const OCR_LANGUAGES = ['en', 'de', 'fr', 'es', 'it', 'pt', 'nl', 'zh', 'ja'] as const;

export type OcrLanguage = (typeof OCR_LANGUAGES)[number];

/** The scripts each language is written in. */
export const OCR_LANGUAGE_SCRIPTS: Readonly<Record<OcrLanguage, readonly OcrScript[]>> = {
  en: ['latin'],
  de: ['latin'],
  fr: ['latin'],
  es: ['latin'],
  it: ['latin'],
  pt: ['latin'],
  nl: ['latin'],
  zh: ['han'],
  ja: ['han', 'kana'],
};

export type OcrScript = 'latin' | 'han' | 'kana';

/** The scripts each set's recogniser reads (its dictionary): PP-OCRv4's has 5 kana, PP-OCRv5's 180. */
export const OCR_MODEL_SET_SCRIPTS: Readonly<Record<OcrModelSetName, readonly OcrScript[]>> = {
  'ppocr-v4': ['latin', 'han'],
  'ppocr-v5': ['latin', 'han', 'kana'],
};

export function isOcrLanguage(value: unknown): value is OcrLanguage {
  return typeof value === 'string' && (OCR_LANGUAGES as readonly string[]).includes(value);
}

/**
 * One spelling of a restriction, for comparing and storing: the languages without repeats, known ones in catalogue
 * order and then any others (a producer outside imgpipe may send them) sorted; undefined for none.
 */
export function canonicalOcrLanguages(languages: readonly string[] | undefined): string[] | undefined {
  if (!languages || languages.length === 0) return undefined;
  const known = OCR_LANGUAGES.filter((language) => languages.includes(language));
  const others = [...new Set(languages.filter((language) => !isOcrLanguage(language)))].sort();
  return [...known, ...others];
}

/**
 * The languages asked for, known ones in catalogue order without repeats: OCR_LANGUAGE_UNSUPPORTED naming those
 * imgpipe does not know, or when `set` cannot read them. Every place that takes languages checks them here.
 */
export function checkOcrLanguages(names: readonly string[], set?: OcrModelSetName): OcrLanguage[] {
  const unknown = names.filter((name) => !isOcrLanguage(name));
  if (unknown.length > 0) {
    throw new ImgpipeError(
      'OCR_LANGUAGE_UNSUPPORTED',
      `unknown OCR languages ${unknown.map((name) => `"${name}"`).join(', ')}; known: ${OCR_LANGUAGES.join(', ')}`,
      { details: { languages: unknown, known: OCR_LANGUAGES } },
    );
  }
  const languages = OCR_LANGUAGES.filter((language) => names.includes(language));
  if (set && !readsLanguages(set, languages)) {
    throw new ImgpipeError('OCR_LANGUAGE_UNSUPPORTED', `the OCR model set ${set} cannot read ${languages.join(', ')}`, {
      details: { languages, modelSet: set },
    });
  }
  return languages;
}

/** Whether a set reads every script of these languages. */
export function readsLanguages(set: OcrModelSetName, languages: readonly OcrLanguage[]): boolean {
  return languages.every((language) =>
    OCR_LANGUAGE_SCRIPTS[language].every((script) => OCR_MODEL_SET_SCRIPTS[set].includes(script)),
  );
}

/**
 * The set that reads an image: the one the upload named; else the deployment's when it reads the languages asked
 * for, else the first set that does (`ja` on a PP-OCRv4 deployment is read by PP-OCRv5). Undefined when the named
 * set cannot read them (the caller refuses the request) or no set can.
 */
export function ocrModelSetFor(
  languages: readonly OcrLanguage[],
  named: OcrModelSetName | undefined,
  deployment: OcrModelSetName,
): OcrModelSetName | undefined {
  if (named) return readsLanguages(named, languages) ? named : undefined;
  if (readsLanguages(deployment, languages)) return deployment;
  return OCR_MODEL_SET_NAMES.find((set) => readsLanguages(set, languages));
}
