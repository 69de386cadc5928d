import './fastify-types.ts';
import { randomUUID } from 'node:crypto';
import fastifyMultipart from '@fastify/multipart';
import type { SsrfGuard } from '@imgpipe/egress';
import type { ImagePublisher } from '@imgpipe/publisher';
import { BatchRepository, type Database, ResultsCache } from '@imgpipe/results';
import { type Logger, reportBreakerStates } from '@imgpipe/telemetry';
import { WebhookStore, withWebhookTables } from '@imgpipe/webhooks';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import {
  DEFAULT_RENDITION_PRESETS,
  parsePresets,
  type RenditionPresets,
  resolveLimits,
  type TransformLimits,
} from '@imgpipe/imaging';
import type { AccountConfig } from '@imgpipe/accounts';
import { accountSessions } from './account-sessions.ts';
import { ApiKeyStore } from './auth/api-keys.ts';
import type { JwtOptions } from './auth/authenticator.ts';
import { type BreakerSettings, DEFAULT_BREAKER_SETTINGS, DependencyBreakers } from './dependency-breakers.ts';
import { IdempotencyStore } from './idempotency.ts';
import { IngestService } from './ingest-service.ts';
import { ReadPool } from './read-pool.ts';
import { RenditionService, type RenditionBlobs } from './rendition-service.ts';
import { RenditionSigner } from './rendition-signing.ts';
import { TransformPool } from './transform-pool.ts';
import { FeaturesService } from './features-service.ts';
import { MatchService } from './match-service.ts';
import { createWorkerPool } from '@imgpipe/vision/features';
import { authPlugin } from './plugins/auth.ts';
import { inputsPlugin } from './plugins/inputs.ts';
import { limitsPlugin } from './plugins/limits.ts';
import { openapiPlugin } from './plugins/openapi.ts';
import { problemsPlugin } from './plugins/problems.ts';
import { requestMetricsPlugin } from './plugins/request-metrics.ts';
import { sendProblem, toProblem } from './problem-details.ts';
import { ProgressHub } from './progress-hub.ts';
import type { BucketPolicy } from './rate-limiter.ts';
import type { Check } from './readiness.ts';
import type { StageControlService } from './stage-control-service.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';
import { authRoutes } from './routes/auth.ts';
import { consoleRoutes } from './routes/console.ts';
import { imageRoutes } from './routes/images.ts';
import { opsRoutes } from './routes/ops.ts';
import { renditionRoutes } from './routes/renditions.ts';
import { transformRoutes } from './routes/transform.ts';
import { featuresRoutes } from './routes/features.ts';
import { similarRoutes } from './routes/similar.ts';
import { stageRoutes } from './routes/stages.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { batchRoutes } from './routes/batches.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { sharedSerializers } from './shared-serializers.ts';

