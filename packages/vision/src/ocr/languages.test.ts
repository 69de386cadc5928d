/**
 * OCR language restrictions: which characters a restriction keeps, how the set is chosen, and a real read of a
 * sign that mixes Chinese and Latin text, restricted each way.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { releaseModels } from '../models/model-loader.ts';
import { readShared, sharedModelsDir } from '../testing/shared.ts';
import { checkOcrLanguages } from '@imgpipe/contracts';
import { chooseOcrModelSet, languageMask } from './languages.ts';
import { recognizeText } from './recognize-text.ts';
import { signOnPhoto } from './synthetic-text.ts';

describe('languageMask', () => {
  const characters = ['a', 'é', 'Z', '中', '出', 'ア', 'あ', 'ー', '1', '%', '：', 'Ω', 'Ж', ' '];
  const kept = (languages: Parameters<typeof languageMask>[1]) => {
    const mask = languageMask(characters, languages)!;
    assert.equal(mask[0], 1, 'the CTC blank is always allowed');
    return characters.filter((_, i) => mask[i + 1] === 1).join('');
  };

  test('Latin languages keep Latin letters, digits, punctuation and the space; not Han, kana, Greek or Cyrillic', () => {
    assert.equal(kept(['en']), 'aéZー1%： ');
    assert.equal(kept(['de', 'fr']), kept(['en']));
  });

  test('zh keeps Han; ja keeps Han and kana; with en both keep Latin too', () => {
    assert.equal(kept(['zh']), '中出ー1%： ');
    assert.equal(kept(['ja']), '中出アあー1%： ');
    assert.equal(kept(['en', 'ja']), 'aéZ中出アあー1%： ');
  });

  test('no languages: no mask', () => {
    assert.equal(languageMask(characters, []), undefined);
  });
});

describe('checking languages and choosing the set', () => {
  test('languages come back in catalogue order without repeats', () => {
    assert.deepEqual(checkOcrLanguages(['ja', 'en', 'ja'], 'ppocr-v5'), ['en', 'ja']);
  });

  test('an unknown language, or one the set cannot read, is OCR_LANGUAGE_UNSUPPORTED', () => {
    assert.throws(() => checkOcrLanguages(['en', 'xx']), { code: 'OCR_LANGUAGE_UNSUPPORTED' });
    assert.throws(() => checkOcrLanguages(['ja'], 'ppocr-v4'), { code: 'OCR_LANGUAGE_UNSUPPORTED' });
  });

  test('with no set named, the deployment reads what it can and ja chooses ppocr-v5', () => {
    assert.equal(chooseOcrModelSet(undefined, [], 'ppocr-v4'), 'ppocr-v4');
    assert.equal(chooseOcrModelSet(undefined, ['en', 'zh'], 'ppocr-v4'), 'ppocr-v4');
    assert.equal(chooseOcrModelSet(undefined, ['ja'], 'ppocr-v4'), 'ppocr-v5');
    assert.equal(chooseOcrModelSet(undefined, ['en'], 'ppocr-v5'), 'ppocr-v5');
  });

  test('a named set is kept, or refused when it cannot read the languages; unknown sets stay MODEL_SET_UNKNOWN', () => {
    assert.equal(chooseOcrModelSet('ppocr-v4', ['en'], 'ppocr-v5'), 'ppocr-v4');
    assert.throws(() => chooseOcrModelSet('ppocr-v4', ['ja'], 'ppocr-v5'), { code: 'OCR_LANGUAGE_UNSUPPORTED' });
    assert.throws(() => chooseOcrModelSet('ppocr-v9', [], 'ppocr-v4'), { code: 'MODEL_SET_UNKNOWN' });
    assert.throws(() => chooseOcrModelSet(undefined, ['xx'], 'ppocr-v4'), { code: 'OCR_LANGUAGE_UNSUPPORTED' });
  });
});

describe('a restricted read', () => {
  after(async () => {
    await releaseModels();
  });

  test('a sign in Chinese and English reads both unrestricted, and only the restriction’s script when restricted', async (t) => {
    const bytes = await signOnPhoto(
      readShared('images', 'photos', 'kite.jpg'),
      { width: 1200, height: 900 },
      {
        lines: ['安全出口', 'EXIT 3'],
        fontSize: 56,
        left: 300,
        top: 250,
        background: '#1f7a3a',
        foreground: '#ffffff',
      },
    );
    const options = { modelsDir: sharedModelsDir() };
    const read = async (languages?: string[]) =>
      (await recognizeText(bytes, { ...options, ...(languages ? { languages } : {}) })).lines.map((l) => l.text);
    const [all, english, chinese] = [await read(), await read(['en']), await read(['zh'])];
    t.diagnostic(`unrestricted ${JSON.stringify(all)}, en ${JSON.stringify(english)}, zh ${JSON.stringify(chinese)}`);
    const han = /\p{Script=Han}/u;
    const latin = /\p{Script=Latin}/u;
    assert.deepEqual(all, ['安全出口', 'EXIT 3']);
    assert.ok(english.includes('EXIT 3'), 'the Latin line is read under en');
    assert.ok(!english.some((line) => han.test(line)), 'no Han character under en');
    assert.ok(chinese.includes('安全出口'), 'the Chinese line is read under zh');
    assert.ok(!chinese.some((line) => latin.test(line)), 'no Latin letter under zh');
  });
});
