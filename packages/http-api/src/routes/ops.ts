import { ERROR_CATALOGUE, ImgpipeError, isErrorCode } from '@imgpipe/core';
import type { FastifyInstance } from 'fastify';
import { register } from 'prom-client';
import type { DependencyBreakers } from '../dependency-breakers.ts';
import { type Check, checkReadiness } from '../readiness.ts';
import { problemResponses } from '../schemas.ts';

const checkResult = {
  type: 'object',
  properties: { ok: { type: 'boolean' }, error: { type: 'string' }, ms: { type: 'integer' } },
} as const;

export interface OpsRoutesOptions {
  /** Readiness checks by dependency name (kafka, s3, postgres, redis). */
  checks: Record<string, Check>;
  breakers: DependencyBreakers;
}

/**
 * Dependencies the API can serve without, with less: Redis (reads fall back to PostgreSQL, rate limits by policy)
 * and the read pool's replica (searches fall back to the primary).
 */
const OPTIONAL_DEPENDENCIES = ['redis', 'postgres-read'];

const circuit = {
  type: 'object',
  required: ['name', 'state', 'consecutiveFailures'],
  properties: {
    name: { type: 'string' },
    state: { type: 'string', enum: ['closed', 'open', 'half-open'] },
    consecutiveFailures: { type: 'integer' },
    retryAfterSeconds: { type: 'integer' },
  },
} as const;

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
    required: ['status', 'checks', 'breakers'],
    properties: {
      status: {
        type: 'string',
        enum: ['ok', 'degraded', 'unavailable'],
        description:
          'degraded: ready, but Redis (no cache; rate limits by policy) or the replica (searches on the primary) does not answer',
      },
      checks: { type: 'object', additionalProperties: checkResult },
      breakers: {
        type: 'object',
        description:
          'circuit breakers: redis, postgres, postgres-read (the replica) and s3 with their state; egress lists the hosts not closed',
        additionalProperties: {
          type: 'object',
          required: ['closed', 'open', 'half-open'],
          properties: {
            closed: { type: 'integer' },
            open: { type: 'integer' },
            'half-open': { type: 'integer' },
            circuit,
            unhealthy: { type: 'array', items: circuit },
          },
        },
      },
    },
  } as const;
  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'readyz',
        tags: ['operations'],
        summary: 'Readiness: Kafka, S3 and PostgreSQL answer (Redis too, or the API runs degraded)',
        response: {
          200: { description: 'ready (status ok or degraded)', ...readinessSchema },
          503: { description: 'a required dependency is down', ...readinessSchema },
        },
      },
    },
    async (_request, reply) => {
      const report = await checkReadiness(deps.checks, { optional: OPTIONAL_DEPENDENCIES });
      const breakers = Object.fromEntries(
        deps.breakers
          .report()
          .map(({ name, counts, detail }) => [
            name,
            { ...counts, ...(Array.isArray(detail) ? { unhealthy: detail } : { circuit: detail }) },
          ]),
      );
      const status = !report.ready ? 'unavailable' : report.degraded ? 'degraded' : 'ok';
      return reply.code(report.ready ? 200 : 503).send({ status, checks: report.checks, breakers });
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
        params: {
          type: 'object',
          required: ['code'],
          properties: { code: { type: 'string', enum: Object.keys(ERROR_CATALOGUE) } },
        },
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
          ...problemResponses(400, 429, 503),
        },
      },
    },
    async (request) => {
      const { code } = request.params as { code: string };
      if (!isErrorCode(code)) throw new ImgpipeError('REQUEST_INVALID', `no error code ${code}`);
      const definition = ERROR_CATALOGUE[code];
      return { code, title: definition.title, status: definition.httpStatus, retriable: definition.retriable };
    },
  );
}
