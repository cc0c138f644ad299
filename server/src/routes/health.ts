// Liveness (the process answers) and readiness (the database answers).
import { Hono } from 'hono';
import type { BaseEnv, RouteContext } from '../app.js';
import { HttpProblem } from '../problem.js';

export function healthRoutes(ctx: RouteContext): Hono<BaseEnv> {
  const app = new Hono<BaseEnv>();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const ok = await ctx.store.ping().catch(() => false);
    if (!ok) throw new HttpProblem(503, 'notReady', 'The database does not answer', { title: 'Not ready' });
    return c.json({ status: 'ready', database: ctx.store.engine });
  });
  return app;
}
