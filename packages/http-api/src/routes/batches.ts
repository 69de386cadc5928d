import { ImgpipeError } from '@imgpipe/core';
import type { BatchRepository } from '@imgpipe/results';
import type { FastifyInstance } from 'fastify';
import type { DependencyBreakers } from '../dependency-breakers.ts';
import { principalOf } from '../fastify-types.ts';
import { AUTH_PROBLEMS, imageViewSchema, problemResponses } from '../schemas.ts';

export interface BatchRoutesOptions {
  batches: BatchRepository;
  breakers: DependencyBreakers;
}

const view = imageViewSchema.properties as Record<string, object>;
const count = { type: 'integer', minimum: 0 } as const;

const batchSchema = {
  type: 'object',
  required: ['batchId', 'status', 'renditions', 'createdAt', 'counts', 'images'],
  properties: {
    batchId: { type: 'string', format: 'uuid' },
    status: {
      type: 'string',
      enum: ['pending', 'completed', 'partial', 'failed'],
      description:
        'pending while any image is; completed when every image completed, failed when every one failed; partial ' +
        'for any other mix',
    },
    renditions: { type: 'array', items: { type: 'string' }, description: 'the presets every image asked for' },
    recipe: { type: 'string', description: 'the ad-hoc recipe rendered for every image (canonical), when given' },
    createdAt: { type: 'string', format: 'date-time' },
    counts: {
      type: 'object',
      required: ['images', 'pending', 'completed', 'partial', 'failed'],
      properties: { images: count, pending: count, completed: count, partial: count, failed: count },
    },
    images: {
      type: 'array',
      description: 'the images stored, in the order of the request',
      items: {
        type: 'object',
        required: ['position', 'imageId', 'status', 'renditions'],
        properties: {
          position: { type: 'integer', minimum: 0, description: "the image's index in the request" },
          imageId: view['imageId']!,
          status: view['status']!,
          error: view['error']!,
          renditions: {
            ...view['renditions']!,
            description:
              'the renditions stored (presets, and the ad-hoc recipe as the one named "recipe"), in the order ' +
              'asked; empty until the image is done',
          },
        },
      },
    },
  },
} as const;

/** GET /v1/batches/{id}: a batch's status and each image's status and renditions. Another tenant's batch is 404. */
export async function batchRoutes(app: FastifyInstance, deps: BatchRoutesOptions): Promise<void> {
  app.get(
    '/v1/batches/:id',
    {
      config: { auth: 'viewer' },
      schema: {
        operationId: 'getBatch',
        tags: ['images'],
        summary: "A batch's status and counts, and each image's status and renditions",
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', maxLength: 100, description: 'batch id (UUID)' } },
        },
        response: {
          200: { description: 'the batch', ...batchSchema },
          ...problemResponses(400, ...AUTH_PROBLEMS, 404),
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const batch = await deps.breakers.database(() => deps.batches.get(principalOf(request).tenantId, id));
      if (!batch) throw new ImgpipeError('RESOURCE_NOT_FOUND', `no batch ${id}`);
      return batch;
    },
  );
}
