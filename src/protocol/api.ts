import * as z from 'zod/mini';
import { JsonSchema } from './fields.js';
import { Entitlements } from './claims.js';
import { FieldError } from './problem.js';

const IsoDate = z.string();

export const InstanceStatus = z.enum(['draft', 'active', 'paused', 'error']);
export type InstanceStatus = z.infer<typeof InstanceStatus>;

export const ConnectionKind = z.enum(['apiKey', 'oauth2', 'clientCredentials']);
export type ConnectionKind = z.infer<typeof ConnectionKind>;

/** `missing`: nothing stored yet; `needs_attention`: stored but unusable (refresh failed, revoked). */
export const ConnectionStatus = z.enum(['missing', 'connected', 'expired', 'needs_attention']);
export type ConnectionStatus = z.infer<typeof ConnectionStatus>;

export const ExecutionStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'timed_out']);
export type ExecutionStatus = z.infer<typeof ExecutionStatus>;

// ---------------------------------------------------------------- integrations

/** A connection an integration needs, as the browser sees it. `schema` lists API-key fields. */
export const ConnectionSpec = z.object({
  name: z.string(),
  kind: ConnectionKind,
  label: z.string(),
  description: z.optional(z.string()),
  schema: z.optional(JsonSchema),
});
export type ConnectionSpec = z.infer<typeof ConnectionSpec>;

/** One wizard page: a JSON Schema object whose properties carry `x-plug-*` UI hints. */
export const ConfigPage = z.object({
  title: z.string(),
  description: z.optional(z.string()),
  schema: JsonSchema,
});
export type ConfigPage = z.infer<typeof ConfigPage>;

/** Words the customer reads about a trigger, from the SDK (never an internal key). */
const TriggerWords = {
  /** Short name, e.g. "Ledgerly payment events". */
  label: z.optional(z.string()),
  /** One sentence: who calls it or when it runs. */
  description: z.optional(z.string()),
};

/**
 * What starts a flow: a webhook URL (optionally signed: `hmac`) or a five-field cron schedule in a
 * timezone. The SDK's trigger builders produce these; the executions a flow gets say which one ran it.
 */
export const FlowTrigger = z.discriminatedUnion('type', [
  /**
   * `hmac`: requests must be signed with the flow's secret (Standard Webhooks, or the integration's provider's own scheme).
   * `customerFacing`: the customer gives the URL to a third party (shown in the dialog); otherwise the vendor's product calls it.
   */
  z.object({ type: z.literal('webhook'), hmac: z.boolean(), customerFacing: z.optional(z.boolean()), ...TriggerWords }),
  /** `intervalField`: a config field holding whole minutes; when the instance has a value there, the flow runs that often instead of `cron`. */
  z.object({ type: z.literal('schedule'), cron: z.string(), timezone: z.string(), intervalField: z.optional(z.string()), ...TriggerWords }),
]);
export type FlowTrigger = z.infer<typeof FlowTrigger>;

/** The kind of trigger that created an execution: one per `FlowTrigger` type, and `invoke` (the vendor API's synchronous call, which any flow takes). */
export const ExecutionTrigger = z.enum(['webhook', 'schedule', 'invoke']);
export type ExecutionTrigger = z.infer<typeof ExecutionTrigger>;
// Adding a trigger type means adding it to both; this line fails to compile while they differ.
const triggersAgree: [FlowTrigger['type'] | 'invoke', ExecutionTrigger] extends [ExecutionTrigger, FlowTrigger['type'] | 'invoke'] ? true : never = true;
void triggersAgree;

export const FlowSpec = z.object({
  /** Internal key: for code, never shown to the customer. */
  name: z.string(),
  /** What the customer reads, e.g. "Sync contacts" (the SDK's `label`, else the key in words). */
  label: z.optional(z.string()),
  description: z.optional(z.string()),
  trigger: FlowTrigger,
});
export type FlowSpec = z.infer<typeof FlowSpec>;

