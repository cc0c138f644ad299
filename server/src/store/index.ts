// Opens the store: SQLite (a file under ./.plugboard/ by default, nothing to install) or
// PostgreSQL (`postgres://…`, for several replicas), then runs the migrations.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
  type DatabaseIntrospector,
  type Migration,
  type PostgresPool,
  type PostgresPoolClient,
  type SqliteDatabase,
  type SqliteStatement,
} from 'kysely';
import pg from 'pg';
import { StoreCache, type StoreCacheOptions } from './cache.js';
import { checkpointOffThread, DEFAULT_CHECKPOINT_INTERVAL_MS } from './checkpoints.js';
import { KyselyStore } from './kysely.js';
import { coreMigrations } from './migrations.js';
import type { CoreDatabase } from './schema.js';
import type { Store } from './types.js';

export * from './types.js';
export { StoreCache, customerTag, instanceTag } from './cache.js';
export type { CoreDatabase } from './schema.js';

export const DEFAULT_SQLITE_PATH = './.plugboard/plugboard.db';

export interface OpenStoreOptions {
  /**
   * `DATABASE_URL`. Unset: SQLite at `sqlitePath` (default ./.plugboard/plugboard.db).
   * `postgres://…` / `postgresql://…`: PostgreSQL. `file:…`, `sqlite:…`, a path or `:memory:`: SQLite there.
   */
  databaseUrl?: string;
  /** SQLite file used when `databaseUrl` is unset. */
  sqlitePath?: string;
  /** PostgreSQL schema for every pooled connection (created if missing); tests use their own. */
  pgSchema?: string;
  /**
   * Migrations of subsystems with their own tables (oauth, runtime), merged with the core ones
   * and run in name order; name them after `0001_core` (e.g. `0100_oauth_sessions`).
   */
  migrations?: Record<string, Migration>;
  /** Run migrations while opening (default true). */
  migrate?: boolean;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** Size and age limits of the store's cache (store/cache.ts). */
  cache?: StoreCacheOptions;
  /** PostgreSQL: a statement that has not answered within this fails (default 30 s; see `postgresTimeouts`). */
  queryTimeoutMs?: number;
  /**
   * SQLite file: a WAL checkpoint every this many ms on a thread of its own (store/checkpoints.ts);
   * 0: SQLite's own, inside the commit that takes the WAL past 1,000 pages, on the event loop.
   */
  sqliteCheckpointMs?: number;
}

/** Default of `queryTimeoutMs` (PLUGBOARD_DB_QUERY_TIMEOUT_MS). */
export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;

/**
 * node-postgres options that turn a hung database (a connection that is accepted but never answers,
 * or stops answering mid-query) into errors instead of waits without end: connecting gives up after
 * 5 s, the server cancels a statement after `queryTimeoutMs`, and the client stops waiting for an
 * answer 2 s later (when the server itself is unreachable). Shared by the store's pool and pg-boss's.
 */
