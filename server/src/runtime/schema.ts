// The runtime's own tables (executions, their logs, webhook endpoints, instance health) and their
// migrations, passed to `openStore({ migrations: runtimeMigrations })`. Same conventions as the
// core: text ids, ISO-8601 UTC text timestamps (they sort as text), JSON as text.
import type { Kysely, Migration } from 'kysely';
import type { CoreDatabase } from '../store/schema.js';

export interface ExecutionsTable {
  /** A UUID: on PostgreSQL it is also the pg-boss job id, so a repeated enqueue is a no-op. */
  id: string;
  customer_id: string;
  instance_id: string;
  flow: string;
  /** queued | running | succeeded | failed | timed_out */
  status: string;
  /** webhook | schedule | manual */
  trigger: string;
  /** Starts so far (0 while first queued). */
  attempt: number;
  max_attempts: number;
  queued_at: string;
  /** Earliest time a queued execution may start (backoff of a retry). */
  run_after: string;
  started_at: string | null;
  ended_at: string | null;
  duration_ms: number | null;
  error: string | null;
  result_summary: string | null;
  /** JSON `{ body, headers }` handed to the flow. */
  payload: string;
  /** `scheduledFor` ISO time of a schedule tick; unique per (instance, flow) so a tick fires once. */
  tick_key: string | null;
  runner_id: string | null;
  log_count: number;
  log_bytes: number;
  logs_truncated: number;
  /** The execution a vendor's retry or re-run ran again (its payload), or null. */
  rerun_of: string | null;
}

export interface ExecutionLogsTable {
  execution_id: string;
  seq: number;
  at: string;
  level: string;
  message: string;
}

export interface WebhookEndpointsTable {
  /** SHA-256 (hex) of the URL token: a database leak does not hand out working URLs. */
  token_hash: string;
  instance_id: string;
  customer_id: string;
  flow: string;
  /** The token, encrypted, so the URL can be shown again to the customer. */
  token_ciphertext: string;
  /** HMAC signing secret, encrypted; null until the customer generates one. */
  secret_ciphertext: string | null;
  created_at: string;
}

/** Webhook delivery ids already taken, kept for the tolerance window so a redelivery runs once. */
export interface WebhookDeliveriesTable {
  instance_id: string;
  customer_id: string;
  flow: string;
  /** `webhook-id` (or the id a custom verifier returned). */
  delivery_id: string;
  /** The execution the first delivery started (its id is made before the claim). */
  execution_id: string;
  /** The signed `webhook-timestamp` (or the arrival time): rows older than the tolerance are pruned. */
  sent_at: string;
}

export interface InstanceHealthTable {
  instance_id: string;
  consecutive_failures: number;
  last_error: string | null;
  updated_at: string;
}

export interface RuntimeCursorsTable {
  name: string;
  /** The last audit event id relayed as an alert. */
  position: string;
}

/** One row per runner process (PostgreSQL): its heartbeat, by the database's clock (runners.ts). */
export interface RunnersTable {
  id: string;
  started_at: string;
  /** Epoch ms of the last heartbeat; bigint (a string when read from PostgreSQL). */
  last_seen_ms: string | number;
}

/** One key of an instance's ctx.state: written with a successful execution's finish, deleted with the instance. */
export interface FlowStateTable {
  instance_id: string;
  key: string;
  /** JSON text. */
  value: string;
  updated_at: string;
}

/** rate-limiter-flexible's counters of connection rate limits (its own columns; keys are hashes). */
export interface ConnectionRateLimitsTable {
  key: string;
  points: number;
  expire: string | number | null;
}

export type RuntimeTables = {
  flow_state: FlowStateTable;
  connection_rate_limits: ConnectionRateLimitsTable;
  runners: RunnersTable;
  runtime_cursors: RuntimeCursorsTable;
  executions: ExecutionsTable;
  execution_logs: ExecutionLogsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  instance_health: InstanceHealthTable;
};

