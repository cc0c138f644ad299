// The types every route module shares: the Hono envs (what `c.get()` holds) and the services a
// route calls. Types only: routes import this, never app.ts, so nothing imports in a circle.
import type { RequestIdVariables } from 'hono/request-id';
import type { AuditTrail } from './audit-trail.js';
import type { ConnectionProxy } from './connection-proxy.js';
import type { CustomerVariables, VendorVariables } from './auth.js';
import type { DataSources } from './data-sources.js';
import type { Erasure } from './erasure.js';
import type { InstanceInputs } from './instance-inputs.js';
import type { Instances } from './instances.js';
import type { IntegrationReload } from './integration-reload.js';
import type { Upgrades } from './upgrades.js';
import type { IntegrationIndex } from './integrations.js';
import type { Logger } from './logger.js';
import type { RateLimits } from './rate-limits.js';
import type { OAuth } from './oauth/index.js';
import type { ExecutorPool } from './runtime/executor/index.js';
import type { Runner } from './runtime/runner.js';
import type { Runtime } from './runtime/runtime.js';
import type { Telemetry } from './telemetry.js';
import type { Cipher } from './secrets.js';
import type { Store } from './store/types.js';

export type BaseEnv = { Variables: RequestIdVariables };
/** Env of customer routes (`/api/v1/*` except vendor): `c.get('tenant')` is the customer's store. */
export type CustomerEnv = { Variables: RequestIdVariables & CustomerVariables };
export type VendorEnv = { Variables: RequestIdVariables & VendorVariables };

/** The server's services, built once (services.ts) and handed to createApp; route modules take what they call. */
export interface Services {
  readonly store: Store;
  readonly cipher: Cipher;
  readonly integrations: IntegrationIndex;
  readonly logger: Logger;
  /** `PUBLIC_URL`, without a trailing slash. */
  readonly publicUrl: string;
  /** `PLUGBOARD_ALLOWED_ORIGINS`: CORS, and who may start an OAuth flow and receive its result. */
  readonly allowedOrigins: readonly string[];
  readonly oauth: OAuth;
  /** An instance's config, secrets and connections with fresh tokens: the one resolver. */
  readonly inputs: InstanceInputs;
  readonly instances: Instances;
  readonly dataSources: DataSources;
  /** Forwards the vendor's requests to a connection's provider with the customer's credential (vendor API). */
  readonly proxy: ConnectionProxy;
  /** Removes everything of one customer (the vendor's erasure). */
  readonly erasure: Erasure;
  /** Loads a new build of the integrations module without a restart (and lists the versions loaded). */
  readonly integrationReload: IntegrationReload;
  /** Bulk upgrades of an integration's instances, with per-instance outcomes. */
  readonly upgrades: Upgrades;
  /** An instance's change history for the customer's admin. */
  readonly auditTrail: AuditTrail;
  /** Requests per minute per customer and per vendor token (counters shared on PostgreSQL). */
  readonly rateLimits: RateLimits;
  /** The flow runtime's control plane (webhooks, executions, metrics) when one runs: its routes are mounted then. */
  readonly runtime: Runtime | undefined;
  /** The runner of this process, if one runs here (on its own thread in `plugboard serve`: runner-thread.ts). */
  readonly runner: Runner | undefined;
  /** Resolves once that runner takes work; rejects with why it could not start (a runner thread). */
  readonly runnerReady: Promise<void>;
  /** The runner's executor pool, when it runs on this thread (`plugboard dev` reloads it when the integrations module changes). */
  readonly executors: ExecutorPool | undefined;
  /** OpenTelemetry export, when OTEL_EXPORTER_OTLP_ENDPOINT is set (telemetry.ts); its owner (startServer, startRunner) shuts it down. */
  readonly telemetry: Telemetry | undefined;
  /** Drains the runner (up to the grace period), stops the runtime and hands bulk upgrades over; the store stays open. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}
