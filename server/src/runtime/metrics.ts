// Prometheus text exposition for this process: executions by final status, their durations, the
// queue depth and the oldest runnable execution's wait (one query at scrape time) and HTTP requests
// by route and status. With OpenTelemetry on (telemetry.ts), the same figures also go to its meter.
import { ValueType, type Meter } from '@opentelemetry/api';
import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { QueueStats } from './queue.js';

const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface RuntimeMetrics {
  executionFinished(status: string, durationMs: number): void;
  executionRetried(): void;
  executionQueued(trigger: string): void;
  httpRequest(method: string, route: string, status: number): void;
  /** Renders the text format; `queueStats` is asked for at scrape time. */
  render(queueStats?: () => Promise<QueueStats>): Promise<string>;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (pairs: Record<string, string>) =>
  `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',')}}`;

/** The OTel instruments of the same figures (names per OTel conventions: dots, seconds). */
function otelInstruments(meter: Meter, queueStats: (() => Promise<QueueStats>) | undefined) {
  const executions = meter.createCounter('plugboard.executions', {
    valueType: ValueType.INT,
    description: 'Executions ended by this process, by final status (queued = sent back for a retry).',
  });
  const queued = meter.createCounter('plugboard.executions.queued', {
    valueType: ValueType.INT,
    description: 'Executions created by this process, by trigger.',
  });
  const retries = meter.createCounter('plugboard.execution.retries', { valueType: ValueType.INT, description: 'Failed attempts sent back for a retry.' });
  const duration = meter.createHistogram('plugboard.execution.duration', {
    unit: 's',
    description: 'From pick-up to outcome stored.',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
  });
  const http = meter.createCounter('plugboard.http.requests', { valueType: ValueType.INT, description: 'HTTP requests, by route pattern and status.' });
  if (queueStats) {
    const depth = meter.createObservableGauge('plugboard.queue.depth', {
      valueType: ValueType.INT,
      description: 'Executions waiting to start (all processes).',
    });
    const age = meter.createObservableGauge('plugboard.queue.oldest_age', { unit: 's', description: 'Wait of the oldest execution that may start now.' });
    // One query per export, for both gauges.
    meter.addBatchObservableCallback(
      async (result) => {
        const stats = await queueStats().catch(() => undefined);
        if (!stats) return;
        result.observe(depth, stats.depth);
        result.observe(age, stats.oldestAgeSeconds);
      },
      [depth, age],
    );
  }
  return { executions, queued, retries, duration, http };
}

export function createMetrics(otel?: { meter: Meter; queueStats?: () => Promise<QueueStats> }): RuntimeMetrics {
  const o = otel && otelInstruments(otel.meter, otel.queueStats);
  const finished = new Map<string, number>();
  const queued = new Map<string, number>();
  const http = new Map<string, { method: string; route: string; status: string; n: number }>();
  const buckets = DURATION_BUCKETS_S.map(() => 0);
  let durationSum = 0;
  let durationCount = 0;
  let retried = 0;

  return {
    executionFinished(status, durationMs) {
      finished.set(status, (finished.get(status) ?? 0) + 1);
      o?.executions.add(1, { status });
      if (status === 'queued') return;
      const s = durationMs / 1000;
      o?.duration.record(s, { status });
      durationSum += s;
      durationCount++;
      DURATION_BUCKETS_S.forEach((le, i) => {
        if (s <= le) buckets[i]!++;
      });
    },
    executionRetried() {
      retried++;
      o?.retries.add(1);
    },
    executionQueued(trigger) {
      queued.set(trigger, (queued.get(trigger) ?? 0) + 1);
      o?.queued.add(1, { trigger });
    },
    httpRequest(method, route, status) {
      o?.http.add(1, { 'http.request.method': method, 'http.route': route, 'http.response.status_code': status });
      const key = `${method} ${route} ${status}`;
      const entry = http.get(key) ?? { method, route, status: String(status), n: 0 };
      entry.n++;
      http.set(key, entry);
    },
    async render(queueStats) {
      const out: string[] = [];
      out.push('# HELP plugboard_executions_total Executions ended by this process, by final status (queued = sent back for a retry).');
      out.push('# TYPE plugboard_executions_total counter');
      for (const [status, n] of finished) out.push(`plugboard_executions_total${labels({ status })} ${n}`);
      out.push('# HELP plugboard_executions_queued_total Executions created by this process, by trigger.');
      out.push('# TYPE plugboard_executions_queued_total counter');
      for (const [trigger, n] of queued) out.push(`plugboard_executions_queued_total${labels({ trigger })} ${n}`);
      out.push('# HELP plugboard_execution_retries_total Failed attempts sent back for a retry.');
      out.push('# TYPE plugboard_execution_retries_total counter');
      out.push(`plugboard_execution_retries_total ${retried}`);
      out.push('# HELP plugboard_execution_duration_seconds From pick-up to outcome stored.');
      out.push('# TYPE plugboard_execution_duration_seconds histogram');
      DURATION_BUCKETS_S.forEach((le, i) => out.push(`plugboard_execution_duration_seconds_bucket${labels({ le: String(le) })} ${buckets[i]}`));
      out.push(`plugboard_execution_duration_seconds_bucket${labels({ le: '+Inf' })} ${durationCount}`);
      out.push(`plugboard_execution_duration_seconds_sum ${durationSum}`);
      out.push(`plugboard_execution_duration_seconds_count ${durationCount}`);
      if (queueStats) {
        const stats = await queueStats();
        out.push('# HELP plugboard_queue_depth Executions waiting to start, retries not yet due included (all processes).');
        out.push('# TYPE plugboard_queue_depth gauge');
        out.push(`plugboard_queue_depth ${stats.depth}`);
        out.push('# HELP plugboard_queue_oldest_age_seconds How long the oldest execution that may start now has waited (0: none waiting).');
        out.push('# TYPE plugboard_queue_oldest_age_seconds gauge');
        out.push(`plugboard_queue_oldest_age_seconds ${stats.oldestAgeSeconds}`);
      }
      out.push('# HELP plugboard_http_requests_total HTTP requests, by route pattern and status.');
      out.push('# TYPE plugboard_http_requests_total counter');
      for (const e of http.values()) out.push(`plugboard_http_requests_total${labels({ method: e.method, route: e.route, status: e.status })} ${e.n}`);
      return `${out.join('\n')}\n`;
    },
  };
}

/** The route pattern a request matched (`/hooks/:token`, never the token), or `unmatched`. */
export function matchedRoute(c: Context): string {
  try {
    const route = routePath(c, -1) || 'unmatched';
    return route.endsWith('*') ? 'unmatched' : route;
  } catch {
    return 'unmatched'; // no route matched
  }
}

/** Counts each request under its route pattern (`/hooks/:token`, never the token itself). */
export function httpMetrics(metrics: RuntimeMetrics): MiddlewareHandler {
  return async (c, next) => {
    await next();
    metrics.httpRequest(c.req.method, matchedRoute(c), c.res.status);
  };
}
