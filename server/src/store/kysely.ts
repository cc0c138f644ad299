// The Store on Kysely. Every CustomerStore query carries `customer_id = this.customer.id`, so a
// route that passes another customer's id gets "not found", never the row. Each write and its
// audit event commit in one transaction: no change without its audit line, no audit line for a
// change that failed.
import { randomFillSync, randomUUID } from 'node:crypto';
import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { InstanceStatus } from 'plugboard/protocol';
import { commitGroups, type Transact } from './commit-groups.js';
import { customerTag, instancesOfTag, instanceTag, type StoreCache, type WriteOptions } from './cache.js';
import { StatementShape } from './statement-shapes.js';
import type { AuditEventsTable, ConnectionsTable, CoreDatabase, CustomersTable, InstancesTable } from './schema.js';
import {
  DuplicateInstanceError,
  IdempotencyKeyReuseError,
  VersionConflictError,
  type AuditEvent,
  type ConnectionRecord,
  type Customer,
  type CustomerStore,
  type InstanceRecord,
  type ReleaseSnapshot,
  type NewAuditEvent,
  type Store,
} from './types.js';

type Db = Kysely<CoreDatabase>;
type Tx = Transaction<CoreDatabase>;

const now = () => new Date().toISOString();
const newId = (prefix: string) => `${prefix}_${randomUUID().replaceAll('-', '')}`;