export interface ApiDeps {
  /** The primary (PgBouncer in production): writes, and reads that must see them (one image, dedup, API keys). */
  db: Kysely<Database>;
  /** Searches and lists: a streaming replica's pool (IMGPIPE_DATABASE_READ_URL); absent, `db`. */
  readDb?: Kysely<Database>;
  /** Commands (cache, rate limits, idempotency keys). */
  redis: Redis;
  /** A second connection for SUBSCRIBE (a subscribed connection cannot run commands). */
  subscriber: Redis;
  blobs: RenditionBlobs & { delete(key: string): Promise<void> };
  publisher: ImagePublisher;
  guard: SsrfGuard;
  /** Readiness checks by dependency name (kafka, s3, postgres, redis). */
  readiness: Record<string, Check>;
  /** The circuit breakers on the request path; built from `ApiOptions.breakers` when absent. */
  breakers?: DependencyBreakers;
  /** Pipeline operations (pause, resume, reprocess); their routes exist only when given. */
  stageControl?: StageControlService;
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
  /** Largest encoded ImageUploaded; checked before anything is stored. */
  maxEventBytes: number;
  tenantRateLimit: BucketPolicy;
  ipRateLimit: BucketPolicy;
  /** With Redis unreachable: let requests through unlimited (open) or refuse them with 503 (closed). */
  rateLimitOnRedisDown: 'open' | 'closed';
  breakers?: BreakerSettings;
  trustProxy?: boolean;
  /** Tenants whose admins may pause, resume and reprocess stages for everyone. */
  operatorTenants?: readonly string[];
  sseHeartbeatMs?: number;
  /** Sign-in sessions and their throttle (IMGPIPE_AUTH_*); default: the settings' defaults. */
  accounts?: AccountConfig;
  /** Recipe limits for POST /v1/transform and renditions (default: the imaging package's defaults). */
  transformLimits?: TransformLimits;
  /** The rendition presets uploads may ask for (default: the imaging package's thumb and web). */
  renditionPresets?: RenditionPresets;
  /** Worker threads running transforms (default 2). */
  transformWorkers?: number;
  /** How long POST /v1/features/detect answers stay in Redis (default 1 day). */
  featuresCacheTtlSeconds?: number;
  /** Bytes of recent renditions kept in memory in front of S3 (default 0: every hit reads S3). */
  renditionMemoryBytes?: number;
  /** HMAC key of signed rendition URLs; without it none can be minted or accepted. */
  renditionSigningKey?: string;
}

/**
 * The HTTP API as a fastify instance (not listening), composed of plugins that get their dependencies as options:
 *
 * - src/plugins/: the cross-cutting ones, not encapsulated (fastify-plugin) so that every route group registered
 *   after them inherits them: RFC 9457 problems for every error, request metrics, rate limits, authentication and
 *   roles (`config.auth` on a route), and the OpenAPI document generated from the route schemas.
 * - src/routes/: one encapsulated plugin per route group; each declares what it needs in its route options
 *   (`config.auth`, `config.ipRateLimited`) and reads the caller with `principalOf(request)`.
 *
 * A new route group is a file in src/routes/ exporting `async (app, options)`, registered below with its services.
 */
