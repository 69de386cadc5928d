import type { FastifyInstance } from 'fastify';
import { AUTH_PROBLEMS, problemResponses } from '../schemas.ts';
import { handleUpload, type UploadDeps } from '../upload-handler.ts';
import { uploadHeadersSchema, uploadSchemas } from '../upload-schemas.ts';

export interface UploadRoutesOptions extends UploadDeps {
  maxImageBytes: number;
  maxBatchImages: number;
}

const UPLOAD_PROBLEMS = [400, ...AUTH_PROBLEMS, 409, 413, 415, 422, 503] as const;

/**
 * POST /v1/images and POST /v1/batches: images as multipart files, raw bytes or JSON with URLs (src/upload-handler.ts).
 * Encapsulated: its catch-all body parser (any other content type is image bytes) serves these routes only.
 */
export async function uploadRoutes(app: FastifyInstance, deps: UploadRoutesOptions): Promise<void> {
  // Any body that is not JSON or multipart is image bytes, whatever its Content-Type says: the bytes decide.
  // The deployment's rendition presets are the names `renditions` may hold, so the schemas say exactly which exist.
  const schemas = uploadSchemas([...deps.presets.keys()]);
  const urlBatch = schemas.urlBatch(deps.maxBatchImages);
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
        openapiBody: schemas.documentedBody(schemas.urlUpload, { single: true }),
      },
      schema: {
        operationId: 'uploadImage',
        tags: ['images'],
        summary: 'Upload an image (multipart, raw bytes, or JSON with a URL) for analysis',
        description:
          'Stores the image, produces ImageUploaded and answers 202 with the image id and a Location. The same bytes ' +
          'from the same tenant within the dedup window return the existing image (200 with its result when finished).',
        querystring: schemas.query,
        headers: uploadHeadersSchema,
        body: { content: { 'application/json': { schema: schemas.urlUpload } } },
        response: {
          200: { description: 'a recent upload of the same bytes, already finished', $ref: 'AcceptedImage#' },
          202: { description: 'accepted for analysis', $ref: 'AcceptedImage#' },
          ...problemResponses(...UPLOAD_PROBLEMS),
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
        openapiBody: schemas.documentedBody(schemas.urlBatch(deps.maxBatchImages, true), {
          batch: deps.maxBatchImages,
        }),
      },
      schema: {
        operationId: 'uploadBatch',
        tags: ['images'],
        summary: 'Upload several images at once (multipart files, or JSON with URLs); one image id each',
        description:
          `At most ${deps.maxBatchImages} images. Every image is checked before any is stored. An ad-hoc recipe ` +
          '(`ops`, the string form, in the query string, a multipart field or the JSON body; or `recipe`, the JSON ' +
          'form) is rendered for every image by the transform stage beside the `renditions` presets, and listed as ' +
          'the rendition named "recipe"; it is checked as POST /v1/transform checks its recipe (400 with a RECIPE_* ' +
          'code), and `format:auto` or a crop around faces or objects, which the pipeline cannot render, is 400 ' +
          'RECIPE_INVALID_ARGUMENT. Follow the batch at Location (GET /v1/batches/{id}).',
        querystring: schemas.batchQuery,
        headers: uploadHeadersSchema,
        body: { content: { 'application/json': { schema: urlBatch } } },
        response: {
          202: {
            description: 'accepted for analysis',
            type: 'object',
            required: ['batchId', 'links', 'images'],
            properties: {
              batchId: { type: 'string', format: 'uuid' },
              links: {
                type: 'object',
                required: ['self'],
                properties: { self: { type: 'string', description: 'GET it for the status of every image' } },
              },
              images: { type: 'array', items: { $ref: 'AcceptedImage#' } },
              failed: {
                type: 'array',
                description:
                  'images that could not be stored after others were (a dependency failed midway); the rest were ' +
                  'accepted. A request refused before anything was stored is a problem response instead.',
                items: {
                  type: 'object',
                  required: ['index', 'problem'],
                  properties: {
                    index: { type: 'integer', description: 'position of the image in the request' },
                    problem: { $ref: 'Problem#' },
                  },
                },
              },
            },
          },
          ...problemResponses(...UPLOAD_PROBLEMS),
        },
      },
    },
    (request, reply) => handleUpload(request, reply, deps, { batch: true, maxItems: deps.maxBatchImages }),
  );
}