// Random bytes are drawn a kilobyte at a time: one call to the CSPRNG per 256 audit ids, not one each.
const randomPool = Buffer.alloc(1024);
let randomOffset = randomPool.length;
function randomHex8(): string {
  if (randomOffset === randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  randomOffset += 4;
  return randomPool.toString('hex', randomOffset - 4, randomOffset);
}

let lastAuditMs = 0;
let auditSeq = 0;
/** Time-ordered ids (ms, then a per-process sequence), so `order by id` is time order. */
function newAuditId(): string {
  const ms = Date.now();
  if (ms > lastAuditMs) {
    lastAuditMs = ms;
    auditSeq = 0;
  } else {
    auditSeq++;
  }
  return `aud_${lastAuditMs.toString(16).padStart(12, '0')}${auditSeq.toString(16).padStart(6, '0')}${randomHex8()}`;
}

function toCustomer(row: Selectable<CustomersTable>): Customer {
  return {
    id: row.id,
    externalId: row.external_id,
    name: row.name,
    createdAt: row.created_at,
    entitlements: row.entitlements === null ? null : (JSON.parse(row.entitlements) as string[]),
  };
}

function toInstance(row: Selectable<InstancesTable>): InstanceRecord {
  return {
    id: row.id,
    customerId: row.customer_id,
    integrationKey: row.integration_key,
    status: row.status as InstanceStatus,
    statusReason: row.status_reason,
    config: JSON.parse(row.config) as Record<string, unknown>,
    secrets: row.secrets,
    secretNames: JSON.parse(row.secret_names) as string[],
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    activatedAt: row.activated_at,
    integrationVersion: row.integration_version ?? null,
    previousRelease: row.previous_release ? (JSON.parse(row.previous_release) as ReleaseSnapshot) : null,
  };
}

function toConnection(row: Selectable<ConnectionsTable>): ConnectionRecord {
  return {
    instanceId: row.instance_id,
    customerId: row.customer_id,
    name: row.name,
    kind: row.kind as ConnectionRecord['kind'],
    status: row.status as ConnectionRecord['status'],
    ciphertext: row.ciphertext,
    expiresAt: row.expires_at,
    error: row.error,
    accountName: row.account_name ?? null,
    updatedAt: row.updated_at,
  };
}

function toAudit(row: Selectable<AuditEventsTable>): AuditEvent {
  return {
    id: row.id,
    customerId: row.customer_id,
    actor: row.actor,
    actorName: row.actor_name,
    action: row.action,
    target: row.target,
    details: JSON.parse(row.details) as Record<string, unknown>,
    at: row.at,
  };
}

// Every write inserts one: compiled once (statement-shapes.ts).
const auditInsert = new StatementShape<CoreDatabase, Insertable<AuditEventsTable>>(
  ['id', 'customer_id', 'actor', 'actor_name', 'action', 'target', 'details', 'at'],
  (db, values) => db.insertInto('audit_events').values(values),
);

async function insertAudit(db: Db | Tx, customerId: string | null, event: NewAuditEvent): Promise<void> {
  await auditInsert.execute(db, {
    id: newAuditId(),
    customer_id: customerId,
    actor: event.actor,
    actor_name: event.actorName ?? null,
    action: event.action,
    target: event.target,
    details: JSON.stringify(event.details ?? {}),
    at: now(),
  });
}

/**
 * Runs a write in a transaction that announces it to other processes; drops the tags here once it
 * ended; `options` keep its result and spare entries it does not change (StoreCache.write).
 */
function writeThrough<T>(
  transact: Transact<CoreDatabase>,
  cache: StoreCache,
  tags: readonly string[],
  work: (tx: Tx) => Promise<T>,
  options?: WriteOptions<T>,
): Promise<T> {
  return cache.write(
    tags,
    () =>
      transact(async (tx) => {
        const result = await work(tx);
        // Nothing written (not found, no change): nothing to announce.
        if (result !== undefined && result !== false) await cache.announce(tx, tags);
        return result;
      }),
    options,
  );
}

interface StatusValues extends Record<string, unknown> {
  id: string;
  customerId: string;
  status: InstanceStatus;
  reason: string | null;
  at: string;
}

// A status write (each activate and pause), compiled once per shape (statement-shapes.ts).
const statusUpdateOf = (setActivatedAt: boolean) =>
  new StatementShape<CoreDatabase, StatusValues, Selectable<InstancesTable>>(['id', 'customerId', 'status', 'reason', 'at'], (db, v) =>
    db
      .updateTable('instances')
      .set({ status: v.status, status_reason: v.reason, updated_at: v.at, ...(setActivatedAt ? { activated_at: v.at } : {}) })
      .where('id', '=', v.id)
      .where('customer_id', '=', v.customerId)
      .returningAll(),
  );
const statusUpdate = statusUpdateOf(false);
const activationUpdate = statusUpdateOf(true);

class KyselyCustomerStore implements CustomerStore {
  constructor(
    private readonly db: Db,
    private readonly transact: Transact<CoreDatabase>,
    private readonly cache: StoreCache,
    readonly customer: Customer,
  ) {}

  private instances(db: Db | Tx = this.db) {
    return db.selectFrom('instances').selectAll().where('customer_id', '=', this.customer.id);
  }

  // Every catalog read lists them: from memory, dropped by a write to any of them, a new one, or the customer.
  async listInstances(): Promise<InstanceRecord[]> {
    const customerId = this.customer.id;
    const list =
      this.cache.peek<InstanceRecord[]>(instancesOfTag(customerId)) ??
      (await this.cache.read(
        instancesOfTag(customerId),
        (instances) => [instancesOfTag(customerId), customerTag(customerId), ...instances.map((i) => instanceTag(i.id))],
        async () => (await this.instances().orderBy('created_at').orderBy('id').execute()).map(toInstance),
      ));
    return list ?? [];
  }

  /** Where getInstance keeps the instance, and what drops it. */
  #instanceEntry(id: string) {
    return { key: `customer-instance:${this.customer.id}:${id}`, tags: [instanceTag(id), customerTag(this.customer.id)] };
  }

  #connectionsKey(instanceId: string): string {
    return `connections:${this.customer.id}:${instanceId}`;
  }

  /**
   * A write to the instance's own row (status, config, release): the row it returns is the row a
   * read would load, and its connections do not change. Activate/pause toggles read both right after.
   */
  #rowWrite(id: string) {
    return { keep: (instance: InstanceRecord | undefined) => instance && this.#instanceEntry(id), spare: [this.#connectionsKey(id)] };
  }

  // Every instance route reads it first: from memory, dropped by a write to it or the customer.
  async getInstance(id: string): Promise<InstanceRecord | undefined> {
    const { key, tags } = this.#instanceEntry(id);
    return this.cache.read(
      key,
      () => tags,
      async () => {
        const row = await this.instances().where('id', '=', id).executeTakeFirst();
        return row && toInstance(row);
      },
    );
  }

  async createInstance(input: {
    integrationKey: string;
    integrationVersion?: string | null;
    idempotencyKey?: string;
    audit: NewAuditEvent;
  }): Promise<{ instance: InstanceRecord; created: boolean }> {
    const customerId = this.customer.id;
    const idempotencyKey = input.idempotencyKey ?? null;
    // A new instance changes the customer's list (kept in memory by every process).
    const tags = [instancesOfTag(customerId)];
    return this.db
      .transaction()
      .execute(async (tx) => {
        const at = now();
        // `on conflict do nothing` (no target) absorbs both unique keys; concurrent repeats wait
        // for the first insert's commit and then find its row below.
        const row = await tx
          .insertInto('instances')
          .values({
            id: newId('ins'),
            customer_id: customerId,
            integration_key: input.integrationKey,
            idempotency_key: idempotencyKey,
            status: 'draft',
            status_reason: null,
            config: '{}',
            secrets: null,
            secret_names: '[]',
            version: 1,
            created_at: at,
            updated_at: at,
            activated_at: null,
            integration_version: input.integrationVersion ?? null,
            previous_release: null,
          })
          .onConflict((oc) => oc.doNothing())
          .returningAll()
          .executeTakeFirst();
        if (row) {
          const instance = toInstance(row);
          await insertAudit(tx, customerId, { ...input.audit, target: input.audit.target || `instance:${instance.id}` });
          await this.cache.announce(tx, tags);
          return { instance, created: true };
        }
        if (idempotencyKey !== null) {
          const repeat = await this.instances(tx).where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
          if (repeat) {
            if (repeat.integration_key !== input.integrationKey) throw new IdempotencyKeyReuseError(repeat.id);
            return { instance: toInstance(repeat), created: false };
          }
        }
        const existing = await this.instances(tx).where('integration_key', '=', input.integrationKey).executeTakeFirst();
        if (existing) throw new DuplicateInstanceError(existing.id);
        // Neither key matched a visible row: the conflicting row was deleted in between. Rare; let the caller retry.
        throw new Error('instance create conflicted with a concurrent delete; retry');
      })
      .finally(() => this.cache.invalidate(tags));
  }

  async updateConfig(
    id: string,
    input: { config: Record<string, unknown>; secrets: string | null; secretNames: string[]; expectedVersion: number; audit: NewAuditEvent },
  ): Promise<InstanceRecord | undefined> {
    return this.#writeAtVersion(
      id,
      { config: JSON.stringify(input.config), secrets: input.secrets, secret_names: JSON.stringify(input.secretNames) },
      input.expectedVersion,
      input.audit,
    );
  }

  async setRelease(
    id: string,
    input: { release: ReleaseSnapshot; previous: ReleaseSnapshot | null; expectedVersion: number; audit: NewAuditEvent },
  ): Promise<InstanceRecord | undefined> {
    return this.#writeAtVersion(
      id,
      {
        integration_version: input.release.integrationVersion,
        config: JSON.stringify(input.release.config),
        secrets: input.release.secrets,
        secret_names: JSON.stringify(input.release.secretNames),
        previous_release: input.previous ? JSON.stringify(input.previous) : null,
      },
      input.expectedVersion,
      input.audit,
    );
  }

  /** Compare-and-set on the instance's version (bumped), with its audit line; VersionConflictError on a stale one. */
  #writeAtVersion(
    id: string,
    values: Partial<Pick<InstancesTable, 'config' | 'secrets' | 'secret_names' | 'integration_version' | 'previous_release'>>,
    expectedVersion: number,
    audit: NewAuditEvent,
  ): Promise<InstanceRecord | undefined> {
    return writeThrough(
      this.transact,
      this.cache,
      [instanceTag(id)],
      async (tx) => {
        const row = await tx
          .updateTable('instances')
          .set({ ...values, version: sql<number>`version + 1`, updated_at: now() })
          .where('id', '=', id)
          .where('customer_id', '=', this.customer.id)
          .where('version', '=', expectedVersion)
          .returningAll()
          .executeTakeFirst();
        if (!row) {
          const current = await this.instances(tx).where('id', '=', id).executeTakeFirst();
          if (current) throw new VersionConflictError(Number(current.version));
          return undefined;
        }
        await insertAudit(tx, this.customer.id, audit);
        return toInstance(row);
      },
      this.#rowWrite(id),
    );
  }

  async setStatus(id: string, input: { status: InstanceStatus; reason?: string | null; audit: NewAuditEvent }): Promise<InstanceRecord | undefined> {
    return writeThrough(
      this.transact,
      this.cache,
      [instanceTag(id)],
      async (tx) => {
        const at = now();
        // activated_at records the latest activation; other transitions keep it.
        const shape = input.status === 'active' ? activationUpdate : statusUpdate;
        const { rows } = await shape.execute(tx, { id, customerId: this.customer.id, status: input.status, reason: input.reason ?? null, at });
        const row = rows[0];
        if (!row) return undefined;
        await insertAudit(tx, this.customer.id, input.audit);
        return toInstance(row);
      },
      this.#rowWrite(id),
    );
  }

  async deleteInstance(id: string, audit: NewAuditEvent): Promise<boolean> {
    return writeThrough(this.transact, this.cache, [instanceTag(id)], async (tx) => {
      // Connections and subsystem rows go with it through `on delete cascade`.
      const result = await tx.deleteFrom('instances').where('id', '=', id).where('customer_id', '=', this.customer.id).executeTakeFirst();
      if (result.numDeletedRows === 0n) return false;
      await insertAudit(tx, this.customer.id, audit);
      return true;
    });
  }

  async listAllConnections(): Promise<ConnectionRecord[]> {
    const rows = await this.db
      .selectFrom('connections')
      .selectAll()
      .where('customer_id', '=', this.customer.id)
      .orderBy('instance_id')
      .orderBy('name')
      .execute();
    return rows.map(toConnection);
  }

  // Activation, the instance's view and every execution read them: from memory, dropped by a write to
  // the instance (its connections included: oauth/tokens.ts announces its own) or the customer.
  async listConnections(instanceId: string): Promise<ConnectionRecord[]> {
    const customerId = this.customer.id;
    const list = await this.cache.read(
      this.#connectionsKey(instanceId),
      () => [instanceTag(instanceId), customerTag(customerId)],
      async () => {
        const rows = await this.db
          .selectFrom('connections')
          .selectAll()
          .where('customer_id', '=', customerId)
          .where('instance_id', '=', instanceId)
          .orderBy('name')
          .execute();
        return rows.map(toConnection);
      },
    );
    return list ?? [];
  }

  async getConnection(instanceId: string, name: string): Promise<ConnectionRecord | undefined> {
    const row = await this.db
      .selectFrom('connections')
      .selectAll()
      .where('customer_id', '=', this.customer.id)
      .where('instance_id', '=', instanceId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toConnection(row);
  }

  async putConnection(
    instanceId: string,
    name: string,
    input: Pick<ConnectionRecord, 'kind' | 'status' | 'ciphertext' | 'expiresAt' | 'error'> & { accountName?: string | null; audit?: NewAuditEvent },
  ): Promise<ConnectionRecord | undefined> {
    return writeThrough(this.transact, this.cache, [instanceTag(instanceId)], async (tx) => {
      const values = {
        kind: input.kind,
        status: input.status,
        ciphertext: input.ciphertext,
        expires_at: input.expiresAt,
        error: input.error,
        updated_at: now(),
        // Absent: an update keeps the account already named.
        ...(input.accountName !== undefined ? { account_name: input.accountName } : {}),
      };
      // One statement that inserts only when the instance is this customer's: the write comes first
      // in the transaction, so SQLite takes its write lock up front (no read-then-upgrade BUSY
      // between processes) and no other customer's instance can gain a connection.
      const row = await tx
        .insertInto('connections')
        .columns(['instance_id', 'customer_id', 'name', 'kind', 'status', 'ciphertext', 'expires_at', 'error', 'account_name', 'updated_at'])
        .expression((eb) =>
          eb
            .selectFrom('instances')
            .select([
              'instances.id',
              'instances.customer_id',
              eb.val(name).as('name'),
              eb.val(values.kind).as('kind'),
              eb.val(values.status).as('status'),
              eb.val(values.ciphertext).as('ciphertext'),
              eb.val(values.expires_at).as('expires_at'),
              eb.val(values.error).as('error'),
              eb.val(input.accountName ?? null).as('account_name'),
              eb.val(values.updated_at).as('updated_at'),
            ])
            .where('instances.id', '=', instanceId)
            .where('instances.customer_id', '=', this.customer.id),
        )
        .onConflict((oc) => oc.columns(['instance_id', 'name']).doUpdateSet(values))
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      if (input.audit) await insertAudit(tx, this.customer.id, input.audit);
      return toConnection(row);
    });
  }

  async deleteConnection(instanceId: string, name: string, audit: NewAuditEvent): Promise<boolean> {
    return writeThrough(this.transact, this.cache, [instanceTag(instanceId)], async (tx) => {
      const result = await tx
        .deleteFrom('connections')
        .where('customer_id', '=', this.customer.id)
        .where('instance_id', '=', instanceId)
        .where('name', '=', name)
        .executeTakeFirst();
      if (result.numDeletedRows === 0n) return false;
      await insertAudit(tx, this.customer.id, audit);
      return true;
    });
  }

  async listAudit(options?: { limit?: number; target?: string; before?: string }): Promise<AuditEvent[]> {
    const limit = Math.min(Math.max(Math.trunc(options?.limit ?? 100), 1), 1000);
    let query = this.db.selectFrom('audit_events').selectAll().where('customer_id', '=', this.customer.id);
    if (options?.target !== undefined) query = query.where('target', '=', options.target);
    if (options?.before !== undefined) query = query.where('id', '<', options.before);
    const rows = await query.orderBy('id', 'desc').limit(limit).execute();
    return rows.map(toAudit);
  }
}

