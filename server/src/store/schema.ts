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

/**
 * The core tables. Subsystems with tables of their own (oauth, runtime) type them with
 * `store.db.withTables<TheirTables>()`.
 */
export interface CoreDatabase {
  customers: CustomersTable;
  instances: InstancesTable;
  connections: ConnectionsTable;
  audit_events: AuditEventsTable;
}
