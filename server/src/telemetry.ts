// OpenTelemetry for `plugboard serve` and `plugboard runner`: traces, metrics and logs exported over
// OTLP/HTTP (JSON) when OTEL_EXPORTER_OTLP_ENDPOINT (or a per-signal endpoint) is set. Built once
// (startTelemetry) and passed explicitly; when it is not set there is no Telemetry at all, so the
// request path, the runner and the logger do exactly what they did without it.
//
// One trace per webhook: the request's server span → the execution's span on the runner (the W3C
// traceparent travels in the execution's stored payload, so the runner may be another process) →
// one client span per ctx.fetch call, reported by the executor over IPC (the executor itself has no
// network but the flow's egress, and no OTel). Never recorded: query strings, URL paths of
// webhooks (their token), headers, config values, request or response bodies.
import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Meter,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import type { MiddlewareHandler } from 'hono';
import type { OutboundCall } from './runtime/executor/types.js';
import { matchedRoute } from './runtime/metrics.js';

type Env = Record<string, string | undefined>;

/** Past this many ctx.fetch spans in one execution, further calls are counted on the execution span only. */
const MAX_FETCH_SPANS = 1000;

export interface ExecutionTraceInput {
  /** The W3C traceparent stored with the execution when it was triggered (absent: a root span). */
  traceparent?: string;
  executionId: string;
  flow: string;
  instanceId: string;
  customerId: string;
  integrationKey?: string;
  attempt: number;
  trigger: string;
  /** When the execution was queued (ISO time): its wait shows as an attribute. */
  queuedAt?: string;
}

/** The span of one execution attempt on a runner. */
export interface ExecutionTrace {
  /** One ctx.fetch call, as the executor reported it. */
  fetch(call: OutboundCall): void;
  /** Ends the span with the attempt's outcome (`queued`: sent back for a retry; `released`: handed back undone). */
  end(status: string): void;
}

export interface Telemetry {
  readonly tracer: Tracer;
  readonly meter: Meter;
  /** A server span around each request (first middleware), active while the request is handled. */
  httpSpans(): MiddlewareHandler;
  /** The active span's W3C traceparent, stored with an execution so its runner continues the trace. */
  traceparent(): string | undefined;
  startExecution(input: ExecutionTraceInput): ExecutionTrace;
  /** For pino: each (already redacted) line also becomes an OTel log record, in the caller's trace context. */
  readonly logSink: { write(line: string): void };
  /** The active trace and span ids, added to every log line (pino's mixin). */
  logIds(): Record<string, string>;
  /** Exports what is buffered and stops. Safe to call twice. */
  shutdown(): Promise<void>;
}

const set = (v: string | undefined) => v !== undefined && v.trim() !== '';

