// The vendor API's provider proxy: /vendor/instances/:id/connections/:name/proxy/* forwards the
// request to the connection's provider with the customer's credential (connection-proxy.ts) and
// answers with the provider's answer. Every call is audited (method and status, never a value).
import { Hono } from 'hono';
import type { Services, VendorEnv } from '../env.js';
import { notFound } from '../problem.js';

/** The methods a provider API takes; HEAD comes with GET. */
export const PROXY_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

const PROXY_PATH = /^\/api\/v1\/vendor\/instances\/[^/]+\/connections\/[^/]+\/proxy(\/.*)?$/;

export function proxyRoutes({ store, proxy }: Pick<Services, 'store' | 'proxy'>): Hono<VendorEnv> {
  const app = new Hono<VendorEnv>();

  app.on([...PROXY_METHODS], '/instances/:id/connections/:name/proxy/*', async (c) => {
    const instance = await store.vendor.getInstance(c.req.param('id'));
    if (!instance) throw notFound('Instance');
    const connection = c.req.param('name');
    // The path as sent (still percent-encoded), below /proxy.
    const url = new URL(c.req.url);
    const path = PROXY_PATH.exec(url.pathname)?.[1] ?? '';
    const method = c.req.method;
    const body = method === 'GET' || method === 'HEAD' ? null : await c.req.arrayBuffer();
    const answer = await proxy.forward({ instance, connection, method, path, search: url.search, headers: c.req.raw.headers, body, signal: c.req.raw.signal });
    await store.vendor.recordAudit({
      customerId: instance.customerId,
      actor: c.get('actor'),
      action: 'connection.proxied',
      target: `instance:${instance.id}`,
      details: { connection, method, status: answer.status, by: 'vendor' },
    });
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  });

  return app;
}
