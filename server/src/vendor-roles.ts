// Who of the vendor's staff may call which vendor route: one table, route → the least role it
// needs, checked by one middleware in front of every vendor route. A route missing from the table
// needs `admin` (closed by default), and test/node/vendor-roles.test.ts walks every registered
// vendor route, so a route added without a row fails there before anyone relies on the default.
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { DEFAULT_VENDOR_ROLE, type VendorRole } from 'plugboard/protocol';
import type { VendorEnv } from './env.js';
import { HttpProblem } from './problem.js';

/** Where the vendor API is mounted; the table's paths are below it. */
export const VENDOR_API_PREFIX = '/api/v1/vendor';

const RANK: Record<VendorRole, number> = { viewer: 0, support: 1, admin: 2 };

/**
 * `METHOD /path` (as registered, below /api/v1/vendor) → the least vendor role that may call it.
 * viewer: reads; support: acts for a customer; admin: entitlements and erasure.
 */
export const VENDOR_ROUTE_ROLES: Readonly<Record<string, VendorRole>> = {
  'GET /me': 'viewer',
  'GET /customers': 'viewer',
  'DELETE /customers/:id': 'admin',
  'GET /customers/:id/entitlements': 'viewer',
  'PUT /customers/:id/entitlements': 'admin',
  'GET /instances': 'viewer',
  'GET /instances/:id': 'viewer',
  'POST /instances/:id/pause': 'support',
  'POST /customers/:id/instances': 'support',
  'PUT /instances/:id/config': 'support',
  'PUT /instances/:id/connections/:name': 'support',
  'POST /instances/:id/activate': 'support',
  'DELETE /instances/:id': 'support',
  'DELETE /instances/:id/connections/:name': 'support',
  // A picker's options come from the customer's provider, with the customer's credentials.
  'GET /instances/:id/data-sources/:name': 'support',
  'POST /instances/:id/data-sources/:name': 'support',
  'POST /instances/:id/flows/:flow/invoke': 'support',
  // The provider proxy acts with the customer's credential, whatever the method.
  'GET /instances/:id/connections/:name/proxy/*': 'support',
  'POST /instances/:id/connections/:name/proxy/*': 'support',
  'PUT /instances/:id/connections/:name/proxy/*': 'support',
  'PATCH /instances/:id/connections/:name/proxy/*': 'support',
  'DELETE /instances/:id/connections/:name/proxy/*': 'support',
  // What the console reads about a customer: its catalog, instances and an instance's history.
  'GET /customers/:id/integrations': 'viewer',
  'GET /customers/:id/instances': 'viewer',
  'GET /customers/:id/integrations/:key': 'viewer',
  'GET /instances/:id/audit': 'viewer',
  // ctx.state can hold the customer's records (a sync's ids, dedupe sets): support, not every viewer.
  'GET /instances/:id/state': 'support',
  'GET /instances/:id/executions': 'viewer',
  'GET /executions/:id': 'viewer',
  'POST /executions/:id/retry': 'support',
  'POST /executions/:id/rerun': 'support',
  'GET /alerts': 'viewer',
  // Versions (issue 12): reading them is a read; upgrading acts for customers; loading new code is the admin's.
  'GET /integrations': 'viewer',
  'GET /upgrades': 'viewer',
  'GET /upgrades/:id': 'viewer',
  'POST /instances/:id/upgrade': 'support',
  'POST /instances/:id/rollback': 'support',
  'POST /integrations/:key/upgrades': 'support',
  'POST /upgrades/:id/rollback': 'support',
  'POST /reload': 'admin',
};

/** The caller's vendor role: the token's `vendor_role`, or admin when it has none. */
export const vendorRoleOf = (c: Context<VendorEnv>): VendorRole => c.get('claims').vendor_role ?? DEFAULT_VENDOR_ROLE;

export const hasVendorRole = (role: VendorRole, needed: VendorRole): boolean => RANK[role] >= RANK[needed];

/** The least role for a registered route (admin when the table has no row for it). */
export function requiredVendorRole(method: string, path: string): VendorRole {
  const below = path.startsWith(VENDOR_API_PREFIX) ? path.slice(VENDOR_API_PREFIX.length) || '/' : path;
  return VENDOR_ROUTE_ROLES[`${method} ${below}`] ?? 'admin';
}

/** After vendorAuth: refuses with 403 naming the role needed when the token's role is below the route's. */
export function vendorRoleCheck(): MiddlewareHandler<VendorEnv> {
  return async (c, next) => {
    let needed: VendorRole | undefined;
    // Middleware is registered as ALL; the handlers that matched name the route. The strictest wins.
    for (const route of matchedRoutes(c)) {
      if (route.method === 'ALL') continue;
      const role = requiredVendorRole(route.method, route.path);
      if (needed === undefined || RANK[role] > RANK[needed]) needed = role;
    }
    const role = vendorRoleOf(c);
    if (needed !== undefined && !hasVendorRole(role, needed)) {
      throw new HttpProblem(403, 'forbidden', `This needs the vendor role "${needed}" or higher; the token's vendor_role is "${role}"`, {
        extra: { requiredRole: needed, role },
      });
    }
    await next();
  };
}