export function postgresTimeouts(queryTimeoutMs = DEFAULT_QUERY_TIMEOUT_MS) {
  return {
    connectionTimeoutMillis: 5000,
    statement_timeout: queryTimeoutMs,
    query_timeout: queryTimeoutMs + 2000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}

/** A query or a checkout still waiting after this makes the pool check the database on a new connection. */
const STALL_CHECK_AFTER_MS = 1000;
/** That check's limits (to connect, and for `select 1` to answer). */
const CHECK_TIMEOUT_MS = 2000;
/** While the database does not answer, a new check starts this often (overlapping a hung one), so work resumes soon after it is back. */
const RECHECK_EVERY_MS = 500;

/** What a checkout gets while the pool's check says the database does not answer (a 503 for the API, see problem.ts). */
function databaseNotAnswering(): Error {
  return Object.assign(new Error('Connection terminated: the database does not answer a check on a new connection'), { code: '08006' });
}

/**
 * The pool as Kysely (and pg-boss) see it, made safe against black holes. A client whose query timed
 * out (its connection black-holed, still waiting for that answer) is destroyed on release, where
 * Kysely would release it as healthy; and after such a timeout, a client that has not answered
 * since (idle in the pool meanwhile, likely stalled in the same hole) is replaced instead of being
 * handed out, so each stalled connection does not cost one more timed-out statement after the database is back.
 *
 * The statement timeout (30 s by default) is too slow a way to learn of a hung database: when a query
 * or a checkout has waited STALL_CHECK_AFTER_MS, the pool checks the database on a new connection.
 * If that check gets no answer either, the queries sent before it are cut at once (they fail as
 * "database unavailable", a 503, and the runner writes or hands back its work when it answers),
 * idle clients are replaced, checkouts fail at once, and checks repeat until the database answers,
 * when work resumes. If the check is answered, it also asks pg_stat_activity whether the server is
 * still running each waiting query: one it is not running (its connection stalled in a hole that
 * has since closed) is cut too; a slow query the server is running is left alone.
 */
export function replacingStalledClients(pool: pg.Pool): PostgresPool {
  const lastAnswer = new WeakMap<pg.PoolClient, number>();
  let lastTimeout = 0;
  /** Queries and checkouts waiting for the database, with when they started and the server process of a query's connection. */
  const waiting = new Map<object, { since: number; pid?: number; cut: () => void }>();
  let unreachable = false;
  let checking = false;
  let lastGoodCheck = 0;
  let recheck: NodeJS.Timeout | undefined;
  let closed = false;

  /** Whether the database answers on a new connection; and of `pids`, those running a statement. */
  const checkOnce = async (pids: number[] = []): Promise<{ answers: false } | { answers: true; running: Set<number> }> => {
    // pg-pool keeps the password as a non-enumerable property: a spread would drop it.
    const client = new pg.Client({
      ...pool.options,
      password: pool.options.password,
      connectionTimeoutMillis: CHECK_TIMEOUT_MS,
      query_timeout: CHECK_TIMEOUT_MS,
      statement_timeout: CHECK_TIMEOUT_MS,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      const { rows } = await client.query<{ pid: number }>(`select pid from pg_stat_activity where pid = any($1::int[]) and state = 'active'`, [pids]);
      void client.end().catch(() => {});
      return { answers: true, running: new Set(rows.map((row) => row.pid)) };
    } catch {
      // A black-holed connection never confirms an orderly end.
      client.connection.stream.destroy();
      return { answers: false };
    }
  };
  const cutWaitingSince = (before: number) => {
    for (const [key, entry] of waiting) {
      if (entry.since > before) continue;
      waiting.delete(key);
      entry.cut();
    }
  };
  const markUnreachable = (checkStartedAt: number) => {
    if (unreachable || closed) return;
    unreachable = true;
    lastTimeout = Date.now();
    cutWaitingSince(checkStartedAt);
    recheck = setInterval(() => {
      void checkOnce().then(({ answers }) => {
        if (!answers || !unreachable) return;
        unreachable = false;
        lastGoodCheck = Date.now();
        clearInterval(recheck);
      });
    }, RECHECK_EVERY_MS);
    recheck.unref();
  };
  const suspect = () => {
    if (checking || unreachable || closed || Date.now() - lastGoodCheck < STALL_CHECK_AFTER_MS) return;
    checking = true;
    const startedAt = Date.now();
    const queries = [...waiting].filter(([, entry]) => entry.pid !== undefined && startedAt - entry.since >= STALL_CHECK_AFTER_MS);
    void checkOnce(queries.map(([, entry]) => entry.pid!)).then((check) => {
      checking = false;
      if (!check.answers) return markUnreachable(startedAt);
      lastGoodCheck = Date.now();
      for (const [key, entry] of queries) {
        if (!waiting.has(key) || check.running.has(entry.pid!)) continue;
        waiting.delete(key);
        entry.cut();
        // Idle clients that have not answered since are likely stalled in the same hole: replaced, not handed out.
        lastTimeout = Math.max(lastTimeout, startedAt);
      }
    });
  };
  // A sweep every 250 ms looks for anything waiting too long (no timer per query on the hot path).
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const { since } of waiting.values()) {
      if (now - since >= STALL_CHECK_AFTER_MS) return suspect();
    }
  }, 250);
  sweep.unref();

  /** `pool.connect()`, given up at once when the check finds the database not answering (the client, if it comes later, is dropped). */
  const checkout = () =>
    new Promise<pg.PoolClient>((resolve, reject) => {
      if (unreachable) return reject(databaseNotAnswering());
      const key = {};
      let settled = false;
      waiting.set(key, {
        since: Date.now(),
        cut: () => {
          settled = true;
          reject(databaseNotAnswering());
        },
      });
      pool.connect().then(
        (client) => {
          waiting.delete(key);
          if (settled) client.release(true);
          else resolve(client);
        },
        (error: unknown) => {
          waiting.delete(key);
          if (!settled) reject(error as Error);
        },
      );
    });

  return {
    async connect() {
      for (;;) {
        const client = await checkout();
        const answered = lastAnswer.get(client);
        if (answered !== undefined && answered < lastTimeout) {
          client.release(true);
          continue;
        }
        if (answered === undefined) lastAnswer.set(client, Date.now());
        let timedOut = false;
        const wrapped = {
          query: (text: string, parameters: readonly unknown[]) => {
            const key = {};
            waiting.set(key, {
              since: Date.now(),
              pid: (client as unknown as { processID: number | null }).processID ?? undefined,
              cut: () => {
                timedOut = true;
                // Its query fails now with "Connection terminated unexpectedly" instead of after the timeouts.
                client.connection.stream.destroy();
              },
            });
            return client.query(text, parameters as unknown[]).then(
              (result) => {
                waiting.delete(key);
                lastAnswer.set(client, Date.now());
                return result;
              },
              (error: unknown) => {
                waiting.delete(key);
                if (error instanceof Error && error.message === 'Query read timeout') {
                  timedOut = true;
                  lastTimeout = Date.now();
                }
                throw error;
              },
            );
          },
          release: (destroy?: boolean) => client.release(destroy === true || timedOut),
        };
        return wrapped as unknown as PostgresPoolClient;
      }
    },
    // A client stalled in a black hole never confirms its goodbye: closing (SIGTERM) must not wait for it for ever.
    end: () => {
      closed = true;
      clearInterval(sweep);
      clearInterval(recheck);
      return endWithin(pool, 2000);
    },
  };
}