export const ConnectionState = z.object({
  name: z.string(),
  /** The integration's label for it ("Northwind CRM account"); absent when its version is not loaded. */
  label: z.optional(z.string()),
  kind: ConnectionKind,
  status: ConnectionStatus,
  /** Why a connection needs attention, in words a customer can act on. */
  error: z.optional(z.nullable(z.string())),
  /** Who is connected, as the integration's `identify` named the account ("Connected as …"); absent or null: unknown. */
  accountName: z.optional(z.nullable(z.string())),
  expiresAt: z.optional(z.nullable(IsoDate)),
  updatedAt: z.optional(z.nullable(IsoDate)),
});
export type ConnectionState = z.infer<typeof ConnectionState>;

export const WebhookEndpoint = z.object({
  flow: z.string(),
  url: z.string(),
  /** Signed: requests must carry a signature made with the flow's secret (kept as `hmac` on the wire). */
  hmac: z.boolean(),
  /** The trigger's (else the flow's) label and description, for the customer. */
  label: z.optional(z.string()),
  description: z.optional(z.string()),
  /** The customer gives this URL to a third party; false: the vendor's own product calls it (the dialog does not show it). */
  customerFacing: z.optional(z.boolean()),
});
export type WebhookEndpoint = z.infer<typeof WebhookEndpoint>;

/**
 * An integration instance of one customer. Secret config values never leave the server:
 * `config` omits them and `secretsSet` names those that are stored.
 */
/** One version's notes, from the integration's `changelog`. */
export const ChangelogEntry = z.object({ version: z.string(), notes: z.string() });
export type ChangelogEntry = z.infer<typeof ChangelogEntry>;

export const UpdateAvailable = z.object({
  version: z.string(),
  /** Newest first, down to (not including) the instance's version. */
  changelog: z.array(ChangelogEntry),
  /** The customer's admin may run the upgrade (`POST /instances/:id/upgrade`); otherwise the vendor does. */
  selfUpgrade: z.boolean(),
});
export type UpdateAvailable = z.infer<typeof UpdateAvailable>;

export const Instance = z.object({
  id: z.string(),
  integrationKey: z.string(),
  status: InstanceStatus,
  config: z.record(z.string(), z.unknown()),
  secretsSet: z.array(z.string()),
  /** Increments on every config write; send it back as `If-Match` or `version`. */
  version: z.number(),
  connections: z.array(ConnectionState),
  /** What still blocks activation (missing config fields, unconnected connections). Empty when ready. */
  blockers: z.array(FieldError),
  /** Why the instance is in `error`, if it is. */
  statusReason: z.optional(z.nullable(z.string())),
  webhooks: z.optional(z.array(WebhookEndpoint)),
  createdAt: IsoDate,
  updatedAt: IsoDate,
  activatedAt: z.optional(z.nullable(IsoDate)),
  /** The integration version this instance runs (null: recorded before versions were, until the next start fills it in). */
  integrationVersion: z.optional(z.nullable(z.string())),
  /** The version an upgrade replaced, which a rollback restores (with its config); null: none. */
  previousVersion: z.optional(z.nullable(z.string())),
  /** Present when a newer version is offered: what changed since this instance's version, and whether the customer may upgrade itself. */
  update: z.optional(UpdateAvailable),
});
export type Instance = z.infer<typeof Instance>;

/** Catalog entry, with this customer's instance merged in (null: available, not started). */
export const IntegrationSummary = z.object({
  key: z.string(),
  name: z.string(),
  description: z.string(),
  category: z.string(),
  /** An image URL or a `data:` URI; never markup. */
  icon: z.optional(z.string()),
  version: z.string(),
  /** The vendor's labels (plans, tiers, families) that entitlements may name. */
  labels: z.optional(z.array(z.string())),
  /** false: not in this customer's plan, listed only because the catalog was asked for `include=unentitled`. */
  entitled: z.optional(z.boolean()),
  instance: z.nullable(
    z.object({
      id: z.string(),
      status: InstanceStatus,
      updatedAt: IsoDate,
      /** The accounts its connected connections are connected as (for "Connected as …" on the card); absent: none known. */
      accountNames: z.optional(z.array(z.string())),
    }),
  ),
});
export type IntegrationSummary = z.infer<typeof IntegrationSummary>;

