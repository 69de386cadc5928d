import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { httpDurationHistogram } from '../http-metrics.ts';

/** Request latency by method, route template and status for every route (not encapsulated). */
async function requestMetrics(app: FastifyInstance): Promise<void> {
  const duration = httpDurationHistogram();
  app.addHook('onResponse', async (request, reply) => {
    duration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
}

export const requestMetricsPlugin = fp(requestMetrics, { name: 'imgpipe-request-metrics', fastify: '5.x' });