/** `pool.end()`, or after `ms` give up waiting (a connection black-holed mid-outage may never close). */
export function endWithin(pool: pg.Pool, ms: number): Promise<void> {
  return Promise.race([pool.end(), new Promise<void>((resolve) => setTimeout(resolve, ms).unref())]);
}

interface BetterSqliteDatabase extends SqliteDatabase {
  pragma(source: string): unknown;
  readonly open: boolean;
  prepare(sql: string): SqliteStatement & { readonly busy: boolean };
}

/** Prepared statements kept per SQLite connection (least recently used dropped past this). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SqliteDialect prepares every statement again (parsing and planning: 9–17 % of a cheap
 * request). The same SQL text gets the same prepared statement; one still iterating (a stream)
 * is busy, so that call gets a fresh one.
 */
function withStatementCache(database: BetterSqliteDatabase): SqliteDatabase {
  const statements = new Map<string, SqliteStatement & { readonly busy: boolean }>();
  return {
    close: () => database.close(),
    prepare(text) {
      const cached = statements.get(text);
      if (cached && !cached.busy) {
        statements.delete(text);
        statements.set(text, cached);
        return cached;
      }
      const statement = database.prepare(text);
      if (!cached) {
        statements.set(text, statement);
        if (statements.size > STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
      }
      return statement;
    },
  };
}
type BetterSqliteConstructor = new (filename: string) => BetterSqliteDatabase;

// Lower case only: search_path folds unquoted names to lower case, `create schema` quotes them.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function sqliteFile(databaseUrl: string | undefined, sqlitePath: string | undefined): string {
  if (databaseUrl === undefined || databaseUrl === '') return resolve(sqlitePath ?? DEFAULT_SQLITE_PATH);
  if (databaseUrl === ':memory:') return databaseUrl;
  if (databaseUrl.startsWith('file://')) return fileURLToPath(databaseUrl);
  if (databaseUrl.startsWith('file:')) return resolve(databaseUrl.slice('file:'.length));
  if (databaseUrl.startsWith('sqlite:')) return resolve(databaseUrl.slice('sqlite:'.length).replace(/^\/\//, ''));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(databaseUrl)) {
    throw new Error(`DATABASE_URL: unsupported scheme in "${databaseUrl.split('://')[0]}://…" (use postgres:// or a SQLite file path)`);
  }
  return resolve(databaseUrl);
}

/** The serving connection, and what closes it (and then the checkpoint thread). */
function openSqlite(file: string, checkpointMs: number): { db: Kysely<CoreDatabase>; close(): Promise<void> } {
  if (file !== ':memory:') {
    // Owner-only: the file holds ciphertexts and customer config, and flows run as other users.
    // SQLite gives its -wal and -shm files the mode of the database file.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    closeSync(openSync(file, 'a', 0o600));
  }
  // better-sqlite3 ships no types of its own; Kysely's SqliteDatabase describes what we use.
  const Database = createRequire(import.meta.url)('better-sqlite3') as BetterSqliteConstructor;
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000'); // other processes on the same file wait instead of failing
  database.pragma('foreign_keys = ON'); // cascades (deleteInstance) depend on it
  database.pragma('synchronous = NORMAL'); // safe with WAL, much faster than FULL
  const checkpoints = file !== ':memory:' && checkpointMs > 0 ? checkpointOffThread(database, file, { intervalMs: checkpointMs }) : undefined;
  const db = new Kysely<CoreDatabase>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  return {
    db,
    async close() {
      await db.destroy();
      await checkpoints?.close();
    },
  };
}

async function openPostgres(url: string, schema: string | undefined, poolSize: number, queryTimeoutMs: number | undefined): Promise<Kysely<CoreDatabase>> {
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`pgSchema "${schema}" must be a plain lower-case identifier (a-z, 0-9, _)`);
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    ...postgresTimeouts(queryTimeoutMs),
    // Set on every connection at startup, so no pooled connection ever runs in another schema.
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client that loses its server emits 'error'; the pool drops it. Without a listener it would crash the process.
  pool.on('error', () => {});
  // A checked-out client whose connection dies emits 'error' too (no pool listener then), which would
  // crash the process; its queries reject with the error anyway and the pool drops it on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<CoreDatabase>({ dialect: new PostgresDialect({ pool: replacingStalledClients(pool) }) });
  if (schema !== undefined) {
    try {
      await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    } catch (error) {
      // Two processes creating it at once: the loser gets a unique violation although it now exists.
      const exists = await sql<{ n: number }>`select 1 as n from pg_namespace where nspname = ${schema}`.execute(db);
      if (exists.rows.length === 0) {
        await db.destroy();
        throw error;
      }
    }
  }
  return db;
}