/** The OTLP/HTTP URL of one signal: its own endpoint as given, else the base endpoint + /v1/<signal>. */
function signalUrl(env: Env, signal: 'traces' | 'metrics' | 'logs'): string | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  if (env[`OTEL_${signal.toUpperCase()}_EXPORTER`]?.trim().toLowerCase() === 'none') return undefined;
  const own = env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`];
  if (set(own)) return own!.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  return set(base) ? `${base!.trim().replace(/\/+$/, '')}/v1/${signal}` : undefined;
}

/** True when startTelemetry would export anything with this environment. */
export function telemetryConfigured(env: Env = process.env): boolean {
  return (['traces', 'metrics', 'logs'] as const).some((s) => signalUrl(env, s) !== undefined);
}

function positiveInt(env: Env, name: string, fallback: number): number {
  const n = Number(env[name]);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

// pino's numeric levels → OTel severities.
// (SeverityNumber's values: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21.)
const SEVERITY: Record<number, number> = { 10: 1, 20: 5, 30: 9, 40: 13, 50: 17, 60: 21 };
const SEVERITY_TEXT: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

function logSinkFor(logger: OtelLogger): { write(line: string): void } {
  return {
    write(line) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      const { level, time, msg, trace_id: _t, span_id: _s, pid: _p, hostname: _h, ...attributes } = record;
      const lvl = typeof level === 'number' ? level : 30;
      logger.emit({
        timestamp: typeof time === 'number' ? time : Date.now(),
        severityNumber: SEVERITY[lvl] ?? 9,
        severityText: SEVERITY_TEXT[lvl] ?? 'INFO',
        body: typeof msg === 'string' ? msg : '',
        attributes: attributes as Record<string, string>,
        // pino writes synchronously, inside the call that logged: this is that caller's context.
        context: context.active(),
      });
    },
  };
}

/**
 * Starts the SDK when the environment asks for OTLP export (see telemetryConfigured); undefined
 * otherwise. Honours OTEL_SERVICE_NAME (default `serviceName`), OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_EXPORTER_OTLP_*_ENDPOINT / _HEADERS / _TIMEOUT, OTEL_{TRACES,METRICS,LOGS}_EXPORTER=none,
 * OTEL_BSP_* / OTEL_BLRP_* batching and OTEL_METRIC_EXPORT_INTERVAL.
 */
export async function startTelemetry(options: { serviceName: string; env?: Env }): Promise<Telemetry | undefined> {
  const env = options.env ?? process.env;
  if (!telemetryConfigured(env)) return undefined;
  // The SDK is loaded only here: a process without OTLP export never imports it.
  const [
    { AsyncLocalStorageContextManager },
    { W3CTraceContextPropagator },
    { OTLPLogExporter },
    { OTLPMetricExporter },
    { OTLPTraceExporter },
    { defaultResource, detectResources, envDetector, resourceFromAttributes },
    { BatchLogRecordProcessor, LoggerProvider },
    { MeterProvider, PeriodicExportingMetricReader },
    { BasicTracerProvider, BatchSpanProcessor },
    { ATTR_SERVICE_NAME },
  ] = await Promise.all([
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/exporter-logs-otlp-http'),
    import('@opentelemetry/exporter-metrics-otlp-http'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-logs'),
    import('@opentelemetry/sdk-metrics'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  const tracesUrl = signalUrl(env, 'traces');
  const metricsUrl = signalUrl(env, 'metrics');
  const logsUrl = signalUrl(env, 'logs');

  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }))
    .merge(detectResources({ detectors: [envDetector] }));
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: tracesUrl ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl }))] : [],
  });
  const meterProvider = new MeterProvider({
    resource,
    readers: metricsUrl
      ? [
          new PeriodicExportingMetricReader({
            exporter: new OTLPMetricExporter({ url: metricsUrl }),
            exportIntervalMillis: positiveInt(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000),
            exportTimeoutMillis: Math.min(positiveInt(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30_000), positiveInt(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000)),
          }),
        ]
      : [],
  });
  const loggerProvider = new LoggerProvider({
    resource,
    processors: logsUrl ? [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: logsUrl }) })] : [],
  });

  // The active span follows async calls (request → handler → trigger) through AsyncLocalStorage.
  const contextManager = new AsyncLocalStorageContextManager().enable();
  // One per process: a second one (two servers in one test process) keeps the first's.
  const ownsContext = context.setGlobalContextManager(contextManager);
  const propagator = new W3CTraceContextPropagator();
  const tracer = tracerProvider.getTracer('plugboard');
  const meter = meterProvider.getMeter('plugboard');
  const otelLogger = loggerProvider.getLogger('plugboard');

  let stopping: Promise<void> | undefined;
  return {
    tracer,
    meter,
    logSink: logSinkFor(otelLogger),
    logIds(): Record<string, string> {
      const span = trace.getSpan(context.active());
      if (!span) return {};
      const { traceId, spanId } = span.spanContext();
      return { trace_id: traceId, span_id: spanId };
    },
    httpSpans() {
      return async (c, next) => {
        const headers = { traceparent: c.req.header('traceparent'), tracestate: c.req.header('tracestate') };
        const parent = headers.traceparent ? propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter) : ROOT_CONTEXT;
        // No URL, query or header is recorded: the route pattern names the request.
        const span = tracer.startSpan(c.req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': c.req.method } }, parent);
        try {
          await context.with(trace.setSpan(parent, span), next);
        } finally {
          const route = matchedRoute(c);
          const status = c.res.status;
          span.updateName(`${c.req.method} ${route}`);
          span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
          if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        }
      };
    },
    traceparent() {
      const carrier: Record<string, string> = {};
      propagator.inject(context.active(), carrier, defaultTextMapSetter);
      return carrier.traceparent;
    },
    startExecution(input) {
      const parent: Context = input.traceparent ? propagator.extract(ROOT_CONTEXT, { traceparent: input.traceparent }, defaultTextMapGetter) : ROOT_CONTEXT;
      const queuedMs = input.queuedAt ? Date.now() - Date.parse(input.queuedAt) : NaN;
      // Who and what ran, never with what: no config value, payload or header.
      const span: Span = tracer.startSpan(
        `execution ${input.flow}`,
        {
          kind: SpanKind.CONSUMER,
          attributes: {
            'plugboard.execution.id': input.executionId,
            'plugboard.flow': input.flow,
            'plugboard.instance.id': input.instanceId,
            'plugboard.customer.id': input.customerId,
            'plugboard.execution.attempt': input.attempt,
            'plugboard.execution.trigger': input.trigger,
            ...(input.integrationKey ? { 'plugboard.integration': input.integrationKey } : {}),
            ...(Number.isFinite(queuedMs) ? { 'plugboard.execution.queued_ms': Math.max(0, queuedMs) } : {}),
          },
        },
        parent,
      );
      const own = trace.setSpan(ROOT_CONTEXT, span);
      let fetches = 0;
      return {
        fetch(call) {
          if (++fetches > MAX_FETCH_SPANS) return;
          const child = tracer.startSpan(
            call.method,
            {
              kind: SpanKind.CLIENT,
              startTime: call.startedAt,
              attributes: {
                'http.request.method': call.method,
                'server.address': call.host,
                ...(call.port !== undefined ? { 'server.port': call.port } : {}),
                ...(call.status !== undefined ? { 'http.response.status_code': call.status } : {}),
                ...(call.error !== undefined ? { 'error.type': call.error } : {}),
              },
            },
            own,
          );
          if (call.error !== undefined || (call.status ?? 0) >= 500) child.setStatus({ code: SpanStatusCode.ERROR });
          child.end(call.endedAt);
        },
        end(status) {
          span.setAttributes({ 'plugboard.execution.status': status, 'plugboard.execution.fetches': fetches });
          // Not the error text: a flow's message may quote anything it handled.
          if (status !== 'succeeded' && status !== 'released') span.setStatus({ code: SpanStatusCode.ERROR, message: status });
          span.end();
        },
      };
    },
    shutdown() {
      stopping ??= (async () => {
        await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown(), loggerProvider.shutdown()]);
        if (ownsContext) context.disable();
        else contextManager.disable();
      })();
      return stopping;
    },
  };
}
