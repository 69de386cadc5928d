import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ImgpipeError } from '@imgpipe/core';
import { Ajv } from 'ajv';
import { randomRecipe, seededRandom } from '../testing/random-recipe.ts';
import { parseRecipe } from './parse.ts';
import { recipeJsonSchema } from './schema.ts';

const ajv = new Ajv({ strict: true, allErrors: true });
const validate = ajv.compile(recipeJsonSchema());

describe('the JSON Schema of a recipe', () => {
  test('accepts every recipe parseRecipe produces (1000 seeded random recipes)', () => {
    const random = seededRandom(42);
    for (let i = 0; i < 1000; i++) {
      const recipe = JSON.parse(JSON.stringify(randomRecipe(random)));
      assert.ok(validate(recipe), `${JSON.stringify(recipe)}: ${ajv.errorsText(validate.errors)}`);
    }
  });

  test('accepts the documented examples with defaults left out', () => {
    for (const recipe of [
      {
        ops: [
          { op: 'resize', width: 800, height: 600, fit: 'cover' },
          { op: 'sharpen' },
          { op: 'format', format: 'webp', quality: 80 },
        ],
      },
      {
        ops: [
          { op: 'crop', mode: 'faces', padding: 0.2, aspect: [16, 9] },
          { op: 'resize', height: 300 },
        ],
      },
      { ops: [{ op: 'crop', mode: 'box', left: 0.1, top: 0.1, width: 0.8, height: 0.8, unit: 'fraction' }] },
      { ops: [] },
    ]) {
      assert.ok(validate(recipe), ajv.errorsText(validate.errors));
      parseRecipe(recipe);
    }
  });

  test('refuses what parseRecipe refuses for its shape: unknown operations, properties and modes, wrong types', () => {
    for (const recipe of [
      { ops: [{ op: 'explode' }] },
      { ops: [{ op: 'resize' }] },
      { ops: [{ op: 'resize', width: '800' }] },
      { ops: [{ op: 'resize', width: 800, colour: 'red' }] },
      { ops: [{ op: 'crop', left: 0, top: 0, width: 5, height: 5 }] },
      { ops: [{ op: 'crop', mode: 'circle' }] },
      { ops: [{ op: 'format', format: 'heic' }] },
      { ops: [{ op: 'median', size: 1 }] },
      { ops: [{ op: 'flip' }], version: 2 },
      { recipe: [] },
    ]) {
      assert.equal(validate(recipe), false, JSON.stringify(recipe));
      assert.throws(
        () => parseRecipe(recipe),
        (error: unknown) => error instanceof ImgpipeError && error.code.startsWith('RECIPE_'),
      );
    }
  });
});
