import { OCR_LANGUAGES, OCR_MODEL_SET_NAMES, UPLOAD_ANALYSES } from '@imgpipe/contracts';
import { MAX_PRESETS } from '@imgpipe/imaging/recipe';
import { IDEMPOTENCY_KEY_PATTERN } from './idempotency.ts';
import { ATTRIBUTE_KEY_MAX, ATTRIBUTE_VALUE_MAX, ATTRIBUTES_MAX } from './image-intake.ts';
import { analysesProperty } from './schemas.ts';
import { NAME_PATTERN, nameSchema, textSchema } from './text-rules.ts';
import { RECIPE_FIELD_SCHEMAS } from './transform-input.ts';

/**
 * The JSON schemas of an upload's parts: its options (query string, JSON body or multipart fields, one rule for all
 * three), its JSON bodies and its headers. The route validates JSON bodies, query strings and headers with them;
 * upload-input.ts validates multipart fields with them; the OpenAPI document shows them.
 */

/** Longest sourceName (given, or taken from a file name or URL path) and callbackUrl. */
export const SOURCE_NAME_MAX = 2048;
export const CALLBACK_URL_MAX = 2048;

/** `detect,ocr,features`: known analysis names, comma-separated (spaces around them allowed); empty runs all. */
// Written so that no two whitespace runs can match the same spaces: a linear match, whatever the input.
const ANALYSES_LIST = `^\\s*(?:(?:${UPLOAD_ANALYSES.join('|')})\\s*)?(?:,\\s*(?:(?:${UPLOAD_ANALYSES.join('|')})\\s*)?)*$`;

const analysesText = {
  type: 'string',
  maxLength: 200,
  pattern: ANALYSES_LIST,
  description: 'comma-separated: detect,faces,ocr,features (default detect,faces,ocr; features only when named)',
} as const;
const sourceName = nameSchema(SOURCE_NAME_MAX, { description: 'a name to show (default: the file name or URL path)' });
const callbackUrl = {
  type: 'string',
  format: 'uri',
  maxLength: CALLBACK_URL_MAX,
  pattern: NAME_PATTERN,
  description: 'called on completion (webhook); checked by the SSRF guard at upload time',
} as const;
const ocrModel = {
  type: 'string',
  enum: [...OCR_MODEL_SET_NAMES],
  description:
    "the OCR model set to read the image with (default: the deployment's IMGPIPE_OCR_MODEL_SET); the result's stages.ocr.model names the models that ran. An upload naming one is never deduplicated",
} as const;
const ocrLanguages = nameListSchemas(
  OCR_LANGUAGES,
  'languages (ISO 639-1) to restrict OCR to: only their scripts, digits and punctuation are read; with no ocrModel, ja chooses a set that reads kana (ppocr-v5), and ja with ocrModel ppocr-v4 is 400 OCR_LANGUAGE_UNSUPPORTED',
  { maxLength: 100, maxItems: OCR_LANGUAGES.length },
);
const attributes = {
  type: 'object',
  description: `your own string metadata, returned with the results: at most ${ATTRIBUTES_MAX} values`,
  maxProperties: ATTRIBUTES_MAX,
  propertyNames: nameSchema(ATTRIBUTE_KEY_MAX, { minLength: 1 }),
  additionalProperties: textSchema(ATTRIBUTE_VALUE_MAX),
} as const;

export const uploadHeadersSchema = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      pattern: IDEMPOTENCY_KEY_PATTERN,
      description: 'a retry with the same key returns the first response instead of uploading again',
    },
  },
} as const;

const binary = { type: 'string', format: 'binary' } as const;

/**
 * `thumb,web`: the deployment's rendition presets, comma-separated (spaces around them allowed), in the same linear
 * shape as the analyses list; an array of them in JSON. The names come from IMGPIPE_RENDITION_PRESETS, so the
 * OpenAPI document says exactly which names this deployment takes (a name outside them is 400
 * RENDITION_PRESET_UNKNOWN, checked again by upload-input.ts).
 */
function renditionSchemas(names: readonly string[]) {
  return nameListSchemas(
    names,
    `rendition presets to render in the pipeline, from this deployment's: ${names.join(', ') || 'none'} (default none)`,
    { maxLength: 200, maxItems: MAX_PRESETS },
  );
}

/**
 * A list of names from `names` in both forms an upload option takes: comma-separated text (query strings and
 * multipart fields) and a JSON array. No names: only the empty list.
 */