export async function buildApp(deps: ApiDeps, options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // One compiled response serializer per distinct schema, not per route and status (start-up time).
    schemaController: { compilersFactory: { buildSerializer: sharedSerializers() } },
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    trustProxy: options.trustProxy ?? false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
    },
    // No type coercion: a body is taken as sent ({"name": [null]} is not a name). Query strings and path parameters
    // are text; the numbers their schemas declare are parsed by the inputs plugin.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    // Route schemas limit each path parameter (400); fastify's own limit would answer 414 outside the problem format.
    routerOptions: { maxParamLength: 16_384 },
    // A URL fastify cannot route (bad percent-encoding) is a problem like any other.
    frameworkErrors: (error, request, reply) => sendProblem(reply, toProblem(error, request)),
  }) as unknown as FastifyInstance;
  const breakers = deps.breakers ?? new DependencyBreakers(options.breakers ?? DEFAULT_BREAKER_SETTINGS);
  const stopReporting = reportBreakerStates(breakers);
  app.addHook('onClose', async () => stopReporting());
  const keys = new ApiKeyStore(deps.db, breakers);

  await app.register(problemsPlugin);
  await app.register(inputsPlugin);
  await app.register(requestMetricsPlugin);
  await app.register(limitsPlugin, {
    redis: deps.redis,
    tenant: options.tenantRateLimit,
    ip: options.ipRateLimit,
    breakers,
    onRedisDown: options.rateLimitOnRedisDown,
  });
  await app.register(authPlugin, { jwt: options.jwt, keys });
  await app.register(openapiPlugin);
  // Multipart bodies are parsed for every route (uploads read them; elsewhere they fail validation as 400).
  await app.register(fastifyMultipart, {
    limits: {
      fileSize: options.maxImageBytes,
      files: options.maxBatchImages,
      fields: 20,
      fieldSize: 64 * 1024,
      parts: options.maxBatchImages + 20,
    },
  });

  const ingest = new IngestService({
    db: deps.db,
    redis: deps.redis,
    publisher: deps.publisher,
    blobs: deps.blobs,
    guard: deps.guard,
    breakers,
    maxImageBytes: options.maxImageBytes,
    maxEventBytes: options.maxEventBytes,
    dedupWindowSeconds: options.dedupWindowSeconds,
    urlFetchTimeoutMs: options.urlFetchTimeoutMs,
    imageDeadlineMs: options.imageDeadlineMs,
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
  const transformLimits = resolveLimits(options.transformLimits);
  const batches = new BatchRepository(deps.db);
  await app.register(uploadRoutes, {
    ingest,
    batches,
    breakers,
    recipeLimits: transformLimits,
    idempotency: new IdempotencyStore(deps.redis, { ttlSeconds: options.idempotencyTtlSeconds, breakers }),
    maxImageBytes: options.maxImageBytes,
    maxBatchImages: options.maxBatchImages,
    presets: options.renditionPresets ?? parsePresets(DEFAULT_RENDITION_PRESETS),
  });
  await app.register(imageRoutes, {
    db: deps.db,
    reads: new ReadPool(deps.db, deps.readDb ?? deps.db, breakers),
    cache: new ResultsCache(deps.redis),
    hub: new ProgressHub(deps.subscriber),
    blobs: deps.blobs,
    breakers,
    ...(options.sseHeartbeatMs ? { heartbeatMs: options.sseHeartbeatMs } : {}),
  });
  // Transforms and renditions: one pool of worker threads, closed with the app.
  const pool = new TransformPool(options.transformWorkers ?? 2);
  app.addHook('onClose', () => pool.close());
  await app.register(batchRoutes, { batches, breakers });
  await app.register(transformRoutes, {
    pool,
    limits: transformLimits,
    maxImageBytes: options.maxImageBytes,
    fetchUrl: (url) => ingest.fetchUrl(url),
  });
  // Keypoints: their own vision worker pool (threads start at the first request), closed with the app.
  const featurePool = createWorkerPool({ size: options.transformWorkers ?? 2 });
  app.addHook('onClose', () => featurePool.close());
  const renditions = new RenditionService({
    db: deps.db,
    cache: new ResultsCache(deps.redis),
    blobs: deps.blobs,
    breakers,
    pool,
    limits: transformLimits,
    memoryBytes: options.renditionMemoryBytes ?? 0,
  });
  const features = new FeaturesService({
    redis: deps.redis,
    breakers,
    executor: featurePool,
    ttlSeconds: options.featuresCacheTtlSeconds ?? 24 * 60 * 60,
  });
  // POST /v1/match and similar images' verification: stored images are read as renditions read their originals.
  const match = new MatchService({
    features,
    executor: featurePool,
    original: async (tenantId, id) => {
      const original = await renditions.original(tenantId, id);
      return breakers.storage(() => deps.blobs.get(original));
    },
    maxImageBytes: options.maxImageBytes,
  });
  await app.register(featuresRoutes, { features, match, maxImageBytes: options.maxImageBytes });
  await app.register(similarRoutes, { reads: new ReadPool(deps.db, deps.readDb ?? deps.db, breakers), match });
  await app.register(renditionRoutes, { renditions, signer: new RenditionSigner(options.renditionSigningKey) });
  await app.register(apiKeyRoutes, { keys });
  const sessions = accountSessions({
    db: deps.db,
    redis: deps.redis,
    breakers,
    jwt: options.jwt,
    config: options.accounts,
  });
  await app.register(authRoutes, { ...sessions, breakers, onRedisDown: options.rateLimitOnRedisDown });
  await app.register(webhookRoutes, {
    webhooks: new WebhookStore(withWebhookTables(deps.db)),
    guard: deps.guard,
    breakers,
  });
  await app.register(opsRoutes, { checks: deps.readiness, breakers });
  // The web console's pages and assets under /console, with their own security headers.
  await app.register(consoleRoutes, {});
  if (deps.stageControl) {
    await app.register(stageRoutes, { control: deps.stageControl, operatorTenants: options.operatorTenants ?? [] });
  }
  return app;
}
