// Integration versions on the vendor API (issue 12): which versions are loaded and how many
// instances run each, a reload of the integrations module without a restart, and bulk upgrades
// with per-instance outcomes. One instance's upgrade and rollback are in vendor-actions.ts.
import { Hono } from 'hono';
import { BulkUpgradeBody, UpgradeJobListQuery, type IntegrationVersions, type UpgradeJob, type UpgradeJobList } from 'plugboard/protocol';
import type { Services, VendorEnv } from '../env.js';
import { ConflictError } from '../errors.js';
import { IntegrationsError } from '../integrations.js';
import { decodePageCursor, encodePageCursor } from '../page-cursor.js';
import { notFound } from '../problem.js';
import { parseWith, readBody } from '../validation.js';

export function vendorVersionRoutes({ store, integrationReload, upgrades }: Pick<Services, 'store' | 'integrationReload' | 'upgrades'>): Hono<VendorEnv> {
  const app = new Hono<VendorEnv>();

  app.get('/integrations', async (c) => c.json((await integrationReload.status()) satisfies IntegrationVersions));

  // In flight executions finish on the code they started with; see docs/vendor.md "Versions".
  // Also answers at its earlier path, POST /integrations/reload (PATH_ALIASES in app.ts).
  app.post('/reload', async (c) => {
    let report: IntegrationVersions;
    try {
      report = await integrationReload.reload();
    } catch (error) {
      if (error instanceof IntegrationsError) throw new ConflictError(`The integrations were not reloaded: ${error.message}`);
      throw error;
    }
    await store.vendor.recordAudit({
      customerId: null,
      actor: c.get('actor'),
      actorName: c.get('claims').name ?? null,
      action: 'integrations.reloaded',
      target: 'integrations',
      details: { generation: report.generation, changed: report.changed, versions: report.integrations.map((i) => `${i.key}@${i.version}`) },
    });
    return c.json(report);
  });

  app.post('/integrations/:key/upgrades', async (c) => {
    const body = await readBody(c, BulkUpgradeBody);
    const customer = body.customer === undefined ? undefined : await store.vendor.findCustomer(body.customer);
    if (body.customer !== undefined && !customer) throw notFound('Customer');
    const job = await upgrades.start({ integrationKey: c.req.param('key'), customer, to: body.to, actor: c.get('actor'), actorName: c.get('claims').name });
    c.header('location', `/api/v1/vendor/upgrades/${job.id}`);
    return c.json(job satisfies UpgradeJob, 202);
  });

  // Newest first, paged by a cursor on (start time, id); each job without its outcomes.
  app.get('/upgrades', async (c) => {
    const query = parseWith(UpgradeJobListQuery, c.req.query(), 'query');
    const limit = query.limit ?? 50;
    const found = await upgrades.list({ limit: limit + 1, before: query.cursor === undefined ? undefined : decodePageCursor(query.cursor) });
    const jobs = found.slice(0, limit);
    const last = jobs.at(-1);
    return c.json({ jobs, nextCursor: found.length > limit && last ? encodePageCursor(last.startedAt, last.id) : null } satisfies UpgradeJobList);
  });

  // Read from the database: any replica answers, and takes over a job whose process is gone.
  app.get('/upgrades/:id', async (c) => {
    const job = await upgrades.get(c.req.param('id'));
    if (!job) throw notFound('Upgrade job');
    return c.json(job satisfies UpgradeJob);
  });

  app.post('/upgrades/:id/rollback', async (c) => {
    const job = await upgrades.rollback(c.req.param('id'), { actor: c.get('actor'), actorName: c.get('claims').name });
    if (!job) throw notFound('Upgrade job');
    c.header('location', `/api/v1/vendor/upgrades/${job.id}`);
    return c.json(job satisfies UpgradeJob, 202);
  });

  return app;
}
