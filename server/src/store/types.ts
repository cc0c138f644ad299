// The store's contract. Routes and the runtime use only this; the Kysely implementation
// (./kysely.ts) keeps every tenant query scoped by customer, so a route can't forget it.
import type { Kysely } from 'kysely';
import type { ConnectionKind, ConnectionStatus, InstanceStatus } from 'plugboard/protocol';
import type { StoreCache } from './cache.js';
import type { CoreDatabase } from './schema.js';

export interface Customer {
  id: string;
  externalId: string;
  name: string | null;
  createdAt: string;
  /** Set by the vendor API (entitlements.ts); null: not set, the token's claim applies. */
  entitlements: readonly string[] | null;
}

/** An instance row. `secrets` is one ciphertext holding the JSON map of secret config values. */
export interface InstanceRecord {
  id: string;
  customerId: string;
  integrationKey: string;
  status: InstanceStatus;
  statusReason: string | null;
  config: Record<string, unknown>;
  secrets: string | null;
  /** Names of the secret fields stored in `secrets` (kept in clear so responses need no decrypt). */
  secretNames: string[];
  version: number;
  createdAt: string;
  updatedAt: string;
  activatedAt: string | null;
  /** The integration version it runs (null: a row from before versions were recorded, not yet filled in). */
  integrationVersion: string | null;
  /** What the last upgrade replaced, for a rollback (null: nothing to roll back to). */
  previousRelease: ReleaseSnapshot | null;
}

/** An instance's integration version with the config it had on it: secrets stay sealed. */
export interface ReleaseSnapshot {
  integrationVersion: string | null;
  config: Record<string, unknown>;
  secrets: string | null;
  secretNames: string[];
}

export interface ConnectionRecord {
  instanceId: string;
  customerId: string;
  name: string;
  kind: ConnectionKind;
  status: ConnectionStatus;
  /** Encrypted JSON: API-key values, or OAuth tokens. Never leaves the server. */
  ciphertext: string | null;
  expiresAt: string | null;
  error: string | null;
  /** The account's display name from the connection's `identify` (null: unknown). Not a secret. */
  accountName: string | null;
  updatedAt: string;
}

export interface AuditEvent {
  id: string;
  customerId: string | null;
  /** `user:<sub>`, `vendor:<sub>`, `system` */
  actor: string;
  /** The `name` claim of the user's token, when it had one (null for vendor and system actors). */
  actorName: string | null;
  /** `instance.created`, `instance.config_saved`, `connection.set`, … */
  action: string;
  target: string;
  details: Record<string, unknown>;
  at: string;
}
export type NewAuditEvent = Omit<AuditEvent, 'id' | 'at' | 'customerId' | 'actorName'> & { actorName?: string | null };

export class VersionConflictError extends Error {
  constructor(readonly currentVersion: number) {
    super(`version conflict: current version is ${currentVersion}`);
  }
}
/** A second instance of the same integration for one customer. */
export class DuplicateInstanceError extends Error {
  constructor(readonly existingId: string) {
    super('this customer already has an instance of this integration');
  }
}

/** An idempotency key already used by this customer to create an instance of another integration. */
export class IdempotencyKeyReuseError extends Error {
  constructor(readonly existingId: string) {
    super('this idempotency key was already used for an instance of another integration');
  }
}

