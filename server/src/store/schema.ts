// Row shapes of the core tables as Kysely sees them. Timestamps are ISO-8601 UTC text and JSON is
// text on both engines, so the same queries and the same parsing serve SQLite and PostgreSQL.

export interface CustomersTable {
  id: string;
  external_id: string;
  name: string | null;
  created_at: string;
  /** JSON array, or null: not set (0003) */
  entitlements: string | null;
}

export interface InstancesTable {
  id: string;
  customer_id: string;
  integration_key: string;
  idempotency_key: string | null;
  status: string;
  status_reason: string | null;
  /** JSON object */
  config: string;
  secrets: string | null;
  /** JSON array of names */
  secret_names: string;
  version: number;
  created_at: string;
  updated_at: string;
  activated_at: string | null;
  /** The integration version the instance runs; null only before the first start after 0005. */
  integration_version: string | null;
  /** JSON ReleaseSnapshot: what the last upgrade replaced (null: nothing to roll back to). */
  previous_release: string | null;
}

export interface ConnectionsTable {
  instance_id: string;
  customer_id: string;
  name: string;
  kind: string;
  status: string;
  ciphertext: string | null;
  expires_at: string | null;
  error: string | null;
  /** Who the credentials belong to, as the connection's `identify` named them (not a secret). */
  account_name: string | null;
  updated_at: string;
}

export interface AuditEventsTable {
  /** Time-ordered (see newAuditId), so ordering by id is ordering by time. */
  id: string;
  customer_id: string | null;
  actor: string;
  /** The `name` claim of the token that made the change, when it had one. */
  actor_name: string | null;
  action: string;
  target: string;
  /** JSON object */
  details: string;
  at: string;
}

/** A bulk upgrade or rollback job (0006): its counters are written with each outcome. */
export interface UpgradeJobsTable {
  id: string;
  /** upgrade | rollback */
  kind: string;
  integration_key: string;
  /** The version the instances go to (a rollback: the versions they return to, comma-separated). */
  to_version: string;
  customer_id: string | null;
  customer_external_id: string | null;
  /** A rollback: the upgrade job it undoes. */
  rollback_of: string | null;
  actor: string;
  actor_name: string | null;
  /** running | finished */
  status: string;
  total: number;
  done: number;
  upgraded: number;
  failed: number;
  skipped: number;
  rolled_back: number;
  started_at: string;
  finished_at: string | null;
  /** The process working on it (a random id per process). */
  owner: string;
  /** Renewed while the owner works; an old one means the owner is gone and another process takes the job. */
  heartbeat_at: string;
}

/** One instance of a job, planned when the job starts (pending) and filled when it is reached. */
export interface UpgradeOutcomesTable {
  job_id: string;
  /** Order within the job. */
  position: number;
  instance_id: string;
  customer_id: string;
  customer_external_id: string;
  /** The version the instance ran when the job was planned. */
  from_version: string | null;
  to_version: string;
  /** pending | upgraded | rolled_back | failed | skipped */
  status: string;
  error: string | null;
  /** JSON FieldError[] */
  errors: string | null;
  done_at: string | null;
}

/** Each load of the vendor's integrations module (issue 12; integration-generations.ts). */
export interface IntegrationGenerationsTable {
  /** SHA-256 (hex) of the module's bytes. */
  hash: string;
  /** The module's file name: its copy beside the module is `.plugboard-<hash16>-<file>`. */
  file: string;
  /** The module's bytes, base64 (one text column on both engines). */
  code: string;
  /** JSON array of `[key, version]` pairs: the integration versions the module provides. */
  versions: string;
  /** When a process last loaded it (ISO-8601 UTC): of two loads providing one version, the later one is loaded again. */
  loaded_at: string;
}

/**
 * The core tables. Subsystems with tables of their own (oauth, runtime) type them with
 * `store.db.withTables<TheirTables>()`.
 */
export interface CoreDatabase {
  customers: CustomersTable;
  instances: InstancesTable;
  connections: ConnectionsTable;
  audit_events: AuditEventsTable;
  upgrade_jobs: UpgradeJobsTable;
  upgrade_outcomes: UpgradeOutcomesTable;
  integration_generations: IntegrationGenerationsTable;
}
