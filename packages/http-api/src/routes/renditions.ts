import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { principalOf } from '../fastify-types.ts';
import {
  DEFAULT_SIGNED_TTL_SECONDS,
  MAX_SIGNED_TTL_SECONDS,
  type RenditionSigner,
  signRendition,
} from '../rendition-signing.ts';
import { matchesEtag, type RenditionService, type RenditionTarget, readRenditionRecipe } from '../rendition-service.ts';
import { AUTH_PROBLEMS, problemResponses } from '../schemas.ts';
import { imageResponse, RECIPE_TEXT_PATTERN, sendImage } from './transform.ts';

const RENDITION_RECIPE_MAX = 2048;

export interface RenditionRoutesOptions {
  renditions: RenditionService;
  signer: RenditionSigner;
}

/** How long browsers and CDNs may keep a rendition before revalidating it with its ETag. */
const MAX_AGE_SECONDS = 24 * 60 * 60;

/**
 * A recipe in a URL: printable ASCII (all the grammar has) and at most 2048 characters, so that with its escapes the
 * request line stays well under the server's 16 KiB header limit (a longer one would be 431, outside the problem format).
 */
const recipeParam = {
  type: 'string',
  minLength: 1,
  maxLength: RENDITION_RECIPE_MAX,
  pattern: RECIPE_TEXT_PATTERN,
  description:
    'a recipe in its string form (docs/transform.md), e.g. resize:300x200:cover/format:webp; its `/` may be ' +
    'written as %2F (one path segment) or as `/`',
} as const;
const imageIdParam = { type: 'string', maxLength: 100, description: 'image id (UUID)' } as const;

const renditionHeaders = {
  etag: { type: 'string', description: 'derived from the cache key: the original, the normalised recipe, the format' },
  'cache-control': { type: 'string' },
  vary: { type: 'string', description: 'Accept, when the recipe says format:auto' },
  'rendition-cache': { type: 'string', enum: ['hit', 'miss'], description: 'served from the S3 cache or rendered' },
} as const;

const notModified = {
  description: "not modified: the client's If-None-Match names this rendition's ETag",
  headers: { etag: renditionHeaders.etag, 'cache-control': renditionHeaders['cache-control'] },
} as const;

const RENDITION_PROBLEMS = [400, 404, 413, 422] as const;

async function serve(
  deps: RenditionRoutesOptions,
  request: FastifyRequest,
  reply: FastifyReply,
  target: RenditionTarget,
  cacheControl: string,
): Promise<FastifyReply> {
  // Caching headers on the image and the 304 only: an error must not be kept by a browser or CDN.
  const cacheable = () => {
    reply.header('etag', target.etag).header('cache-control', cacheControl);
    if (target.variesOnAccept) reply.header('vary', 'Accept');
    return reply;
  };
  if (matchesEtag(request.headers['if-none-match'], target.etag)) return cacheable().code(304).send();
  const rendition = await deps.renditions.get(target);
  cacheable().header('rendition-cache', rendition.cached ? 'hit' : 'miss');
  return sendImage(reply, rendition, target.variesOnAccept);
}

/** The recipe of a rendition path: the `:recipe` segment, or everything after renditions/ when it has slashes. */
function recipeOf(params: Record<string, string>): string {
  return params['recipe'] ?? params['*'] ?? '';
}

/**
 * Renditions of stored images (src/rendition-service.ts): GET /v1/images/{id}/renditions/{recipe} for a caller
 * with the viewer role; POST /v1/images/{id}/rendition-urls to mint a signed, expiring URL for it; and the signed
 * GET /v1/renditions/{tenant}/{id}/{recipe}?expires=&signature= that a browser or CDN fetches without a token
 * (src/rendition-signing.ts; refused with 403 when unsigned, tampered or expired). The recipe's `/` may be %2F
 * (documented form: one path segment) or `/` (an undocumented twin route takes the rest of the path).
 */
