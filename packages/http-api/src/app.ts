import './fastify-types.ts';
import { randomUUID } from 'node:crypto';
import fastifyMultipart from '@fastify/multipart';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { ImgpipeError } from '@imgpipe/core';
import { type Database, ResultsCache } from '@imgpipe/results';
import type { SsrfGuard } from '@imgpipe/egress';
import type { ImagePublisher } from '@imgpipe/publisher';
import type { Logger } from '@imgpipe/telemetry';
import { WebhookStore, withWebhookTables } from '@imgpipe/webhooks';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { ApiKeyStore } from './auth/api-keys.ts';
import { type JwtOptions, registerAuthenticator } from './auth/authenticator.ts';
import { httpDurationHistogram } from './http-metrics.ts';
import { IdempotencyStore } from './idempotency.ts';
import { IngestService } from './ingest-service.ts';
import { toProblem, sendProblem } from './problem-details.ts';
import { ProgressHub } from './progress-hub.ts';
import { type BucketPolicy, RateLimiter, rateLimitHeaders } from './rate-limiter.ts';
import type { Check } from './readiness.ts';
import { roleAtLeast } from './roles.ts';
import { adminRoutes } from './routes/admin-routes.ts';
import { imageRoutes } from './routes/image-routes.ts';
import { opsRoutes } from './routes/ops-routes.ts';
import { uploadRoutes } from './routes/upload-routes.ts';
import { SHARED_SCHEMAS } from './schemas.ts';

export interface ApiDeps {
  db: Kysely<Database>;
  /** Commands (cache, rate limits, idempotency keys). */
  redis: Redis;
  /** A second connection for SUBSCRIBE (a subscribed connection cannot run commands). */
  subscriber: Redis;
  blobs: { readonly bucket: string; get(ref: { bucket: string; key: string; sha256?: string }): Promise<Buffer> };
  publisher: ImagePublisher;
  guard: SsrfGuard;
  /** Readiness checks by dependency name (kafka, s3, postgres, redis). */
  readiness: Record<string, Check>;
  logger?: Logger;
}

export interface ApiOptions {
  jwt: JwtOptions;
  maxImageBytes: number;
  maxBatchImages: number;
  dedupWindowSeconds: number;
  idempotencyTtlSeconds: number;
  urlFetchTimeoutMs: number;
  imageDeadlineMs: number;
  tenantRateLimit: BucketPolicy;
  ipRateLimit: BucketPolicy;
  trustProxy?: boolean;
  sseHeartbeatMs?: number;
}

/**
 * The HTTP API as a fastify instance (not listening): ingest, results, live progress, annotated images, API keys and
 * webhook settings, with authentication, per-tenant and per-IP rate limits, RFC 9457 problem details for every error
 * and an OpenAPI 3.1 document generated from the route schemas.
 */
