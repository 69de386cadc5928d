import { ImgpipeError } from '@imgpipe/core';
import { CONTENT_TYPES, type TransformLimits } from '@imgpipe/imaging';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { binary, imageRouteOptions, parseBodiesAsBytes } from '../image-route.ts';
import { AUTH_PROBLEMS, problemResponses } from '../schemas.ts';
import { RECIPE_FIELD_SCHEMAS, RECIPE_TEXT_PATTERN, readTransform } from '../transform-input.ts';
import type { TransformPool } from '../transform-pool.ts';

export interface TransformRoutesOptions {
  pool: TransformPool;
  limits: TransformLimits;
  /** The API's own upload cap (IMGPIPE_API_MAX_IMAGE_BYTES): bodies and fetched URLs over it are 413. */
  maxImageBytes: number;
  /** Fetches an image by URL behind the SSRF guard, as uploads do (IngestService.fetchUrl). */
  fetchUrl(url: string): Promise<{ bytes: Buffer }>;
}

const integerText = { type: 'string', pattern: '^[0-9]+$' } as const;

/** The image response of a transform or a rendition: the bytes, their type, and their size in headers. */
export function imageResponse(description: string, extraHeaders: Record<string, object> = {}) {
  return {
    description,
    headers: {
      'image-width': { ...integerText, description: 'width of the output in pixels' },
      'image-height': { ...integerText, description: 'height of the output in pixels' },
      ...extraHeaders,
    },
    content: Object.fromEntries([...new Set(Object.values(CONTENT_TYPES))].map((type) => [type, { schema: binary }])),
  };
}

/** What a transform's recipe and image can be refused with, besides authentication. */
export const TRANSFORM_PROBLEMS = [400, 413, 415, 422] as const;

/** A recipe's string form (ops) as documented: RECIPE_TEXT_PATTERN, re-exported for the renditions routes. */
export { RECIPE_TEXT_PATTERN };
const recipeFields = RECIPE_FIELD_SCHEMAS;

export function sendImage(
  reply: FastifyReply,
  image: { bytes: Buffer; contentType: string; width: number; height: number },
  variesOnAccept: boolean,
): FastifyReply {
  if (variesOnAccept) reply.header('vary', 'Accept');
  return reply
    .type(image.contentType)
    .header('image-width', String(image.width))
    .header('image-height', String(image.height))
    .header('content-length', String(image.bytes.byteLength))
    .send(image.bytes);
}

/**
 * POST /v1/transform: one image (multipart `file`, a raw body, or JSON with a `url` fetched behind the SSRF guard)
 * and a recipe (`ops`, the string form, in the query string, a multipart field or the JSON body; or `recipe`, the
 * JSON form), answered with the transformed image. Nothing is stored: no S3 object, no row, no event. The recipe
 * is checked before the image is read or fetched; the transform runs in the worker pool (src/transform-pool.ts).
 * Encapsulated: its catch-all body parser (any body that is not JSON or multipart is image bytes) serves it only.
 */
export async function transformRoutes(app: FastifyInstance, deps: TransformRoutesOptions): Promise<void> {
  const bodyLimit = Math.min(deps.maxImageBytes, deps.limits.maxInputBytes);
  const limits = { ...deps.limits, maxInputBytes: bodyLimit };
  parseBodiesAsBytes(app, bodyLimit, ['text/plain']);

  app.post(
    '/v1/transform',
    {
      ...imageRouteOptions(bodyLimit, {
        multipart: {
          required: ['file'],
          properties: { file: binary, ops: recipeFields.ops, recipe: recipeFields.recipe },
          encoding: { recipe: { contentType: 'application/json' } },
        },
        raw: true,
        json: {
          type: 'object',
          required: ['url'],
          additionalProperties: false,
          properties: {
            url: { type: 'string', format: 'uri', maxLength: 2048, description: 'http(s) URL of a public image' },
            ...recipeFields,
          },
        },
      }),
      schema: {
        operationId: 'transformImage',
        tags: ['transform'],
        summary: 'Apply a recipe to an image and answer with the result (nothing is stored)',
        description:
          'The image as a multipart `file`, a raw body, or JSON `{url}` (fetched behind the SSRF guard); the recipe ' +
          'as `ops` (string form: query string, multipart field or JSON field) or `recipe` (JSON form), exactly one. ' +
          '`format:auto` picks AVIF, WebP or JPEG from Accept (the response then varies on Accept). The output size ' +
          'is in Image-Width and Image-Height. Recipe mistakes are 400 with a RECIPE_* code, image problems 413, ' +
          '415 or 422 (docs/transform.md). Nothing is stored.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ops: recipeFields.ops },
        },
        body: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['url'],
                additionalProperties: false,
                // The recipe is read by the imaging package's parser (its RECIPE_* codes), then held to Recipe.
                properties: {
                  url: { type: 'string', format: 'uri', maxLength: 2048 },
                  ops: recipeFields.ops,
                  recipe: {},
                },
              },
            },
          },
        },
        response: {
          200: imageResponse('the transformed image', {
            vary: { type: 'string', description: 'Accept, when the recipe says format:auto' },
          }),
          ...problemResponses(...TRANSFORM_PROBLEMS, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request, reply) => {
      const input = await readTransform(request, limits);
      let bytes: Buffer;
      if (input.source.kind === 'bytes') {
        bytes = input.source.bytes;
      } else {
        bytes = (await deps.fetchUrl(input.source.url)).bytes;
      }
      if (bytes.byteLength === 0) throw new ImgpipeError('IMAGE_EMPTY', 'the image has zero bytes');
      const accept = request.headers.accept;
      const result = await deps.pool.run(bytes, input.recipe, { limits, ...(accept ? { accept } : {}) });
      const auto = input.recipe.ops.some((op) => op.op === 'format' && op.format === 'auto');
      return sendImage(reply, result, auto);
    },
  );
}
