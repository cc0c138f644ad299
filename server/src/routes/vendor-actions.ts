// The vendor's staff acting for a customer: deploy, configure, connect with an API key, activate
// and delete an instance. Each goes through the same instance service as the customer's own call
// (instances.ts), with the customer's store and plan, so the rules and the audit lines are the
// same; the audit line names the staff member (`vendor:<sub>` and the token's `name`) and is in
// the customer's history of the instance.
import { Hono, type Context } from 'hono';
import {
  CreateInstanceBody,
  DataSourceQuery,
  PutConfigBody,
  PutCredentialsBody,
  UpgradeBody,
  type DataSourceResult,
  type VendorInstance,
} from 'plugboard/protocol';
import type { Services, VendorEnv } from '../env.js';
import type { Caller } from '../instances.js';
import { notFound, validationProblem } from '../problem.js';
import type { Customer, InstanceRecord } from '../store/types.js';
import { readBody } from '../validation.js';
import { expectedVersion, MAX_DATA_SOURCE_QUERY, upgradeVersion } from './instances.js';

type Ctx = Context<VendorEnv>;

export function vendorActionRoutes({ store, instances, dataSources }: Pick<Services, 'store' | 'instances' | 'dataSources'>): Hono<VendorEnv> {
  const app = new Hono<VendorEnv>();

  /** The staff member acting in the customer's name: the customer's store and plan, the vendor's actor. */
  const callerFor = (c: Ctx, customer: Customer): Caller => ({
    tenant: store.forCustomer(customer),
    actor: c.get('actor'),
    actorName: c.get('claims').name,
    grants: customer.entitlements ?? undefined,
  });

  async function target(c: Ctx): Promise<{ caller: Caller; instance: InstanceRecord & { customer: Customer } }> {
    const instance = await store.vendor.getInstance(c.req.param('id') ?? '');
    if (!instance) throw notFound('Instance');
    return { caller: callerFor(c, instance.customer), instance };
  }

  async function respond(c: Ctx, caller: Caller, record: InstanceRecord, status: 200 | 201 = 200): Promise<Response> {
    const { id, externalId, name } = caller.tenant.customer;
    const body: VendorInstance = { ...(await instances.view(caller, record)), customer: { id, externalId, name } };
    c.header('etag', `"${record.version}"`);
    return c.json(body, status);
  }

  // Deploy: `:id` is Plugboard's id of the customer or the vendor's own.
  app.post('/customers/:id/instances', async (c) => {
    const body = await readBody(c, CreateInstanceBody);
    const customer = await store.vendor.findCustomer(c.req.param('id'));
    if (!customer) throw notFound('Customer');
    const caller = callerFor(c, customer);
    const { instance, created } = await instances.create(caller, { integrationKey: body.integrationKey });
    if (created) c.header('location', `/api/v1/vendor/instances/${instance.id}`);
    return respond(c, caller, instance, created ? 201 : 200);
  });

  app.put('/instances/:id/config', async (c) => {
    const body = await readBody(c, PutConfigBody);
    const version = expectedVersion(c, body.version);
    const { caller, instance } = await target(c);
    return respond(c, caller, await instances.saveConfig(caller, instance.id, { config: body.config, version }));
  });

  app.put('/instances/:id/connections/:name', async (c) => {
    const body = await readBody(c, PutCredentialsBody);
    const { caller, instance } = await target(c);
    return respond(c, caller, await instances.setApiKey(caller, instance.id, c.req.param('name'), body.values));
  });

  app.delete('/instances/:id/connections/:name', async (c) => {
    const { caller, instance } = await target(c);
    return respond(c, caller, await instances.deleteConnection(caller, instance.id, c.req.param('name')));
  });

  // A config form's pickers, as the customer's admin gets them (the data source runs with the customer's
  // connections, so support, not viewer); unsaved values come in a POST body and are audited as the staff member.
  async function dataSourceOptions(c: Ctx, query: string, overrides?: Record<string, unknown>): Promise<Response> {
    const { instance } = await target(c);
    const options = await dataSources.options({
      instance,
      name: c.req.param('name') ?? '',
      query,
      overrides,
      caller: { actor: c.get('actor'), actorName: c.get('claims').name, role: 'admin' },
      signal: c.req.raw.signal,
      requestId: c.get('requestId'),
    });
    return c.json({ options } satisfies DataSourceResult);
  }

  app.get('/instances/:id/data-sources/:name', async (c) => {
    const query = c.req.query('q') ?? '';
    if (query.length > MAX_DATA_SOURCE_QUERY) throw validationProblem([{ path: 'q', message: `q must be at most ${MAX_DATA_SOURCE_QUERY} characters` }]);
    return dataSourceOptions(c, query);
  });

  app.post('/instances/:id/data-sources/:name', async (c) => {
    const body = await readBody(c, DataSourceQuery);
    return dataSourceOptions(c, body.q ?? '', body.config);
  });

  app.post('/instances/:id/activate', async (c) => {
    const { caller, instance } = await target(c);
    return respond(c, caller, await instances.activate(caller, instance.id));
  });

  // Versions (issue 12): to a loaded version (default the current one) with the config migrated, or back to the one before.
  app.post('/instances/:id/upgrade', async (c) => {
    const body = await readBody(c, UpgradeBody);
    const { caller, instance } = await target(c);
    return respond(c, caller, await instances.upgrade(caller, instance.id, { to: body.to, expectedVersion: upgradeVersion(c, body.version) }));
  });

  app.post('/instances/:id/rollback', async (c) => {
    const { caller, instance } = await target(c);
    return respond(c, caller, await instances.rollback(caller, instance.id));
  });

  app.delete('/instances/:id', async (c) => {
    const { caller, instance } = await target(c);
    await instances.delete(caller, instance.id);
    return c.body(null, 204);
  });

  return app;
}
