// Migrations of the OAuth subsystem, passed to `openStore({ migrations: oauthMigrations })`.
import type { Kysely, Migration } from 'kysely';

export const oauthMigrations: Record<string, Migration> = {
  '0100_oauth_sessions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('oauth_sessions')
        .addColumn('state', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull().references('customers.id').onDelete('cascade'))
        // Deleting the instance ends its pending authorizations too.
        .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id').onDelete('cascade'))
        .addColumn('connection', 'text', (c) => c.notNull())
        .addColumn('verifier', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('return_url', 'text')
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .execute();
      // Old sessions are swept by expiry.
      await db.schema.createIndex('oauth_sessions_expires_idx').on('oauth_sessions').column('expires_at').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('oauth_sessions').ifExists().execute();
    },
  },
  // The start page and the browser binding (issue 9): sessions from before it have no provider URL
  // and can't be started; they expire within minutes.
  '0110_oauth_browser_binding': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('oauth_sessions').addColumn('provider_url', 'text').execute();
      await db.schema.alterTable('oauth_sessions').addColumn('provider_label', 'text').execute();
      await db.schema.alterTable('oauth_sessions').addColumn('browser_hash', 'text').execute();
    },
    async down(db: Kysely<unknown>) {
      for (const column of ['browser_hash', 'provider_label', 'provider_url']) {
        await db.schema.alterTable('oauth_sessions').dropColumn(column).execute();
      }
    },
  },
  // Tenant fields and the customer's own OAuth client, given when the flow starts (issue 13).
  '0120_oauth_connection_params': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('oauth_sessions').addColumn('params', 'text').execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('oauth_sessions').dropColumn('params').execute();
    },
  },
};