export class KyselyStore implements Store {
  /** Transactions of the writes that go through writeThrough: grouped on SQLite (commit-groups.ts). */
  private readonly transact: Transact<CoreDatabase>;

  constructor(
    readonly db: Db,
    readonly engine: 'sqlite' | 'postgres',
    readonly cache: StoreCache,
    readonly migrate: () => Promise<void>,
    private readonly onClose: () => Promise<void>,
  ) {
    this.transact = engine === 'sqlite' ? commitGroups(db) : (work) => db.transaction().execute(work);
  }

  async ensureCustomer(externalId: string, name?: string | null): Promise<Customer> {
    const known = this.knownCustomer(externalId, name);
    if (known) return known;
    const key = `customer-ext:${externalId}`;
    const found =
      this.cache.peek<Customer>(key) ??
      (await this.cache.read(
        key,
        (customer) => [customerTag(customer.id)],
        async () => {
          const row = await this.db.selectFrom('customers').selectAll().where('external_id', '=', externalId).executeTakeFirst();
          return row && toCustomer(row);
        },
      ));
    if (found && (name == null || found.name === name)) return found;
    let renamed = false;
    if (!found) {
      // Concurrent first sights: one insert wins, the others do nothing and read its row.
      await this.db
        .insertInto('customers')
        .values({ id: newId('cus'), external_id: externalId, name: name ?? null, created_at: now() })
        .onConflict((oc) => oc.column('external_id').doNothing())
        .execute();
    }
    if (name != null) {
      const result = await this.db
        .updateTable('customers')
        .set({ name })
        .where('external_id', '=', externalId)
        .where((eb) => eb.or([eb('name', 'is', null), eb('name', '!=', name)]))
        .executeTakeFirst();
      renamed = Number(result.numUpdatedRows) > 0;
    }
    const row = await this.db.selectFrom('customers').selectAll().where('external_id', '=', externalId).executeTakeFirstOrThrow();
    if (renamed) {
      // Other processes hold the old name (and instances carrying it).
      const tags = [customerTag(row.id)];
      await this.cache.announce(this.db, tags);
      this.cache.invalidate(tags);
    }
    return toCustomer(row);
  }

