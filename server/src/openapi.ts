// The OpenAPI 3.1 document of the whole HTTP API (GET /api/v1/openapi.json). Bodies and answers
// are the protocol's zod schemas turned into JSON Schema 2020-12 by zod's own z.toJSONSchema (the
// protocol is zod/mini, which @hono/zod-openapi and zod-to-openapi can't read), assembled with
// openapi3-ts's builder. ROUTES is checked against the Hono app's routes both ways
// (test/node/openapi.test.ts), so a route added without its entry, or the reverse, fails CI.
import { createRequire } from 'node:module';
import { OpenApiBuilder, type OpenAPIObject, type OperationObject, type ParameterObject, type ResponseObject, type SchemaObject } from 'openapi3-ts/oas31';
import * as z from 'zod/mini';
import {
  AuditEntry,
  CustomerEntitlements,
  PutEntitlementsBody,
  AuditList,
  AuditListQuery,
  AuthorizeBody,
  AuthorizeResponse,
  Catalog,
  ConnectionState,
  CreateInstanceBody,
  CustomerErasure,
  CustomerList,
  DataSourceQuery,
  DataSourceResult,
  ExecutionDetail,
  ExecutionList,
  ExecutionListQuery,
  ExecutionLogLine,
  ExecutionSummary,
  FieldError,
  Instance,
  InstanceList,
  InstanceState,
  InstanceStateEntry,
  IntegrationDetail,
  IntegrationSummary,
  InvokeBody,
  InvokeResult,
  PROBLEM_CONTENT_TYPE,
  Problem,
  PutConfigBody,
  PutCredentialsBody,
  VendorInstance,
  VendorInstanceList,
  VendorStaff,
  WebhookAccepted,
  WebhookSecret,
  ExecutionRerun,
  VendorAlert,
  VendorAlertList,
  VendorAlertListQuery,
  UpgradeBody,
  BulkUpgradeBody,
  UpgradeJob,
  UpgradeJobList,
  UpgradeJobListQuery,
  UpgradeOutcome,
  UpdateAvailable,
  ChangelogEntry,
  IntegrationVersions,
} from 'plugboard/protocol';

/** Every schema a route names, by its component name. Nested ones are listed too so they become `$ref`s. */
const SCHEMAS = {
  Problem,
  FieldError,
  Catalog,
  IntegrationSummary,
  IntegrationDetail,
  Instance,
  InstanceList,
  ConnectionState,
  CreateInstanceBody,
  PutConfigBody,
  PutCredentialsBody,
  AuthorizeBody,
  AuthorizeResponse,
  DataSourceQuery,
  DataSourceResult,
  ExecutionSummary,
  ExecutionLogLine,
  ExecutionList,
  ExecutionDetail,
  WebhookAccepted,
  WebhookSecret,
  CustomerList,
  VendorInstance,
  VendorInstanceList,
  VendorStaff,
  CustomerErasure,
  CustomerEntitlements,
  PutEntitlementsBody,
  AuditEntry,
  AuditList,
  InvokeBody,
  InvokeResult,
  InstanceState,
  InstanceStateEntry,
  ExecutionRerun,
  VendorAlert,
  VendorAlertList,
  UpgradeBody,
  BulkUpgradeBody,
  UpgradeJob,
  UpgradeJobList,
  UpgradeOutcome,
  UpdateAvailable,
  ChangelogEntry,
  IntegrationVersions,
} as const;
type SchemaName = keyof typeof SCHEMAS;

/** customer: a vendor-signed JWT naming a customer; vendor: `role: "vendor"`, no customer; public: none. */
export type RouteAuth = 'customer' | 'vendor' | 'public';

export interface RouteDoc {
  method: 'get' | 'post' | 'put' | 'delete';
  /** As Hono writes it: `:param`, and `*` for the rest of the path. */
  path: string;
  auth: RouteAuth;
  tag: 'Catalog' | 'Instances' | 'Connections' | 'Executions' | 'Vendor' | 'Webhooks' | 'OAuth' | 'Console' | 'Operations';
  summary: string;
  description?: string;
  /** Mounted only when the flow runtime runs in this process's services (webhooks, executions, metrics, invoke). */
  runtime?: true;
  query?: z.ZodMiniObject;
  /** Query parameters that aren't a protocol schema: name → description (strings). */
  queryParams?: Record<string, string>;
  /** Header parameters: name → description. */
  headers?: Record<string, string>;
  body?: SchemaName | { contentType: string; description: string };
  ok: { status: number; description: string; schema?: SchemaName; contentType?: string };
  /** Error statuses besides the ones every route of its kind has (401, 429 for authenticated ones; 413 with a body). */
  errors?: number[];
  /** Any method: the proxy, whose methods are listed here. */
  methods?: readonly ('get' | 'post' | 'put' | 'patch' | 'delete')[];
  /** An earlier path of the route at this path (PATH_ALIASES in app.ts): served by it, documented as deprecated. */
  aliasOf?: string;
}

