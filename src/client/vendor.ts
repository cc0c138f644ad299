// The vendor API as the vendor console uses it: who the token is, the customers (search, pages),
// and for one customer a PlugClient whose calls the vendor API answers, so the customer's own
// elements (integration dialog, config form, execution log) work for staff unchanged. Only the
// console's chunk imports this: the customers' bundle never carries it.
import type {
  BulkUpgradeBody,
  CustomerList,
  CustomerListQuery,
  ExecutionRerun,
  Instance,
  IntegrationVersions,
  UpgradeBody,
  UpgradeJob,
  UpgradeJobList,
  UpgradeJobListQuery,
  VendorAlertList,
  VendorAlertListQuery,
  VendorStaff,
} from '../protocol/index.js';
import { ApiError } from './api-error.js';
import { createClient, createTransport, parserLoader, type ClientOptions, type PlugClient } from './client.js';
import type { Responses } from './validation.js';

/** The vendor API's answers are parsed with zod's schemas, loaded beside the console's first request (staff pages only). */
const loadSchemas = parserLoader<Responses>(() => import('./validation.js'));

export interface VendorConsoleClient {
  me(signal?: AbortSignal): Promise<VendorStaff>;
  /** A page of customers, ordered by the vendor's own id; `cursor`: the previous page's `nextCursor`. */
  customers(query?: CustomerListQuery & { signal?: AbortSignal }): Promise<CustomerList>;
  /** Runs a finished execution again with its original payload: `retry` a failed one, `rerun` any (support). */
  runAgain(executionId: string, how: 'retry' | 'rerun', signal?: AbortSignal): Promise<ExecutionRerun>;
  /** Alerts across customers, newest first; `cursor`: the previous page's `nextCursor`. */
  alerts(query?: VendorAlertListQuery & { signal?: AbortSignal }): Promise<VendorAlertList>;
  /** The integration versions loaded, newest first, and how many instances run each. */
  integrationVersions(signal?: AbortSignal): Promise<IntegrationVersions>;
  /** One instance to version `to` (default: the current one), its config migrated; a migrate failure answers 422 naming `config` (support). */
  upgradeInstance(instanceId: string, body?: UpgradeBody, signal?: AbortSignal): Promise<Instance>;
  /** Back to the version and config the instance's last upgrade replaced; 409 when there is none (support). */
  rollbackInstance(instanceId: string, signal?: AbortSignal): Promise<Instance>;
  /** Starts a bulk upgrade of every instance of an integration, or one customer's (support); read its progress with `upgradeJob`. */
  startBulkUpgrade(integrationKey: string, body?: BulkUpgradeBody, signal?: AbortSignal): Promise<UpgradeJob>;
  upgradeJob(jobId: string, signal?: AbortSignal): Promise<UpgradeJob>;
  /** Bulk upgrade and rollback jobs, newest first, without their outcomes; `cursor`: the previous page's `nextCursor`. */
  upgradeJobs(query?: UpgradeJobListQuery & { signal?: AbortSignal }): Promise<UpgradeJobList>;
  /** Starts a job rolling back every instance a finished upgrade job upgraded (support); 409 while the upgrade runs. */
  rollbackJob(jobId: string, signal?: AbortSignal): Promise<UpgradeJob>;
  /** The customer API for one customer (`customerId`: Plugboard's id or the vendor's), answered by the vendor API. */
  forCustomer(customerId: string): PlugClient;
}

/** A list query's search parameters: the ones given, an empty one left out (an empty search is no search). */
function searchParamsOf(query: Record<string, string | number | undefined>): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') params[name] = String(value);
  return params;
}

/** `options.api`: the API's base, as for the customer elements (e.g. `https://plugboard.example.com/api/v1`). */
export function createVendorConsoleClient(options: ClientOptions): VendorConsoleClient {
  const vendorApi = `${options.api.replace(/\/+$/, '')}/vendor`;
  const vendor = createTransport({ ...options, api: vendorApi }, loadSchemas);
  // Instance, execution and history calls have the customer API's paths below /vendor.
  const instances = createClient({ ...options, api: vendorApi });
  return {
    me: (signal) => vendor.parsed('VendorStaff', { method: 'get', path: 'me', signal }),
    customers: ({ signal, ...query } = {}) => vendor.parsed('CustomerList', { method: 'get', path: 'customers', searchParams: searchParamsOf(query), signal }),
    runAgain: (executionId, how, signal) =>
      vendor.parsed('ExecutionRerun', { method: 'post', path: `executions/${encodeURIComponent(executionId)}/${how}`, signal }),
    alerts: ({ signal, ...query } = {}) => vendor.parsed('VendorAlertList', { method: 'get', path: 'alerts', searchParams: searchParamsOf(query), signal }),
    integrationVersions: (signal) => vendor.parsed('IntegrationVersions', { method: 'get', path: 'integrations', signal }),
    upgradeInstance: (instanceId, body = {}, signal) =>
      vendor.parsed('Instance', { method: 'post', path: `instances/${encodeURIComponent(instanceId)}/upgrade`, json: body, signal }),
    rollbackInstance: (instanceId, signal) =>
      vendor.parsed('Instance', { method: 'post', path: `instances/${encodeURIComponent(instanceId)}/rollback`, signal }),
    startBulkUpgrade: (integrationKey, body = {}, signal) =>
      vendor.parsed('UpgradeJob', { method: 'post', path: `integrations/${encodeURIComponent(integrationKey)}/upgrades`, json: body, signal }),
    upgradeJob: (jobId, signal) => vendor.parsed('UpgradeJob', { method: 'get', path: `upgrades/${encodeURIComponent(jobId)}`, signal }),
    upgradeJobs: ({ signal, ...query } = {}) =>
      vendor.parsed('UpgradeJobList', { method: 'get', path: 'upgrades', searchParams: searchParamsOf(query), signal }),
    rollbackJob: (jobId, signal) => vendor.parsed('UpgradeJob', { method: 'post', path: `upgrades/${encodeURIComponent(jobId)}/rollback`, signal }),
    forCustomer(customerId) {
      // The catalog, detail, instance list and deploy are the customer's: /vendor/customers/:id/….
      const customer = createClient({ ...options, api: `${vendorApi}/customers/${encodeURIComponent(customerId)}` });
      return {
        ...instances,
        catalog: customer.catalog,
        integration: customer.integration,
        instances: customer.instances,
        createInstance: customer.createInstance,
        // A provider sign-in belongs to the customer's own account, in the customer's browser: staff
        // send a link (the console's customer-link) instead. Said plainly rather than a 404.
        authorize: () =>
          Promise.reject(
            new ApiError({
              type: 'about:blank',
              status: 403,
              title: 'Only the customer can sign in to their provider account. Send them a link to connect it themselves.',
            }),
          ),
      };
    },
  };
}
