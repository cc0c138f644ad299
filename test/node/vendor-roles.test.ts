// Vendor roles as a caller sees them: every vendor route registered in the real app is called
// with a viewer, a support and an admin token (and one without vendor_role), and each is refused
// with a 403 naming the role needed exactly when the table says so. A route registered without a
// row in the table fails here.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PROBLEM_CONTENT_TYPE, VendorRole } from '../../src/protocol/index.js';
import { ROUTES } from '../../server/src/openapi.js';
import { requiredVendorRole, VENDOR_API_PREFIX, VENDOR_ROUTE_ROLES } from '../../server/src/vendor-roles.js';
import { suiteHarness, type Harness } from './fixtures/harness.js';

const vendor = (vendorRole?: string) => ({ role: 'vendor', customer: undefined, customer_name: undefined, sub: 'staff-1', vendor_role: vendorRole });

/** Every vendor route the app answers: `METHOD /path` below /api/v1/vendor. */
function vendorRoutes(h: Harness): { method: string; path: string }[] {
  const seen = new Map<string, { method: string; path: string }>();
  for (const route of h.app.routes) {
    if (route.method === 'ALL' || !route.path.startsWith(`${VENDOR_API_PREFIX}/`)) continue;
    seen.set(`${route.method} ${route.path}`, { method: route.method, path: route.path });
  }
  return [...seen.values()];
}

/** A concrete URL for a route pattern: each `:param` and `*` becomes a value that names nothing. */
const concrete = (path: string) => path.replace(/:[A-Za-z0-9_]+(\{[^}]*\})?/g, 'no-such-id').replace(/\*/g, 'x');

describe('vendor roles', () => {
  const harness = suiteHarness();

  test('every registered vendor route has a row in the role table, and every row a route', () => {
    const routes = vendorRoutes(harness());
    assert.ok(routes.length >= 5, `found ${routes.length} vendor routes`);
    const registered = new Set(routes.map((r) => `${r.method} ${r.path.slice(VENDOR_API_PREFIX.length)}`));
    const missing = [...registered].filter((r) => !(r in VENDOR_ROUTE_ROLES));
    assert.deepEqual(missing, [], 'add these routes to VENDOR_ROUTE_ROLES in server/src/vendor-roles.ts');
    // This app has no flow runtime: the runtime's vendor routes (invoke) are not mounted here (openapi.test.ts checks them mounted).
    const runtimeOnly = new Set(ROUTES.filter((r) => r.runtime).map((r) => `${r.method.toUpperCase()} ${r.path.slice(VENDOR_API_PREFIX.length)}`));
    const stale = Object.keys(VENDOR_ROUTE_ROLES).filter((r) => !registered.has(r) && !runtimeOnly.has(r));
    assert.deepEqual(stale, [], 'rows of VENDOR_ROUTE_ROLES with no route');
  });

  test('each route refuses roles below its own with a 403 naming the role, and lets the others through', async () => {
    const h = harness();
    const ranks = VendorRole.options; // viewer, support, admin: least first
    for (const { method, path } of vendorRoutes(h)) {
      const needed = requiredVendorRole(method, path);
      for (const role of ranks) {
        const res = await h.call(method, concrete(path), { as: vendor(role), body: method === 'GET' || method === 'DELETE' ? undefined : {} });
        const refused = res.status === 403 && res.body?.requiredRole !== undefined;
        const shouldRefuse = ranks.indexOf(role) < ranks.indexOf(needed);
        assert.equal(refused, shouldRefuse, `${method} ${path} as ${role} (needs ${needed}): ${res.status} ${res.text}`);
        if (shouldRefuse) {
          assert.equal(res.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
          assert.equal(res.body.requiredRole, needed);
          assert.match(res.body.detail, new RegExp(`"${needed}"`));
        }
      }
    }
  });

  test('a vendor token without vendor_role is an admin', async () => {
    const h = harness();
    const res = await h.call('DELETE', '/api/v1/vendor/customers/no-such-customer', { as: vendor(undefined) });
    assert.notEqual(res.status, 403, res.text);
  });

  test('viewers read; support pauses but may not erase a customer', async () => {
    const h = harness();
    const created = await h.call('POST', '/api/v1/instances', { body: { integrationKey: 'every-field' } });
    assert.equal(created.status, 201, created.text);
    const listed = await h.call('GET', '/api/v1/vendor/instances', { as: vendor('viewer') });
    assert.equal(listed.status, 200);
    assert.equal(listed.body.instances.length, 1);
    const customers = await h.call('GET', '/api/v1/vendor/customers', { as: vendor('viewer') });
    const acme = customers.body.customers[0].id as string;

    const viewerPause = await h.call('POST', `/api/v1/vendor/instances/${created.body.id}/pause`, { as: vendor('viewer') });
    assert.equal(viewerPause.status, 403);
    assert.equal(viewerPause.body.requiredRole, 'support');

    const erase = await h.call('DELETE', `/api/v1/vendor/customers/${acme}`, { as: vendor('support') });
    assert.equal(erase.status, 403);
    assert.equal(erase.body.requiredRole, 'admin');
    const after = await h.call('GET', '/api/v1/vendor/instances', { as: vendor('support') });
    assert.equal(after.body.instances.length, 1, 'a refused erasure erases nothing');
  });

  test('an unknown vendor_role, or one on a customer token, is refused as an invalid token', async () => {
    const h = harness();
    const bogus = await h.call('GET', '/api/v1/vendor/customers', { as: vendor('owner') });
    assert.equal(bogus.status, 401);
    assert.match(bogus.body.detail, /vendor_role/);
    const onCustomer = await h.call('GET', '/api/v1/integrations', { as: { vendor_role: 'admin' } });
    assert.equal(onCustomer.status, 401);
    assert.match(onCustomer.body.detail, /vendor_role/);
  });
});