export const Catalog = z.object({ integrations: z.array(IntegrationSummary) });
export type Catalog = z.infer<typeof Catalog>;

export const IntegrationDetail = z.object({
  ...IntegrationSummary.shape,
  /** Longer description: plain text, paragraphs separated by blank lines. */
  overview: z.optional(z.string()),
  connections: z.array(ConnectionSpec),
  configPages: z.array(ConfigPage),
  dataSources: z.array(z.string()),
  flows: z.array(FlowSpec),
});
export type IntegrationDetail = z.infer<typeof IntegrationDetail>;

// ---------------------------------------------------------------- instances

export const CreateInstanceBody = z.object({ integrationKey: z.string().check(z.minLength(1)) });
export type CreateInstanceBody = z.infer<typeof CreateInstanceBody>;

export const InstanceList = z.object({ instances: z.array(Instance) });
export type InstanceList = z.infer<typeof InstanceList>;

/**
 * A config write. Fields absent from `config` keep nothing, except secrets, which keep their
 * stored value when absent (the browser never has them to send back).
 * `version` may instead come as an `If-Match` header.
 */
export const PutConfigBody = z.object({
  config: z.record(z.string(), z.unknown()),
  version: z.optional(z.number()),
});
export type PutConfigBody = z.infer<typeof PutConfigBody>;

/** API-key style credentials: the connection's field values. Write-only. */
export const PutCredentialsBody = z.object({
  values: z.record(z.string(), z.unknown()),
});
export type PutCredentialsBody = z.infer<typeof PutCredentialsBody>;

export const AuthorizeBody = z.object({
  /** `popup` (default): the callback page posts a message to the opener; `redirect`: it sends the browser to `returnUrl`. */
  mode: z.optional(z.enum(['popup', 'redirect'])),
  returnUrl: z.optional(z.string()),
  /** The connection's fields (its `schema`): tenant parts of the provider's URLs, the customer's own OAuth client. */
  fields: z.optional(z.record(z.string(), z.string())),
});
export type AuthorizeBody = z.infer<typeof AuthorizeBody>;

export const AuthorizeResponse = z.object({
  authorizationUrl: z.string(),
  state: z.string(),
  expiresAt: IsoDate,
  /** Origin of the callback page: the only origin whose `plugboard:oauth` message the opener accepts. */
  callbackOrigin: z.optional(z.string()),
});
export type AuthorizeResponse = z.infer<typeof AuthorizeResponse>;

/** What the OAuth callback page posts to `window.opener`. */
export const OAuthCallbackMessage = z.object({
  type: z.literal('plugboard:oauth'),
  state: z.string(),
  instanceId: z.string(),
  connection: z.string(),
  ok: z.boolean(),
  error: z.optional(z.string()),
});
export type OAuthCallbackMessage = z.infer<typeof OAuthCallbackMessage>;

export const DataSourceOption = z.object({ value: z.string(), label: z.string() });
export type DataSourceOption = z.infer<typeof DataSourceOption>;
export const DataSourceResult = z.object({ options: z.array(DataSourceOption) });
export type DataSourceResult = z.infer<typeof DataSourceResult>;

/**
 * Body of `POST /instances/:id/data-sources/:name`: the search text, and unsaved values of the
 * fields the data source depends on (admins only; validated like a config save).
 */
export const DataSourceQuery = z.object({
  q: z.optional(z.string().check(z.maxLength(500))),
  config: z.record(z.string(), z.unknown()),
});
export type DataSourceQuery = z.infer<typeof DataSourceQuery>;