const ERROR_WORDS: Record<number, string> = {
  400: 'The request is malformed',
  401: 'No token, or one that failed verification',
  403: 'The token may not do this',
  404: 'Not found (or not this customer’s)',
  408: 'The caller gave up',
  409: 'Conflicts with the current state (version, status, duplicate)',
  413: 'The request body is too large',
  422: 'Invalid fields: `errors` names each one',
  429: 'Rate limited: wait for `Retry-After`',
  502: 'The provider failed or is not configured',
  503: 'Not ready (database down, queues full, shutting down)',
  504: 'The time limit passed before an answer',
};

/** The routes of createApp (app.ts), each as the document shows it. */
export const ROUTES: readonly RouteDoc[] = [
  // ------------------------------------------------------------ operations
  {
    method: 'get',
    path: '/healthz',
    auth: 'public',
    tag: 'Operations',
    summary: 'Liveness',
    ok: { status: 200, description: 'The process answers' },
  },
  {
    method: 'get',
    path: '/readyz',
    auth: 'public',
    tag: 'Operations',
    summary: 'Readiness',
    description: 'Whether a balancer should send requests here: the database answers and no shutdown has started.',
    ok: { status: 200, description: 'Ready' },
    errors: [503],
  },
  {
    method: 'get',
    path: '/metrics',
    auth: 'public',
    tag: 'Operations',
    runtime: true,
    summary: 'Prometheus metrics of this process',
    description: 'Unauthenticated like /healthz: keep it on a private network.',
    ok: { status: 200, description: 'Prometheus text format', contentType: 'text/plain' },
  },
  {
    method: 'get',
    path: '/api/v1/openapi.json',
    auth: 'public',
    tag: 'Operations',
    summary: 'This document',
    ok: { status: 200, description: 'The OpenAPI 3.1 document of this server' },
  },
  // ------------------------------------------------------------ OAuth pages (the browser's, not a backend's)
  {
    method: 'get',
    path: '/oauth/callback.js',
    auth: 'public',
    tag: 'OAuth',
    summary: "The callback page's script",
    ok: { status: 200, description: 'JavaScript', contentType: 'text/javascript' },
  },
  {
    method: 'get',
    path: '/oauth/start',
    auth: 'public',
    tag: 'OAuth',
    summary: 'Starts an authorization in a popup',
    description: 'Opened by the element with the `state` that `POST …/authorize` returned; redirects to the provider.',
    queryParams: { state: 'The authorization’s state' },
    ok: { status: 200, description: 'An HTML page that sends the browser to the provider', contentType: 'text/html' },
    errors: [400],
  },
  {
    method: 'get',
    path: '/oauth/callback',
    auth: 'public',
    tag: 'OAuth',
    summary: 'OAuth redirect URI',
    description: 'The provider sends the browser here; the page posts the result to the opener (popup) or redirects back.',
    queryParams: { state: 'The authorization’s state', code: 'The authorization code', error: 'The provider’s error code' },
    ok: { status: 200, description: 'An HTML page that reports the result', contentType: 'text/html' },
    errors: [400],
  },
  // ------------------------------------------------------------ the vendor console page (static; its API calls carry a vendor token)
  {
    method: 'get',
    path: '/console',
    auth: 'public',
    tag: 'Console',
    summary: 'The vendor console page',
    description: 'Static: shows nothing until given a vendor token (`/console#token=…` or pasted), which every API call it makes carries.',
    ok: { status: 200, description: 'HTML', contentType: 'text/html' },
  },
  {
    method: 'get',
    path: '/console/console.js',
    auth: 'public',
    tag: 'Console',
    summary: 'The console page’s script',
    ok: { status: 200, description: 'JavaScript', contentType: 'text/javascript' },
  },
  {
    method: 'get',
    path: '/console/console.css',
    auth: 'public',
    tag: 'Console',
    summary: 'The console page’s style sheet',
    ok: { status: 200, description: 'CSS', contentType: 'text/css' },
  },
  {
    method: 'get',
    path: '/console/plugboard.js',
    auth: 'public',
    tag: 'Console',
    summary: 'The script-tag bundle the console page loads',
    ok: { status: 200, description: 'JavaScript', contentType: 'text/javascript' },
    errors: [404],
  },
  {
    method: 'get',
    path: '/console/plugboard-console.js',
    auth: 'public',
    tag: 'Console',
    summary: 'The vendor console’s entry (imports plugboard.js)',
    ok: { status: 200, description: 'JavaScript', contentType: 'text/javascript' },
    errors: [404],
  },
  {
    method: 'get',
    path: '/console/chunks/:name',
    auth: 'public',
    tag: 'Console',
    summary: 'The bundle’s lazy chunks',
    ok: { status: 200, description: 'JavaScript', contentType: 'text/javascript' },
    errors: [404],
  },
  // ------------------------------------------------------------ webhooks
  {
    method: 'post',
    path: '/hooks/:token',
    auth: 'public',
    tag: 'Webhooks',
    runtime: true,
    summary: 'Triggers a webhook flow',
    description:
      'The unguessable per-instance URL of a webhook flow. Signed flows need Standard Webhooks headers (or the provider’s own scheme). ' +
      'A repeated `webhook-id` answers with the first delivery’s execution.',
    body: { contentType: 'application/json', description: 'Any JSON (or other) body: handed to the flow as its payload' },
    ok: { status: 202, description: 'Queued', schema: 'WebhookAccepted' },
    errors: [400, 401, 404, 413, 429, 503],
  },
  // ------------------------------------------------------------ customer API
  {
    method: 'get',
    path: '/api/v1/integrations',
    auth: 'customer',
    tag: 'Catalog',
    summary: 'The catalog, with this customer’s instances merged in',
    description: 'Only the integrations the customer’s plan includes (entitlements); with include=unentitled the others too, flagged `entitled: false`.',
    queryParams: { include: '"unentitled": also list integrations outside the plan' },
    headers: { 'If-None-Match': 'An ETag from an earlier answer: 304 when unchanged' },
    ok: { status: 200, description: 'The catalog', schema: 'Catalog' },
    errors: [422],
  },
  {
    method: 'get',
    path: '/api/v1/integrations/:key',
    auth: 'customer',
    tag: 'Catalog',
    summary: 'One integration: connections, config pages, flows (of the version the customer’s instance runs, if it has one)',
    description: '404 for an integration outside the customer’s plan, unless include=unentitled (then flagged `entitled: false`).',
    queryParams: { include: '"unentitled": also answer for an integration outside the plan' },
    headers: { 'If-None-Match': 'An ETag from an earlier answer: 304 when unchanged' },
    ok: { status: 200, description: 'The integration', schema: 'IntegrationDetail' },
    errors: [404, 422],
  },
  {
    method: 'post',
    path: '/api/v1/instances',
    auth: 'customer',
    tag: 'Instances',
    summary: 'Creates an instance of an integration',
    headers: { 'Idempotency-Key': 'Retries with the same key return the first instance (200)' },
    body: 'CreateInstanceBody',
    ok: { status: 201, description: 'Created (200 when the Idempotency-Key was seen before)', schema: 'Instance' },
    errors: [403, 404, 409, 422],
  },
  {
    method: 'get',
    path: '/api/v1/instances',
    auth: 'customer',
    tag: 'Instances',
    summary: 'This customer’s instances',
    ok: { status: 200, description: 'The instances', schema: 'InstanceList' },
  },
  {
    method: 'get',
    path: '/api/v1/instances/:id',
    auth: 'customer',
    tag: 'Instances',
    summary: 'One instance',
    ok: { status: 200, description: 'The instance (ETag: its version)', schema: 'Instance' },
    errors: [404],
  },
  {
    method: 'delete',
    path: '/api/v1/instances/:id',
    auth: 'customer',
    tag: 'Instances',
    summary: 'Deletes an instance (revokes its tokens)',
    ok: { status: 204, description: 'Deleted' },
    errors: [403, 404],
  },
  {
    method: 'put',
    path: '/api/v1/instances/:id/config',
    auth: 'customer',
    tag: 'Instances',
    summary: 'Saves the config, validated by the integration’s schema',
    headers: { 'If-Match': 'The version read (or `version` in the body)' },
    body: 'PutConfigBody',
    ok: { status: 200, description: 'Saved', schema: 'Instance' },
    errors: [403, 404, 409, 422],
  },
  {
    method: 'post',
    path: '/api/v1/instances/:id/activate',
    auth: 'customer',
    tag: 'Instances',
    summary: 'Activates an instance',
    ok: { status: 200, description: 'Active', schema: 'Instance' },
    errors: [403, 404, 409],
  },
  {
    method: 'post',
    path: '/api/v1/instances/:id/pause',
    auth: 'customer',
    tag: 'Instances',
    summary: 'Pauses an instance',
    ok: { status: 200, description: 'Paused', schema: 'Instance' },
    errors: [403, 404, 409],
  },
  {
    method: 'post',
    path: '/api/v1/instances/:id/upgrade',
    auth: 'customer',
    tag: 'Instances',
    summary: 'Upgrades the instance to the integration’s current version, its config carried by the integration’s migrate',
    description:
      'Only when the instance’s `update.selfUpgrade` is true (the integration allows it); otherwise 403. A migrate that fails or config the version refuses: 422, nothing changes.',
    body: 'UpgradeBody',
    ok: { status: 200, description: 'Upgraded', schema: 'Instance' },
    errors: [403, 404, 409, 422],
  },
  {
    method: 'get',
    path: '/api/v1/instances/:id/data-sources/:name',
    auth: 'customer',
    tag: 'Instances',
    summary: 'Runs a dynamic picklist with the saved config',
    queryParams: { q: 'Search text (at most 500 characters)' },
    ok: { status: 200, description: 'The options', schema: 'DataSourceResult' },
    errors: [403, 404, 409, 422, 502],
  },
  {
    method: 'post',
    path: '/api/v1/instances/:id/data-sources/:name',
    auth: 'customer',
    tag: 'Instances',
    summary: 'Runs a dynamic picklist with unsaved values (admins)',
    body: 'DataSourceQuery',
    ok: { status: 200, description: 'The options', schema: 'DataSourceResult' },
    errors: [403, 404, 409, 422, 502],
  },
  {
    method: 'get',
    path: '/api/v1/instances/:id/audit',
    auth: 'customer',
    tag: 'Instances',
    summary: 'The instance’s change history (admins), newest first',
    query: AuditListQuery,
    ok: { status: 200, description: 'One page', schema: 'AuditList' },
    errors: [403, 404, 422],
  },
  {
    method: 'put',
    path: '/api/v1/instances/:id/connections/:name',
    auth: 'customer',
    tag: 'Connections',
    summary: 'Stores API-key credentials (write-only)',
    body: 'PutCredentialsBody',
    ok: { status: 200, description: 'Connected', schema: 'Instance' },
    errors: [403, 404, 422],
  },
  {
    method: 'delete',
    path: '/api/v1/instances/:id/connections/:name',
    auth: 'customer',
    tag: 'Connections',
    summary: 'Disconnects (revokes OAuth tokens)',
    ok: { status: 200, description: 'Disconnected', schema: 'Instance' },
    errors: [403, 404],
  },
  {
    method: 'post',
    path: '/api/v1/instances/:id/connections/:name/authorize',
    auth: 'customer',
    tag: 'Connections',
    summary: 'Starts an OAuth authorization',
    body: 'AuthorizeBody',
    ok: { status: 200, description: 'Where to send the browser', schema: 'AuthorizeResponse' },
    errors: [403, 404, 422, 502],
  },
  {
    method: 'get',
    path: '/api/v1/instances/:id/executions',
    auth: 'customer',
    tag: 'Executions',
    runtime: true,
    summary: 'The instance’s executions, newest first',
    query: ExecutionListQuery,
    ok: { status: 200, description: 'One page', schema: 'ExecutionList' },
    errors: [404, 422],
  },
  {
    method: 'get',
    path: '/api/v1/executions/:id',
    auth: 'customer',
    tag: 'Executions',
    runtime: true,
    summary: 'One execution with its logs',
    ok: { status: 200, description: 'The execution', schema: 'ExecutionDetail' },
    errors: [404],
  },
  {
    method: 'post',
    path: '/api/v1/instances/:id/webhooks/:flow/secret',
    auth: 'customer',
    tag: 'Webhooks',
    runtime: true,
    summary: 'Makes a new signing secret for a webhook flow (shown once)',
    ok: { status: 201, description: 'The secret', schema: 'WebhookSecret' },
    errors: [403, 404],
  },
  // ------------------------------------------------------------ vendor API
  {
    method: 'get',
    path: '/api/v1/vendor/customers',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Finds customers, a page at a time',
    description: 'Ordered by the vendor’s own id. Pass `nextCursor` as `cursor` for the next page (null: the last page).',
    queryParams: {
      q: 'A part of Plugboard’s id, the vendor’s own id or the name (any case)',
      cursor: 'The previous page’s nextCursor',
      limit: 'Customers per page, 1-100 (default 50)',
    },
    ok: { status: 200, description: 'A page of customers', schema: 'CustomerList' },
    errors: [422],
  },
  {
    method: 'delete',
    path: '/api/v1/vendor/customers/:id',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Erases a customer and everything of it',
    ok: { status: 200, description: 'What was removed', schema: 'CustomerErasure' },
    errors: [404],
  },
  {
    method: 'get',
    path: '/api/v1/vendor/customers/:id/entitlements',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'What a customer’s plan includes, as stored by the vendor API',
    description: '`:id` is Plugboard’s id of the customer or the vendor’s own. `entitlements: null`: not set here (the token’s claim applies).',
    ok: { status: 200, description: 'The stored entitlements', schema: 'CustomerEntitlements' },
    errors: [404],
  },
  {
    method: 'put',
    path: '/api/v1/vendor/customers/:id/entitlements',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Sets (or with null clears) what a customer’s plan includes: integration keys and labels',
    description: 'Wins over the customer token’s `entitlements` claim. Audited. Needs vendor_role admin.',
    body: 'PutEntitlementsBody',
    ok: { status: 200, description: 'The stored entitlements', schema: 'CustomerEntitlements' },
    errors: [404, 422],
  },
  {
    method: 'get',
    path: '/api/v1/vendor/instances',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Instances across customers',
    queryParams: { status: 'draft, active, paused or error', customer: 'The vendor’s id of the customer, or Plugboard’s' },
    ok: { status: 200, description: 'The instances', schema: 'VendorInstanceList' },
    errors: [422],
  },
  {
    method: 'get',
    path: '/api/v1/vendor/instances/:id',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'One instance of any customer',
    ok: { status: 200, description: 'The instance', schema: 'VendorInstance' },
    errors: [404],
  },
  {
    method: 'post',
    path: '/api/v1/vendor/instances/:id/pause',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Pauses an instance for its customer',
    queryParams: { reason: 'Shown to the customer (at most 500 characters)' },
    ok: { status: 200, description: 'Paused', schema: 'VendorInstance' },
    errors: [404],
  },
  {
    method: 'post',
    path: '/api/v1/vendor/customers/:id/instances',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Deploys an integration for a customer (audited as the staff member)',
    body: 'CreateInstanceBody',
    ok: { status: 201, description: 'Created (200: it existed)', schema: 'VendorInstance' },
    errors: [403, 404, 409, 422],
  },
  {
    method: 'put',
    path: '/api/v1/vendor/instances/:id/config',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Saves an instance’s config for its customer',
    headers: { 'If-Match': 'The ETag (version) you read' },
    body: 'PutConfigBody',
    ok: { status: 200, description: 'Saved', schema: 'VendorInstance' },
    errors: [404, 409, 422],
  },
  {
    method: 'put',
    path: '/api/v1/vendor/instances/:id/connections/:name',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Connects an API-key connection for the customer',
    body: 'PutCredentialsBody',
    ok: { status: 200, description: 'Connected', schema: 'VendorInstance' },
    errors: [404, 409, 422],
  },
  {
    method: 'post',
    path: '/api/v1/vendor/instances/:id/activate',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Activates an instance for its customer',
    ok: { status: 200, description: 'Active', schema: 'VendorInstance' },
    errors: [403, 404, 409],
  },
  {
    method: 'post',
    path: '/api/v1/vendor/instances/:id/upgrade',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Upgrades an instance to a loaded version (default: the current one), its config carried by the integration’s migrate',
    description:
      'The old version and config are kept for a rollback. A migrate that throws or config the version refuses: 422 naming the fields, and the instance keeps its version. Audited as `instance.upgraded`. Needs vendor_role support.',
    body: 'UpgradeBody',
    ok: { status: 200, description: 'Upgraded', schema: 'VendorInstance' },
    errors: [403, 404, 409, 422],
  },
  {
    method: 'post',
    path: '/api/v1/vendor/instances/:id/rollback',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Rolls an instance back to the version and config its last upgrade replaced',
    description:
      '409 when there is nothing to roll back to, or that version’s code is no longer loaded. Audited as `instance.rolled_back`. Needs vendor_role support.',
    ok: { status: 200, description: 'Rolled back', schema: 'VendorInstance' },
    errors: [403, 404, 409],
  },
  {
    method: 'get',
    path: '/api/v1/vendor/integrations',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'The integration versions loaded in this process and how many instances run each',
    ok: { status: 200, description: 'The versions', schema: 'IntegrationVersions' },
  },
  {
    method: 'post',
    path: '/api/v1/vendor/reload',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Loads the integrations module again without a restart',
    description:
      'New instances get the new versions; instances not upgraded keep running theirs; executions in flight finish on the code they started with. Also on SIGHUP. 409 when the module can’t be reloaded (a package, or it fails to import). Needs vendor_role admin.',
    ok: { status: 200, description: 'The versions now loaded', schema: 'IntegrationVersions' },
    errors: [403, 409],
  },
  {
    method: 'post',
    path: '/api/v1/vendor/integrations/reload',
    aliasOf: '/api/v1/vendor/reload',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Loads the integrations module again without a restart (the earlier path of POST /api/v1/vendor/reload)',
    description: 'The same route as `POST /api/v1/vendor/reload`, kept for callers of earlier versions. Needs vendor_role admin.',
    ok: { status: 200, description: 'The versions now loaded', schema: 'IntegrationVersions' },
    errors: [403, 409],
  },
  {
    method: 'post',
    path: '/api/v1/vendor/integrations/:key/upgrades',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Starts a bulk upgrade: every instance of the integration, or one customer’s',
    description:
      'Answers 202 with the job at once; read its progress at the `Location`. Each instance that fails keeps its version and is reported in `outcomes`. Needs vendor_role support.',
    body: 'BulkUpgradeBody',
    ok: { status: 202, description: 'Started', schema: 'UpgradeJob' },
    errors: [403, 404, 409, 422],
  },
  {
    method: 'get',
    path: '/api/v1/vendor/upgrades/:id',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'A bulk upgrade’s (or rollback’s) progress and per-instance outcomes',
    description:
      'Jobs are stored: any replica answers. A running job whose process is gone (no heartbeat for 30 s) is taken over by the replica ' +
      'that reads it or starts next, and goes on with the instances not reached; none is upgraded twice.',
    ok: { status: 200, description: 'The job', schema: 'UpgradeJob' },
    errors: [404],
  },
  {
    method: 'get',
    path: '/api/v1/vendor/upgrades',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Bulk upgrade and rollback jobs, newest first, without their outcomes',
    query: UpgradeJobListQuery,
    ok: { status: 200, description: 'One page', schema: 'UpgradeJobList' },
    errors: [422],
  },
  {
    method: 'post',
    path: '/api/v1/vendor/upgrades/:id/rollback',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Rolls back every instance a finished bulk upgrade upgraded, as a job of its own',
    description:
      'Answers 202 with the rollback job (`kind` rollback, `rollbackOf` the upgrade) at once; read its progress at the `Location`. Each ' +
      'instance goes back to the version and config the upgrade replaced (`rolled_back`); one that fails is reported and stays; one ' +
      'moved since the upgrade is `skipped`. 409 while the upgrade runs, or for a rollback job. Needs vendor_role support.',
    ok: { status: 202, description: 'Started', schema: 'UpgradeJob' },
    errors: [403, 404, 409],
  },
  {
    method: 'delete',
    path: '/api/v1/vendor/instances/:id',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Deletes an instance for its customer (OAuth grants revoked first)',
    ok: { status: 204, description: 'Deleted' },
    errors: [404],
  },
  {
    method: 'post',
    path: '/api/v1/vendor/instances/:id/flows/:flow/invoke',
    auth: 'vendor',
    tag: 'Vendor',
    runtime: true,
    summary: 'Runs a flow now and answers with its result',
    description:
      'Queued like any execution (the customer’s own executor, stored with its logs, audited as `flow.invoked`), run once (no retries), ' +
      'and awaited: 200 with the result; 422 `flow-failed` with the flow’s error, `executionId` and logs; 504 `timed-out` when the ' +
      'flow passes `timeoutMs` (default 10 s, at most 60 s, and never more than the runner’s own limit) or no runner takes it ' +
      'within 10 s more (it then still runs and is recorded). 409 when the instance is draft or paused. Needs vendor_role support.',
    body: 'InvokeBody',
    ok: { status: 200, description: 'The flow succeeded', schema: 'InvokeResult' },
    errors: [404, 409, 422, 503, 504],
  },
  {
    method: 'get',
    methods: ['get', 'post', 'put', 'patch', 'delete'],
    path: '/api/v1/vendor/instances/:id/connections/:name/proxy/*',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Calls the provider with the customer’s credential',
    description:
      'Forwards the request to the connection’s declared base URL + `{path}` (query string kept) with the customer’s credential ' +
      'attached: an OAuth access token, refreshed when near expiry, or the API key’s headers as the integration declares them. ' +
      'Answers with the provider’s status, headers and body, less hop-by-hop headers and cookies; any credential the provider echoes ' +
      'is replaced by `[redacted]`. Redirects are returned, not followed. The egress policy applies (a refused address: 403), ' +
      'the provider gets 30 s (504) and its answer may be 10 MiB (502). Audited as `connection.proxied`. Needs vendor_role support.',
    body: { contentType: '*/*', description: 'Forwarded as it is' },
    ok: { status: 200, description: 'The provider’s answer (any status it gave)', contentType: '*/*' },
    errors: [400, 403, 404, 409, 502, 504],
  },
  {
    method: 'get',
    path: '/api/v1/vendor/instances/:id/state',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'What the instance’s flows keep in ctx.state (cursors, what a sync saw)',
    ok: { status: 200, description: 'The state, key by key', schema: 'InstanceState' },
    errors: [404],
  },
  {
    method: 'get',
    path: '/api/v1/vendor/customers/:id/integrations',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'A customer’s catalog as the customer sees it, with the integrations outside its plan flagged',
    description: '`:id` is Plugboard’s id of the customer or the vendor’s own. Every integration is listed; `entitled: false` marks those outside the plan.',
    ok: { status: 200, description: 'The catalog', schema: 'Catalog' },
    errors: [404],
  },
  {
    method: 'get',
    path: '/api/v1/vendor/me',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Who this vendor token is: its sub, name and vendor_role (what the console shows)',
    ok: { status: 200, description: 'The staff member', schema: 'VendorStaff' },
  },
  {
    method: 'get',
    path: '/api/v1/vendor/customers/:id/instances',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'A customer’s instances with their connections',
    ok: { status: 200, description: 'The instances', schema: 'VendorInstanceList' },
    errors: [404],
  },
  {
    method: 'delete',
    path: '/api/v1/vendor/instances/:id/connections/:name',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Disconnects a connection for the customer (an OAuth grant is revoked first)',
    ok: { status: 200, description: 'Disconnected', schema: 'VendorInstance' },
    errors: [404],
  },
  {
    method: 'get',
    path: '/api/v1/vendor/instances/:id/data-sources/:name',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'A picker’s options for the customer, with the saved config and the customer’s connections',
    queryParams: { q: 'Search text (at most 500 characters)' },
    ok: { status: 200, description: 'The options', schema: 'DataSourceResult' },
    errors: [404, 409, 422, 502],
  },
  {
    method: 'post',
    path: '/api/v1/vendor/instances/:id/data-sources/:name',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'A picker’s options with unsaved values (audited as the staff member)',
    body: 'DataSourceQuery',
    ok: { status: 200, description: 'The options', schema: 'DataSourceResult' },
    errors: [404, 409, 422, 502],
  },
  {
    method: 'get',
    path: '/api/v1/vendor/customers/:id/integrations/:key',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'One integration’s detail for a customer: config pages, connections, its instance',
    ok: { status: 200, description: 'The integration', schema: 'IntegrationDetail' },
    errors: [404],
  },
  {
    method: 'get',
    path: '/api/v1/vendor/instances/:id/audit',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'An instance’s history, newest first (what the customer’s admins see)',
    queryParams: { cursor: 'The previous page’s nextCursor', limit: '1-100 (default 20)' },
    ok: { status: 200, description: 'A page of history', schema: 'AuditList' },
    errors: [404, 422],
  },
  {
    method: 'get',
    path: '/api/v1/vendor/instances/:id/executions',
    auth: 'vendor',
    tag: 'Vendor',
    runtime: true,
    summary: 'An instance’s executions, newest first (any customer’s)',
    query: ExecutionListQuery,
    ok: { status: 200, description: 'One page', schema: 'ExecutionList' },
    errors: [404, 422],
  },
  {
    method: 'get',
    path: '/api/v1/vendor/executions/:id',
    auth: 'vendor',
    tag: 'Vendor',
    runtime: true,
    summary: 'One execution with its log lines (any customer’s)',
    ok: { status: 200, description: 'The execution', schema: 'ExecutionDetail' },
    errors: [404],
  },
  {
    method: 'post',
    path: '/api/v1/vendor/executions/:id/retry',
    auth: 'vendor',
    tag: 'Vendor',
    runtime: true,
    summary: 'Runs a failed execution again with its original payload',
    description:
      'Queues a new execution of the same flow with the original payload and trigger, linked by `rerunOf`, in the customer’s history ' +
      '(its executions, and the instance’s audit trail as `execution.retried` by the vendor’s staff). 409 unless the execution ' +
      'failed or timed out, or when the instance is draft or paused. Needs vendor_role support.',
    ok: { status: 202, description: 'Queued', schema: 'ExecutionRerun' },
    errors: [404, 409, 503],
  },
  {
    method: 'post',
    path: '/api/v1/vendor/executions/:id/rerun',
    auth: 'vendor',
    tag: 'Vendor',
    runtime: true,
    summary: 'Runs any finished execution again with its original payload',
    description:
      'As retry, for an execution in any final state (succeeded too); audited as `execution.rerun`. 409 while it is queued or running. ' +
      'Needs vendor_role support.',
    ok: { status: 202, description: 'Queued', schema: 'ExecutionRerun' },
    errors: [404, 409, 503],
  },
  {
    method: 'get',
    path: '/api/v1/vendor/alerts',
    auth: 'vendor',
    tag: 'Vendor',
    summary: 'Alerts across customers, newest first',
    description:
      'What the alert webhook is sent, read from where it comes from: executions that failed for good (`execution.failed`) and the ' +
      'instance changes of the audit trail (`instance.error`, `instance.recovered`, `instance.activated`, `instance.paused`, ' +
      '`instance.deleted`). Filters: `integration` (key), `status` (the instance’s status now), `type`, `since` and `until` (inclusive).',
    query: VendorAlertListQuery,
    ok: { status: 200, description: 'One page', schema: 'VendorAlertList' },
    errors: [422],
  },
];

const toOpenApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{path}');

/** The path parameters of a Hono path, in order (`*` is `path`). */
function pathParams(path: string): string[] {
  const names = [...path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  return path.endsWith('*') ? [...names, 'path'] : names;
}

/** JSON Schema for OpenAPI: zod writes `$schema` and `$id` on each, which a component must not carry. */
function bare(schema: Record<string, unknown>): SchemaObject {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest as SchemaObject;
}

const ref = (name: SchemaName) => ({ $ref: `#/components/schemas/${name}` });

function componentSchemas(): Record<string, SchemaObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(SCHEMAS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { target: 'draft-2020-12', uri: (id) => `#/components/schemas/${id}`, unrepresentable: 'any' });
  return Object.fromEntries(Object.entries(schemas).map(([id, s]) => [id, bare(s as Record<string, unknown>)]));
}

function queryParameters(route: RouteDoc): ParameterObject[] {
  const out: ParameterObject[] = [];
  if (route.query) {
    const json = z.toJSONSchema(route.query, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }) as {
      properties?: Record<string, SchemaObject>;
      required?: string[];
    };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      out.push({ name, in: 'query', required: json.required?.includes(name) ?? false, schema });
    }
  }
  for (const [name, description] of Object.entries(route.queryParams ?? {})) out.push({ name, in: 'query', description, schema: { type: 'string' } });
  return out;
}