  // From memory, without a promise: every authenticated request asks (auth.ts).
  knownCustomer(externalId: string, name?: string | null): Customer | undefined {
    const found = this.cache.peek<Customer>(`customer-ext:${externalId}`);
    return found && (name == null || found.name === name) ? found : undefined;
  }

  forCustomer(customer: Customer): CustomerStore {
    return new KyselyCustomerStore(this.db, this.transact, this.cache, customer);
  }

  readonly vendor: Store['vendor'] = {
    listCustomers: async ({ q, after, limit } = {}) => {
      let query = this.db.selectFrom('customers');
      if (q) {
        // A substring in any case; LIKE's own wildcards in q are matched as themselves.
        const pattern = `%${q.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
        const like = (column: 'customers.id' | 'customers.external_id' | 'customers.name') =>
          sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
        query = query.where((eb) => eb.or([like('customers.external_id'), like('customers.name'), like('customers.id')]));
      }
      if (after !== undefined) query = query.where('customers.external_id', '>', after);
      let ordered = query
        .leftJoin('instances', 'instances.customer_id', 'customers.id')
        .select([
          'customers.id',
          'customers.external_id',
          'customers.name',
          'customers.created_at',
          'customers.entitlements',
          (eb) => eb.fn.count<string | number>('instances.id').as('instance_count'),
        ])
        .groupBy(['customers.id', 'customers.external_id', 'customers.name', 'customers.created_at', 'customers.entitlements'])
        // The vendor's own id is unique: a stable order for cursor paging (`after`).
        .orderBy('customers.external_id');
      if (limit !== undefined) ordered = ordered.limit(limit);
      const rows = await ordered.execute();
      return rows.map((row) => ({ ...toCustomer(row), instanceCount: Number(row.instance_count) }));
    },
    listInstances: async (filter) => {
      let query = this.db
        .selectFrom('instances')
        .innerJoin('customers', 'customers.id', 'instances.customer_id')
        .selectAll('instances')
        .select([
          'customers.external_id as c_external_id',
          'customers.name as c_name',
          'customers.created_at as c_created_at',
          'customers.entitlements as c_entitlements',
        ]);
      if (filter?.customerId !== undefined) query = query.where('instances.customer_id', '=', filter.customerId);
      if (filter?.status !== undefined) query = query.where('instances.status', '=', filter.status);
      const rows = await query.orderBy('instances.created_at').orderBy('instances.id').execute();
      return rows.map(withCustomer);
    },
    // Every webhook and every execution reads it: from memory, dropped by any write to the instance or its customer.
    getInstance: (id) =>
      this.cache.read(
        instanceTag(id),
        (instance) => [instanceTag(id), customerTag(instance.customerId)],
        async () => {
          const row = await this.db
            .selectFrom('instances')
            .innerJoin('customers', 'customers.id', 'instances.customer_id')
            .selectAll('instances')
            .select([
              'customers.external_id as c_external_id',
              'customers.name as c_name',
              'customers.created_at as c_created_at',
              'customers.entitlements as c_entitlements',
            ])
            .where('instances.id', '=', id)
            .executeTakeFirst();
          return row && withCustomer(row);
        },
      ),
    listConnections: async (instanceIds) => {
      if (instanceIds.length === 0) return [];
      const rows = await this.db
        .selectFrom('connections')
        .selectAll()
        .where('instance_id', 'in', [...instanceIds])
        .orderBy('instance_id')
        .orderBy('name')
        .execute();
      return rows.map(toConnection);
    },
    getCustomer: async (id) => {
      const row = await this.db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toCustomer(row);
    },
    findCustomer: async (idOrExternalId) => {
      const rows = await this.db
        .selectFrom('customers')
        .selectAll()
        .where((eb) => eb.or([eb('id', '=', idOrExternalId), eb('external_id', '=', idOrExternalId)]))
        .execute();
      const row = rows.find((r) => r.id === idOrExternalId) ?? rows[0];
      return row && toCustomer(row);
    },
    setEntitlements: (id, entitlements, audit) =>
      writeThrough(this.transact, this.cache, [customerTag(id)], async (tx) => {
        const row = await tx
          .updateTable('customers')
          .set({ entitlements: entitlements === null ? null : JSON.stringify(entitlements) })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirst();
        if (!row) return undefined;
        await insertAudit(tx, id, audit);
        return toCustomer(row);
      }),
    recordAudit: async (event) => {
      await insertAudit(this.db, event.customerId, event);
    },
    fillIntegrationVersion: async (integrationKey, version) => {
      const result = await this.db
        .updateTable('instances')
        .set({ integration_version: version })
        .where('integration_key', '=', integrationKey)
        .where('integration_version', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    countIntegrationVersions: async () => {
      const rows = await this.db
        .selectFrom('instances')
        .select(['integration_key', 'integration_version', (eb) => eb.fn.countAll<string | number>().as('count')])
        .groupBy(['integration_key', 'integration_version'])
        .execute();
      const counts: Record<string, Record<string, number>> = {};
      for (const row of rows) (counts[row.integration_key] ??= {})[row.integration_version ?? ''] = Number(row.count);
      return counts;
    },
  };

  async ping(): Promise<boolean> {
    try {
      await sql`select 1`.execute(this.db);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.cache.close();
    await this.onClose();
  }
}

function withCustomer(
  row: Selectable<InstancesTable> & { c_external_id: string; c_name: string | null; c_created_at: string; c_entitlements: string | null },
): InstanceRecord & { customer: Customer } {
  return {
    ...toInstance(row),
    customer: toCustomer({
      id: row.customer_id,
      external_id: row.c_external_id,
      name: row.c_name,
      created_at: row.c_created_at,
      entitlements: row.c_entitlements,
    }),
  };
}
