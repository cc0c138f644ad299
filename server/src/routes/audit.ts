// Customer API for an instance's change history (admins only): newest first, paged like executions.
import { Hono } from 'hono';
import { AuditListQuery, type AuditList } from 'plugboard/protocol';
import type { CustomerEnv, Services } from '../env.js';
import { parseWith } from '../validation.js';

export function auditRoutes({ auditTrail }: Pick<Services, 'auditTrail'>): Hono<CustomerEnv> {
  const app = new Hono<CustomerEnv>();

  app.get('/instances/:id/audit', async (c) => {
    const query = parseWith(AuditListQuery, c.req.query(), 'query');
    const caller = { tenant: c.get('tenant'), actor: c.get('actor'), role: c.get('claims').role };
    const page: AuditList = await auditTrail.list(caller, c.req.param('id'), { cursor: query.cursor, limit: query.limit ?? 20 });
    return c.json(page);
  });

  return app;
}
