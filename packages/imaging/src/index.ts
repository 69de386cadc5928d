/**
 * @imgpipe/imaging: the operations language (a recipe of resize, crop, geometry, filters, enhancement and output
 * settings, as JSON or a compact string) and its engine on sharp/libvips. Pure: bytes and a recipe in, an encoded
 * image out; no Kafka, HTTP or database. The language alone, without sharp, is `@imgpipe/imaging/recipe`.
 *
 *   const recipe = parseRecipe('resize:800x600:cover/sharpen/format:webp:80');
 *   const { bytes, contentType, width, height } = await applyRecipe(input, recipe, { accept, limits });
 */
export * from './recipe-language.ts';
export { type ApplyOptions, applyRecipe, type TransformResult } from './apply.ts';
export {
  type AroundOptions,
  cropAround,
  type DetectionBox,
  type DetectionSource,
  type Detections,
} from './crop.ts';
export type { Box, Size } from './geometry.ts';
export { INPUT_FORMATS, type InputFormat, probeInput, type SourceInfo, sniffInputFormat } from './input.ts';
export { encodeBmp } from './output/bmp.ts';
export { CONTENT_TYPES } from './output/encoders.ts';
export { acceptedQualities, negotiateFormat } from './output/negotiate.ts';
export { detectionNeedsOf, initialState, planRecipe, type RecipePlan } from './plan.ts';
export { planResize, type ResizePlan } from './resize.ts';
