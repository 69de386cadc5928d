import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  context,
  type Context,
  type Link,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { loadTracingConfig, type TracingConfig } from './telemetry-settings.ts';

export interface TelemetryOptions {
  serviceName: string;
  /** Defaults to OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set, else spans are dropped. */
  spanProcessors?: SpanProcessor[];
  /** The OTEL_* settings; loaded through the configuration module when not given. */
  config?: TracingConfig;
}

let sdk: Promise<NodeSDK> | undefined;

/**
 * Starts tracing once per process. Spans are always created (so trace ids are born at the edge and travel in
 * Kafka headers even when nothing exports them); they are exported only where an OTLP endpoint is configured.
 * The SDK and its exporter are imported here rather than with this module, so the processes that log but never
 * trace (`imgpipe analyze` and the other CLI commands) do not load them: the SDK brings gRPC, protobuf and the
 * metrics and logs SDKs, about a third of a second of start-up.
 */
export async function startTracing(options: TelemetryOptions): Promise<{ shutdown(): Promise<void> }> {
  if (!sdk) {
    sdk = createSdk(options);
    sdk.catch(() => {
      sdk = undefined;
    });
  }
  const started = sdk;
  const instance = await started;
  return {
    async shutdown() {
      if (sdk === started) sdk = undefined;
      await instance.shutdown();
    },
  };
}

async function createSdk(options: TelemetryOptions): Promise<NodeSDK> {
  const config = options.config ?? loadTracingConfig();
  const exportsTraces = config.otlpEndpoint !== undefined || config.otlpTracesEndpoint !== undefined;
  const [{ NodeSDK }, { BatchSpanProcessor, NoopSpanProcessor }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/sdk-trace'),
  ]);
  let spanProcessors = options.spanProcessors;
  if (!spanProcessors) {
    if (exportsTraces) {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
      spanProcessors = [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })];
    } else {
      spanProcessors = [new NoopSpanProcessor()];
    }
  }
  const instance = new NodeSDK({
    serviceName: config.serviceName ?? options.serviceName,
    spanProcessors,
    instrumentations: [],
  });
  instance.start();
  return instance;
}

export function tracer(): Tracer {
  return trace.getTracer('imgpipe');
}

/** W3C trace context, used directly so propagation works even where no SDK was started (tools, tests). */
const propagator = new W3CTraceContextPropagator();

type Headers = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** Writes the active (or given) context into message headers as W3C traceparent/tracestate. */
export function injectTraceContext(headers: Record<string, string | Buffer>, from: Context = context.active()): void {
  propagator.inject(from, headers, {
    set(carrier, key, value) {
      carrier[key] = value;
    },
  });
}

export function extractTraceContext(headers: Headers | undefined): Context {
  if (!headers) return context.active();
  return propagator.extract(context.active(), headers, {
    keys: (carrier) => Object.keys(carrier),
    get(carrier, key) {
      const value = carrier[key];
      const first = Array.isArray(value) ? value[0] : value;
      return first === undefined ? undefined : first.toString();
    },
  });
}

export function traceIdOf(span: Span | undefined = trace.getActiveSpan()): string | undefined {
  const id = span?.spanContext().traceId;
  return id && id !== '00000000000000000000000000000000' ? id : undefined;
}

/** Runs `work` in a span that records an exception and error status when it throws. */
export async function inSpan<T>(
  name: string,
  attributes: Record<string, string | number | boolean>,
  work: (span: Span) => Promise<T>,
  options: { parent?: Context; kind?: SpanKind; links?: Link[] } = {},
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer().startActiveSpan(
    name,
    { attributes, kind: options.kind ?? SpanKind.INTERNAL, ...(options.links ? { links: options.links } : {}) },
    parent,
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** A link to the span that sent a message, from its headers (OTel messaging: a batch's span links each message). */
export function linkFromHeaders(headers: Headers | undefined): Link | undefined {
  const spanContext = headers ? trace.getSpanContext(extractTraceContext(headers)) : undefined;
  return spanContext && trace.isSpanContextValid(spanContext) ? { context: spanContext } : undefined;
}

/**
 * Records a span whose work already happened, from `startTime` to `endTime` (epoch milliseconds): e.g. one per
 * message of a batch applied at once, each continuing its message's trace (`parent`) and linked to the span of the
 * batch (the active span, unless `links` are given).
 */
export function recordSpan(
  name: string,
  attributes: Record<string, string | number | boolean>,
  options: { parent?: Context; startTime: number; endTime: number; kind?: SpanKind; links?: Link[] },
): Span {
  const active = trace.getActiveSpan();
  const links = options.links ?? (active ? [{ context: active.spanContext() }] : []);
  const span = tracer().startSpan(
    name,
    { attributes, kind: options.kind ?? SpanKind.INTERNAL, startTime: options.startTime, links },
    options.parent ?? context.active(),
  );
  span.end(options.endTime);
  return span;
}
