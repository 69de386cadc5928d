import { ImgpipeError } from '@imgpipe/core';
import { isImageId, REPROCESSABLE_STAGES } from '@imgpipe/results';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { principalOf } from '../fastify-types.ts';
import { AUTH_PROBLEMS, problemResponses } from '../schemas.ts';
import { PAUSABLE_STAGES, type StageControlService } from '../stage-control-service.ts';

export interface StageRoutesOptions {
  control: StageControlService;
  /** Tenants whose admins operate the whole pipeline (pause, resume, reprocess any tenant); empty: nobody. */
  operatorTenants: readonly string[];
}

const modelSchema = {
  type: 'object',
  required: ['name', 'version', 'sha256'],
  properties: { name: { type: 'string' }, version: { type: 'string' }, sha256: { type: 'string' } },
} as const;

const stageState = {
  type: 'object',
  required: ['stage', 'paused'],
  properties: {
    stage: { type: 'string', enum: [...PAUSABLE_STAGES] },
    paused: { type: 'boolean' },
    changedAt: { type: 'string', format: 'date-time' },
    changedBy: { type: 'string' },
    model: { ...modelSchema, description: 'the model the stage’s workers announced when they started' },
    metrics: {
      type: 'object',
      description:
        'from Kafka: the consumer group’s committed offsets, its input topics’ and its dead-letter topic’s end ' +
        'offsets; the rates cover the span since the oldest of this API replica’s readings of the last 5 minutes ' +
        '(absent at its first reading)',
      required: ['lag', 'deadLetters'],
      properties: {
        lag: { type: 'integer', minimum: 0, description: 'messages on its input topics not yet committed' },
        deadLetters: { type: 'integer', minimum: 0, description: 'messages its dead-letter topic has received' },
        throughputPerSecond: { type: 'number', minimum: 0, description: 'messages committed per second' },
        errorRate: { type: 'number', minimum: 0, maximum: 1, description: 'dead letters per message committed' },
        windowSeconds: { type: 'integer', minimum: 0, description: 'the span the rates cover' },
      },
    },
  },
} as const;

const pauseResult = {
  type: 'object',
  required: ['stage', 'paused', 'at'],
  properties: {
    stage: { type: 'string' },
    paused: { type: 'boolean' },
    at: { type: 'string', format: 'date-time' },
  },
} as const;

/**
 * Pipeline operations for operators: pause and resume a stage in every replica, see each stage's state, and re-run a
 * stage on images (all, or those whose result is missing or from another model version). They act on the whole
 * pipeline, so they need an admin of an operator tenant (IMGPIPE_API_OPERATOR_TENANTS), not any tenant's admin.
 */
