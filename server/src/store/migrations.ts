// Core migrations. One code path for SQLite and PostgreSQL: text ids, ISO-8601 text timestamps,
// JSON as text, integer versions.
//
// Subsystems that keep their own tables (oauth sessions, runtime executions and logs) pass their
// migrations to `openStore({ migrations })`; they are merged with these and run in name order,
// so name them after the core ones (`0100_oauth_…`, `0200_runtime_…`). Rows that belong to an
// instance should reference `instances(id)` with `on delete cascade` so deleteInstance removes them.
import type { Kysely, Migration } from 'kysely';

export const coreMigrations: Record<string, Migration> = {
  '0001_core': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('customers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('external_id', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('instances')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('integration_key', 'text', (c) => c.notNull())
        .addColumn('idempotency_key', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('status_reason', 'text')
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('secrets', 'text')
        .addColumn('secret_names', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('activated_at', 'text')
        // One instance per integration per customer; an idempotency key names one create.
        .addUniqueConstraint('instances_customer_integration_uq', ['customer_id', 'integration_key'])
        .addUniqueConstraint('instances_customer_idempotency_uq', ['customer_id', 'idempotency_key'])
        .execute();
      await db.schema.createIndex('instances_status_idx').on('instances').column('status').execute();

      await db.schema
        .createTable('connections')
        .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id').onDelete('cascade'))
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('ciphertext', 'text')
        .addColumn('expires_at', 'text')
        .addColumn('error', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('connections_pk', ['instance_id', 'name'])
        .execute();
      // Token refresh scans for connections about to expire.
      await db.schema.createIndex('connections_expires_idx').on('connections').column('expires_at').execute();

      await db.schema
        .createTable('audit_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        // No FK: the audit trail outlives what it talks about.
        .addColumn('customer_id', 'text')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_events_customer_idx').on('audit_events').columns(['customer_id', 'id']).execute();
    },
    async down(db: Kysely<unknown>) {
      for (const table of ['audit_events', 'connections', 'instances', 'customers']) {
        await db.schema.dropTable(table).ifExists().execute();
      }
    },
  },
  // The customer's admin reads an instance's history: who (the token's name as well as its sub), newest first.
  '0002_audit_history': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('audit_events').addColumn('actor_name', 'text').execute();
      await db.schema.createIndex('audit_events_target_idx').on('audit_events').columns(['customer_id', 'target', 'id']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropIndex('audit_events_target_idx').ifExists().execute();
      await db.schema.alterTable('audit_events').dropColumn('actor_name').execute();
    },
  },
  // Who sees what: the vendor API stores a customer's entitlements (JSON array; null: not set).
  '0003_customer_entitlements': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('customers').addColumn('entitlements', 'text').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('customers').dropColumn('entitlements').execute();
    },
  },
  // "Connected as …": the account a connection's `identify` named (a display name, not a secret).
  '0004_connection_account_name': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('connections').addColumn('account_name', 'text').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('connections').dropColumn('account_name').execute();
    },
  },
  // Integration versions (issue 12): the version each instance runs (null until the first start that
  // knows the integrations fills it with the version then loaded), and what an upgrade replaced
  // (JSON: version, config, sealed secrets, secret names) so a rollback can restore it.
  '0005_instance_integration_version': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('instances').addColumn('integration_version', 'text').execute();
      await db.schema.alterTable('instances').addColumn('previous_release', 'text').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('instances').dropColumn('previous_release').execute();
      await db.schema.alterTable('instances').dropColumn('integration_version').execute();
    },
  },
  // Bulk upgrade jobs (issue 12) in the database, so any replica answers for a job and one whose
  // process died is taken over (upgrades.ts). Outcomes get a row each (not a JSON column on the job):
  // each is written in its own small transaction with the job's counters, where a JSON array would be
  // read and rewritten whole for every instance (quadratic for a big job) and race with a takeover.
  // Erasing a customer removes its outcome rows and the jobs over that customer alone (customer_id).
  '0006_upgrade_jobs': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('upgrade_jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('integration_key', 'text', (c) => c.notNull())
        .addColumn('to_version', 'text', (c) => c.notNull())
        // No FK: the job's record outlives the customer, as the audit trail does.
        .addColumn('customer_id', 'text')
        .addColumn('customer_external_id', 'text')
        .addColumn('rollback_of', 'text')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('actor_name', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('total', 'integer', (c) => c.notNull())
        .addColumn('done', 'integer', (c) => c.notNull())
        .addColumn('upgraded', 'integer', (c) => c.notNull())
        .addColumn('failed', 'integer', (c) => c.notNull())
        .addColumn('skipped', 'integer', (c) => c.notNull())
        .addColumn('rolled_back', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('heartbeat_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('upgrade_jobs_started_idx').on('upgrade_jobs').columns(['started_at', 'id']).execute();
      await db.schema.createIndex('upgrade_jobs_status_idx').on('upgrade_jobs').columns(['status', 'heartbeat_at']).execute();
      await db.schema
        .createTable('upgrade_outcomes')
        .addColumn('job_id', 'text', (c) => c.notNull().references('upgrade_jobs.id').onDelete('cascade'))
        .addColumn('position', 'integer', (c) => c.notNull())
        // No FK: the outcome stays when the instance is deleted.
        .addColumn('instance_id', 'text', (c) => c.notNull())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('customer_external_id', 'text', (c) => c.notNull())
        .addColumn('from_version', 'text')
        .addColumn('to_version', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('errors', 'text')
        .addColumn('done_at', 'text')
        .addPrimaryKeyConstraint('upgrade_outcomes_pk', ['job_id', 'position'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('upgrade_outcomes').ifExists().execute();
      await db.schema.dropTable('upgrade_jobs').ifExists().execute();
    },
  },
  // Each load of the vendor's integrations module with its bytes (issue 12), so a restart loads again
  // the older versions instances still run (integration-generations.ts). No customer in it: erasure has nothing here.
  '0007_integration_generations': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('integration_generations')
        .addColumn('hash', 'text', (c) => c.primaryKey())
        .addColumn('file', 'text', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('versions', 'text', (c) => c.notNull())
        .addColumn('loaded_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('integration_generations').ifExists().execute();
    },
  },
};