export async function renditionRoutes(app: FastifyInstance, deps: RenditionRoutesOptions): Promise<void> {
  const limits = deps.renditions.limits;

  const authenticated = async (request: FastifyRequest, reply: FastifyReply) => {
    const { tenantId } = principalOf(request);
    const params = request.params as Record<string, string>;
    const recipe = readRenditionRecipe(recipeOf(params), limits);
    const target = await deps.renditions.locate(tenantId, params['id'] ?? '', recipe, request.headers.accept);
    return serve(deps, request, reply, target, `private, max-age=${MAX_AGE_SECONDS}`);
  };
  const getSchema = (hide: boolean) => ({
    ...(hide ? { hide: true } : {}),
    operationId: 'getRendition',
    tags: ['transform'],
    summary: 'An image with a recipe applied, rendered once and cached',
    description:
      "The recipe is applied to the image's original and the result kept in S3 under a key derived from the " +
      "original's SHA-256 and the normalised recipe; later requests read it from there. ETag and Cache-Control " +
      'let clients revalidate (304 on If-None-Match). `format:auto` chooses by Accept. crop:faces and ' +
      "crop:objects use the image's stored results (422 TRANSFORM_DETECTIONS_UNAVAILABLE until that stage completed).",
    params: {
      type: 'object',
      required: ['id', hide ? '*' : 'recipe'],
      properties: { id: imageIdParam, [hide ? '*' : 'recipe']: recipeParam },
    },
    response: {
      200: imageResponse('the rendition', renditionHeaders),
      304: notModified,
      ...problemResponses(...RENDITION_PROBLEMS, ...AUTH_PROBLEMS),
    },
  });
  app.get('/v1/images/:id/renditions/:recipe', { config: { auth: 'viewer' }, schema: getSchema(false) }, authenticated);
  app.get('/v1/images/:id/renditions/*', { config: { auth: 'viewer' }, schema: getSchema(true) }, authenticated);

  app.post(
    '/v1/images/:id/rendition-urls',
    {
      config: { auth: 'viewer' },
      schema: {
        operationId: 'signRenditionUrl',
        tags: ['transform'],
        summary: 'A signed, expiring URL of a rendition, to fetch without a token (a browser, a CDN)',
        description:
          'The URL is signed with HMAC-SHA256 over its path (tenant, image id, normalised recipe) and expiry, with ' +
          'IMGPIPE_RENDITION_SIGNING_KEY (501 RENDITION_SIGNING_UNCONFIGURED without one). Anyone holding it can ' +
          'fetch that rendition until it expires; changing any part of it makes it invalid.',
        params: { type: 'object', required: ['id'], properties: { id: imageIdParam } },
        body: {
          type: 'object',
          required: ['recipe'],
          additionalProperties: false,
          properties: {
            recipe: recipeParam,
            ttlSeconds: {
              type: 'integer',
              minimum: 1,
              maximum: MAX_SIGNED_TTL_SECONDS,
              default: DEFAULT_SIGNED_TTL_SECONDS,
              description: 'how long the URL stays valid',
            },
          },
        },
        response: {
          200: {
            description: 'the signed URL',
            type: 'object',
            required: ['url', 'expiresAt', 'recipe'],
            properties: {
              url: { type: 'string', description: "path and query, relative to the API's base URL" },
              expiresAt: { type: 'string', format: 'date-time' },
              recipe: { type: 'string', description: 'the normalised recipe the URL names' },
            },
          },
          ...problemResponses(400, 404, 501, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const { id } = request.params as { id: string };
      const body = request.body as { recipe: string; ttlSeconds?: number };
      const recipe = readRenditionRecipe(body.recipe, limits);
      const original = await deps.renditions.original(tenantId, id);
      const signed = signRendition(
        deps.signer,
        { tenantId, imageId: original.imageId, recipe },
        body.ttlSeconds ?? DEFAULT_SIGNED_TTL_SECONDS,
      );
      return { url: signed.url, expiresAt: signed.expiresAt.toISOString(), recipe: signed.recipe };
    },
  );

  const signed = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = request.params as Record<string, string>;
    const query = request.query as { expires?: string; signature?: string };
    const tenantId = params['tenant'] ?? '';
    const imageId = params['id'] ?? '';
    const recipeText = recipeOf(params);
    // The signature first: nothing is looked up for an unsigned, tampered or expired URL, and such a request spends
    // the client IP's allowance (as a failed authentication does); a valid one spends the tenant's, as with a token.
    try {
      deps.signer.verify({ tenantId, imageId, recipe: recipeText }, query.expires, query.signature);
    } catch (error) {
      await app.limits.afterFailedAuth(request, reply);
      throw error;
    }
    await app.limits.byTenant(tenantId, reply);
    const recipe = readRenditionRecipe(recipeText, limits);
    const target = await deps.renditions.locate(tenantId, imageId, recipe, request.headers.accept);
    const remaining = Math.max(0, Math.min(MAX_AGE_SECONDS, Number(query.expires) - Math.floor(Date.now() / 1000)));
    return serve(deps, request, reply, target, `public, max-age=${remaining}`);
  };
  const signedSchema = (hide: boolean) => ({
    ...(hide ? { hide: true } : {}),
    operationId: 'getSignedRendition',
    tags: ['transform'],
    summary: 'A rendition by signed, expiring URL (no token)',
    description:
      'As GET /v1/images/{id}/renditions/{recipe}, for whoever holds a URL from POST /v1/images/{id}/rendition-urls. ' +
      'Unsigned, tampered or expired URLs are refused with 403 (RENDITION_SIGNATURE_MISSING, _INVALID, _EXPIRED) ' +
      "and spend the client IP's rate limit; valid ones spend the tenant's.",
    params: {
      type: 'object',
      required: ['tenant', 'id', hide ? '*' : 'recipe'],
      properties: {
        tenant: { type: 'string', minLength: 1, maxLength: 64, description: 'the tenant that owns the image' },
        id: imageIdParam,
        [hide ? '*' : 'recipe']: recipeParam,
      },
    },
    querystring: {
      type: 'object',
      properties: {
        expires: { type: 'string', maxLength: 20, description: 'Unix seconds after which the URL is refused' },
        signature: { type: 'string', maxLength: 100, description: 'base64url HMAC-SHA256 of the path and expiry' },
      },
    },
    response: {
      200: imageResponse('the rendition', renditionHeaders),
      304: notModified,
      ...problemResponses(...RENDITION_PROBLEMS, 403, 429, 503),
    },
  });
  app.get('/v1/renditions/:tenant/:id/:recipe', { schema: signedSchema(false) }, signed);
  app.get('/v1/renditions/:tenant/:id/*', { schema: signedSchema(true) }, signed);
}