// ---------------------------------------------------------------- executions

export const ExecutionSummary = z.object({
  id: z.string(),
  instanceId: z.string(),
  flow: z.string(),
  status: ExecutionStatus,
  trigger: ExecutionTrigger,
  attempt: z.number(),
  queuedAt: IsoDate,
  startedAt: z.nullable(IsoDate),
  endedAt: z.nullable(IsoDate),
  durationMs: z.nullable(z.number()),
  error: z.nullable(z.string()),
  resultSummary: z.nullable(z.string()),
  /** A retry or re-run the vendor's staff started: the execution whose payload it ran again. */
  rerunOf: z.optional(z.string()),
});
export type ExecutionSummary = z.infer<typeof ExecutionSummary>;

export const LogLevel = z.enum(['info', 'warn', 'error']);
export type LogLevel = z.infer<typeof LogLevel>;

export const ExecutionLogLine = z.object({
  seq: z.number(),
  at: IsoDate,
  level: LogLevel,
  message: z.string(),
});
export type ExecutionLogLine = z.infer<typeof ExecutionLogLine>;

/** The query of `GET /instances/:id/executions`: a status filter, the previous page's `nextCursor`, a page size. */
/** The paging part of a list query: the previous page's `nextCursor`, a page size (1–100). */
const PageQuery = {
  cursor: z.optional(z.string().check(z.maxLength(400))),
  limit: z.optional(
    z.coerce.number().check(
      z.refine((n) => Number.isInteger(n), 'Expected a whole number'),
      z.gte(1),
      z.lte(100),
    ),
  ),
};

export const ExecutionListQuery = z.object({ status: z.optional(ExecutionStatus), ...PageQuery });
export type ExecutionListQuery = z.infer<typeof ExecutionListQuery>;

export const ExecutionList = z.object({
  executions: z.array(ExecutionSummary),
  /** Opaque cursor for the next (older) page, null on the last page. */
  nextCursor: z.nullable(z.string()),
});
export type ExecutionList = z.infer<typeof ExecutionList>;

export const ExecutionDetail = z.object({
  ...ExecutionSummary.shape,
  logs: z.array(ExecutionLogLine),
  logsTruncated: z.boolean(),
});
export type ExecutionDetail = z.infer<typeof ExecutionDetail>;

export const WebhookAccepted = z.object({ executionId: z.string() });
export type WebhookAccepted = z.infer<typeof WebhookAccepted>;

/** A signed webhook flow's new signing secret (Standard Webhooks `whsec_…`), as `POST /instances/:id/webhooks/:flow/secret` answers it: the only time it is shown. */
export const WebhookSecret = z.object({ flow: z.string(), secret: z.string() });
export type WebhookSecret = z.infer<typeof WebhookSecret>;

// ---------------------------------------------------------------- vendor

export const CustomerSummary = z.object({
  id: z.string(),
  externalId: z.string(),
  name: z.nullable(z.string()),
  createdAt: IsoDate,
  instanceCount: z.number(),
});
export type CustomerSummary = z.infer<typeof CustomerSummary>;

/** The query of `GET /vendor/customers`: `q` finds by Plugboard's id, the vendor's own id or the name (a part, any case). */
export const CustomerListQuery = z.object({ q: z.optional(z.string().check(z.maxLength(200))), ...PageQuery });
export type CustomerListQuery = z.infer<typeof CustomerListQuery>;

/** Ordered by the vendor's own id; `nextCursor`: pass it as `cursor` for the next page (null on the last). */
export const CustomerList = z.object({ customers: z.array(CustomerSummary), nextCursor: z.nullable(z.string()) });
export type CustomerList = z.infer<typeof CustomerList>;

export const VendorInstance = z.object({
  ...Instance.shape,
  customer: z.object({ id: z.string(), externalId: z.string(), name: z.nullable(z.string()) }),
});
export type VendorInstance = z.infer<typeof VendorInstance>;

