import { trace } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';
import { loadLoggingConfig } from './telemetry-settings.ts';

export type { Logger } from 'pino';

/**
 * JSON logs, one object a line, carrying the active trace and span ids so a log line leads to its trace.
 * Callers add `imageId` (and `stage`) with `logger.child({ imageId })`.
 */
export function createLogger(service: string, level?: string): Logger {
  return pino({
    // Without an explicit level: IMGPIPE_LOG_LEVEL, read through the configuration module.
    level: level ?? loadLoggingConfig().logLevel,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const context = trace.getActiveSpan()?.spanContext();
      return context ? { trace_id: context.traceId, span_id: context.spanId } : {};
    },
  });
}
