/**
 * What a POST /v1/transform request carries: one image (a multipart `file` part, a raw body, or a JSON `url`) and
 * one recipe (the string form as `ops`, in the query string or a multipart field or the JSON body, or the JSON form
 * as `recipe`, a JSON body field or a multipart field of JSON text). The recipe is read by the imaging package's
 * parser (its RECIPE_* codes), checked against the configured limits, and held to the JSON Schema the OpenAPI
 * document shows (Recipe), all before the image is read or fetched.
 */
import { ImgpipeError } from '@imgpipe/core';
import {
  parseRecipe,
  RECIPE_STRING_SCHEMA,
  type Recipe,
  recipeJsonSchema,
  type TransformLimits,
  validateRecipe,
} from '@imgpipe/imaging';
import type { FastifyRequest } from 'fastify';
import { type ImagePartsSpec, readImageParts } from './image-parts.ts';

export type TransformSource = { kind: 'bytes'; bytes: Buffer } | { kind: 'url'; url: string };

export interface TransformInput {
  source: TransformSource;
  recipe: Recipe;
}

/** A recipe's string form is printable ASCII (the grammar has nothing else): 4096 of them, escaped, fit a request line. */
export const RECIPE_TEXT_PATTERN = '^[\\x20-\\x7E]*$';

/** How a request documents its recipe: `ops` (string form) or `recipe` (JSON form, the shared Recipe schema). */
export const RECIPE_FIELD_SCHEMAS = {
  ops: {
    ...RECIPE_STRING_SCHEMA,
    pattern: RECIPE_TEXT_PATTERN,
    description: `${RECIPE_STRING_SCHEMA['description']}; or give recipe`,
  },
  recipe: { $ref: 'Recipe#', description: 'the recipe in its JSON form; or give ops' },
} as const;

export interface RecipeFields {
  ops?: unknown;
  recipe?: unknown;
}

const MULTIPART_FIELDS: ReadonlySet<string> = new Set(['ops', 'recipe']);

/**
 * The Recipe schema as the validator takes it: without its `$id` (registered already, for the document) and without
 * `default`s, which are documentation (the parser fills defaults) and which strict Ajv refuses inside `oneOf`.
 */
const RECIPE_VALIDATION_SCHEMA = withoutKeys(recipeJsonSchema(), new Set(['$id', 'default'])) as object;

function withoutKeys(value: unknown, keys: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutKeys(item, keys));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !keys.has(key))
      .map(([key, item]) => [key, withoutKeys(item, keys)]),
  );
}

/** The recipe from exactly one of `ops` (string form) and `recipe` (JSON form). */
export function readRecipe(request: FastifyRequest, fields: RecipeFields, limits: Partial<TransformLimits>): Recipe {
  const given = [fields.ops, fields.recipe].filter((value) => value !== undefined);
  if (given.length === 0) {
    throw new ImgpipeError('REQUEST_INVALID', 'the request needs a recipe: ops (string form) or recipe (JSON form)');
  }
  if (given.length > 1) {
    throw new ImgpipeError('REQUEST_INVALID', 'give the recipe once: either ops or recipe, not both');
  }
  let recipe: Recipe;
  if (fields.ops !== undefined) {
    if (typeof fields.ops !== 'string') throw new ImgpipeError('RECIPE_INVALID', 'ops must be a string');
    if (fields.ops.trim().startsWith('{')) {
      throw new ImgpipeError('RECIPE_INVALID', 'ops is the string form; send the JSON form as recipe');
    }
    recipe = parseRecipe(fields.ops);
  } else {
    let json = fields.recipe;
    if (typeof json === 'string') {
      try {
        json = JSON.parse(json);
      } catch (error) {
        throw new ImgpipeError('RECIPE_INVALID', `the recipe is not valid JSON: ${(error as Error).message}`);
      }
    }
    recipe = parseRecipe(json);
    // What the parser accepts, the documented schema must accept too (the imaging package's tests hold them equal).
    const validate = request.compileValidationSchema(RECIPE_VALIDATION_SCHEMA);
    if (!validate(json)) {
      const issue = validate.errors?.[0];
      throw new ImgpipeError(
        'RECIPE_INVALID',
        `the recipe does not match its schema: ${issue?.instancePath || 'recipe'} ${issue?.message ?? ''}`.trim(),
      );
    }
  }
  return validateRecipe(recipe, limits);
}

/** A transform's multipart form: the image in `file`, the recipe in `ops` or `recipe`. */
const MULTIPART_PARTS: ImagePartsSpec = {
  files: ['file'],
  fields: MULTIPART_FIELDS,
  twice: () => 'one file per transform',
  hint: 'the image goes in file (a file), the recipe in ops or recipe (text)',
};

async function readMultipart(
  request: FastifyRequest,
  query: RecipeFields,
  limits: Partial<TransformLimits>,
): Promise<TransformInput> {
  const parts = await readImageParts(request, MULTIPART_PARTS);
  const fields: RecipeFields = parts.fields;
  const bytes = parts.files.get('file');
  if (query.ops !== undefined && fields.ops !== undefined) {
    throw new ImgpipeError('REQUEST_INVALID', 'give the recipe once: either ops or recipe, not both');
  }
  const recipe = readRecipe(request, { ...query, ...fields }, limits);
  if (!bytes) throw new ImgpipeError('IMAGE_EMPTY', 'the request carries no image (multipart part file)');
  return { source: { kind: 'bytes', bytes }, recipe };
}

/** The image and the recipe, whichever form the request takes; the recipe is checked first. */
export async function readTransform(
  request: FastifyRequest,
  limits: Partial<TransformLimits>,
): Promise<TransformInput> {
  const query = request.query as RecipeFields;
  if (request.isMultipart()) return readMultipart(request, query, limits);
  const body = request.body;
  if (Buffer.isBuffer(body)) {
    return { recipe: readRecipe(request, query, limits), source: { kind: 'bytes', bytes: body } };
  }
  if (body && typeof body === 'object') {
    const json = body as { url: string; ops?: unknown; recipe?: unknown };
    if (query.ops !== undefined && json.ops !== undefined) {
      throw new ImgpipeError('REQUEST_INVALID', 'give the recipe once: either ops or recipe, not both');
    }
    const recipe = readRecipe(
      request,
      {
        ...query,
        ...(json.ops !== undefined ? { ops: json.ops } : {}),
        ...(json.recipe !== undefined ? { recipe: json.recipe } : {}),
      },
      limits,
    );
    return { recipe, source: { kind: 'url', url: json.url } };
  }
  // No body at all: the recipe's mistakes first, then the missing image.
  readRecipe(request, query, limits);
  throw new ImgpipeError('IMAGE_EMPTY', 'the request carries no image');
}
