import { ImgpipeError } from '@imgpipe/core';
import { EventCodec } from '@imgpipe/contracts';
import { createDatabase, createRedis, migrateDirect, readDatabase } from '@imgpipe/results';
import { SsrfGuard } from '@imgpipe/egress';
import { ImagePublisher } from '@imgpipe/publisher';
import { blobStoreFor } from '@imgpipe/storage';
import { createKafka } from '@imgpipe/stream/kafka';
import type { Logger } from '@imgpipe/telemetry';
import type { FastifyInstance } from 'fastify';
import { type ApiConfig, DEV_JWT_SECRET } from './api-settings.ts';
import { type ApiDeps, type ApiOptions, buildApp } from './app.ts';
import { kafkaStageControl } from './stage-control-service.ts';
import { DependencyBreakers } from './dependency-breakers.ts';

export interface RunningApi {
  app: FastifyInstance;
  deps: ApiDeps;
  /** Stops accepting requests, then closes every client. */
  close(): Promise<void>;
}

/** Which token algorithms the configuration enables; the development secret only when nothing else is configured. */
export function jwtOptionsFrom(config: ApiConfig): ApiOptions['jwt'] & { usingDevSecret: boolean } {
  if (config.jwtSecret !== undefined && config.jwtSecret.length < 32) {
    throw new ImgpipeError('CONFIG_INVALID', 'IMGPIPE_JWT_SECRET must be at least 32 characters');
  }
  const hsSecret = config.jwtSecret ?? (config.jwksUrl ? undefined : DEV_JWT_SECRET);
  return {
    ...(hsSecret ? { hsSecret } : {}),
    ...(config.jwksUrl ? { jwksUrl: config.jwksUrl } : {}),
    ...(config.jwtIssuer ? { issuer: config.jwtIssuer } : {}),
    ...(config.jwtAudience ? { audience: config.jwtAudience } : {}),
    maxLifetimeSeconds: config.jwtMaxLifetimeSeconds,
    clockSkewSeconds: config.jwtClockSkewSeconds,
    usingDevSecret: hsSecret === DEV_JWT_SECRET,
  };
}

export function apiOptionsFrom(config: ApiConfig): ApiOptions {
  const { usingDevSecret: _dev, ...jwt } = jwtOptionsFrom(config);
  return {
    jwt,
    maxImageBytes: config.maxImageBytes,
    maxBatchImages: config.maxBatchImages,
    dedupWindowSeconds: config.dedupWindowSeconds,
    idempotencyTtlSeconds: config.idempotencyTtlSeconds,
    urlFetchTimeoutMs: config.urlFetchTimeoutMs,
    imageDeadlineMs: config.imageDeadlineMs,
    maxEventBytes: config.maxEventBytes,
    tenantRateLimit: { burst: config.rateLimitBurst, perSecond: config.rateLimitPerSecond },
    ipRateLimit: { burst: config.ipRateLimitBurst, perSecond: config.ipRateLimitPerSecond },
    rateLimitOnRedisDown: config.rateLimitOnRedisDown,
    breakers: {
      failureThreshold: config.breakerFailures,
      openMs: config.breakerOpenMs,
      redisTimeoutMs: config.redisTimeoutMs,
      databaseTimeoutMs: config.databaseTimeoutMs,
      storageTimeoutMs: config.storageTimeoutMs,
    },
    trustProxy: config.trustProxy,
    operatorTenants: config.operatorTenants,
    accounts: { ...config.accounts },
    transformLimits: { ...config.transform },
    renditionPresets: config.renditionPresets,
    transformWorkers: config.transformWorkers,
    featuresCacheTtlSeconds: config.featuresCacheTtlSeconds,
    renditionMemoryBytes: config.renditionMemoryBytes,
    ...(config.renditionSigningKey ? { renditionSigningKey: config.renditionSigningKey } : {}),
  };
}

/**
 * The API with real clients (Kafka producer, schema registry, S3, PostgreSQL, Redis) built from configuration:
 * what `imgpipe run ingest-api`, the scenario tests and the benchmark run. Overrides replace options (tests).
 */
export async function createApi(
  config: ApiConfig,
  logger: Logger,
  overrides: Partial<ApiOptions> & { logRequests?: boolean; guard?: SsrfGuard } = {},
): Promise<RunningApi> {
  const { logRequests: _logRequests, guard: _guard, ...optionOverrides } = overrides;
  const options: ApiOptions = { ...apiOptionsFrom(config), ...optionOverrides };
  const breakers = new DependencyBreakers(options.breakers);
  // Migrations over the primary itself (IMGPIPE_DATABASE_DIRECT_URL), everything else through IMGPIPE_DATABASE_URL
  // (PgBouncer in production); searches and lists from the replica when IMGPIPE_DATABASE_READ_URL is set.
  await migrateDirect(config, 'imgpipe-api-migrate');
  const db = createDatabase({ url: config.databaseUrl, applicationName: 'imgpipe-api' });
  const readDb = readDatabase(config, db, { applicationName: 'imgpipe-api-read' });
  const redis = createRedis(config.redisUrl);
  const subscriber = createRedis(config.redisUrl);
  const blobs = blobStoreFor(config);
  await blobs.ensureBucket();
  const kafka = createKafka({ connection: config, clientId: 'imgpipe-api', logger });
  const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
  await producer.connect();
  const admin = kafka.admin();
  await admin.connect();
  const codec = new EventCodec({ registryUrl: config.schemaRegistryUrl });
  const deps: ApiDeps = {
    db,
    readDb,
    redis,
    subscriber,
    blobs,
    // The publisher stores originals through the S3 circuit breaker.
    publisher: new ImagePublisher({
      producer,
      codec,
      blobs: {
        bucket: blobs.bucket,
        put: (key, bytes, contentType, sha256) => breakers.storage(() => blobs.put(key, bytes, contentType, sha256)),
      },
    }),
    guard: overrides.guard ?? new SsrfGuard({ allow: config.egressAllow }),
    readiness: {
      kafka: () => admin.describeCluster(),
      s3: () => blobs.ping(),
      postgres: () => db.selectNoFrom((eb) => eb.lit(1).as('one')).execute(),
      // The replica is optional: while it is down, searches fall back to the primary (read-pool.ts).
      ...(readDb === db ? {} : { 'postgres-read': () => readDb.selectNoFrom((eb) => eb.lit(1).as('one')).execute() }),
      redis: () => redis.ping(),
    },
    breakers,
    stageControl: kafkaStageControl({ kafka, producer, codec, db }),
    ...(overrides.logRequests === false ? {} : { logger }),
  };
  const app = await buildApp(deps, options);
  return {
    app,
    deps,
    async close() {
      await app.close();
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
      await Promise.allSettled([
        redis.quit(),
        subscriber.quit(),
        db.destroy(),
        ...(readDb === db ? [] : [readDb.destroy()]),
      ]);
      blobs.close();
    },
  };
}
