// Liveness (the process answers) and readiness (the database answers).
import { Hono } from 'hono';
import type { BaseEnv, Services } from '../env.js';
import { HttpProblem } from '../problem.js';

export function healthRoutes({ store }: Pick<Services, 'store'>): Hono<BaseEnv> {
  const app = new Hono<BaseEnv>();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const ok = await store.ping().catch(() => false);
    if (!ok) throw new HttpProblem(503, 'notReady', 'The database does not answer', { title: 'Not ready' });
    return c.json({ status: 'ready', database: store.engine });
  });
  return app;
}
