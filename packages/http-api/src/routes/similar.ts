import { ImgpipeError } from '@imgpipe/core';
import { findSimilarImages, isImageId, MAX_SIMILAR_DISTANCE } from '@imgpipe/results';
import { normalizeFeatureOptions } from '@imgpipe/vision/features';
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../fastify-types.ts';
import type { MatchService } from '../match-service.ts';
import type { ReadPool } from '../read-pool.ts';
import { AUTH_PROBLEMS, problemResponses } from '../schemas.ts';

export interface SimilarRoutesOptions {
  reads: ReadPool;
  match: MatchService;
}

export const SIMILAR_DEFAULT_MAX_DISTANCE = 7;
export const SIMILAR_DEFAULT_LIMIT = 20;
/** Verification matches SIFT keypoints at this size (cached per image by the features cache). */
export const SIMILAR_VERIFY_MAX_SIDE = 640;
const VERIFY_OPTIONS = normalizeFeatureOptions({ detector: 'sift' });

const hashSchema = { type: 'string', pattern: '^[0-9a-f]{16}$', description: '64-bit difference hash, 16 hex digits' };

const similarSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['imageId', 'perceptualHash', 'maxDistance', 'similar'],
  properties: {
    imageId: { type: 'string' },
    perceptualHash: hashSchema,
    maxDistance: { type: 'integer' },
    similar: {
      type: 'array',
      description: 'nearest first (ties by id); the image itself is left out',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['imageId', 'distance', 'perceptualHash'],
        properties: {
          imageId: { type: 'string' },
          distance: { type: 'integer', minimum: 0, maximum: 64, description: 'Hamming distance of the hashes' },
          perceptualHash: hashSchema,
          sourceName: { type: 'string' },
          match: {
            type: 'object',
            additionalProperties: false,
            required: ['matches', 'inliers', 'matched'],
            description: 'with verify=true: SIFT keypoint matching of the two originals (as POST /v1/match)',
            properties: {
              matches: { type: 'integer' },
              inliers: { type: 'integer' },
              matched: { type: 'boolean', description: 'at least 10 inliers: the same scene, verified' },
            },
          },
        },
      },
    },
  },
} as const;

/**
 * GET /v1/images/{id}/similar: the tenant's images whose perceptual hash is within maxDistance bits of this one's,
 * from the multi-index-hashing segment columns (packages/results similar-images.ts), optionally verified by keypoint
 * matching of the originals.
 */
export async function similarRoutes(app: FastifyInstance, deps: SimilarRoutesOptions): Promise<void> {
  app.get(
    '/v1/images/:id/similar',
    {
      config: { auth: 'viewer' },
      schema: {
        operationId: 'getSimilarImages',
        tags: ['images'],
        summary: "The tenant's images that look like this one (perceptual-hash distance), optionally verified",
        description:
          'Near-duplicates by the preprocess stage’s 64-bit difference hash: Hamming distance <= maxDistance ' +
          '(0-3: the same picture re-saved or resized; up to 10: light edits; beyond, unrelated images begin to ' +
          'appear). Answered from an index on the hash’s four 16-bit segments, fast at millions of images. ' +
          '`verify=true` also matches SIFT keypoints of each result’s original against this one’s (`match`; slow: ' +
          'one detection per image not in the features cache). 409 IMAGE_HASH_UNAVAILABLE while the image has ' +
          'no hash (preprocess not completed).',
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', maxLength: 100, description: 'image id (UUID)' } },
        },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            maxDistance: {
              type: 'integer',
              minimum: 0,
              maximum: MAX_SIMILAR_DISTANCE,
              default: SIMILAR_DEFAULT_MAX_DISTANCE,
              description: `largest Hamming distance of the 64-bit hashes (default ${SIMILAR_DEFAULT_MAX_DISTANCE})`,
            },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: SIMILAR_DEFAULT_LIMIT },
            verify: {
              type: 'boolean',
              default: false,
              description: 'match keypoints of each result against this image (adds `match`)',
            },
          },
        },
        response: {
          200: { description: 'the similar images', content: { 'application/json': { schema: similarSchema } } },
          // 422: with verify=true, an original that cannot be decoded for keypoints (IMAGE_TOO_MANY_PIXELS, ...).
          ...problemResponses(400, 404, 409, 422, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const { id } = request.params as { id: string };
      const query = request.query as { maxDistance?: number; limit?: number; verify?: boolean };
      const maxDistance = query.maxDistance ?? SIMILAR_DEFAULT_MAX_DISTANCE;
      const limit = query.limit ?? SIMILAR_DEFAULT_LIMIT;
      if (!isImageId(id)) throw new ImgpipeError('RESOURCE_NOT_FOUND', `no image ${id}`);
      const imageId = id.toLowerCase();
      const { hash, similar } = await deps.reads.run(async (db) => {
        const row = await db
          .selectFrom('images')
          .select(['phash_0', 'phash_1', 'phash_2', 'phash_3'])
          .where('id', '=', imageId)
          .where('tenant_id', '=', tenantId)
          .executeTakeFirst();
        if (!row) throw new ImgpipeError('RESOURCE_NOT_FOUND', `no image ${id}`);
        if (row.phash_0 === null || row.phash_1 === null || row.phash_2 === null || row.phash_3 === null) {
          throw new ImgpipeError('IMAGE_HASH_UNAVAILABLE', `image ${imageId} has no perceptual hash yet`);
        }
        const hash = [row.phash_0, row.phash_1, row.phash_2, row.phash_3]
          .map((value) => value.toString(16).padStart(4, '0'))
          .join('');
        return {
          hash,
          similar: await findSimilarImages(db, { tenantId, hash, maxDistance, excludeId: imageId, limit }),
        };
      });
      const items: object[] = similar;
      if (query.verify === true && similar.length > 0) {
        const self = await deps.match.stored(tenantId, imageId);
        const settings = { options: VERIFY_OPTIONS, maxSide: SIMILAR_VERIFY_MAX_SIDE, ratio: 0.75 };
        for (const [index, item] of similar.entries()) {
          const other = await deps.match.stored(tenantId, item.imageId);
          const { body } = await deps.match.match([self, other], settings);
          items[index] = { ...item, match: { matches: body.matches, inliers: body.inliers, matched: body.matched } };
        }
      }
      return reply
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ imageId, perceptualHash: hash, maxDistance, similar: items }));
    },
  );
}
