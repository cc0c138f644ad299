// The vendor API as the vendor console uses it: who the token is, the customers (search, pages),
// and for one customer a PlugClient whose calls the vendor API answers, so the customer's own
// elements (integration dialog, config form, execution log) work for staff unchanged. Only the
// console's chunk imports this: the customers' bundle never carries it.
import type { CustomerList, CustomerListQuery, VendorStaff } from '../protocol/index.js';
import { createClient, createTransport, type ClientOptions, type PlugClient } from './client.js';

export interface VendorConsoleClient {
  me(signal?: AbortSignal): Promise<VendorStaff>;
  /** A page of customers, ordered by the vendor's own id; `cursor`: the previous page's `nextCursor`. */
  customers(query?: CustomerListQuery & { signal?: AbortSignal }): Promise<CustomerList>;
  /** The customer API for one customer (`customerId`: Plugboard's id or the vendor's), answered by the vendor API. */
  forCustomer(customerId: string): PlugClient;
}

/** `options.api`: the API's base, as for the customer elements (e.g. `https://plugboard.example.com/api/v1`). */
export function createVendorConsoleClient(options: ClientOptions): VendorConsoleClient {
  const vendorApi = `${options.api.replace(/\/+$/, '')}/vendor`;
  const vendor = createTransport({ ...options, api: vendorApi });
  // Instance, execution and history calls have the customer API's paths below /vendor.
  const instances = createClient({ ...options, api: vendorApi });
  return {
    me: (signal) => vendor.parsed('VendorStaff', { method: 'get', path: 'me', signal }),
    customers: ({ signal, q, cursor, limit } = {}) => {
      const searchParams: Record<string, string> = {};
      if (q) searchParams.q = q;
      if (cursor) searchParams.cursor = cursor;
      if (limit !== undefined) searchParams.limit = String(limit);
      return vendor.parsed('CustomerList', { method: 'get', path: 'customers', searchParams, signal });
    },
    forCustomer(customerId) {
      // The catalog, detail, instance list and deploy are the customer's: /vendor/customers/:id/….
      const customer = createClient({ ...options, api: `${vendorApi}/customers/${encodeURIComponent(customerId)}` });
      return {
        ...instances,
        catalog: customer.catalog,
        integration: customer.integration,
        instances: customer.instances,
        createInstance: customer.createInstance,
      };
    },
  };
}
