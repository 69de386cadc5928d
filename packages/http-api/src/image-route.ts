/**
 * What the routes that take an image in the request (POST /v1/transform, /v1/features/detect, /v1/match) share: the
 * catch-all body parser of their route group, and their route options (the uploader role, a body limit whose 413 is
 * IMAGE_TOO_LARGE, and the request body the OpenAPI document shows).
 */
import type { FastifyInstance } from 'fastify';
import type { Role } from './roles.ts';

export const binary = { type: 'string', format: 'binary' } as const;

/**
 * Any body no remaining parser takes (multipart has its own) arrives as bytes, up to bodyLimit. Call it inside the
 * route group's plugin: it is encapsulated and serves that group only.
 */
export function parseBodiesAsBytes(app: FastifyInstance, bodyLimit: number, removed: string[]): void {
  app.removeContentTypeParser(removed);
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => done(null, body));
}

export interface ImageBodyForms {
  /** The multipart form: its required parts and every part's schema (files as `binary`). */
  multipart: { required: string[]; properties: Record<string, unknown>; encoding?: Record<string, unknown> };
  /** The image as the raw body (image/* or application/octet-stream). */
  raw?: boolean;
  /** The JSON body's schema, when the route takes one. */
  json?: object;
}

/** The options of a route taking an image: an uploader's, with its body limit and documented request body. */
export function imageRouteOptions(bodyLimit: number, forms: ImageBodyForms) {
  const { required, properties, encoding } = forms.multipart;
  return {
    bodyLimit,
    config: {
      auth: 'uploader' as Role,
      imageBody: true,
      openapiBody: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: { type: 'object', additionalProperties: false, required, properties },
            ...(encoding ? { encoding } : {}),
          },
          ...(forms.raw ? { 'image/*': { schema: binary }, 'application/octet-stream': { schema: binary } } : {}),
          ...(forms.json ? { 'application/json': { schema: forms.json } } : {}),
        },
      },
    },
  };
}
