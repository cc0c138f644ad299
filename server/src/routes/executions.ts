// Customer API for executions: the instance's executions, newest first with cursor paging, and one
// execution with its log lines. Scoped to the caller's customer like every customer route.
import { Hono } from 'hono';
import { ExecutionListQuery, type WebhookSecret } from 'plugboard/protocol';
import type { CustomerEnv, Services } from '../env.js';
import { notFound } from '../problem.js';
import type { Runtime } from '../runtime/runtime.js';
import { parseWith } from '../validation.js';

export function executionRoutes({ store, integrations }: Pick<Services, 'store' | 'integrations'>, runtime: Runtime): Hono<CustomerEnv> {
  const app = new Hono<CustomerEnv>();

  app.get('/instances/:id/executions', async (c) => {
    const query = parseWith(ExecutionListQuery, c.req.query(), 'query');
    const tenant = c.get('tenant');
    const instance = await tenant.getInstance(c.req.param('id'));
    if (!instance) throw notFound('Instance');
    const page = await runtime.executions.list(tenant.customer.id, instance.id, {
      status: query.status,
      cursor: query.cursor,
      limit: query.limit ?? 20,
    });
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
    const integration = integrations.offered(instance);
    const flow = c.req.param('flow');
    const def = Object.hasOwn(integration.flows, flow) ? integration.flows[flow] : undefined;
    if (!def || def.trigger.type !== 'webhook') throw notFound('Webhook flow');
    const secret = await runtime.webhooks.rotateSecret(instance, integration, flow);
    if (!secret) throw notFound('Webhook flow');
    await store.vendor.recordAudit({
      customerId: tenant.customer.id,
      actor: c.get('actor'),
      action: 'webhook.secret_rotated',
      target: `instance:${instance.id}`,
      details: { flow },
    });
    c.header('cache-control', 'no-store');
    return c.json({ flow, secret } satisfies WebhookSecret, 201);
  });

  return app;
}
