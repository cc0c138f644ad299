// The vendor's API across customers: list customers and instances, force-pause an instance, erase a customer.
import { Hono } from 'hono';
import {
  CustomerListQuery,
  InstanceStatus,
  type CustomerErasure,
  type InstanceState,
  type CustomerList,
  type VendorInstance,
  type VendorInstanceList,
  type VendorStaff,
} from 'plugboard/protocol';
import type { Services, VendorEnv } from '../env.js';
import { groupByInstance, instanceView } from '../instance-view.js';
import { notFound, validationProblem } from '../problem.js';
import type { ConnectionRecord, Customer, InstanceRecord } from '../store/types.js';
import { FLOW_STATE_LIMITS } from '../sdk/flows.js';
import { FlowStateStore, stateBytes } from '../runtime/flow-state.js';
import { runtimeDb } from '../runtime/schema.js';
import { parseWith } from '../validation.js';
import { vendorRoleOf } from '../vendor-roles.js';

const REASON_MAX = 500;
/** Customers per page when the query names no `limit`. */
const CUSTOMER_PAGE = 50;

export function vendorRoutes({ store, integrations, erasure }: Pick<Services, 'store' | 'integrations' | 'erasure'>): Hono<VendorEnv> {
  const app = new Hono<VendorEnv>();

  function viewOf(instance: InstanceRecord & { customer: Customer }, connections: readonly ConnectionRecord[]): VendorInstance {
    const { id, externalId, name } = instance.customer;
    const view = instanceView(integrations.of(instance), instance, connections, undefined, integrations.get(instance.integrationKey));
    return { ...view, customer: { id, externalId, name } };
  }

  async function view(instance: InstanceRecord & { customer: Customer }): Promise<VendorInstance> {
    return viewOf(instance, await store.forCustomer(instance.customer).listConnections(instance.id));
  }

  app.get('/me', (c) => {
    const claims = c.get('claims');
    return c.json({ sub: claims.sub, name: claims.name ?? null, vendorRole: vendorRoleOf(c) } satisfies VendorStaff);
  });

  // Search and keyset paging by the vendor's own id: a page stays right while customers are added.
  app.get('/customers', async (c) => {
    const query = parseWith(CustomerListQuery, c.req.query(), 'query');
    const limit = query.limit ?? CUSTOMER_PAGE;
    let after: string | undefined;
    if (query.cursor !== undefined) {
      after = Buffer.from(query.cursor, 'base64url').toString('utf8');
      if (after === '' || Buffer.from(after, 'utf8').toString('base64url') !== query.cursor) {
        throw validationProblem([{ path: 'query.cursor', message: 'cursor must be a nextCursor this API answered' }]);
      }
    }
    // One more than the page: whether a next page exists, without a count.
    const customers = await store.vendor.listCustomers({ q: query.q?.trim() || undefined, after, limit: limit + 1 });
    const page = customers.slice(0, limit);
    const body: CustomerList = {
      customers: page.map((cu) => ({ id: cu.id, externalId: cu.externalId, name: cu.name, createdAt: cu.createdAt, instanceCount: cu.instanceCount })),
      nextCursor: customers.length > limit ? Buffer.from(page.at(-1)!.externalId, 'utf8').toString('base64url') : null,
    };
    return c.json(body);
  });

  // Erasure: `:id` is Plugboard's id of the customer (GET /customers lists it beside the vendor's own id).
  app.delete('/customers/:id', async (c) => {
    const body: CustomerErasure = await erasure.erase(c.req.param('id'), c.get('actor'));
    return c.json(body);
  });

  app.get('/instances', async (c) => {
    const statusParam = c.req.query('status');
    let status: InstanceStatus | undefined;
    if (statusParam !== undefined) {
      const parsed = InstanceStatus.safeParse(statusParam);
      if (!parsed.success) throw validationProblem([{ path: 'status', message: `status must be one of ${InstanceStatus.options.join(', ')}` }]);
      status = parsed.data;
    }
    // `customer` takes the vendor's own id for the customer (externalId) or Plugboard's id.
    const customerParam = c.req.query('customer');
    let customerId: string | undefined;
    if (customerParam !== undefined) {
      const customers = await store.vendor.listCustomers();
      const match = customers.find((cu) => cu.externalId === customerParam) ?? customers.find((cu) => cu.id === customerParam);
      if (!match) return c.json({ instances: [] } satisfies VendorInstanceList);
      customerId = match.id;
    }
    const instances = await store.vendor.listInstances({ customerId, status });
    const connections = groupByInstance(await store.vendor.listConnections(instances.map((i) => i.id)));
    const body: VendorInstanceList = { instances: instances.map((i) => viewOf(i, connections.get(i.id) ?? [])) };
    return c.json(body);
  });

  app.get('/instances/:id', async (c) => {
    const instance = await store.vendor.getInstance(c.req.param('id'));
    if (!instance) throw notFound('Instance');
    return c.json(await view(instance));
  });

  // What the instance's flows keep in ctx.state (support reads a sync's cursor here). Read-only: flows write it.
  app.get('/instances/:id/state', async (c) => {
    const instance = await store.vendor.getInstance(c.req.param('id'));
    if (!instance) throw notFound('Instance');
    const entries = await new FlowStateStore(runtimeDb(store.db)).list(instance.id);
    const body: InstanceState = {
      instanceId: instance.id,
      entries: entries.map((e) => ({ key: e.key, value: JSON.parse(e.value) as unknown, bytes: stateBytes([[e.key, e.value]]), updatedAt: e.updatedAt })),
      bytes: stateBytes(entries.map((e) => [e.key, e.value])),
      limitBytes: FLOW_STATE_LIMITS.totalBytes,
    };
    return c.json(body);
  });

  app.post('/instances/:id/pause', async (c) => {
    const instance = await store.vendor.getInstance(c.req.param('id'));
    if (!instance) throw notFound('Instance');
    const reason = c.req.query('reason')?.slice(0, REASON_MAX) || 'Paused by the vendor';
    if (instance.status === 'paused') return c.json(await view(instance));
    const updated = await store.forCustomer(instance.customer).setStatus(instance.id, {
      status: 'paused',
      reason,
      audit: {
        actor: c.get('actor'),
        actorName: c.get('claims').name ?? null,
        action: 'instance.paused',
        target: `instance:${instance.id}`,
        details: { from: instance.status, by: 'vendor', reason },
      },
    });
    if (!updated) throw notFound('Instance');
    return c.json(await view({ ...updated, customer: instance.customer }));
  });

  return app;
}