const problem = (status: number): ResponseObject => ({
  description: ERROR_WORDS[status] ?? 'Error',
  content: { [PROBLEM_CONTENT_TYPE]: { schema: ref('Problem') } },
});

function operation(route: RouteDoc): OperationObject {
  const errors = new Set(route.errors ?? []);
  if (route.auth !== 'public') {
    errors.add(401);
    errors.add(429);
  }
  // vendor_role below the route's (server/src/vendor-roles.ts).
  if (route.auth === 'vendor') errors.add(403);
  if (route.body) errors.add(413);
  const responses: Record<string, ResponseObject> = {
    [route.ok.status]: {
      description: route.ok.description,
      ...(route.ok.status === 204
        ? {}
        : {
            content: {
              [route.ok.contentType ?? 'application/json']: { schema: route.ok.schema ? ref(route.ok.schema) : {} },
            },
          }),
    },
  };
  for (const status of [...errors].sort()) responses[status] = problem(status);
  const parameters: ParameterObject[] = [
    ...pathParams(route.path).map((name): ParameterObject => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
    ...queryParameters(route),
    ...Object.entries(route.headers ?? {}).map(([name, description]): ParameterObject => ({ name, in: 'header', description, schema: { type: 'string' } })),
  ];
  const body = route.body;
  return {
    operationId: `${route.method}${toOpenApiPath(route.path)
      .replace(/[{}]/g, '')
      .split(/[^A-Za-z0-9]+/)
      .filter(Boolean)
      .map((w) => w[0]!.toUpperCase() + w.slice(1))
      .join('')}`,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(route.aliasOf ? { deprecated: true } : {}),
    security: route.auth === 'customer' ? [{ customerToken: [] }] : route.auth === 'vendor' ? [{ vendorToken: [] }] : [],
    ...(parameters.length ? { parameters } : {}),
    ...(body
      ? {
          requestBody:
            typeof body === 'string'
              ? { required: true, content: { 'application/json': { schema: ref(body) } } }
              : { required: false, description: body.description, content: { [body.contentType]: { schema: {} } } },
        }
      : {}),
    responses,
  };
}

export interface OpenApiOptions {
  /** `PUBLIC_URL`: the document's server. */
  publicUrl: string;
  /** Whether the flow runtime's routes are mounted (createApp mounts them only then). */
  runtime: boolean;
}

// server/package.json, from src/ and from dist/ alike.
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** The routes createApp mounts with these options. */
export const mountedRoutes = (runtime: boolean): RouteDoc[] => ROUTES.filter((r) => runtime || !r.runtime);

/** The document. Built once per app: the routes and schemas don't change while it runs. */
export function openApiDocument({ publicUrl, runtime }: OpenApiOptions): OpenAPIObject {
  const builder = OpenApiBuilder.create({
    openapi: '3.1.0',
    info: {
      title: 'Plugboard API',
      version,
      description:
        'The customer API (`/api/v1`, a vendor-signed JWT naming a customer), the vendor API (`/api/v1/vendor`, a vendor JWT), ' +
        'webhooks and operations. Every 4xx/5xx is RFC 9457 problem+json whose `errors` name each bad field.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    paths: {},
    components: {},
  });
  builder.addServer({ url: publicUrl });
  builder.addSecurityScheme('customerToken', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'Signed by the vendor (ES256, RS256 or EdDSA) for one user: `sub`, `customer`, `role` (admin or member), `exp` within 1 h.',
  });
  builder.addSecurityScheme('vendorToken', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'Signed by the vendor for its own staff or backend: `role: "vendor"`, no `customer`; `sub` names who acts (audited); ' +
      'optional `vendor_role` viewer, support or admin (the default), each route needing the least role docs/vendor.md lists.',
  });
  for (const [name, schema] of Object.entries(componentSchemas())) builder.addSchema(name, schema);
  const paths = new Map<string, Record<string, OperationObject>>();
  for (const route of mountedRoutes(runtime)) {
    const key = toOpenApiPath(route.path);
    const item = paths.get(key) ?? {};
    const op = operation(route);
    for (const method of route.methods ?? [route.method]) {
      item[method] = route.methods ? { ...op, operationId: `${method}${op.operationId!.slice(route.method.length)}` } : op;
    }
    paths.set(key, item);
  }
  for (const [path, item] of paths) builder.addPath(path, item);
  return builder.getSpec();
}
