import { type ConfigEnv, type ConfigOf, loadConfig } from '@imgpipe/core';
import { resultsServiceSettings } from '@imgpipe/results';
import { stageProcessSettings } from '@imgpipe/stream';
import { webhookSettings } from '@imgpipe/webhooks';

/**
 * Everything the results service reads from its environment: its stage process (Kafka, registry, ops port,
 * concurrency, retries, logs, traces), the results store (PostgreSQL, Redis, sweep, deadline) and the webhook
 * dispatcher (schedule, limits, egress allow list).
 */
export const resultsSettings = {
  process: stageProcessSettings,
  results: resultsServiceSettings,
  webhooks: webhookSettings,
};

export type ResultsConfig = ConfigOf<typeof resultsSettings>;

/** Loads the results service's configuration once, at start-up: CONFIG_INVALID names every mistake at once. */
export function loadResultsConfig(env?: ConfigEnv): ResultsConfig {
  return loadConfig(resultsSettings, env);
}