export async function stageRoutes(app: FastifyInstance, deps: StageRoutesOptions): Promise<void> {
  const operator = (request: FastifyRequest): string => {
    const principal = principalOf(request);
    if (!deps.operatorTenants.includes(principal.tenantId)) {
      throw new ImgpipeError(
        'AUTH_FORBIDDEN',
        'pipeline operations need an admin of an operator tenant (IMGPIPE_API_OPERATOR_TENANTS)',
      );
    }
    return `api:${principal.subject}@${principal.tenantId}`;
  };
  const params = {
    type: 'object',
    required: ['name'],
    properties: { name: { type: 'string', enum: [...PAUSABLE_STAGES] } },
  } as const;

  app.get(
    '/v1/admin/stages',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listStages',
        tags: ['operations'],
        summary: 'Each stage: paused or running, the model its workers run, its throughput, lag and error rate',
        response: {
          200: {
            description: 'the stages',
            type: 'object',
            required: ['items'],
            properties: { items: { type: 'array', items: stageState } },
          },
          ...problemResponses(...AUTH_PROBLEMS),
        },
      },
    },
    async (request) => {
      operator(request);
      return { items: await deps.control.states() };
    },
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post(
      `/v1/admin/stages/:name/${action}`,
      {
        config: { auth: 'admin' },
        schema: {
          operationId: `${action}Stage`,
          tags: ['operations'],
          summary:
            action === 'pause'
              ? 'Pause a stage: every consumer of it, in every replica, stops fetching; messages wait in Kafka'
              : 'Resume a paused stage: its consumers fetch again from where they stopped',
          params,
          response: {
            200: { description: 'the new state', ...pauseResult },
            ...problemResponses(400, ...AUTH_PROBLEMS),
          },
        },
      },
      async (request) => {
        const by = operator(request);
        const { name } = request.params as { name: string };
        return deps.control.setPaused(name, action === 'pause', by);
      },
    );
  }

  app.post(
    '/v1/admin/reprocess',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'reprocessStage',
        tags: ['operations'],
        summary:
          'Re-run a stage on every image that asked for it, or on those whose result is missing or from another model',
        body: {
          type: 'object',
          required: ['stage', 'mode'],
          additionalProperties: false,
          properties: {
            stage: { type: 'string', enum: [...REPROCESSABLE_STAGES] },
            mode: {
              type: 'string',
              enum: ['all', 'missing'],
              description: 'missing: no completed result, or one from another model than the stage’s workers announced',
            },
            tenant: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
            since: { type: 'string', format: 'date-time', description: 'only images uploaded at or after' },
          },
        },
        response: {
          202: {
            description: 'the images were queued',
            type: 'object',
            required: ['stage', 'mode', 'queued', 'model'],
            properties: {
              stage: { type: 'string' },
              mode: { type: 'string' },
              queued: { type: 'integer', minimum: 0 },
              model: { anyOf: [modelSchema, { type: 'null' }] },
            },
          },
          ...problemResponses(400, 409, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request, reply) => {
      operator(request);
      const body = request.body as {
        stage: (typeof REPROCESSABLE_STAGES)[number];
        mode: 'all' | 'missing';
        tenant?: string;
        since?: string;
      };
      const outcome = await deps.control.reprocess({
        stage: body.stage,
        mode: body.mode,
        ...(body.tenant ? { tenantId: body.tenant } : {}),
        ...(body.since ? { since: new Date(body.since) } : {}),
      });
      if (!outcome) {
        throw new ImgpipeError(
          'STAGE_MODEL_UNKNOWN',
          `no ${body.stage} worker has announced its model yet: start one, then retry`,
        );
      }
      return reply.code(202).send({ stage: body.stage, mode: body.mode, ...outcome });
    },
  );

  app.post(
    '/v1/admin/images/:id/redrive',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'redriveImage',
        tags: ['operations'],
        summary: "Re-run one image's failed stages, as a reprocess re-runs a stage, for this image alone",
        description:
          'For an admin of the image’s tenant (no operator tenant needed: it touches this one image). A failed ' +
          'preprocess or aggregate re-runs preprocess and with it every analysis the image asked for; failed analyses ' +
          're-run each on its own. 404 RESOURCE_NOT_FOUND for an image of another tenant; 409 ' +
          'REDRIVE_IMAGE_PENDING while it is in flight, REDRIVE_NOTHING_FAILED when no stage failed, ' +
          'REDRIVE_ORIGINAL_MISSING when its original was never stored.',
        params: {
          type: 'object',
          required: ['id'],
          properties: { id: { type: 'string', maxLength: 100, description: 'image id (UUID)' } },
        },
        response: {
          202: {
            description: 'the image was queued again',
            type: 'object',
            required: ['imageId', 'stages', 'queued'],
            properties: {
              imageId: { type: 'string' },
              stages: {
                type: 'array',
                description: 'the stages re-run',
                items: { type: 'string', enum: [...REPROCESSABLE_STAGES] },
              },
              queued: { type: 'integer', minimum: 0, description: 'uploads re-published (one per stage)' },
            },
          },
          ...problemResponses(400, 404, 409, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const { id } = request.params as { id: string };
      if (!isImageId(id)) throw new ImgpipeError('RESOURCE_NOT_FOUND', `no image ${id}`);
      const imageId = id.toLowerCase();
      const outcome = await deps.control.redriveImage(tenantId, imageId);
      return reply.code(202).send({ imageId, ...outcome });
    },
  );
}
