// Liveness (the process answers) and readiness (the database answers and no shutdown has started).
import { Hono } from 'hono';
import type { BaseEnv, Services } from '../env.js';
import { HttpProblem } from '../problem.js';

export function healthRoutes({ store, draining }: Pick<Services, 'store'> & { draining?: () => boolean }): Hono<BaseEnv> {
  const app = new Hono<BaseEnv>();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    // Draining: still serving, but the balancer should send new requests elsewhere.
    if (draining?.()) throw new HttpProblem(503, 'notReady', 'The server is shutting down', { title: 'Not ready' });
    const ok = await store.ping().catch(() => false);
    if (!ok) throw new HttpProblem(503, 'notReady', 'The database does not answer', { title: 'Not ready' });
    return c.json({ status: 'ready', database: store.engine });
  });
  return app;
}
