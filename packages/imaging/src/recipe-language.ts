/**
 * @imgpipe/imaging/recipe: the recipe language alone (parse, format, validate, schema, limits), without sharp, for
 * callers that check or store recipes and never decode an image.
 */
export { formatOperation, formatRecipe } from './grammar/format.ts';
export { type Family, OPERATIONS, type OpSpec, operationSpec } from './grammar/operations.ts';
export {
  MAX_RECIPE_ENTRIES,
  MAX_RECIPE_LENGTH,
  parseRecipe,
  parseRecipeJson,
  parseRecipeString,
} from './grammar/parse.ts';
export { RECIPE_STRING_SCHEMA, recipeJsonSchema } from './grammar/schema.ts';
export {
  DEFAULT_TRANSFORM_LIMITS,
  loadTransformLimits,
  resolveLimits,
  type TransformLimits,
  type TransformLimitsConfig,
  transformLimitSettings,
} from './limits.ts';
export * from './presets.ts';
export * from './recipe.ts';
export { renditionVariant } from './rendition-variant.ts';
export { validateRecipe } from './validate.ts';