/**
 * `db` whose introspection sees only `schema`. Kysely's PostgreSQL introspector reads the columns of
 * every table of every schema (pg_get_serial_sequence per column): DDL running meanwhile in another
 * schema of the database (another app, another test, a replica migrating its own schema) fails it
 * with whichever object vanished under it (3F000, 42P01, 42703, …). The migrator only asks whether
 * its two tables exist, so the names of our schema's tables are all it needs.
 */
function introspectingOnly(db: Kysely<CoreDatabase>, schema: string): Kysely<CoreDatabase> {
  const introspection: DatabaseIntrospector = {
    getSchemas: () => db.introspection.getSchemas(),
    getTables: async () => {
      const { rows } = await sql<{ name: string; kind: string }>`
        select c.relname as name, c.relkind as kind from pg_catalog.pg_class c
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where n.nspname = ${schema} and c.relkind in ('r', 'p', 'v', 'm')`.execute(db);
      return rows.map((row) => ({ name: row.name, schema, isView: row.kind === 'v' || row.kind === 'm', columns: [] }));
    },
    getMetadata: async () => ({ tables: await introspection.getTables() }),
  };
  // Kysely keeps its state in private fields: its methods must run on the real instance.
  return new Proxy(db, {
    get(target, property) {
      if (property === 'introspection') return introspection;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function runMigrations(db: Kysely<CoreDatabase>, engine: Store['engine'], extra: Record<string, Migration>): Promise<void> {
  for (const name of Object.keys(extra)) {
    if (name in coreMigrations) throw new Error(`migration name "${name}" is taken by a core migration`);
  }
  const migrations = { ...coreMigrations, ...extra };
  // Kysely's PostgreSQL introspection sees every schema; naming ours keeps it from finding another
  // schema's migration table (tests run side by side in one database).
  let migrationTableSchema: string | undefined;
  if (engine === 'postgres') {
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    migrationTableSchema = rows[0]?.schema ?? 'public';
  }
  const migrator = new Migrator({
    db: migrationTableSchema !== undefined ? introspectingOnly(db, migrationTableSchema) : db,
    provider: { getMigrations: async () => migrations },
    // Subsystems add migrations independently; one added later may sort before one already run.
    allowUnorderedMigrations: true,
    ...(migrationTableSchema !== undefined ? { migrationTableSchema } : {}),
  });
  let { error, results } = await migrator.migrateToLatest();
  // Kysely takes no lock on SQLite, so processes starting together on a fresh file can race: the
  // loser sees "already exists" or SQLITE_BUSY. Once the winner has committed, a retry finds
  // the migrations done; a genuine failure fails the same way every time.
  for (let attempt = 1; error && engine === 'sqlite' && attempt <= 5; attempt++) {
    await new Promise((done) => setTimeout(done, 50 * attempt));
    ({ error, results } = await migrator.migrateToLatest());
  }
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`database migration ${failed ? `"${failed}" ` : ''}failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

/** Opens the database named by `databaseUrl` and, unless `migrate: false`, brings its tables up to date. */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const url = options.databaseUrl?.trim() || undefined;
  const engine: Store['engine'] = url !== undefined && /^postgres(ql)?:\/\//i.test(url) ? 'postgres' : 'sqlite';
  const sqlite =
    engine === 'sqlite' ? openSqlite(sqliteFile(url, options.sqlitePath), options.sqliteCheckpointMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS) : undefined;
  const db = sqlite?.db ?? (await openPostgres(url!, options.pgSchema, options.poolSize ?? 10, options.queryTimeoutMs));
  const close = sqlite?.close ?? (() => db.destroy());
  const extra = options.migrations ?? {};
  const cache = engine === 'postgres' ? StoreCache.shared(url!, options.pgSchema ?? 'public', options.cache) : StoreCache.local(options.cache);
  const store = new KyselyStore(db, engine, cache, () => runMigrations(db, engine, extra), close);
  if (options.migrate ?? true) {
    try {
      await store.migrate();
    } catch (error) {
      await cache.close();
      await close();
      throw error;
    }
  }
  return store;
}