export const VendorInstanceList = z.object({ instances: z.array(VendorInstance) });
export type VendorInstanceList = z.infer<typeof VendorInstanceList>;

/** `GET /vendor/me`: who the vendor token is, as the console shows it (the server checks the role on every call). */
export const VendorStaff = z.object({ sub: z.string(), name: z.nullable(z.string()), vendorRole: z.enum(['viewer', 'support', 'admin']) });
export type VendorStaff = z.infer<typeof VendorStaff>;

/** `GET|PUT /vendor/customers/:id/entitlements`: null = not set here (the token's claim, else everything). */
export const CustomerEntitlements = z.object({
  customer: z.object({ id: z.string(), externalId: z.string(), name: z.nullable(z.string()) }),
  entitlements: z.nullable(Entitlements),
});
export type CustomerEntitlements = z.infer<typeof CustomerEntitlements>;

export const PutEntitlementsBody = z.object({ entitlements: z.nullable(Entitlements) });
export type PutEntitlementsBody = z.infer<typeof PutEntitlementsBody>;

/**
 * What `DELETE /vendor/customers/:id` removed, per kind: `customers`, `instances`, `connections`,
 * `oauthSessions`, `executions`, `executionLogs`, `webhookEndpoints`, `auditEvents`, `queuedJobs`,
 * and the table name of any other row that named the customer or one of its instances.
 */
export const CustomerErasure = z.object({
  customerId: z.string(),
  removed: z.record(z.string(), z.number()),
});
export type CustomerErasure = z.infer<typeof CustomerErasure>;

/** Longest time limit `POST /vendor/instances/:id/flows/:flow/invoke` accepts, and the one it uses when none is given. */
export const INVOKE_TIMEOUT_MAX_MS = 60_000;
export const INVOKE_TIMEOUT_DEFAULT_MS = 10_000;

/** Body of a synchronous invocation: what the flow gets as `payload`, and how long the caller waits for its result. */
export const InvokeBody = z.object({
  payload: z.optional(z.unknown()),
  timeoutMs: z.optional(
    z.number().check(
      z.refine((n) => Number.isInteger(n), 'Expected a whole number of milliseconds'),
      z.gte(100),
      z.lte(INVOKE_TIMEOUT_MAX_MS),
    ),
  ),
});
export type InvokeBody = z.infer<typeof InvokeBody>;

/** A flow's answer to a synchronous invocation (200). A failure is a 422 problem, a time limit a 504 one, both with `executionId`. */
export const InvokeResult = z.object({
  executionId: z.string(),
  status: z.literal('succeeded'),
  /** The flow's return value (JSON; past 4 KB, `{ truncated, bytes, preview }`); null when it returned nothing. */
  result: z.unknown(),
  durationMs: z.nullable(z.number()),
  logs: z.array(ExecutionLogLine),
});
export type InvokeResult = z.infer<typeof InvokeResult>;

/** One key of an instance's flow state (`ctx.state`): its JSON value as stored, and its size. */
export const InstanceStateEntry = z.object({ key: z.string(), value: z.unknown(), bytes: z.number(), updatedAt: z.string() });
export type InstanceStateEntry = z.infer<typeof InstanceStateEntry>;

/** `GET /vendor/instances/:id/state`: what the instance's flows keep between runs (cursors, last-seen ids). */
export const InstanceState = z.object({
  instanceId: z.string(),
  entries: z.array(InstanceStateEntry),
  /** Keys and JSON text together, UTF-8: what the limit counts. */
  bytes: z.number(),
  limitBytes: z.number(),
});
export type InstanceState = z.infer<typeof InstanceState>;

/** `POST /vendor/executions/:id/retry|rerun` (202): the new execution, linked to the one it runs again. */
export const ExecutionRerun = z.object({ execution: ExecutionSummary, rerunOf: z.string() });
export type ExecutionRerun = z.infer<typeof ExecutionRerun>;

