// What the vendor console reads about one customer, as the customer sees it: its catalog (with its
// instances and plan merged in, the integrations outside the plan flagged), an integration's detail
// with its config pages, its instances, an instance's history (runs and logs: vendor-executions.ts).
// The same answers as the customer API's, so the console renders them with the same elements.
import { Hono, type Context } from 'hono';
import { AuditListQuery, type AuditList, type VendorInstanceList } from 'plugboard/protocol';
import { createCatalogAnswers, type CatalogAccess } from '../catalog.js';
import type { Services, VendorEnv } from '../env.js';
import { groupByInstance, instanceView } from '../instance-view.js';
import { notFound } from '../problem.js';
import type { Customer } from '../store/types.js';
import { parseWith } from '../validation.js';

export function vendorCustomerViewRoutes({ store, integrations, auditTrail }: Pick<Services, 'store' | 'integrations' | 'auditTrail'>): Hono<VendorEnv> {
  const app = new Hono<VendorEnv>();
  const catalog = createCatalogAnswers(integrations);

  /** `:id` is Plugboard's id of the customer or the vendor's own. */
  async function customerOf(c: Context<VendorEnv>): Promise<Customer> {
    const found = await store.vendor.findCustomer(c.req.param('id') ?? '');
    if (!found) throw notFound('Customer');
    return found;
  }

  // Staff see the whole catalog: what the plan leaves out is flagged `entitled: false`.
  const access = (customer: Customer): CatalogAccess => ({ grants: customer.entitlements ?? undefined, includeUnentitled: true });

  app.get('/customers/:id/integrations', async (c) => {
    const customer = await customerOf(c);
    const instances = await store.forCustomer(customer).listInstances();
    return c.body(catalog.list(instances, access(customer)).json, 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  });

  app.get('/customers/:id/integrations/:key', async (c) => {
    const customer = await customerOf(c);
    const key = c.req.param('key');
    const instances = await store.forCustomer(customer).listInstances();
    const detail = integrations.has(key) ? catalog.detail(key, instances, access(customer)) : undefined;
    if (!detail) throw notFound(`Integration "${key}"`);
    return c.body(detail.json, 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  });

  // The customer's instances with their connections, as the customer's own GET /instances answers.
  app.get('/customers/:id/instances', async (c) => {
    const customer = await customerOf(c);
    const tenant = store.forCustomer(customer);
    const records = await tenant.listInstances();
    const connections = groupByInstance(await store.vendor.listConnections(records.map((i) => i.id)));
    const { id, externalId, name } = customer;
    const body: VendorInstanceList = {
      instances: records.map((i) => ({
        ...instanceView(integrations.of(i), i, connections.get(i.id) ?? [], undefined, integrations.get(i.integrationKey)),
        customer: { id, externalId, name },
      })),
    };
    return c.json(body);
  });

  app.get('/instances/:id/audit', async (c) => {
    const query = parseWith(AuditListQuery, c.req.query(), 'query');
    const instance = await store.vendor.getInstance(c.req.param('id'));
    if (!instance) throw notFound('Instance');
    // Staff read the history a customer's admin reads.
    const caller = { tenant: store.forCustomer(instance.customer), actor: c.get('actor'), role: 'admin' };
    const page: AuditList = await auditTrail.list(caller, instance.id, { cursor: query.cursor, limit: query.limit ?? 20 });
    return c.json(page);
  });

  return app;
}
