import { type ConfigEnv, type ConfigOf, loadConfig } from '@imgpipe/core';
import { apiSettings } from '@imgpipe/http-api';
import { telemetrySettings } from '@imgpipe/telemetry';

/**
 * Everything the ingest API reads from its environment: the HTTP API (listen address, limits, tokens, egress, the
 * services it talks to: Kafka, registry, S3, PostgreSQL, Redis) and its logs and traces.
 */
export const ingestApiSettings = {
  api: apiSettings,
  telemetry: telemetrySettings,
};

export type ApiConfig = ConfigOf<typeof ingestApiSettings>;

/** Loads the API process's configuration once, at start-up: CONFIG_INVALID names every mistake at once. */
export function loadApiConfig(env?: ConfigEnv): ApiConfig {
  return loadConfig(ingestApiSettings, env);
}
