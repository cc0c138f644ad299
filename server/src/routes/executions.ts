// Customer API for executions: the instance's executions, newest first with cursor paging, and one
// execution with its log lines. Scoped to the caller's customer like every customer route.
import { Hono } from 'hono';
import * as z from 'zod';
import { ExecutionStatus, type ExecutionList } from 'plugboard/protocol';
import type { CustomerEnv, RouteContext } from '../app.js';
import { HttpProblem, notFound } from '../problem.js';
import { BadCursorError } from '../runtime/executions.js';
import type { Runtime } from '../runtime/runtime.js';
import { parseWith } from '../validation.js';

const ListQuery = z.object({
  status: z.optional(ExecutionStatus),
  cursor: z.optional(z.string().max(400)),
  limit: z.optional(z.coerce.number().int().min(1).max(100)),
});

export function executionRoutes(ctx: RouteContext, runtime: Runtime): Hono<CustomerEnv> {
  const app = new Hono<CustomerEnv>();

  app.get('/instances/:id/executions', async (c) => {
    const query = parseWith(ListQuery, c.req.query(), 'query');
    const tenant = c.get('tenant');
    const instance = await tenant.getInstance(c.req.param('id'));
    if (!instance) throw notFound('Instance');
    let page: ExecutionList;
    try {
      page = await runtime.executions.list(tenant.customer.id, instance.id, {
        status: query.status,
        cursor: query.cursor,
        limit: query.limit ?? 20,
      });
    } catch (error) {
      if (error instanceof BadCursorError) {
        throw new HttpProblem(422, 'validation', 'The cursor is not one this API returned.', {
          errors: [{ path: 'query.cursor', message: error.message }],
        });
      }
      throw error;
    }
    return c.json(page);
  });

  app.get('/executions/:id', async (c) => {
    const detail = await runtime.executions.detail(c.get('tenant').customer.id, c.req.param('id'));
    if (!detail) throw notFound('Execution');
    return c.json(detail);
  });

  // The HMAC signing secret of a webhook flow: generated here and shown this once (admins only:
  // members are read-only). A new call replaces the old secret.
  app.post('/instances/:id/webhooks/:flow/secret', async (c) => {
    const tenant = c.get('tenant');
    const instance = await tenant.getInstance(c.req.param('id'));
    if (!instance) throw notFound('Instance');
    const integration = ctx.integrations.get(instance.integrationKey);
    const flow = c.req.param('flow');
    const def = integration?.flows[flow];
    if (!integration || !def || def.trigger.type !== 'webhook') throw notFound('Webhook flow');
    const secret = await runtime.webhooks.rotateSecret(instance, integration, flow);
    if (!secret) throw notFound('Webhook flow');
    await ctx.store.vendor.recordAudit({
      customerId: tenant.customer.id,
      actor: c.get('actor'),
      action: 'webhook.secret_rotated',
      target: `instance:${instance.id}`,
      details: { flow },
    });
    c.header('cache-control', 'no-store');
    return c.json({ flow, secret }, 201);
  });

  return app;
}
