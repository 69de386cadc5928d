import { type ConfigEnv, type ConfigOf, loadConfig, oneOf, optionalStr } from '@imgpipe/core';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The log level of every imgpipe process. */
export const loggingSettings = {
  logLevel: oneOf('IMGPIPE_LOG_LEVEL', LOG_LEVELS, { default: 'info', description: 'JSON log level' }),
};

/** The OpenTelemetry SDK's standard variables that decide whether and as what spans are exported. */
export const tracingSettings = {
  otlpEndpoint: optionalStr('OTEL_EXPORTER_OTLP_ENDPOINT', { description: 'OTLP/HTTP collector; unset drops spans' }),
  otlpTracesEndpoint: optionalStr('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'),
  serviceName: optionalStr('OTEL_SERVICE_NAME', { description: "overrides the process's own service name" }),
};

/** Logs and traces: what every process passes to createLogger and startTracing. */
export const telemetrySettings = { ...loggingSettings, ...tracingSettings };

export type LoggingConfig = ConfigOf<typeof loggingSettings>;
export type TracingConfig = ConfigOf<typeof tracingSettings>;
export type TelemetryConfig = ConfigOf<typeof telemetrySettings>;

/** For tools and tests; a process loads these settings as part of its own configuration. */
export function loadLoggingConfig(env?: ConfigEnv): LoggingConfig {
  return loadConfig(loggingSettings, env);
}

export function loadTracingConfig(env?: ConfigEnv): TracingConfig {
  return loadConfig(tracingSettings, env);
}
