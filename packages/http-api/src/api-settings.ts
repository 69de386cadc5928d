import {
  bool,
  type ConfigEnv,
  type ConfigOf,
  int,
  list,
  loadConfig,
  oneOf,
  optionalStr,
  optionalUrl,
  serviceSettings,
  str,
} from '@imgpipe/core';
import { accountSettings } from '@imgpipe/accounts';
import { egressSettings } from '@imgpipe/egress';
import { renditionPresetSettings, transformLimitSettings } from '@imgpipe/imaging';

/** Where the development HS256 secret comes from when none is configured: fine on a laptop, never in production. */
export const DEV_JWT_SECRET = 'imgpipe-local-development-secret-do-not-deploy';

export const apiSettings = {
  port: int('IMGPIPE_API_PORT', { default: 8080, min: 0, max: 65535, description: 'HTTP API port' }),
  host: str('IMGPIPE_API_HOST', { default: '0.0.0.0' }),
  maxImageBytes: int('IMGPIPE_API_MAX_IMAGE_BYTES', {
    default: 20 * 1024 * 1024,
    min: 1,
    description: 'largest image accepted (upload or fetched URL); more is 413 IMAGE_TOO_LARGE',
  }),
  maxBatchImages: int('IMGPIPE_API_MAX_BATCH', { default: 20, min: 1, max: 1000 }),
  dedupWindowSeconds: int('IMGPIPE_API_DEDUP_WINDOW_SECONDS', {
    default: 24 * 60 * 60,
    min: 0,
    description: 'same bytes from the same tenant within this window return the existing image; 0 turns it off',
  }),
  idempotencyTtlSeconds: int('IMGPIPE_API_IDEMPOTENCY_TTL_SECONDS', { default: 24 * 60 * 60, min: 1 }),
  rateLimitPerSecond: int('IMGPIPE_API_RATE_LIMIT_PER_SECOND', {
    default: 50,
    min: 1,
    description: 'sustained requests per second per tenant (token bucket refill)',
  }),
  rateLimitBurst: int('IMGPIPE_API_RATE_LIMIT_BURST', {
    default: 100,
    min: 1,
    description: 'token bucket size per tenant',
  }),
  ipRateLimitPerSecond: int('IMGPIPE_API_IP_RATE_LIMIT_PER_SECOND', {
    default: 5,
    min: 1,
    description: 'per client IP, for unauthenticated paths and failed authentication',
  }),
  ipRateLimitBurst: int('IMGPIPE_API_IP_RATE_LIMIT_BURST', { default: 30, min: 1 }),
  urlFetchTimeoutMs: int('IMGPIPE_API_URL_FETCH_TIMEOUT_MS', { default: 10_000, min: 100, max: 120_000 }),
  maxEventBytes: int('IMGPIPE_API_MAX_EVENT_BYTES', {
    default: 1_000_000,
    min: 1024,
    description:
      'largest ImageUploaded the API produces (encoded); more is 413 REQUEST_EVENT_TOO_LARGE before anything is ' +
      "stored. Keep it under the broker's message.max.bytes (1048588 by default) with room for a dead letter's copy",
  }),
  rateLimitOnRedisDown: oneOf('IMGPIPE_API_RATE_LIMIT_ON_REDIS_DOWN', ['open', 'closed'], {
    default: 'open',
    description:
      'when Redis cannot be reached: open lets requests through unlimited, closed refuses them with 503 ' +
      'CACHE_UNAVAILABLE and Retry-After',
  }),
  breakerFailures: int('IMGPIPE_API_BREAKER_FAILURES', {
    default: 5,
    min: 1,
    max: 1000,
    description: 'failures in a row of Redis, PostgreSQL, S3 or a URL host that open its circuit breaker',
  }),
  breakerOpenMs: int('IMGPIPE_API_BREAKER_OPEN_MS', {
    default: 10_000,
    min: 100,
    description: 'how long an open circuit fails fast (503 with Retry-After) before one probe call is let through',
  }),
  redisTimeoutMs: int('IMGPIPE_API_REDIS_TIMEOUT_MS', {
    default: 1_000,
    min: 10,
    description: 'a Redis command slower than this counts as a failure of Redis',
  }),
  databaseTimeoutMs: int('IMGPIPE_API_DATABASE_TIMEOUT_MS', {
    default: 10_000,
    min: 100,
    description: 'a PostgreSQL query slower than this counts as a failure of PostgreSQL',
  }),
  storageTimeoutMs: int('IMGPIPE_API_STORAGE_TIMEOUT_MS', {
    default: 30_000,
    min: 100,
    description: 'an S3 call slower than this counts as a failure of S3',
  }),
  jwtSecret: optionalStr('IMGPIPE_JWT_SECRET', {
    minLength: 32,
    description: `HS256 secret (at least 32 characters); without it and without a JWKS URL, the development secret is used`,
  }),
  jwksUrl: optionalUrl('IMGPIPE_JWKS_URL', { description: 'JWKS of an identity provider: enables RS256 tokens' }),
  jwtIssuer: optionalStr('IMGPIPE_JWT_ISSUER', { description: 'required `iss` of tokens, when set' }),
  jwtAudience: optionalStr('IMGPIPE_JWT_AUDIENCE', { description: 'required `aud` of tokens, when set' }),
  jwtMaxLifetimeSeconds: int('IMGPIPE_JWT_MAX_LIFETIME_SECONDS', {
    default: 24 * 60 * 60,
    min: 60,
    description:
      'longest token lifetime accepted (exp - iat, or exp - now without iat); longer-lived tokens are refused',
  }),
  jwtClockSkewSeconds: int('IMGPIPE_JWT_CLOCK_SKEW_SECONDS', {
    default: 30,
    min: 0,
    max: 300,
    description: "difference between the token issuer's clock and the API's tolerated for exp, nbf and iat",
  }),
  trustProxy: bool('IMGPIPE_API_TRUST_PROXY', {
    default: false,
    description: 'take the client IP from X-Forwarded-For (behind a load balancer)',
  }),
  operatorTenants: list('IMGPIPE_API_OPERATOR_TENANTS', {
    default: [],
    description:
      'tenants whose admins operate the whole pipeline: pause and resume stages, reprocess any tenant (empty: nobody)',
  }),
  renditionSigningKey: optionalStr('IMGPIPE_RENDITION_SIGNING_KEY', {
    minLength: 32,
    description:
      'HMAC-SHA256 key of signed rendition URLs (at least 32 characters); unset, no URL can be signed or accepted',
  }),
  transformWorkers: int('IMGPIPE_API_TRANSFORM_WORKERS', {
    default: 2,
    min: 1,
    max: 64,
    description: 'worker threads that run transforms and renditions off the event loop',
  }),
  featuresCacheTtlSeconds: int('IMGPIPE_API_FEATURES_CACHE_TTL_SECONDS', {
    default: 24 * 60 * 60,
    min: 1,
    max: 30 * 24 * 60 * 60,
    description: 'how long POST /v1/features/detect answers stay in Redis, keyed by image SHA-256 and options',
  }),
  renditionMemoryBytes: int('IMGPIPE_API_RENDITION_MEMORY_BYTES', {
    default: 64 * 1024 * 1024,
    min: 0,
    description:
      'bytes of recent renditions each API process keeps in memory in front of the S3 cache (least recently used ' +
      'dropped first); 0 reads every hit from S3',
  }),
  /** The recipe limits (packages/imaging), shared with the command line and the pipeline. */
  transform: transformLimitSettings,
  /** The rendition presets uploads may ask for (packages/imaging), shared with the transform stage. */
  renditionPresets: renditionPresetSettings.presets,
  /** Sign-in sessions and the sign-in throttle (packages/accounts). */
  accounts: accountSettings,
  imageDeadlineMs: int('IMGPIPE_IMAGE_DEADLINE_MS', { default: 15 * 60_000, min: 1_000 }),
  egressAllow: egressSettings.allow,
  ...serviceSettings,
};

/** The HTTP API's settings, as apps/ingest-api loads them with the rest of its configuration. */
export type ApiConfig = ConfigOf<typeof apiSettings>;

/** For tests and benchmarks that build the API alone; the ingest-api process loads apiSettings in its own config. */
export function loadApiConfig(env?: ConfigEnv): ApiConfig {
  return loadConfig(apiSettings, env);
}
