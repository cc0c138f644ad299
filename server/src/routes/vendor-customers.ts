// The vendor API about one customer: its entitlements (what its plan includes). Set by the vendor's
// admins; the stored value wins over the token's `entitlements` claim (entitlements.ts).
import { Hono } from 'hono';
import { PutEntitlementsBody, type CustomerEntitlements } from 'plugboard/protocol';
import type { Services, VendorEnv } from '../env.js';
import { notFound } from '../problem.js';
import type { Customer } from '../store/types.js';
import { readBody } from '../validation.js';

const entitlementsView = (customer: Customer): CustomerEntitlements => ({
  customer: { id: customer.id, externalId: customer.externalId, name: customer.name },
  entitlements: customer.entitlements === null ? null : [...customer.entitlements],
});

export function vendorCustomerRoutes({ store }: Pick<Services, 'store'>): Hono<VendorEnv> {
  const app = new Hono<VendorEnv>();

  /** `:id` is Plugboard's id of the customer or the vendor's own (externalId). */
  async function customer(id: string): Promise<Customer> {
    const found = await store.vendor.findCustomer(id);
    if (!found) throw notFound('Customer');
    return found;
  }

  app.get('/customers/:id/entitlements', async (c) => c.json(entitlementsView(await customer(c.req.param('id')))));

  app.put('/customers/:id/entitlements', async (c) => {
    const body = await readBody(c, PutEntitlementsBody);
    const found = await customer(c.req.param('id'));
    const entitlements = body.entitlements === null ? null : [...new Set(body.entitlements)];
    const updated = await store.vendor.setEntitlements(found.id, entitlements, {
      actor: c.get('actor'),
      action: 'customer.entitlements_set',
      target: `customer:${found.id}`,
      details: { entitlements: entitlements ?? 'unset', from: found.entitlements === null ? 'unset' : [...found.entitlements] },
    });
    if (!updated) throw notFound('Customer');
    return c.json(entitlementsView(updated));
  });

  return app;
}
