import { type ConfigEnv, type ConfigOf, loadConfig } from '@imgpipe/core';
import { stagesSettings } from '@imgpipe/stages';
import { stageProcessSettings } from '@imgpipe/stream';

/**
 * Everything a worker reads from its environment: the stage process (Kafka, registry, ops port, concurrency,
 * retries, logs, traces) and what its stage runs on (vision, S3, Redis for aggregate).
 */
export const workerSettings = {
  process: stageProcessSettings,
  stages: stagesSettings,
};

export type WorkerConfig = ConfigOf<typeof workerSettings>;

/** Loads the worker's configuration once, at start-up: CONFIG_INVALID names every mistake at once. */
export function loadWorkerConfig(env?: ConfigEnv): WorkerConfig {
  return loadConfig(workerSettings, env);
}
