import type { FastifyInstance } from 'fastify';
import { analysesProperty, AUTH_PROBLEMS, problemResponses } from '../schemas.ts';
import { handleUpload, type UploadDeps } from '../upload-handler.ts';

export interface UploadRoutesOptions extends UploadDeps {
  maxImageBytes: number;
  maxBatchImages: number;
}

const uploadQuery = {
  type: 'object',
  properties: {
    analyses: { type: 'string', description: 'comma-separated: detect,faces,ocr (default all)' },
    sourceName: { type: 'string', maxLength: 2048 },
    callbackUrl: { type: 'string', format: 'uri', maxLength: 2048, description: 'called on completion (webhook)' },
  },
} as const;

const idempotencyHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      maxLength: 257,
      description: 'a retry with the same key returns the first response instead of uploading again',
    },
  },
} as const;

const commonJsonFields = {
  analyses: analysesProperty,
  sourceName: { type: 'string', maxLength: 2048 },
  callbackUrl: { type: 'string', format: 'uri', maxLength: 2048 },
  attributes: { type: 'object', additionalProperties: { type: 'string' }, maxProperties: 50 },
} as const;

const urlUpload = {
  type: 'object',
  required: ['url'],
  additionalProperties: false,
  properties: {
    url: { type: 'string', format: 'uri', maxLength: 2048, description: 'http(s) URL of a public image' },
    ...commonJsonFields,
  },
} as const;

const urlBatch = {
  type: 'object',
  required: ['images'],
  additionalProperties: false,
  properties: {
    images: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['url'],
        additionalProperties: false,
        properties: { url: { type: 'string', format: 'uri', maxLength: 2048 }, sourceName: { type: 'string' } },
      },
    },
    ...commonJsonFields,
  },
} as const;

const binary = { type: 'string', format: 'binary' } as const;
const multipartFields = {
  analyses: { type: 'string', description: 'comma-separated analyses' },
  callbackUrl: { type: 'string' },
  sourceName: { type: 'string' },
  attributes: { type: 'string', description: 'JSON object of strings' },
} as const;

/** The documented request bodies: validation covers JSON; uploads are checked by their bytes. */
function documentedBody(json: object, multipartFiles: object) {
  return {
    required: true,
    content: {
      'multipart/form-data': {
        schema: { type: 'object', properties: { ...multipartFiles, ...multipartFields } },
      },
      'image/*': { schema: binary },
      'application/octet-stream': { schema: binary },
      'application/json': { schema: json },
    },
  };
}

/**
 * POST /v1/images and POST /v1/batches: images as multipart files, raw bytes or JSON with URLs (src/upload-handler.ts).
 * Encapsulated: its catch-all body parser (any other content type is image bytes) serves these routes only.
 */
export async function uploadRoutes(app: FastifyInstance, deps: UploadRoutesOptions): Promise<void> {
  // Any body that is not JSON or multipart is image bytes, whatever its Content-Type says: the bytes decide.
  app.removeContentTypeParser(['text/plain']);
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.maxImageBytes }, (_request, body, done) =>
    done(null, body),
  );

  app.post(
    '/v1/images',
    {
      bodyLimit: deps.maxImageBytes,
      config: {
        auth: 'uploader',
        imageBody: true,
        openapiBody: documentedBody(urlUpload, { file: binary }),
      },
      schema: {
        operationId: 'uploadImage',
        tags: ['images'],
        summary: 'Upload an image (multipart, raw bytes, or JSON with a URL) for analysis',
        description:
          'Stores the image, produces ImageUploaded and answers 202 with the image id and a Location. The same bytes ' +
          'from the same tenant within the dedup window return the existing image (200 with its result when finished).',
        querystring: uploadQuery,
        headers: idempotencyHeaders,
        body: { content: { 'application/json': { schema: urlUpload } } },
        response: {
          200: { description: 'a recent upload of the same bytes, already finished', $ref: 'AcceptedImage#' },
          202: { description: 'accepted for analysis', $ref: 'AcceptedImage#' },
          ...problemResponses(400, ...AUTH_PROBLEMS, 409, 413, 415, 422),
        },
      },
    },
    (request, reply) => handleUpload(request, reply, deps, { batch: false }),
  );

  app.post(
    '/v1/batches',
    {
      bodyLimit: deps.maxImageBytes,
      config: {
        auth: 'uploader',
        imageBody: true,
        openapiBody: documentedBody(urlBatch, { files: { type: 'array', items: binary } }),
      },
      schema: {
        operationId: 'uploadBatch',
        tags: ['images'],
        summary: 'Upload several images at once (multipart files, or JSON with URLs); one image id each',
        description: `At most ${deps.maxBatchImages} images. Every image is checked before any is stored.`,
        querystring: uploadQuery,
        headers: idempotencyHeaders,
        body: { content: { 'application/json': { schema: urlBatch } } },
        response: {
          202: {
            description: 'accepted for analysis',
            type: 'object',
            required: ['batchId', 'images'],
            properties: {
              batchId: { type: 'string', format: 'uuid' },
              images: { type: 'array', items: { $ref: 'AcceptedImage#' } },
            },
          },
          ...problemResponses(400, ...AUTH_PROBLEMS, 409, 413, 415, 422),
        },
      },
    },
    (request, reply) => handleUpload(request, reply, deps, { batch: true, maxItems: deps.maxBatchImages }),
  );
}
