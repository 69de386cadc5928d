import { type ConfigOf, int, kafkaConnectionSettings, serviceSettings } from '@imgpipe/core';
import { EventCodec } from '@imgpipe/contracts';
import { createLogger, type Logger, startOpsServer, startTracing, telemetrySettings } from '@imgpipe/telemetry';
import { type DependencyCheck, runDependencyChecks, schemaRegistryCheck } from './dependency-checks.ts';
import { createKafka } from './kafka-client.ts';
import type { Stage } from './stage.ts';
import type { ModelIdentityRecord } from './stage-control.ts';
import { stageOperationsSettings, startStageOperations } from './stage-operations.ts';
import { DEFAULT_BATCH_MAX_MESSAGES, StageRunner } from './stage-runner.ts';

export const stageProcessSettings = {
  ...kafkaConnectionSettings,
  schemaRegistryUrl: serviceSettings.schemaRegistryUrl,
  httpPort: int('IMGPIPE_HTTP_PORT', { default: 9464, min: 0, max: 65535, description: 'health and metrics port' }),
  concurrency: int('IMGPIPE_CONCURRENCY', { default: 2, min: 1, max: 64, description: 'partitions processed at once' }),
  sessionTimeoutMs: int('IMGPIPE_KAFKA_SESSION_TIMEOUT_MS', { default: 30_000, min: 6_000, max: 300_000 }),
  heartbeatIntervalMs: int('IMGPIPE_KAFKA_HEARTBEAT_INTERVAL_MS', { default: 3_000, min: 100, max: 60_000 }),
  shutdownDeadlineMs: int('IMGPIPE_SHUTDOWN_DEADLINE_MS', { default: 25_000, min: 1_000, max: 600_000 }),
  maxAttempts: int('IMGPIPE_MAX_ATTEMPTS', { default: 5, min: 1, max: 100 }),
  retryInitialDelayMs: int('IMGPIPE_RETRY_INITIAL_DELAY_MS', { default: 500, min: 1, max: 60_000 }),
  imageDeadlineMs: int('IMGPIPE_IMAGE_DEADLINE_MS', {
    default: 15 * 60_000,
    min: 1_000,
    description: 'how long after a message was produced work that fails on an unavailable dependency is retried',
  }),
  batchMaxMessages: int('IMGPIPE_BATCH_MAX_MESSAGES', {
    default: DEFAULT_BATCH_MAX_MESSAGES,
    min: 0,
    max: 10_000,
    description: 'most messages a batching stage (results, aggregate) applies at once; 0 = one at a time',
  }),
  ...stageOperationsSettings,
  ...telemetrySettings,
};

/** A stage process's settings, loaded by each process as part of its own configuration (its app's config.ts). */
export type StageProcessConfig = ConfigOf<typeof stageProcessSettings>;

export interface StageProcess {
  readonly logger: Logger;
  readonly runner: StageRunner;
  readonly httpPort: number;
  stop(): Promise<void>;
}

/**
 * Everything a stage process does besides its handler: tracing, logging, the consumer group, the health
 * and metrics endpoints, and a graceful stop on SIGTERM/SIGINT. Workers and the results service both use it.
 */
export async function startStageProcess(options: {
  service: string;
  config: StageProcessConfig;
  createStage: (logger: Logger) => Promise<Stage>;
  onStop?: () => Promise<void>;
  /** The model the stage runs, once createStage has loaded it: announced on the control topic for reprocessing. */
  model?: () => ModelIdentityRecord | undefined;
  /**
   * Readiness checks of the stage's own dependencies (S3, Redis, PostgreSQL) by name, read at each probe (createStage
   * may fill it in); the schema registry's is added, and Kafka's is the consumer's own state.
   */
  checks?: Record<string, DependencyCheck>;
  /** More readiness detail, read at each probe (the results service's webhook circuits); never makes it unready. */
  details?: () => Record<string, unknown>;
}): Promise<StageProcess> {
  const { config } = options;
  const tracing = await startTracing({ serviceName: `imgpipe-${options.service}`, config });
  const logger = createLogger(`imgpipe-${options.service}`, config.logLevel);
  const stage = await options.createStage(logger);
  const runner = new StageRunner({
    kafka: createKafka({ connection: config, clientId: `imgpipe-${options.service}`, logger }),
    codec: new EventCodec({ registryUrl: config.schemaRegistryUrl }),
    stage,
    logger,
    concurrency: config.concurrency,
    sessionTimeoutMs: config.sessionTimeoutMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    retry: {
      maxAttempts: config.maxAttempts,
      initialDelayMs: config.retryInitialDelayMs,
      maxDelayMs: 30_000,
      unavailableRetryMs: config.imageDeadlineMs,
    },
    batchMaxMessages: config.batchMaxMessages,
  });
  const operations = await startStageOperations({
    kafka: createKafka({ connection: config, clientId: `imgpipe-${options.service}-control`, logger }),
    stage,
    runner,
    logger,
    config,
    model: options.model?.(),
  });
  const registryCheck = schemaRegistryCheck(config.schemaRegistryUrl);
  const ops = await startOpsServer({
    port: config.httpPort,
    // Live unless the consumer crashed for good; ready while it is in its group and every dependency answers.
    health: async (probe) => {
      const consumer = runner.health.report();
      if (probe === 'live') return consumer;
      const dependencies = await runDependencyChecks({
        kafka: () => runner.pingKafka(),
        'schema-registry': registryCheck,
        ...options.checks,
      });
      return {
        live: consumer.live,
        ready: consumer.ready && dependencies.ok,
        // Paused or stalled is not unready: restarting or unrouting the process would not help.
        details: {
          ...consumer.details,
          checks: dependencies.checks,
          ...operations.report(),
          ...options.details?.(),
        },
      };
    },
  });
  await runner.start();
  logger.info(
    { stage: stage.name, groupId: stage.groupId, inputs: stage.inputs, httpPort: ops.port, batching: runner.batching },
    'stage started',
  );

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info({ inFlight: runner.inFlight }, 'stopping: finishing in-flight work');
      const { timedOut } = await runner.stop(config.shutdownDeadlineMs);
      await operations.stop();
      if (timedOut)
        logger.warn({ deadlineMs: config.shutdownDeadlineMs }, 'shutdown deadline passed with work in flight');
      await options.onStop?.();
      await ops.close();
      await tracing.shutdown();
      logger.info('stopped');
    })();
    return stopping;
  };
  return { logger, runner, httpPort: ops.port, stop };
}

/** Runs a stage process until SIGTERM or SIGINT, then stops it gracefully and exits. */
export async function runStageProcessUntilSignalled(process_: Promise<StageProcess>): Promise<number> {
  const stageProcess = await process_;
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await stageProcess.stop();
  return 0;
}