function nameListSchemas(
  names: readonly string[],
  description: string,
  limits: { maxLength: number; maxItems: number },
) {
  const name = names.length > 0 ? `(?:${names.join('|')})` : '(?!)';
  return {
    text: {
      type: 'string',
      maxLength: limits.maxLength,
      pattern: `^\\s*(?:${name}\\s*)?(?:,\\s*(?:${name}\\s*)?)*$`,
      description: `comma-separated ${description}`,
    },
    array: {
      type: 'array',
      maxItems: names.length > 0 ? limits.maxItems : 0,
      items: names.length > 0 ? { type: 'string', enum: [...names] } : { type: 'string' },
      description,
    },
  } as const;
}

/**
 * A batch's ad-hoc recipe, applied to every image by the transform stage: `ops` (string form) or `recipe` (JSON
 * form), as POST /v1/transform takes them.
 */
const batchRecipe = {
  ops: {
    ...RECIPE_FIELD_SCHEMAS.ops,
    description: `a recipe rendered for every image of the batch, listed as the rendition "recipe" (string form; or give recipe). ${RECIPE_FIELD_SCHEMAS.ops.description}`,
  },
  recipe: {
    $ref: 'Recipe#',
    description:
      'a recipe rendered for every image of the batch, listed as the rendition "recipe" (JSON form; or give ops)',
  },
} as const;

/** The upload schemas of a deployment whose rendition presets have these names. */
export function uploadSchemas(presetNames: readonly string[]) {
  const renditions = renditionSchemas(presetNames);
  const options = {
    analyses: analysesText,
    renditions: renditions.text,
    sourceName,
    callbackUrl,
    ocrModel,
    ocrLanguages: ocrLanguages.text,
  };
  const common = {
    analyses: analysesProperty,
    renditions: renditions.array,
    sourceName,
    callbackUrl,
    attributes,
    ocrModel,
    ocrLanguages: ocrLanguages.array,
  };
  return {
    /** Query string options (the same for a raw body, multipart and JSON). */
    query: { type: 'object', properties: options },
    /** A batch's query string: the options, and an ad-hoc recipe for every image (`ops`, the string form). */
    batchQuery: { type: 'object', properties: { ...options, ops: batchRecipe.ops } },
    /** Multipart text fields (attributes is JSON text, checked by parseAttributes against the same rules). */
    multipartFields: { type: 'object', properties: options },
    urlUpload: {
      type: 'object',
      required: ['url'],
      additionalProperties: false,
      properties: {
        url: { type: 'string', format: 'uri', maxLength: 2048, description: 'http(s) URL of a public image' },
        ...common,
      },
    },
    /**
     * A batch's JSON body. `documented`: as the OpenAPI document shows it (`recipe` the Recipe schema); otherwise as
     * the route validates it (`recipe` any JSON, read by the recipe parser so its mistakes answer their RECIPE_*
     * codes, as in POST /v1/transform).
     */
    urlBatch(maxImages: number, documented = false) {
      return {
        type: 'object',
        required: ['images'],
        additionalProperties: false,
        properties: {
          images: {
            type: 'array',
            minItems: 1,
            maxItems: maxImages,
            items: {
              type: 'object',
              required: ['url'],
              additionalProperties: false,
              properties: { url: { type: 'string', format: 'uri', maxLength: 2048 }, sourceName },
            },
          },
          ...common,
          ops: batchRecipe.ops,
          recipe: documented ? batchRecipe.recipe : {},
        },
      };
    },
    /**
     * The request body as documented: multipart (files plus the option fields; attributes a JSON part), raw image
     * bytes, or JSON. Validation covers JSON; uploads are checked by their bytes and multipart fields by
     * upload-input.ts.
     */
    documentedBody(json: object, files: { single: true } | { batch: number }) {
      const fileParts =
        'single' in files
          ? { file: binary }
          : { files: { type: 'array', minItems: 1, maxItems: files.batch, items: binary } };
      const recipeParts = 'single' in files ? {} : { ops: batchRecipe.ops, recipe: batchRecipe.recipe };
      return {
        required: true,
        content: {
          'multipart/form-data': {
            schema: {
              type: 'object',
              additionalProperties: false,
              required: Object.keys(fileParts),
              properties: { ...fileParts, ...options, attributes, ...recipeParts },
            },
            encoding: {
              attributes: { contentType: 'application/json' },
              ...('single' in files ? {} : { recipe: { contentType: 'application/json' } }),
            },
          },
          'image/*': { schema: binary },
          'application/octet-stream': { schema: binary },
          'application/json': { schema: json },
        },
      };
    },
  };
}

/** Multipart text fields of a deployment without rendition presets (the analyses rule is every deployment's). */
export const multipartFieldsSchema = uploadSchemas([]).multipartFields;
