/**
 * OCR language restrictions (`ocrLanguages`): which of a dictionary's characters the recogniser may emit. A letter
 * is kept when its script is one of the languages' scripts (contracts' OCR_LANGUAGE_SCRIPTS), or when it belongs to
 * no script in particular (Common or Inherited: the Japanese prolonged sound mark ー, combining marks); everything
 * that is not a letter (digits, punctuation, symbols, the space) is always kept.
 */
import {
  checkOcrLanguages,
  type OcrLanguage,
  type OcrModelSetName,
  OCR_LANGUAGE_SCRIPTS,
  type OcrScript,
  ocrModelSetFor,
} from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import { ocrModelSet } from './ocr-models.ts';

const SCRIPT_PATTERNS: Record<OcrScript, RegExp> = {
  latin: /\p{Script=Latin}/u,
  han: /\p{Script=Han}/u,
  kana: /[\p{Script=Hiragana}\p{Script=Katakana}]/u,
};
const LETTER = /\p{L}/u;
const NO_SCRIPT = /[\p{Script=Common}\p{Script=Inherited}]/u;

const masks = new WeakMap<readonly string[], Map<string, Uint8Array>>();

/**
 * One entry per recogniser class (0 is the CTC blank, class i + 1 is characters[i]): 1 where the class may be read
 * under the restriction. Undefined for no restriction. Cached per dictionary and restriction.
 */
export function languageMask(characters: readonly string[], languages: readonly OcrLanguage[]): Uint8Array | undefined {
  if (languages.length === 0) return undefined;
  const key = languages.join(',');
  let byLanguages = masks.get(characters);
  if (!byLanguages) {
    byLanguages = new Map();
    masks.set(characters, byLanguages);
  }
  let mask = byLanguages.get(key);
  if (!mask) {
    const scripts = [...new Set(languages.flatMap((language) => OCR_LANGUAGE_SCRIPTS[language]))];
    mask = new Uint8Array(characters.length + 1);
    mask[0] = 1;
    characters.forEach((char, i) => {
      const kept =
        !LETTER.test(char) || NO_SCRIPT.test(char) || scripts.some((script) => SCRIPT_PATTERNS[script].test(char));
      mask![i + 1] = kept ? 1 : 0;
    });
    byLanguages.set(key, mask);
  }
  return mask;
}

/**
 * The set that reads an image (contracts' ocrModelSetFor) from the one a request named, its languages and the
 * deployment's set: MODEL_SET_UNKNOWN for a set imgpipe does not know, OCR_LANGUAGE_UNSUPPORTED for a language it
 * does not know or that the named set (or, with none named, every set) cannot read.
 */
export function chooseOcrModelSet(
  named: string | undefined,
  languages: readonly string[],
  deployment: string,
): OcrModelSetName {
  for (const set of [named, deployment]) if (set !== undefined) ocrModelSet(set);
  const chosen = named ?? deployment;
  const known = checkOcrLanguages(languages);
  const set = ocrModelSetFor(known, named as OcrModelSetName | undefined, deployment as OcrModelSetName);
  if (!set) {
    throw new ImgpipeError('OCR_LANGUAGE_UNSUPPORTED', `the OCR model set ${chosen} cannot read ${known.join(', ')}`, {
      details: { languages: known, modelSet: chosen },
    });
  }
  return set;
}
