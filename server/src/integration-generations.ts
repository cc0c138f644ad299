// Each load of the vendor's integrations module, remembered in the database (issue 12): the
// integration versions it provides and its bytes. A restart loads the module's current content only;
// from these rows it loads again the code of the older versions instances still run, even in a fresh
// container whose image holds only the new module (why the bytes are in the database, not only in
// the copy beside the module: docs/vendor.md, "What a restart does").
import type { Kysely } from 'kysely';
import type { CoreDatabase } from './store/schema.js';

/** A remembered load, without its bytes. */
export interface RememberedGeneration {
  hash: string;
  file: string;
  versions: Array<[key: string, version: string]>;
  loadedAt: string;
}

export interface IntegrationGenerations {
  /** Records a load (again: it becomes the latest load of its versions). */
  remember(generation: { hash: string; file: string; bytes: Buffer; versions: Array<[string, string]> }): Promise<void>;
  /** Every remembered load, latest first. */
  list(): Promise<RememberedGeneration[]>;
  /** A remembered load's bytes (undefined: forgotten meanwhile). */
  bytes(hash: string): Promise<Buffer | undefined>;
  forget(hashes: readonly string[]): Promise<void>;
}

export function integrationGenerations(store: { db: Kysely<CoreDatabase> }): IntegrationGenerations {
  const { db } = store;
  return {
    async remember({ hash, file, bytes, versions }) {
      const loadedAt = new Date().toISOString();
      await db
        .insertInto('integration_generations')
        .values({ hash, file, code: bytes.toString('base64'), versions: JSON.stringify(versions), loaded_at: loadedAt })
        .onConflict((oc) => oc.column('hash').doUpdateSet({ loaded_at: loadedAt }))
        .execute();
    },
    async list() {
      const rows = await db
        .selectFrom('integration_generations')
        .select(['hash', 'file', 'versions', 'loaded_at'])
        .orderBy('loaded_at', 'desc')
        .orderBy('hash')
        .execute();
      return rows.map((r) => ({ hash: r.hash, file: r.file, versions: JSON.parse(r.versions) as Array<[string, string]>, loadedAt: r.loaded_at }));
    },
    async bytes(hash) {
      const row = await db.selectFrom('integration_generations').select('code').where('hash', '=', hash).executeTakeFirst();
      return row ? Buffer.from(row.code, 'base64') : undefined;
    },
    async forget(hashes) {
      if (hashes.length) await db.deleteFrom('integration_generations').where('hash', 'in', hashes).execute();
    },
  };
}
