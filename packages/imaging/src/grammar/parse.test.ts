import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { randomRecipe, seededRandom } from '../testing/random-recipe.ts';
import { formatRecipe } from './format.ts';
import { OPERATIONS } from './operations.ts';
import { MAX_RECIPE_ENTRIES, MAX_RECIPE_LENGTH, parseRecipe } from './parse.ts';

const canonical = (text: string) => formatRecipe(parseRecipe(text));

describe('the string form', () => {
  test('reads the imgproxy-style example into explicit, defaulted operations', () => {
    assert.deepEqual(parseRecipe('resize:800x600:cover/sharpen:1/format:webp:80'), {
      ops: [
        {
          op: 'resize',
          width: 800,
          height: 600,
          fit: 'cover',
          enlarge: false,
          kernel: 'lanczos3',
          position: 'centre',
          background: '000000',
        },
        { op: 'sharpen', sigma: 1, flat: 1, jagged: 2 },
        { op: 'format', format: 'webp', quality: 80, progressive: false },
      ],
    });
  });

  test('canonical strings: trailing defaults left out, middle ones written, aliases and case resolved', () => {
    const cases: [string, string][] = [
      ['resize:800x600:cover/sharpen:1/format:webp:80', 'resize:800x600:cover/sharpen/format:webp:80'],
      ['RESIZE:800x600:Cover:0:lanczos3:center', 'resize:800x600:cover'],
      ['resize:800x600:contain:0:lanczos3:n:FFF', 'resize:800x600:contain:0:lanczos3:north:ffffff'],
      ['resize:800x600:inside:1', 'resize:800x600:inside:1'],
      ['resize:x300:cover', 'resize:x300'], // one side: the fit has no effect
      ['resize:800x600:fill:0:cubic:north', 'resize:800x600:fill:0:cubic'], // position only matters to cover/contain
      ['greyscale/blur:1/median:3/threshold:128', 'grayscale/blur/median/threshold'],
      ['rotate:-90:ff0000', 'rotate:270'], // right angles have no corners to fill
      ['rotate:-330', 'rotate:30'],
      ['rotate:30:ffffffff', 'rotate:30:ffffff'], // opaque alpha dropped
      ['hue:-30', 'hue:330'],
      ['crop:0:0:1.0:1', 'crop:0.0:0.0:1.0:1.0'], // one decimal point makes every number a fraction
      ['crop:10:20:300:400', 'crop:10:20:300:400'],
      ['crop:0.5x:attention', 'crop:0.5x:smart'],
      ['crop:objects::0.3', 'crop:objects::0.3'],
      ['crop:objects:Dog:0.1:16x9', 'crop:objects:dog:0.1:16x9'],
      ['crop:faces:0.1', 'crop:faces'],
      ['format:jpg:80:1/flip', 'flip/format:jpeg:80:1'], // settings move last
      ['metadata:keep/auto-orient:0/format:png/flop', 'flop/format:png/metadata:keep/auto-orient:0'],
      ['metadata:icc/auto-orient:1/negate', 'negate'], // settings at their defaults vanish
      ['/negate/', 'negate'],
      ['', ''],
      ['sharpen:0.5:1:2', 'sharpen:0.5'],
      ['auto-level:1:99/clahe:32:32:3', 'auto-level/clahe'],
    ];
    for (const [input, expected] of cases) assert.equal(canonical(input), expected, input);
  });

  test('fractions and pixels: a crop box unit comes from the decimal point', () => {
    const [fraction] = parseRecipe('crop:0.25:0:0.5:1').ops;
    assert.deepEqual(fraction, {
      op: 'crop',
      mode: 'box',
      left: 0.25,
      top: 0,
      width: 0.5,
      height: 1,
      unit: 'fraction',
    });
    const [pixels] = parseRecipe('crop:0:0:1:1').ops;
    assert.deepEqual(pixels, { op: 'crop', mode: 'box', left: 0, top: 0, width: 1, height: 1, unit: 'px' });
  });
});

describe('round trips', () => {
  test('2000 seeded random recipes: string -> recipe -> string is stable, and JSON <-> string agree', () => {
    const random = seededRandom(20_251_129);
    for (let i = 0; i < 2000; i++) {
      const recipe = randomRecipe(random);
      const text = formatRecipe(recipe);
      assert.deepEqual(parseRecipe(text), recipe, `string round trip of ${text}`);
      assert.equal(canonical(text), text, `canonical twice: ${text}`);
      const json = JSON.stringify(recipe);
      assert.deepEqual(parseRecipe(json), recipe, `JSON round trip of ${json}`);
      assert.deepEqual(parseRecipe(JSON.parse(json)), recipe);
    }
  });

  test('every operation and form appears in the random recipes', () => {
    const random = seededRandom(7);
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      for (const op of randomRecipe(random).ops) seen.add('mode' in op ? `${op.op}:${op.mode}` : op.op);
    }
    const expected = OPERATIONS.flatMap((spec) =>
      spec.variants.map((variant) => (variant.mode ? `${spec.op}:${variant.mode}` : spec.op)),
    ).filter((name) => name !== 'metadata' && name !== 'auto-orient');
    for (const name of expected) assert.ok(seen.has(name), `never generated: ${name}`);
  });

  test('the JSON form takes omitted defaults and gives the same recipe as the string', () => {
    assert.deepEqual(
      parseRecipe({
        ops: [
          { op: 'resize', width: 800 },
          { op: 'crop', mode: 'faces', aspect: [1, 1] },
        ],
      }),
      parseRecipe('resize:800x/crop:faces:0.1:1x1'),
    );
    assert.deepEqual(
      parseRecipe({ ops: [{ op: 'crop', mode: 'box', left: 0, top: 0, width: 0.5, height: 0.5, unit: 'fraction' }] }),
      parseRecipe('crop:0.0:0.0:0.5:0.5'),
    );
  });
});

