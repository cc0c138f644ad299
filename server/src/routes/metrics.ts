// GET /metrics: Prometheus text for this process (see runtime/metrics.ts). Unauthenticated like
// /healthz: keep it on a private network or behind the load balancer's allow-list.
import { Hono } from 'hono';
import type { Runtime } from '../runtime/runtime.js';

export function metricsRoutes(runtime: Runtime): Hono {
  const app = new Hono();
  app.get('/metrics', async (c) => {
    const text = await runtime.metrics.render(() => runtime.queue.stats());
    return c.body(text, 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
  return app;
}
