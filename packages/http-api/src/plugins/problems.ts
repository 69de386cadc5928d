import { ImgpipeError } from '@imgpipe/core';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { sendProblem, toProblem } from '../problem-details.ts';
import { SHARED_SCHEMAS } from '../schemas.ts';

/**
 * RFC 9457 problem details for every error and every unknown route, and the shared JSON schemas (Problem, Image, ...)
 * that route schemas refer to by `$ref`. Not encapsulated (fastify-plugin): the error handler, the not-found handler
 * and the schemas belong to the root context, so every route group registered after it inherits them.
 */
async function problems(app: FastifyInstance): Promise<void> {
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, request);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: problem.code, detail: problem.detail }, 'request refused');
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      toProblem(
        new ImgpipeError('RESOURCE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
        request,
      ),
    ),
  );
}

export const problemsPlugin = fp(problems, { name: 'imgpipe-problems', fastify: '5.x' });