/** All reads and writes of one customer. Another customer's rows are invisible here (not found). */
export interface CustomerStore {
  readonly customer: Customer;
  listInstances(): Promise<InstanceRecord[]>;
  getInstance(id: string): Promise<InstanceRecord | undefined>;
  /**
   * Creates a draft instance. With an idempotency key, a repeat (even concurrent) returns the
   * instance the first call made, with `created: false`. An empty `audit.target` becomes
   * `instance:<new id>`. Throws DuplicateInstanceError, or IdempotencyKeyReuseError when the key
   * was used for another integration.
   */
  createInstance(input: {
    integrationKey: string;
    integrationVersion?: string | null;
    idempotencyKey?: string;
    audit: NewAuditEvent;
  }): Promise<{ instance: InstanceRecord; created: boolean }>;
  /**
   * Writes config if `expectedVersion` matches (compare-and-set), bumps the version. Throws
   * VersionConflictError on a stale version; undefined when the instance is not this customer's.
   */
  updateConfig(
    id: string,
    input: { config: Record<string, unknown>; secrets: string | null; secretNames: string[]; expectedVersion: number; audit: NewAuditEvent },
  ): Promise<InstanceRecord | undefined>;
  /**
   * Moves the instance to another integration version with its config (upgrade or rollback), if
   * `expectedVersion` matches; keeps `previous` for a later rollback (null: none). Throws
   * VersionConflictError on a stale version; undefined when the instance is not this customer's.
   */
  setRelease(
    id: string,
    input: { release: ReleaseSnapshot; previous: ReleaseSnapshot | null; expectedVersion: number; audit: NewAuditEvent },
  ): Promise<InstanceRecord | undefined>;
  setStatus(id: string, input: { status: InstanceStatus; reason?: string | null; audit: NewAuditEvent }): Promise<InstanceRecord | undefined>;
  /** Deletes the instance and everything under it (connections, sessions, executions). */
  deleteInstance(id: string, audit: NewAuditEvent): Promise<boolean>;
  listConnections(instanceId: string): Promise<ConnectionRecord[]>;
  /** Every connection of this customer, all instances at once (lists without a query per instance). */
  listAllConnections(): Promise<ConnectionRecord[]>;
  getConnection(instanceId: string, name: string): Promise<ConnectionRecord | undefined>;
  putConnection(
    instanceId: string,
    name: string,
    /** `accountName` absent keeps the stored one (null on a new row). */
    input: Pick<ConnectionRecord, 'kind' | 'status' | 'ciphertext' | 'expiresAt' | 'error'> & { accountName?: string | null; audit?: NewAuditEvent },
  ): Promise<ConnectionRecord | undefined>;
  deleteConnection(instanceId: string, name: string, audit: NewAuditEvent): Promise<boolean>;
  /** Newest first. `target` keeps one target's events (`instance:<id>`); `before` continues after that event id. */
  listAudit(options?: { limit?: number; target?: string; before?: string }): Promise<AuditEvent[]>;
}

/** A search of the vendor's customers (Store['vendor'].listCustomers). */
export interface CustomerQuery {
  q?: string;
  after?: string;
  limit?: number;
}

export interface Store {
  readonly engine: 'sqlite' | 'postgres';
  /**
   * The database, for subsystems with tables of their own (oauth, runtime): type them with
   * `store.db.withTables<TheirTables>()`, and pass their migrations to `openStore`.
   */
  readonly db: Kysely<CoreDatabase>;
  /**
   * What rarely changes, kept in memory and dropped on every write through this store, in every
   * process (PostgreSQL NOTIFY). A subsystem writing its own rows that it caches (webhook
   * endpoints) announces its writes here too.
   */
  readonly cache: StoreCache;
  /** Creates tables and indexes; safe to call on every start. */
  migrate(): Promise<void>;
  /** Resolves a customer by external id, creating it on first sight; updates its name when given. */
  ensureCustomer(externalId: string, name?: string | null): Promise<Customer>;
  /** What `ensureCustomer` would resolve when that is in memory and needs no write, without a promise; undefined: call it. */
  knownCustomer?(externalId: string, name?: string | null): Customer | undefined;
  forCustomer(customer: Customer): CustomerStore;
  vendor: {
    /**
     * Customers ordered by the vendor's own id. `q`: only those whose id, own id or name contains it
     * (any case); `after`: only those after this own id (the previous page's last); `limit`: at most so many.
     */
    listCustomers(query?: CustomerQuery): Promise<(Customer & { instanceCount: number })[]>;
    listInstances(filter?: { customerId?: string; status?: InstanceStatus }): Promise<(InstanceRecord & { customer: Customer })[]>;
    getInstance(id: string): Promise<(InstanceRecord & { customer: Customer }) | undefined>;
    getCustomer(id: string): Promise<Customer | undefined>;
    /** By Plugboard's id, else by the vendor's own id (externalId). */
    findCustomer(idOrExternalId: string): Promise<Customer | undefined>;
    /** Stores (null: clears) a customer's entitlements with its audit line; undefined when there is no such customer. */
    setEntitlements(id: string, entitlements: readonly string[] | null, audit: NewAuditEvent): Promise<Customer | undefined>;
    /** Connections of the given instances, whatever their customer, in one query. */
    listConnections(instanceIds: readonly string[]): Promise<ConnectionRecord[]>;
    recordAudit(event: NewAuditEvent & { customerId: string | null }): Promise<void>;
    /** Gives rows that predate recorded versions (null) the version loaded now; answers how many it changed. */
    fillIntegrationVersion(integrationKey: string, version: string): Promise<number>;
    /** How many instances run each version of each integration: `{ key: { version: count } }` (null versions as ""). */
    countIntegrationVersions(): Promise<Record<string, Record<string, number>>>;
  };
  /** Answers when the database answers (for /readyz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