export type RuntimeDatabase = CoreDatabase & RuntimeTables;
export type RuntimeDb = Kysely<RuntimeDatabase>;

export const runtimeMigrations: Record<string, Migration> = {
  '0200_runtime': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('executions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id').onDelete('cascade'))
        .addColumn('flow', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('queued_at', 'text', (c) => c.notNull())
        .addColumn('run_after', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('ended_at', 'text')
        .addColumn('duration_ms', 'integer')
        .addColumn('error', 'text')
        .addColumn('result_summary', 'text')
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('tick_key', 'text')
        .addColumn('runner_id', 'text')
        .addColumn('log_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('log_bytes', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('logs_truncated', 'integer', (c) => c.notNull().defaultTo(0))
        // NULL tick keys (webhooks) never conflict; a schedule tick inserts once, whoever tries.
        .addUniqueConstraint('executions_tick_uq', ['instance_id', 'flow', 'tick_key'])
        .execute();
      await db.schema.createIndex('executions_instance_idx').on('executions').columns(['instance_id', 'queued_at', 'id']).execute();
      // The in-process queue's claim and the queue-depth gauge.
      await db.schema.createIndex('executions_claim_idx').on('executions').columns(['status', 'customer_id', 'run_after']).execute();

      await db.schema
        .createTable('execution_logs')
        .addColumn('execution_id', 'text', (c) => c.notNull().references('executions.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('level', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('execution_logs_pk', ['execution_id', 'seq'])
        .execute();

      await db.schema
        .createTable('webhook_endpoints')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id').onDelete('cascade'))
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('flow', 'text', (c) => c.notNull())
        .addColumn('token_ciphertext', 'text', (c) => c.notNull())
        .addColumn('secret_ciphertext', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('webhook_endpoints_flow_uq', ['instance_id', 'flow'])
        .execute();

      await db.schema
        .createTable('instance_health')
        .addColumn('instance_id', 'text', (c) => c.primaryKey().references('instances.id').onDelete('cascade'))
        .addColumn('consecutive_failures', 'integer', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('runtime_cursors')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('position', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of ['runtime_cursors', 'instance_health', 'webhook_endpoints', 'execution_logs', 'executions']) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  },
  '0210_webhook_deliveries': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id').onDelete('cascade'))
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('flow', 'text', (c) => c.notNull())
        .addColumn('delivery_id', 'text', (c) => c.notNull())
        .addColumn('execution_id', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'text', (c) => c.notNull())
        // The claim: of two replicas inserting the same id, exactly one insert lands.
        .addPrimaryKeyConstraint('webhook_deliveries_pk', ['instance_id', 'flow', 'delivery_id'])
        .execute();
      await db.schema.createIndex('webhook_deliveries_sent_idx').on('webhook_deliveries').column('sent_at').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('webhook_deliveries').ifExists().execute();
    },
  },
  '0220_runner_heartbeats': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('runners')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_ms', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('runners').ifExists().execute();
    },
  },
  '0300_flow_state_and_connection_limits': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('flow_state')
        .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id').onDelete('cascade'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('flow_state_pk', ['instance_id', 'key'])
        .execute();
      // The columns rate-limiter-flexible's PostgreSQL and SQLite stores create for themselves, made
      // here so no runner races another to create them.
      await db.schema
        .createTable('connection_rate_limits')
        .addColumn('key', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('points', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('expire', 'bigint')
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('connection_rate_limits').ifExists().execute();
      await db.schema.dropTable('flow_state').ifExists().execute();
    },
  },
  '0320_execution_reruns': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('executions').addColumn('rerun_of', 'text').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('executions').dropColumn('rerun_of').execute();
    },
  },
};

/** The store's database, typed with the runtime tables. */
export function runtimeDb(db: Kysely<CoreDatabase>): RuntimeDb {
  return db.withTables<RuntimeTables>();
}