// ---------------------------------------------------------------- audit

/** Who made a change: a user of the customer (as the vendor's token named them), the vendor, or Plugboard itself. */
export const AuditActor = z.object({
  type: z.enum(['user', 'vendor', 'system']),
  /** The token's `sub` (users only). */
  id: z.optional(z.string()),
  /** The token's `name`, when it had one (users, and the vendor's staff acting for the customer). */
  name: z.optional(z.string()),
});
export type AuditActor = z.infer<typeof AuditActor>;

/** One change to an instance. `details` names fields, connections and flows, never a value. */
export const AuditEntry = z.object({
  id: z.string(),
  at: IsoDate,
  actor: AuditActor,
  /** `instance.created`, `instance.config_saved`, `connection.set`, `webhook.secret_rotated`, … */
  action: z.string(),
  /** `instance:<id>` */
  target: z.string(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** The query of `GET /instances/:id/audit`: the previous page's `nextCursor`, a page size. */
export const AuditListQuery = z.object(PageQuery);
export type AuditListQuery = z.infer<typeof AuditListQuery>;

export const AuditList = z.object({
  events: z.array(AuditEntry),
  /** Opaque cursor for the next (older) page, null on the last page. */
  nextCursor: z.nullable(z.string()),
});
export type AuditList = z.infer<typeof AuditList>;

// ---------------------------------------------------------------- alerts

/** What the vendor is alerted about: an execution that failed for good, and the instance changes the lifecycle relay sends. */
export const AlertType = z.enum(['execution.failed', 'instance.error', 'instance.recovered', 'instance.activated', 'instance.paused', 'instance.deleted']);
export type AlertType = z.infer<typeof AlertType>;

const AlertTime = z.string().check(z.refine((s) => !Number.isNaN(Date.parse(s)), 'Expected an ISO 8601 date and time'));

/**
 * The query of `GET /vendor/alerts`: `integration` (key), `status` (the instance's status now, e.g.
 * `error` for the ones still failing), `type`, `since`/`until` (ISO times, inclusive), and paging.
 */
export const VendorAlertListQuery = z.object({
  integration: z.optional(z.string().check(z.maxLength(200))),
  status: z.optional(InstanceStatus),
  type: z.optional(AlertType),
  since: z.optional(AlertTime),
  until: z.optional(AlertTime),
  ...PageQuery,
});
export type VendorAlertListQuery = z.infer<typeof VendorAlertListQuery>;

/** One alert as the vendor was sent it, with its instance's status now (null once deleted). */
export const VendorAlert = z.object({
  id: z.string(),
  type: AlertType,
  at: IsoDate,
  customer: z.object({ id: z.string(), externalId: z.nullable(z.string()), name: z.nullable(z.string()) }),
  instance: z.object({ id: z.string(), integrationKey: z.nullable(z.string()), status: z.nullable(InstanceStatus) }),
  /** `execution.failed` only. */
  execution: z.nullable(z.object({ id: z.string(), flow: z.string(), status: ExecutionStatus, error: z.nullable(z.string()) })),
  /** Instance alerts: who made the change and its details (names and states, never a value). */
  actor: z.nullable(AuditActor),
  details: AuditEntry.shape.details,
});
export type VendorAlert = z.infer<typeof VendorAlert>;

export const VendorAlertList = z.object({
  alerts: z.array(VendorAlert),
  /** Opaque cursor for the next (older) page, null on the last page. */
  nextCursor: z.nullable(z.string()),
});
export type VendorAlertList = z.infer<typeof VendorAlertList>;
/** `POST /instances/:id/upgrade` (customer and vendor): `to` a loaded version (default: the current one); `version` the instance version seen (optimistic, optional). */
export const UpgradeBody = z.object({ to: z.optional(z.string().check(z.minLength(1), z.maxLength(100))), version: z.optional(z.number()) });
export type UpgradeBody = z.infer<typeof UpgradeBody>;

/** `POST /vendor/integrations/:key/upgrades`: every instance of the integration, or one customer's (Plugboard's id or the vendor's own). */
export const BulkUpgradeBody = z.object({
  customer: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  to: z.optional(z.string().check(z.minLength(1), z.maxLength(100))),
});
export type BulkUpgradeBody = z.infer<typeof BulkUpgradeBody>;

export const UpgradeOutcome = z.object({
  instanceId: z.string(),
  customer: z.object({ id: z.string(), externalId: z.string() }),
  from: z.nullable(z.string()),
  /** The version it went to (a rollback's outcomes: the version it returned to). */
  to: z.optional(z.string()),
  /**
   * upgraded; rolled_back (a rollback job); failed (it keeps its version: `error` and `errors` say why);
   * skipped (already on the version; a rollback: moved since the upgrade, `error` says how).
   */
  status: z.enum(['upgraded', 'rolled_back', 'failed', 'skipped']),
  error: z.optional(z.string()),
  errors: z.optional(z.array(FieldError)),
});
export type UpgradeOutcome = z.infer<typeof UpgradeOutcome>;

const upgradeJobFields = {
  id: z.string(),
  /** upgrade (POST /vendor/integrations/:key/upgrades) or rollback (POST /vendor/upgrades/:id/rollback); absent: upgrade. */
  kind: z.optional(z.enum(['upgrade', 'rollback'])),
  /** A rollback: the upgrade job it undoes. */
  rollbackOf: z.optional(z.nullable(z.string())),
  integrationKey: z.string(),
  /** The version the instances go to (a rollback: the versions they return to, comma-separated). */
  to: z.string(),
  customer: z.nullable(z.string()),
  status: z.enum(['running', 'finished']),
  total: z.number(),
  done: z.number(),
  upgraded: z.number(),
  /** A rollback job's instances rolled back. */
  rolledBack: z.optional(z.number()),
  failed: z.number(),
  skipped: z.number(),
  startedAt: IsoDate,
  finishedAt: z.nullable(IsoDate),
};

/** A bulk upgrade (or its rollback), stored: progress while `running`, one outcome per instance done so far. */
export const UpgradeJob = z.object({ ...upgradeJobFields, outcomes: z.array(UpgradeOutcome) });
export type UpgradeJob = z.infer<typeof UpgradeJob>;

/** `GET /vendor/upgrades`: jobs newest first, without their outcomes. */
export const UpgradeJobList = z.object({
  jobs: z.array(z.object(upgradeJobFields)),
  /** Opaque cursor for the next (older) page, null on the last page. */
  nextCursor: z.nullable(z.string()),
});
export type UpgradeJobList = z.infer<typeof UpgradeJobList>;

/** `GET /vendor/upgrades` query. */
export const UpgradeJobListQuery = z.object({ ...PageQuery });
export type UpgradeJobListQuery = z.infer<typeof UpgradeJobListQuery>;

/** `GET /vendor/integrations`, and the answer of a reload: the versions loaded and how many instances run each. */
export const IntegrationVersions = z.object({
  /** Which load of the integrations module this is (1: the start; each reload adds one). */
  generation: z.number(),
  /** False after a reload that found the module unchanged. */
  changed: z.boolean(),
  integrations: z.array(
    z.object({
      key: z.string(),
      /** The current version's name, category and icon, so staff recognise it (the key is for machines). */
      name: z.string(),
      category: z.string(),
      /** An image URL or a `data:` URI; never markup. */
      icon: z.optional(z.string()),
      /** The current version: new instances get it, upgrades go to it. */
      version: z.string(),
      /** Loaded here, newest first. */
      versions: z.array(z.string()),
      instancesByVersion: z.record(z.string(), z.number()),
    }),
  ),
});
export type IntegrationVersions = z.infer<typeof IntegrationVersions>;
