export { type BreakerSource, reportBreakerStates } from './breaker-metrics.ts';
export * from './logger.ts';
export * from './ops-server.ts';
export * from './tracing.ts';
export * from './model-metrics.ts';
export * from './telemetry-settings.ts';
