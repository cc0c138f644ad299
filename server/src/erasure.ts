// Erasure of one customer (the vendor's `DELETE /vendor/customers/:id`): every row that names the
// customer or one of its instances, in one transaction, then its queued jobs and its warm executor.
//
// Order, so that nothing runs for an erased customer afterwards:
//   1. OAuth grants are revoked at their providers while the tokens are still stored (best effort,
//      the path an instance delete takes);
//   2. one transaction deletes the rows: every table with a `customer_id` or `instance_id` column
//      (found in the schema, so a table added later is covered), execution logs, the audit trail,
//      the customer. After the commit no execution row is left to claim, and a job a runner
//      fetches finds nothing to run;
//   3. the pg-boss jobs (a second step: pg-boss keeps them in its own schema and connections);
//   4. the customer's executor in this process's runner is ended (what runs in it is killed);
//      runners in other processes drop its executor at their idle timeout.
import type { CustomerErasure } from 'plugboard/protocol';
import { sql, type Kysely } from 'kysely';
import { NotFoundError } from './errors.js';
import type { Logger } from './logger.js';
import type { OAuth } from './oauth/index.js';
import type { ExecutorPool } from './runtime/executor/index.js';
import type { ExecutionQueue } from './runtime/queue.js';
import { customerTag } from './store/cache.js';
import type { Store } from './store/types.js';

/** The two information_schema views schemaTables reads (PostgreSQL). */
interface InformationSchema {
  'information_schema.columns': { table_schema: string; table_name: string; column_name: string };
  'information_schema.tables': { table_schema: string; table_name: string; table_type: string };
}

export interface Erasure {
  /** Removes everything of the customer and says what, per kind. Throws NotFoundError for an unknown (or already erased) customer. */
  erase(customerId: string, actor: string): Promise<CustomerErasure>;
}

/** Kinds of the known tables as the answer names them; other tables are named as they are. */
const KIND: Record<string, string> = {
  customers: 'customers',
  instances: 'instances',
  connections: 'connections',
  oauth_sessions: 'oauthSessions',
  executions: 'executions',
  execution_logs: 'executionLogs',
  webhook_endpoints: 'webhookEndpoints',
  webhook_deliveries: 'webhookDeliveries',
  instance_health: 'instanceHealth',
  flow_state: 'flowState',
  audit_events: 'auditEvents',
  upgrade_jobs: 'upgradeJobs',
  upgrade_outcomes: 'upgradeOutcomes',
};

/** Deleted after every other table that names the customer, parents last (foreign keys). */
const LAST = ['upgrade_jobs', 'executions', 'connections', 'instances'];

/** A table of the schema, seen through the columns erasure filters on. */
type Keyed = { customer_id: string; instance_id: string; execution_id: string; id: string; target: string };

