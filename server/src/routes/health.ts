// Liveness (the process answers) and readiness (the database answers and no shutdown has started).
import { Hono } from 'hono';
import type { BaseEnv, Services } from '../env.js';
import { HttpProblem } from '../problem.js';
import type { Readiness } from '../readiness.js';

export interface HealthOptions extends Pick<Services, 'store'> {
  draining?: () => boolean;
  /** Readiness kept fresh off the request path (server.ts); without it, /readyz pings the store's pool. */
  readiness?: Readiness;
}

export function healthRoutes({ store, draining, readiness }: HealthOptions): Hono<BaseEnv> {
  const app = new Hono<BaseEnv>();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    // Draining: still serving, but the balancer should send new requests elsewhere.
    const state = readiness?.state();
    if (draining?.() || state?.reason === 'draining') throw new HttpProblem(503, 'notReady', 'The server is shutting down', { title: 'Not ready' });
    const ok = state ? state.ready : await store.ping().catch(() => false);
    if (!ok) throw new HttpProblem(503, 'notReady', 'The database does not answer', { title: 'Not ready' });
    return c.json({ status: 'ready', database: store.engine });
  });
  return app;
}
