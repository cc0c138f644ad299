// zod and the response schemas, for the vendor console's client (src/client/vendor.ts): loaded
// beside its first request, on staff pages only. A customer's page reads its responses with the
// zod-free checks of src/protocol/shapes.ts (see the split in rollup.config.mjs).
import * as z from 'zod/mini';
import * as api from '../protocol/api.js';
import { Problem } from '../protocol/problem.js';

// No `new Function` in the browser: zod's JIT would trip `script-src 'self'` pages (CSP reports even a caught probe).
z.config({ jitless: true });

/** The schema of each response body the client reads, by name. */
export const responses = {
  AuditList: api.AuditList,
  AuthorizeResponse: api.AuthorizeResponse,
  CustomerList: api.CustomerList,
  DataSourceResult: api.DataSourceResult,
  ExecutionDetail: api.ExecutionDetail,
  ExecutionList: api.ExecutionList,
  ExecutionRerun: api.ExecutionRerun,
  Instance: api.Instance,
  InstanceList: api.InstanceList,
  IntegrationDetail: api.IntegrationDetail,
  IntegrationVersions: api.IntegrationVersions,
  UpgradeJob: api.UpgradeJob,
  UpgradeJobList: api.UpgradeJobList,
  VendorAlertList: api.VendorAlertList,
  VendorStaff: api.VendorStaff,
  WebhookSecret: api.WebhookSecret,
  Problem,
};
export type ResponseName = keyof typeof responses;
/** Each response's type, by name. */
export type Responses = { [N in ResponseName]: z.infer<(typeof responses)[N]> };
export type ResponseOf<N extends ResponseName> = Responses[N];

/** `body` parsed with the schema `name`, or the issues that stop it, as `path`/`message` pairs. */
export function parseResponse<N extends ResponseName>(
  name: N,
  body: unknown,
): { success: true; data: ResponseOf<N> } | { success: false; error: unknown; errors: { path: string; message: string }[] } {
  const result = z.safeParse(responses[name] as z.ZodMiniType, body);
  if (result.success) return { success: true, data: result.data as ResponseOf<N> };
  return { success: false, error: result.error, errors: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) };
}