export async function buildApp(deps: ApiDeps, options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    trustProxy: options.trustProxy ?? false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  // Every route as registered, so a test can hold the OpenAPI document to it.
  const routes: { method: string; url: string; hidden: boolean }[] = [];
  app.decorate('registeredRoutes', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      routes.push({ method, url: route.url, hidden: Boolean((route.schema as { hide?: boolean } | undefined)?.hide) });
    }
  });

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

  const keys = new ApiKeyStore(deps.db);
  const authenticate = await registerAuthenticator(app, { jwt: options.jwt, keys });
  const limiter = new RateLimiter(deps.redis);

  const limitByIp = async (request: FastifyRequest, reply: FastifyReply) => {
    const decision = await limiter.take(`ip:${request.ip}`, options.ipRateLimit);
    reply.headers(rateLimitHeaders(decision));
    if (!decision.allowed) throw new ImgpipeError('REQUEST_RATE_LIMITED', `too many requests from ${request.ip}`);
  };

  app.addHook('onRequest', async (request, reply) => {
    const config = request.routeOptions.config;
    if (config.auth) {
      let principal: Awaited<ReturnType<typeof authenticate>>;
      try {
        principal = await authenticate(request);
      } catch (error) {
        // Failed authentication spends the client IP's allowance, which throttles key and token guessing.
        const decision = await limiter.take(`ip:${request.ip}`, options.ipRateLimit);
        if (!decision.allowed) {
          reply.headers(rateLimitHeaders(decision));
          throw new ImgpipeError('REQUEST_RATE_LIMITED', `too many failed requests from ${request.ip}`);
        }
        throw error;
      }
      const decision = await limiter.take(`tenant:${principal.tenantId}`, options.tenantRateLimit);
      reply.headers(rateLimitHeaders(decision));
      if (!decision.allowed) {
        throw new ImgpipeError('REQUEST_RATE_LIMITED', `tenant ${principal.tenantId} is over its request rate`);
      }
      if (!roleAtLeast(principal.role, config.auth)) {
        throw new ImgpipeError('AUTH_FORBIDDEN', `this needs the ${config.auth} role; the caller is ${principal.role}`);
      }
      request.principal = principal;
    } else if (config.ipRateLimited) {
      await limitByIp(request, reply);
    }
  });

  const duration = httpDurationHistogram();
  app.addHook('onResponse', async (request, reply) => {
    duration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'imgpipe API',
        version: '1.0.0',
        description:
          'Upload images for analysis (objects, faces, text) and read the results. Errors are RFC 9457 problem ' +
          'details with a stable `code`. See docs/api.md.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      tags: [
        { name: 'images', description: 'upload, status, results, progress, annotated images' },
        { name: 'api keys', description: 'keys for machine clients (admin)' },
        { name: 'webhooks', description: 'callbacks on completion' },
        { name: 'operations', description: 'health, readiness, metrics, error catalogue' },
      ],
    },
    // Components named by their $id (Problem, Image, ...) rather than def-N.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json['$id'] ?? `def-${i}`) },
    // Routes that need a caller say so in the document.
    transform: ({ schema, url, route }) => {
      const config = route.config as { auth?: string; openapiBody?: unknown } | undefined;
      if (!schema || !config) return { schema, url };
      return {
        schema: {
          ...schema,
          ...(config.openapiBody ? { body: config.openapiBody } : {}),
          ...(config.auth
            ? { security: [{ bearer: [] }, { apiKey: [] }], description: describeRole(schema, config.auth) }
            : {}),
        },
        url,
      };
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true, uiHooks: { onRequest: limitByIp } });
  app.get(
    '/openapi.json',
    {
      config: { ipRateLimited: true },
      schema: { hide: true },
    },
    async () => app.swagger(),
  );

  await app.register(fastifyMultipart, {
    limits: {
      fileSize: options.maxImageBytes,
      files: options.maxBatchImages,
      fields: 20,
      fieldSize: 64 * 1024,
      parts: options.maxBatchImages + 20,
    },
  });

  const cache = new ResultsCache(deps.redis);
  const hub = new ProgressHub(deps.subscriber);
  const ingest = new IngestService({
    db: deps.db,
    redis: deps.redis,
    publisher: deps.publisher,
    guard: deps.guard,
    maxImageBytes: options.maxImageBytes,
    dedupWindowSeconds: options.dedupWindowSeconds,
    urlFetchTimeoutMs: options.urlFetchTimeoutMs,
    imageDeadlineMs: options.imageDeadlineMs,
  });
  const idempotency = new IdempotencyStore(deps.redis, { ttlSeconds: options.idempotencyTtlSeconds });

  await app.register(
    uploadRoutes({
      ingest,
      idempotency,
      maxImageBytes: options.maxImageBytes,
      maxBatchImages: options.maxBatchImages,
    }),
  );
  await app.register(
    imageRoutes({
      db: deps.db,
      cache,
      hub,
      blobs: deps.blobs,
      ...(options.sseHeartbeatMs ? { heartbeatMs: options.sseHeartbeatMs } : {}),
    }),
  );
  await app.register(adminRoutes({ keys, webhooks: new WebhookStore(withWebhookTables(deps.db)), guard: deps.guard }));
  await app.register(opsRoutes({ checks: deps.readiness }));
  return app;
}

function describeRole(schema: { description?: string }, role: string): string {
  const needs = `Needs the \`${role}\` role (JWT or API key).`;
  return schema.description ? `${schema.description}\n\n${needs}` : needs;
}
