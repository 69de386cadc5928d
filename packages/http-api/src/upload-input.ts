import { checkOcrLanguages, isOcrModelSet, type UploadAnalysisName } from '@imgpipe/contracts';
import { ImgpipeError } from '@imgpipe/core';
import {
  formatRecipe,
  MAX_PRESETS,
  pipelineProblem,
  type RenditionPresets,
  resolvePresets,
  type TransformLimits,
} from '@imgpipe/imaging/recipe';
import type { FastifyRequest } from 'fastify';
import { parseAnalyses, parseAttributes } from './image-intake.ts';
import { multipartError } from './image-parts.ts';
import { checkName } from './text-rules.ts';
import { type RecipeFields, readRecipe } from './transform-input.ts';
import { CALLBACK_URL_MAX, SOURCE_NAME_MAX, uploadSchemas } from './upload-schemas.ts';

export interface UploadOptions {
  analyses: UploadAnalysisName[];
  /** Rendition preset names, each one the deployment configures, in the order asked. */
  renditions: string[];
  /** A batch's ad-hoc recipe for every image, canonical (formatRecipe). */
  recipe?: string;
  sourceName?: string;
  callbackUrl?: string;
  attributes?: Record<string, string>;
  /** The OCR model set (ImageUploaded.ocrModel); absent: the deployment's. */
  ocrModel?: string;
  /** Languages to restrict OCR to (ImageUploaded.ocrLanguages), in catalogue order; absent: none. */
  ocrLanguages?: string[];
}

export type UploadItem =
  | { kind: 'bytes'; bytes: Buffer; sourceName?: string }
  | { kind: 'url'; url: string; sourceName?: string };

export interface UploadLimits {
  maxItems: number;
  fileField: string;
  /** The rendition presets an upload may name. */
  presets: RenditionPresets;
  /** A batch: it may carry an ad-hoc recipe (`ops` or `recipe`), checked against these limits. */
  recipes?: Partial<TransformLimits>;
}

export interface UploadInput {
  items: UploadItem[];
  options: UploadOptions;
}

interface UploadQuery {
  ops?: string;
  analyses?: string;
  renditions?: string;
  sourceName?: string;
  callbackUrl?: string;
}

interface JsonUpload {
  url?: string;
  images?: { url: string; sourceName?: string }[];
  analyses?: string[];
  renditions?: string[];
  sourceName?: string;
  callbackUrl?: string;
  attributes?: Record<string, string>;
  ops?: unknown;
  recipe?: unknown;
}

/**
 * The upload's options, checked whatever form they came in: JSON bodies and query strings were validated by their
 * schemas already; multipart fields are text that only this sees.
 */
function options(
  fields: {
    analyses?: unknown;
    renditions?: unknown;
    sourceName?: unknown;
    callbackUrl?: unknown;
    attributes?: unknown;
    ocrModel?: unknown;
    ocrLanguages?: unknown;
  },
  presets: RenditionPresets,
): UploadOptions {
  const text = (value: unknown, name: string, max: number) => {
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') throw new ImgpipeError('REQUEST_INVALID', `${name} must be a string`);
    return checkName(value, name, max);
  };
  const sourceName = text(fields.sourceName, 'sourceName', SOURCE_NAME_MAX);
  const callbackUrl = text(fields.callbackUrl, 'callbackUrl', CALLBACK_URL_MAX);
  const attributes = parseAttributes(fields.attributes);
  // One of OCR_MODEL_SET_NAMES: every form's schema (multipart fields' too) has checked it against the enum.
  const ocrModel = text(fields.ocrModel, 'ocrModel', 64);
  const ocrLanguages = parseOcrLanguages(fields.ocrLanguages, ocrModel);
  return {
    analyses: parseAnalyses(fields.analyses),
    renditions: parseRenditions(fields.renditions, presets),
    ...(sourceName ? { sourceName } : {}),
    ...(callbackUrl ? { callbackUrl } : {}),
    ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
    ...(ocrModel ? { ocrModel } : {}),
    ...(ocrLanguages.length > 0 ? { ocrLanguages } : {}),
  };
}

/**
 * OCR languages (a JSON array, or comma-separated text; the schemas have checked each against the catalogue) in
 * catalogue order; 400 OCR_LANGUAGE_UNSUPPORTED when the set the upload names cannot read one of them.
 */
function parseOcrLanguages(value: unknown, ocrModel: string | undefined): string[] {
  if (value === undefined || value === null || value === '') return [];
  const names = (Array.isArray(value) ? value : String(value).split(','))
    .map((name) => String(name).trim())
    .filter(Boolean);
  return checkOcrLanguages(names, ocrModel && isOcrModelSet(ocrModel) ? ocrModel : undefined);
}

