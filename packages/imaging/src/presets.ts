/**
 * Rendition presets: named recipes a deployment configures (IMGPIPE_RENDITION_PRESETS) and an upload asks for by name
 * (`renditions=thumb,web`), rendered by the pipeline's transform stage. One setting, read by the API (which refuses
 * unknown names before storing anything) and by the transform stage (which renders them).
 *
 *   IMGPIPE_RENDITION_PRESETS='thumb=resize:320x320:cover/format:webp:80;web=resize:1600x1600/format:webp:82'
 *
 * A preset renders without a request, so it names its output format (no `format:auto`: there is no Accept header)
 * and crops around no detections (`crop:faces`, `crop:objects`: the transform stage runs beside the detectors, not
 * after them).
 */
import { parsed } from '@imgpipe/core';
import { ImgpipeError } from '@imgpipe/core';
import { formatRecipe } from './grammar/format.ts';
import { parseRecipeString } from './grammar/parse.ts';
import type { Recipe } from './recipe.ts';

export interface RenditionPreset {
  readonly name: string;
  readonly recipe: Recipe;
  /** The recipe's canonical string (formatRecipe): what the rendition cache key is derived from. */
  readonly canonical: string;
}

export type RenditionPresets = ReadonlyMap<string, RenditionPreset>;

/** A preset name: lower-case letter first, then letters, digits, `-` or `_`, at most 32 characters. */
export const PRESET_NAME = '[a-z][a-z0-9_-]{0,31}';
const PRESET_NAME_PATTERN = new RegExp(`^${PRESET_NAME}$`);
/** Presets an upload may ask for at once, and a deployment may configure. */
export const MAX_PRESETS = 16;

export const DEFAULT_RENDITION_PRESETS =
  'thumb=resize:320x320:cover/format:webp:80;web=resize:1600x1600/format:webp:82';

/** `name=recipe;name=recipe`: the presets, each recipe checked and held with its canonical string. */
export function parsePresets(text: string): RenditionPresets {
  const presets = new Map<string, RenditionPreset>();
  const entries = text
    .split(';')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length > MAX_PRESETS) throw new Error(`at most ${MAX_PRESETS} presets (got ${entries.length})`);
  for (const entry of entries) {
    const equals = entry.indexOf('=');
    if (equals < 0) throw new Error(`"${entry}" is not name=recipe`);
    const name = entry.slice(0, equals).trim();
    if (!PRESET_NAME_PATTERN.test(name)) {
      throw new Error(`preset name "${name}" must match ${PRESET_NAME} (lower-case letter first)`);
    }
    if (presets.has(name)) throw new Error(`preset ${name} is defined twice`);
    let recipe: Recipe;
    try {
      recipe = parseRecipeString(entry.slice(equals + 1));
    } catch (error) {
      throw new Error(`preset ${name}: ${(error as Error).message}`);
    }
    const problem = pipelineProblem(recipe);
    if (problem) throw new Error(`preset ${name}: ${problem}`);
    presets.set(name, { name, recipe, canonical: formatRecipe(recipe) });
  }
  return presets;
}

/**
 * Why a recipe cannot be rendered in the pipeline (no request, so no Accept header; the transform stage runs beside
 * the detectors, not after them), or undefined when it can.
 */
export function pipelineProblem(recipe: Recipe): string | undefined {
  if (recipe.ops.some((op) => op.op === 'format' && op.format === 'auto')) {
    return "format:auto needs a request's Accept header; name the format";
  }
  if (recipe.ops.some((op) => op.op === 'crop' && (op.mode === 'faces' || op.mode === 'objects'))) {
    return 'a crop around faces or objects needs detections the transform stage lacks';
  }
  return undefined;
}

/**
 * The name an ad-hoc recipe's rendition is listed under (a batch's `ops`/`recipe`): its entry in
 * ImageUploaded.renditions is `recipe=<canonical recipe>` (see inlineRendition).
 */
export const INLINE_RENDITION_NAME = 'recipe';

/**
 * An ad-hoc recipe as an entry of ImageUploaded.renditions: `name=recipe`, the same syntax as a preset of
 * IMGPIPE_RENDITION_PRESETS, which a preset name cannot be confused with (names have no `=`). The recipe is written
 * in its canonical form, so equal recipes make equal entries (deduplication, the rendition cache key).
 */
export function inlineRendition(recipe: Recipe, name: string = INLINE_RENDITION_NAME): string {
  return `${name}=${formatRecipe(recipe)}`;
}

export const renditionPresetSettings = {
  presets: parsed('IMGPIPE_RENDITION_PRESETS', {
    default: parsePresets(DEFAULT_RENDITION_PRESETS),
    parse: parsePresets,
    description:
      'Rendition presets an upload may ask for (renditions=thumb,web): name=recipe;name=recipe, recipes in the string form',
  }),
} as const;

/**
 * The presets an upload names, in the order named, duplicates dropped; RENDITION_PRESET_UNKNOWN (400) for a name the
 * deployment does not configure.
 */
export function resolvePresets(names: readonly string[], presets: RenditionPresets): RenditionPreset[] {
  const unique = [...new Set(names)];
  const unknown = unique.filter((name) => !presets.has(name));
  if (unknown.length > 0) {
    const known = [...presets.keys()];
    throw new ImgpipeError(
      'RENDITION_PRESET_UNKNOWN',
      `unknown rendition preset${unknown.length === 1 ? '' : 's'}: ${unknown.join(', ')} (this deployment has ${known.length > 0 ? known.join(', ') : 'none'})`,
      { details: { unknown, known } },
    );
  }
  return unique.map((name) => presets.get(name)!);
}

/**
 * What the transform stage renders for ImageUploaded.renditions: each entry a preset name (resolved as
 * resolvePresets does) or an inline `name=recipe` (inlineRendition), in the order given, repeats dropped. A malformed
 * inline entry fails with its RECIPE_* code (RECIPE_INVALID_ARGUMENT for a recipe the pipeline cannot render).
 */
export function resolveRenditions(entries: readonly string[], presets: RenditionPresets): RenditionPreset[] {
  const unique = [...new Set(entries)];
  const named = resolvePresets(
    unique.filter((entry) => !entry.includes('=')),
    presets,
  );
  return unique.map((entry) => {
    const equals = entry.indexOf('=');
    if (equals < 0) return named.find((preset) => preset.name === entry)!;
    const name = entry.slice(0, equals).trim();
    if (!PRESET_NAME_PATTERN.test(name)) {
      throw new ImgpipeError('RECIPE_INVALID', `rendition name "${name}" must match ${PRESET_NAME}`);
    }
    const recipe = parseRecipeString(entry.slice(equals + 1));
    const problem = pipelineProblem(recipe);
    if (problem) throw new ImgpipeError('RECIPE_INVALID_ARGUMENT', problem);
    return { name, recipe, canonical: formatRecipe(recipe) };
  });
}