describe('malformed recipes: each mistake has its code', () => {
  const cases: [unknown, string][] = [
    ['resise:800x600', 'RECIPE_UNKNOWN_OPERATION'],
    ['resize:800x600/explode', 'RECIPE_UNKNOWN_OPERATION'],
    [{ ops: [{ op: 'greyscale' }] }, 'RECIPE_UNKNOWN_OPERATION'], // aliases are for the string form
    ['resize:800', 'RECIPE_INVALID_ARGUMENT'],
    ['resize:x', 'RECIPE_INVALID_ARGUMENT'],
    ['resize:0x10', 'RECIPE_INVALID_ARGUMENT'],
    ['resize:10.5x10', 'RECIPE_INVALID_ARGUMENT'],
    ['resize:800x600:squash', 'RECIPE_INVALID_ARGUMENT'],
    ['resize:800x600:cover:maybe', 'RECIPE_INVALID_ARGUMENT'],
    ['resize:800x600:cover:0:lanczos3:centre:000000:extra', 'RECIPE_INVALID_ARGUMENT'],
    ['median:4', 'RECIPE_INVALID_ARGUMENT'],
    ['blur:0', 'RECIPE_INVALID_ARGUMENT'],
    ['gaussian-blur', 'RECIPE_INVALID_ARGUMENT'],
    ['gaussian-blur:0.1', 'RECIPE_INVALID_ARGUMENT'],
    ['sharpen:-1', 'RECIPE_INVALID_ARGUMENT'],
    ['threshold:256', 'RECIPE_INVALID_ARGUMENT'],
    ['rotate:abc', 'RECIPE_INVALID_ARGUMENT'],
    ['rotate:1e3', 'RECIPE_INVALID_ARGUMENT'],
    ['rotate:30:blue', 'RECIPE_INVALID_ARGUMENT'],
    ['crop:1:2:3', 'RECIPE_INVALID_ARGUMENT'],
    ['crop:0.5:0:1.5:1', 'RECIPE_INVALID_ARGUMENT'],
    ['crop:0:0:0:10', 'RECIPE_INVALID_ARGUMENT'],
    ['crop:faces:0.1:wide', 'RECIPE_INVALID_ARGUMENT'],
    ['crop:objects:a/b', 'RECIPE_UNKNOWN_OPERATION'], // "/" separates operations
    ['auto-level:50:50', 'RECIPE_INVALID_ARGUMENT'],
    ['format:bmp:80', 'RECIPE_INVALID_ARGUMENT'],
    ['format:webp:80:1', 'RECIPE_INVALID_ARGUMENT'],
    ['format:heic', 'RECIPE_INVALID_ARGUMENT'],
    ['gamma:5', 'RECIPE_INVALID_ARGUMENT'],
    [{ ops: [{ op: 'resize', width: '800' }] }, 'RECIPE_INVALID_ARGUMENT'],
    [{ ops: [{ op: 'resize', width: 800, colour: 'red' }] }, 'RECIPE_INVALID_ARGUMENT'],
    [{ ops: [{ op: 'crop', left: 0, top: 0, width: 5, height: 5 }] }, 'RECIPE_INVALID_ARGUMENT'], // no mode
    [{ ops: [{ op: 'flip', enlarge: true }] }, 'RECIPE_INVALID_ARGUMENT'],
    ['format:png/format:jpeg', 'RECIPE_INVALID'],
    ['negate//flip', 'RECIPE_INVALID'],
    ['{"ops": [', 'RECIPE_INVALID'],
    ['[{"op":"flip"}]', 'RECIPE_INVALID'],
    [{ ops: [{ op: 'flip' }], version: 2 }, 'RECIPE_INVALID'],
    [{ ops: [42] }, 'RECIPE_INVALID'],
    [null, 'RECIPE_INVALID'],
    ['x'.repeat(MAX_RECIPE_LENGTH + 1), 'RECIPE_INVALID'],
    [Array.from({ length: MAX_RECIPE_ENTRIES + 1 }, () => 'flip').join('/'), 'RECIPE_TOO_MANY_OPERATIONS'],
    [{ ops: Array.from({ length: MAX_RECIPE_ENTRIES + 1 }, () => ({ op: 'flip' })) }, 'RECIPE_TOO_MANY_OPERATIONS'],
  ];
  for (const [input, code] of cases) {
    test(`${typeof input === 'string' ? input.slice(0, 60) : JSON.stringify(input)?.slice(0, 60)} -> ${code}`, () => {
      assert.throws(
        () => parseRecipe(input),
        (error: unknown) => error instanceof ImgpipeError && error.code === code && error.httpStatus === 400,
      );
    });
  }

  test('an unknown operation suggests the nearest name', () => {
    assert.throws(() => parseRecipe('sharpn'), /did you mean sharpen\?/);
  });
});
