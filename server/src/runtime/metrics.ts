// Prometheus text exposition for this process: executions by final status, their durations, the
// queue depth (read from the database at scrape time) and HTTP requests by route and status.
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';

const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface RuntimeMetrics {
  executionFinished(status: string, durationMs: number): void;
  executionRetried(): void;
  executionQueued(trigger: string): void;
  httpRequest(method: string, route: string, status: number): void;
  /** Renders the text format; `queueDepth` is asked for at scrape time. */
  render(queueDepth?: () => Promise<number>): Promise<string>;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (pairs: Record<string, string>) =>
  `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',')}}`;

export function createMetrics(): RuntimeMetrics {
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
      if (status === 'queued') return;
      const s = durationMs / 1000;
      durationSum += s;
      durationCount++;
      DURATION_BUCKETS_S.forEach((le, i) => {
        if (s <= le) buckets[i]!++;
      });
    },
    executionRetried() {
      retried++;
    },
    executionQueued(trigger) {
      queued.set(trigger, (queued.get(trigger) ?? 0) + 1);
    },
    httpRequest(method, route, status) {
      const key = `${method} ${route} ${status}`;
      const entry = http.get(key) ?? { method, route, status: String(status), n: 0 };
      entry.n++;
      http.set(key, entry);
    },
    async render(queueDepth) {
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
      if (queueDepth) {
        out.push('# HELP plugboard_queue_depth Executions waiting to start (all processes).');
        out.push('# TYPE plugboard_queue_depth gauge');
        out.push(`plugboard_queue_depth ${await queueDepth()}`);
      }
      out.push('# HELP plugboard_http_requests_total HTTP requests, by route pattern and status.');
      out.push('# TYPE plugboard_http_requests_total counter');
      for (const e of http.values()) out.push(`plugboard_http_requests_total${labels({ method: e.method, route: e.route, status: e.status })} ${e.n}`);
      return `${out.join('\n')}\n`;
    },
  };
}

/** Counts each request under its route pattern (`/hooks/:token`, never the token itself). */
export function httpMetrics(metrics: RuntimeMetrics): MiddlewareHandler {
  return async (c, next) => {
    await next();
    let route = 'unmatched';
    try {
      route = routePath(c, -1) || 'unmatched';
    } catch {
      // no route matched
    }
    if (route.endsWith('*')) route = 'unmatched';
    metrics.httpRequest(c.req.method, route, c.res.status);
  };
}
