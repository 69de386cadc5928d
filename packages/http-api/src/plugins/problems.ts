import { ImgpipeError } from '@imgpipe/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type Problem, sendProblem, toProblem } from '../problem-details.ts';
import { SHARED_SCHEMAS } from '../schemas.ts';

/** Retry-After of a 503 that does not say when (a dependency failed, its circuit still closed). */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** The routes registered so far, as matchers of concrete paths: which methods does a path take? */
class RouteTable {
  readonly #routes: { method: string; pattern: RegExp }[] = [];

  add(method: string, url: string): void {
    const source = url
      .split('/')
      .map((segment) => (segment === '*' ? '.*' : segment.startsWith(':') ? '[^/]+' : escapeRegExp(segment)))
      .join('/');
    this.#routes.push({ method, pattern: new RegExp(`^${source}$`) });
  }

  methodsFor(path: string): string[] {
    const methods = new Set(this.#routes.filter((route) => route.pattern.test(path)).map((route) => route.method));
    return [...methods].sort();
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function retryAfterOf(problem: Problem): number | undefined {
  if (problem.status !== 503) return undefined;
  const given = (problem['details'] as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  return typeof given === 'number' && given > 0 ? Math.ceil(given) : DEFAULT_RETRY_AFTER_SECONDS;
}

/**
 * RFC 9457 problem details for every error and every unknown route, and the shared JSON schemas (Problem, Image, ...)
 * that route schemas refer to by `$ref`. A known path asked with a method it does not take is 405 with `Allow`
 * (RFC 9110 15.5.6), any other unknown route 404; a 503 always says when to come back (`Retry-After`).
 * Not encapsulated (fastify-plugin): the error handler, the not-found handler and the schemas belong to the root
 * context, so every route group registered after it inherits them.
 */
async function problems(app: FastifyInstance): Promise<void> {
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  const routes = new RouteTable();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.add(method, route.url);
  });

  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, request);
    // A dependency that is down is news for operators (warn, once per request), not a bug with a stack trace.
    if (problem.status === 503) request.log.warn({ code: problem.code, detail: problem.detail }, 'request refused');
    else if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: problem.code, detail: problem.detail }, 'request refused');
    const retryAfter = retryAfterOf(problem);
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    return sendProblem(reply, problem);
  });
  const notFound = (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? request.url;
    const allowed = routes.methodsFor(path);
    if (allowed.length === 0) {
      return sendProblem(
        reply,
        toProblem(new ImgpipeError('RESOURCE_NOT_FOUND', `no route ${request.method} ${path}`), request),
      );
    }
    reply.header('allow', allowed.join(', '));
    const refusal = new ImgpipeError(
      'REQUEST_METHOD_NOT_ALLOWED',
      `${path} does not take ${request.method}; it takes ${allowed.join(', ')}`,
    );
    return sendProblem(reply, toProblem(refusal, request));
  };
  // Answered before the body is read: a method that carries a body (QUERY, PATCH) must not be refused for its
  // Content-Type on a route that does not exist.
  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) return notFound(request, reply);
  });
  app.setNotFoundHandler(notFound);
}

export const problemsPlugin = fp(problems, { name: 'imgpipe-problems', fastify: '5.x' });