export function createErasure(options: {
  store: Store;
  oauth: OAuth;
  /** The runtime's queue, when one runs here (pg-boss jobs live outside the store's tables). */
  queue?: ExecutionQueue;
  /** The executor pool of this process's runner, when one runs here: the customer's executor is ended. */
  executors?: Pick<ExecutorPool, 'retire'>;
  logger?: Logger;
}): Erasure {
  const { store, oauth, queue, logger } = options;

  /** Tables of the store's schema and their columns (the current schema only, on PostgreSQL). */
  async function schemaTables(): Promise<Map<string, Set<string>>> {
    // PostgreSQL: information_schema, filtered to the current schema by the database. Kysely's
    // introspection reads every schema of the database, so another schema dropped meanwhile (another
    // tenant of the database, a test side by side) failed the erasure with 'schema "…" does not exist'.
    const columns =
      store.engine === 'postgres'
        ? await (store.db as unknown as Kysely<InformationSchema>)
            .selectFrom('information_schema.columns as c')
            .innerJoin('information_schema.tables as t', (join) =>
              join.onRef('t.table_schema', '=', 'c.table_schema').onRef('t.table_name', '=', 'c.table_name'),
            )
            .select(['c.table_name as table', 'c.column_name as column'])
            .where('c.table_schema', '=', sql<string>`current_schema()`)
            .where('t.table_type', '=', 'BASE TABLE')
            .execute()
        : (await store.db.introspection.getTables()).filter((t) => !t.isView).flatMap((t) => t.columns.map((c) => ({ table: t.name, column: c.name })));
    const tables = new Map<string, Set<string>>();
    for (const { table, column } of columns) {
      if (table.startsWith('kysely_')) continue;
      let names = tables.get(table);
      if (!names) tables.set(table, (names = new Set()));
      names.add(column);
    }
    return tables;
  }

  return {
    async erase(customerId, actor) {
      const customer = await store.vendor.getCustomer(customerId);
      if (!customer) throw new NotFoundError('Customer');
      const instances = await store.vendor.listInstances({ customerId });
      await Promise.all(
        instances.map((i) =>
          oauth.revokeInstance({ customerId, instanceId: i.id }).catch((err: unknown) => logger?.warn({ err, instanceId: i.id }, 'revocation failed')),
        ),
      );

      const tables = await schemaTables();
      const removed: Record<string, number> = {};
      // Every process drops what it keeps in memory of this customer (its instances, endpoints, connections).
      const tags = [customerTag(customerId)];
      const erased = await store.db
        .transaction()
        .execute(async (trx) => {
          const tx = trx as unknown as Kysely<Record<string, Keyed>>;
          const count = (table: string, n: bigint | number) => {
            if (Number(n) > 0) removed[KIND[table] ?? table] = (removed[KIND[table] ?? table] ?? 0) + Number(n);
          };
          // Read again inside the transaction: an instance created since the revocation goes too.
          const instanceIds = (await tx.selectFrom('instances').select('id').where('customer_id', '=', customerId).execute()).map((r) => r.id);
          const ofCustomer = tx.selectFrom('instances').select('id').where('customer_id', '=', customerId);

          // Children first, each counted (a cascade would delete them uncounted).
          if (tables.has('execution_logs') && tables.has('executions')) {
            const logs = await tx
              .deleteFrom('execution_logs')
              .where('execution_id', 'in', tx.selectFrom('executions').select('id').where('customer_id', '=', customerId))
              .executeTakeFirst();
            count('execution_logs', logs.numDeletedRows);
          }
          const keyed = [...tables]
            .filter(([name, columns]) => !['customers', 'audit_events'].includes(name) && (columns.has('customer_id') || columns.has('instance_id')))
            .map(([name]) => name)
            .sort((a, b) => LAST.indexOf(a) - LAST.indexOf(b));
          for (const table of keyed) {
            const columns = tables.get(table)!;
            let query = tx.deleteFrom(table);
            query = columns.has('customer_id')
              ? query.where((eb) => eb.or([eb('customer_id', '=', customerId), ...(columns.has('instance_id') ? [eb('instance_id', 'in', ofCustomer)] : [])]))
              : query.where('instance_id', 'in', ofCustomer);
            count(table, (await query.executeTakeFirst()).numDeletedRows);
          }
          // The trail of the customer, and any line about one of its instances written without it.
          const targets = instanceIds.map((id) => `instance:${id}`);
          const audit = await tx
            .deleteFrom('audit_events')
            .where((eb) => eb.or([eb('customer_id', '=', customerId), ...(targets.length ? [eb('target', 'in', targets)] : [])]))
            .executeTakeFirst();
          count('audit_events', audit.numDeletedRows);
          const gone = await tx.deleteFrom('customers').where('id', '=', customerId).executeTakeFirst();
          count('customers', gone.numDeletedRows);
          await store.cache.announce(trx, tags);
          return Number(gone.numDeletedRows) === 1;
        })
        .finally(() => store.cache.invalidate(tags));
      // Erased by a concurrent call between the look-up and the transaction.
      if (!erased) throw new NotFoundError('Customer');

      if (queue?.forgetCustomer) {
        const jobs = await queue.forgetCustomer(customerId);
        if (jobs > 0) removed.queuedJobs = jobs;
      }
      // After the commit: a retry the runner queues for a killed execution has no row left to run.
      await options.executors?.retire(customerId);

      // The vendor's own trail keeps that an erasure happened and how much it removed, not whom.
      await store.vendor.recordAudit({ customerId: null, actor, action: 'customer.erased', target: 'customer', details: { removed } });
      logger?.info({ removed }, 'customer erased');
      return { customerId, removed };
    },
  };
}
