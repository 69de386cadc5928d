import { ERROR_CATALOGUE, isErrorCode } from '@imgpipe/core';
import type { FastifyInstance } from 'fastify';
import { register } from 'prom-client';
import { type Check, checkReadiness } from '../readiness.ts';
import { problemResponses } from '../schemas.ts';

const checkResult = {
  type: 'object',
  properties: { ok: { type: 'boolean' }, error: { type: 'string' }, ms: { type: 'integer' } },
} as const;

export interface OpsRoutesOptions {
  /** Readiness checks by dependency name (kafka, s3, postgres, redis). */
  checks: Record<string, Check>;
}

/** Liveness, readiness (Kafka, S3, PostgreSQL, Redis), Prometheus metrics, and the error catalogue. */
export async function opsRoutes(app: FastifyInstance, deps: OpsRoutesOptions): Promise<void> {
  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'healthz',
        tags: ['operations'],
        summary: 'Liveness: the process answers',
        response: {
          200: { description: 'alive', type: 'object', properties: { status: { type: 'string' } } },
        },
      },
    },
    async () => ({ status: 'ok' }),
  );

  const readinessSchema = {
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['ok', 'unavailable'] },
      checks: { type: 'object', additionalProperties: checkResult },
    },
  } as const;
  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'readyz',
        tags: ['operations'],
        summary: 'Readiness: Kafka, S3, PostgreSQL and Redis answer',
        response: {
          200: { description: 'ready', ...readinessSchema },
          503: { description: 'a dependency is down', ...readinessSchema },
        },
      },
    },
    async (_request, reply) => {
      const report = await checkReadiness(deps.checks);
      return reply
        .code(report.ready ? 200 : 503)
        .send({ status: report.ready ? 'ok' : 'unavailable', checks: report.checks });
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        operationId: 'metrics',
        tags: ['operations'],
        summary: 'Prometheus metrics',
        response: {
          200: {
            description: 'text exposition format',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (_request, reply) => reply.type(register.contentType).send(await register.metrics()),
  );

  app.get(
    '/errors/:code',
    {
      config: { ipRateLimited: true },
      schema: {
        operationId: 'describeError',
        tags: ['operations'],
        summary: "An error code's meaning: the `type` of every problem response points here",
        params: { type: 'object', required: ['code'], properties: { code: { type: 'string' } } },
        response: {
          200: {
            description: 'the catalogue entry',
            type: 'object',
            required: ['code', 'title', 'status', 'retriable'],
            properties: {
              code: { type: 'string' },
              title: { type: 'string' },
              status: { type: 'integer' },
              retriable: { type: 'boolean' },
            },
          },
          ...problemResponses(404, 429),
        },
      },
    },
    async (request, reply) => {
      const { code } = request.params as { code: string };
      if (!isErrorCode(code)) return reply.callNotFound();
      const definition = ERROR_CATALOGUE[code];
      return { code, title: definition.title, status: definition.httpStatus, retriable: definition.retriable };
    },
  );
}