/** Preset names (a JSON array, or comma-separated text), each one the deployment configures: else 400. */
function parseRenditions(value: unknown, presets: RenditionPresets): string[] {
  if (value === undefined || value === null || value === '') return [];
  const names = (Array.isArray(value) ? value : String(value).split(','))
    .map((name) => String(name).trim())
    .filter(Boolean);
  if (names.length > MAX_PRESETS) {
    throw new ImgpipeError('REQUEST_INVALID', `at most ${MAX_PRESETS} renditions per upload (got ${names.length})`);
  }
  return resolvePresets(names, presets).map((preset) => preset.name);
}

/**
 * A batch's ad-hoc recipe (`ops` or `recipe`), read and checked exactly as POST /v1/transform reads its recipe (the
 * same RECIPE_* codes), and refused (RECIPE_INVALID_ARGUMENT) when the pipeline cannot render it: `format:auto` has
 * no Accept header there, and the transform stage runs beside the detectors, not after them. Its canonical string,
 * or undefined when the batch has none.
 */
function batchRecipe(
  request: FastifyRequest,
  fields: RecipeFields,
  limits: UploadLimits,
  twice: boolean,
): string | undefined {
  if (!limits.recipes || (fields.ops === undefined && fields.recipe === undefined)) return undefined;
  if (twice) throw new ImgpipeError('REQUEST_INVALID', 'give the recipe once: either ops or recipe, not both');
  const recipe = readRecipe(request, fields, limits.recipes);
  const problem = pipelineProblem(recipe);
  if (problem)
    throw new ImgpipeError('RECIPE_INVALID_ARGUMENT', `a batch's recipe is rendered in the pipeline: ${problem}`);
  return formatRecipe(recipe);
}

function withRecipe(options: UploadOptions, recipe: string | undefined): UploadOptions {
  return recipe === undefined ? options : { ...options, recipe };
}

/** A file name the client sent (multipart part or Content-Disposition): a name, so no control characters. */
function fileName(name: string | undefined): string | undefined {
  return name ? checkName(name, 'the file name', SOURCE_NAME_MAX) : undefined;
}

/** A file name from Content-Disposition, if the client sent one with a raw body. */
function dispositionName(request: FastifyRequest): string | undefined {
  const header = request.headers['content-disposition'];
  const match = typeof header === 'string' ? /filename="?([^";]+)"?/i.exec(header) : null;
  return fileName(match?.[1]);
}

/** The text parts a multipart upload may have besides its files (the documented schema lists no others). */
/** An option sent as a part with its own Content-Type: at most the largest attributes map the limits allow. */
const OPTION_PART_MAX_BYTES = 128 * 1024;
const MULTIPART_FIELDS: ReadonlySet<string> = new Set([
  'analyses',
  'renditions',
  'sourceName',
  'callbackUrl',
  'attributes',
  'ocrModel',
  'ocrLanguages',
]);
/** A batch's multipart fields besides those: its ad-hoc recipe. */
const RECIPE_MULTIPART_FIELDS: ReadonlySet<string> = new Set(['ops', 'recipe']);

/** The multipart fields' schema of a deployment's presets, made once per set of presets. */
const fieldsSchemas = new WeakMap<RenditionPresets, object>();
function fieldsSchemaOf(presets: RenditionPresets): object {
  let schema = fieldsSchemas.get(presets);
  if (!schema) {
    schema = uploadSchemas([...presets.keys()]).multipartFields;
    fieldsSchemas.set(presets, schema);
  }
  return schema;
}

