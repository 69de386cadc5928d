import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '@imgpipe/core';
import { DEFAULT_RENDITION_PRESETS, parsePresets, renditionPresetSettings, resolvePresets } from './presets.ts';

describe('rendition presets', () => {
  test('name=recipe;name=recipe, each held with its canonical recipe string', () => {
    const presets = parsePresets(' small = RESIZE:200x100:Cover:0:lanczos3:center/format:jpg:80 ; big=resize:x900 ');
    assert.deepEqual([...presets.keys()], ['small', 'big']);
    assert.equal(presets.get('small')!.canonical, 'resize:200x100:cover/format:jpeg:80');
    assert.equal(presets.get('big')!.canonical, 'resize:x900');
  });

  test('the defaults are thumb and web, and an unset or empty variable means them', () => {
    const defaults = parsePresets(DEFAULT_RENDITION_PRESETS);
    assert.deepEqual([...defaults.keys()], ['thumb', 'web']);
    assert.deepEqual([...loadConfig(renditionPresetSettings, {}).presets.keys()], ['thumb', 'web']);
    assert.deepEqual(
      [...loadConfig(renditionPresetSettings, { IMGPIPE_RENDITION_PRESETS: ' ' }).presets.keys()],
      ['thumb', 'web'],
    );
  });

  test('every mistake is refused at start-up as CONFIG_INVALID naming the variable', () => {
    const bad = [
      ['thumb', /not name=recipe/],
      ['Thumb=resize:10x10', /must match/],
      ['a=resize:10x10;a=resize:20x20', /defined twice/],
      ['a=explode:3', /preset a:/],
      ['a=resize:10x10/format:auto', /format:auto/],
      ['a=crop:faces', /faces or objects/],
      [Array.from({ length: 17 }, (_, i) => `p${i}=resize:10x10`).join(';'), /at most 16/],
    ] as const;
    for (const [text, message] of bad) {
      assert.throws(
        () => loadConfig(renditionPresetSettings, { IMGPIPE_RENDITION_PRESETS: text }),
        (error: Error & { code?: string }) =>
          error.code === 'CONFIG_INVALID' &&
          /IMGPIPE_RENDITION_PRESETS/.test(error.message) &&
          message.test(error.message),
        text,
      );
    }
  });

  test('an upload names presets: kept in its order without repeats; an unknown one is RENDITION_PRESET_UNKNOWN', () => {
    const presets = parsePresets(DEFAULT_RENDITION_PRESETS);
    assert.deepEqual(
      resolvePresets(['web', 'thumb', 'web'], presets).map((preset) => preset.name),
      ['web', 'thumb'],
    );
    assert.throws(() => resolvePresets(['thumb', 'poster'], presets), {
      code: 'RENDITION_PRESET_UNKNOWN',
      message: /poster.*thumb, web/,
    });
  });
});