async function readMultipart(request: FastifyRequest, query: UploadQuery, limits: UploadLimits): Promise<UploadInput> {
  const items: UploadItem[] = [];
  const fields: Record<string, unknown> = {};
  try {
    for await (const part of request.parts()) {
      const option =
        MULTIPART_FIELDS.has(part.fieldname) || (limits.recipes && RECIPE_MULTIPART_FIELDS.has(part.fieldname));
      const expected = part.fieldname === limits.fileField ? 'file' : option ? 'field' : undefined;
      if (expected === undefined) {
        throw new ImgpipeError(
          'REQUEST_INVALID',
          `unknown multipart part ${JSON.stringify(part.fieldname)}: images go in ${limits.fileField}, options in ${[...MULTIPART_FIELDS, ...(limits.recipes ? RECIPE_MULTIPART_FIELDS : [])].join(', ')}`,
        );
      }
      // An option part sent with its own Content-Type (the OpenAPI document declares attributes as
      // application/json) arrives as a file part: its bytes are the field's text.
      if (expected === 'field' && part.type === 'file' && /^(application\/json|text\/plain)\b/i.test(part.mimetype)) {
        const text = await part.toBuffer();
        if (text.byteLength > OPTION_PART_MAX_BYTES) {
          throw new ImgpipeError(
            'REQUEST_INVALID',
            `multipart part ${part.fieldname} is over ${OPTION_PART_MAX_BYTES} bytes`,
          );
        }
        fields[part.fieldname] = text.toString('utf8');
        continue;
      }
      if (part.type !== expected) {
        throw new ImgpipeError(
          'REQUEST_INVALID',
          `multipart part ${part.fieldname} must be a ${expected === 'file' ? 'file' : 'text field'}`,
        );
      }
      if (part.type === 'file') {
        const sourceName = fileName(part.filename);
        const bytes = await part.toBuffer();
        items.push({ kind: 'bytes', bytes, ...(sourceName ? { sourceName } : {}) });
      } else {
        if (RECIPE_MULTIPART_FIELDS.has(part.fieldname) && part.fieldname in fields) {
          throw new ImgpipeError('REQUEST_INVALID', `${part.fieldname} given twice`);
        }
        fields[part.fieldname] = part.value;
      }
    }
  } catch (error) {
    throw multipartError(error);
  }
  // Presets first, so an unknown one answers RENDITION_PRESET_UNKNOWN as in the query string and JSON forms.
  if (typeof fields['renditions'] === 'string') parseRenditions(fields['renditions'], limits.presets);
  // The same schema as the query string's and the JSON body's options (attributes: parseAttributes).
  const validate = request.compileValidationSchema(fieldsSchemaOf(limits.presets));
  if (!validate(fields)) {
    const problems = (validate.errors ?? []).map(
      (issue) => `${issue.instancePath.slice(1) || 'a field'} ${issue.message}`,
    );
    throw new ImgpipeError('REQUEST_INVALID', `multipart fields: ${problems.join('; ')}`);
  }
  const uploadOptions = options({ ...query, ...fields }, limits.presets);
  const recipeFields = { ops: fields['ops'] ?? query.ops, recipe: fields['recipe'] };
  const recipe = batchRecipe(
    request,
    definedFields(recipeFields),
    limits,
    query.ops !== undefined && fields['ops'] !== undefined,
  );
  return { items: checkCount(items, limits.maxItems), options: withRecipe(uploadOptions, recipe) };
}

function definedFields(fields: RecipeFields): RecipeFields {
  return {
    ...(fields.ops !== undefined ? { ops: fields.ops } : {}),
    ...(fields.recipe !== undefined ? { recipe: fields.recipe } : {}),
  };
}

/**
 * What an upload request carries, whichever of the three forms it takes: multipart (files plus fields), a raw image
 * body (options in the query string), or JSON with `url` (or `images: [{url}]` for a batch). Everything is checked
 * here, before any image is stored.
 */
export async function readUpload(request: FastifyRequest, limits: UploadLimits): Promise<UploadInput> {
  const query = request.query as UploadQuery;
  if (request.isMultipart()) return readMultipart(request, query, limits);
  const body = request.body;
  if (Buffer.isBuffer(body)) {
    const sourceName = dispositionName(request);
    const uploadOptions = options(query, limits.presets);
    return {
      items: [{ kind: 'bytes', bytes: body, ...(sourceName ? { sourceName } : {}) }],
      options: withRecipe(uploadOptions, batchRecipe(request, definedFields({ ops: query.ops }), limits, false)),
    };
  }
  if (body && typeof body === 'object') {
    const json = body as JsonUpload;
    const urls = json.images ?? (json.url ? [{ url: json.url }] : []);
    const items = urls.map(
      (entry): UploadItem => ({
        kind: 'url',
        url: entry.url,
        ...(entry.sourceName ? { sourceName: checkName(entry.sourceName, 'sourceName', SOURCE_NAME_MAX) } : {}),
      }),
    );
    const { ops, recipe, ...jsonOptions } = json;
    const uploadOptions = options({ ...query, ...jsonOptions }, limits.presets);
    const given = batchRecipe(
      request,
      definedFields({ ops: ops ?? query.ops, recipe }),
      limits,
      ops !== undefined && query.ops !== undefined,
    );
    return { items: checkCount(items, limits.maxItems), options: withRecipe(uploadOptions, given) };
  }
  throw new ImgpipeError('IMAGE_EMPTY', 'the request carries no image');
}

function checkCount(items: UploadItem[], max: number): UploadItem[] {
  if (items.length === 0) throw new ImgpipeError('IMAGE_EMPTY', 'the request carries no image');
  if (items.length > max) {
    throw new ImgpipeError('REQUEST_INVALID', `at most ${max} image${max === 1 ? '' : 's'} per request`);
  }
  return items;
}
