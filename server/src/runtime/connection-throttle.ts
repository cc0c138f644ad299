// Connection rate limits, shared by every runner: each ctx.fetch through a rate-limited connection
// takes a turn here (the runner answers its executor) before it is sent. Counters live in the
// database through rate-limiter-flexible (RateLimiterPostgres / RateLimiterSQLite on the
// `connection_rate_limits` table of the runtime's migrations), so runners on one database share them.
//
// Windows are fixed and aligned to the clock (window n of a 1 s limit is [n s, n+1 s)), so every
// runner agrees where one starts; a turn is not handed out in a window's last half (at most 1 s), so a
// request granted near the end of one window does not reach the provider in the next. A 429 blocks
// the connection's pause key (rate-limiter-flexible's `block`) for the time the provider asked.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { CompiledQuery, sql } from 'kysely';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, RateLimiterSQLite, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { ParsedRateLimit } from '../sdk/rate-limit.js';
import { DEFAULT_WAL_LIMIT_PAGES } from '../store/checkpoints.js';
import type { Store } from '../store/types.js';

export const CONNECTION_LIMITS_TABLE = 'connection_rate_limits';

/**
 * No turn is handed out this close to a window's end: half the window, at most 1 s. Under load a
 * request takes a while from here to the provider; it must still land in the window it was counted
 * in. A busy connection loses nothing by it (a window's turns go at its start).
 */
const margin = (windowMs: number) => Math.min(1000, windowMs / 2);

/** The limit leaves no turn before the deadline; `nextAt` is when one would come (epoch ms). */
export class NoTurnBeforeDeadlineError extends Error {
  override name = 'NoTurnBeforeDeadlineError';
  constructor(readonly nextAt: number) {
    super('no turn before the deadline');
  }
}

export interface ConnectionThrottle {
  /** Takes one turn of every limit of `connectionKey` (waiting for it, never past `deadline`, epoch ms); resolves with the ms waited. */
  take(connectionKey: string, limits: readonly ParsedRateLimit[], deadline: number): Promise<number>;
  /** No turns for `connectionKey` for `ms`, in any runner: the provider said 429. */
  pause(connectionKey: string, ms: number): Promise<void>;
}

/** The key of one connection's counters: hashed, so the table never names a customer or instance. */
export function connectionLimitKey(instanceId: string, connection: string): string {
  return createHash('sha256').update(`${instanceId}\0${connection}`).digest('base64url').slice(0, 22);
}

type Counter = (options: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract;

/** rate-limiter-flexible on the store's database; the table comes from the runtime's migrations. */
async function counters(store: Store): Promise<Counter> {
  if (store.engine === 'postgres') {
    // A pg-style client (`query({ text, values })` → `{ rows }`) on the store's own pool, as rate-limits.ts does.
    // `rowCount` too: its get() reads a missing key from it (Kysely's result has none of its own).
    const storeClient = {
      query: async (q: { text: string; values?: unknown[] }) => {
        const { rows } = await store.db.executeQuery(CompiledQuery.raw(q.text, q.values ?? []));
        return { rows, rowCount: rows.length };
      },
    };
    return (o) =>
      new RateLimiterPostgres({ ...o, storeClient, storeType: 'pool', tableName: CONNECTION_LIMITS_TABLE, tableCreated: true, clearExpiredByTimeout: false });
  }
  // rate-limiter-flexible's SQLite store wants a better-sqlite3 handle: a second one on the store's file
  // (WAL, so runner processes on the same file share the counters).
  const { rows } = await sql<{ file: string }>`select file from pragma_database_list where name = 'main'`.execute(store.db);
  const file = rows[0]?.file;
  if (!file) return (o) => new RateLimiterMemory(o); // an in-memory database: one process, counters in memory
  type Handle = { pragma(s: string): unknown; prepare(s: string): unknown; close(): void };
  const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => Handle;
  const handle = new Database(file);
  // No busy wait: better-sqlite3 waits synchronously, which would stop this process's event loop,
  // and with it the transaction (on the store's own handle) it waits for. `take` retries instead.
  handle.pragma('busy_timeout = 0');
  // Checkpoints are the store's checkpoint thread's (store/checkpoints.ts): this handle's commits
  // take one only past the same mark as the store's own connection.
  handle.pragma(`wal_autocheckpoint = ${DEFAULT_WAL_LIMIT_PAGES}`);
  return (o) => new RateLimiterSQLite({ ...o, storeClient: handle, storeType: 'better-sqlite3', tableName: CONNECTION_LIMITS_TABLE, tableCreated: true });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** Runs a counter call again while SQLite says another connection is writing (never on PostgreSQL). */
async function unlocked<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const code = (error as { code?: string } | null)?.code;
      if ((code !== 'SQLITE_BUSY' && code !== 'SQLITE_LOCKED') || attempt >= 200) throw error;
      await sleep(5 + Math.random() * 10);
    }
  }
}

export function createConnectionThrottle(store: Store): ConnectionThrottle {
  let made: Promise<Counter> | undefined;
  const limiters = new Map<string, RateLimiterAbstract>();
  const counter = () => (made ??= counters(store));
  async function limiter(points: number, windowMs: number, prefix = 'c'): Promise<RateLimiterAbstract> {
    const name = `${prefix}_${points}_${windowMs}`;
    let found = limiters.get(name);
    if (!found) {
      found = (await counter())({ keyPrefix: name, points, duration: Math.max(1, Math.ceil(windowMs / 1000)) });
      limiters.set(name, found);
    }
    return found;
  }
  // The pause key is only ever blocked and read: blocked means points above the one allowed.
  const pauses = () => limiter(1, 1000, 'pause');

  async function until(at: number, deadline: number): Promise<void> {
    if (at > deadline) throw new NoTurnBeforeDeadlineError(at);
    // A little spread, so the runners waiting for a window do not all ask in the same millisecond.
    await sleep(at - Date.now() + Math.random() * 10);
  }

  return {
    async take(key, limits, deadline) {
      const startedAt = Date.now();
      for (;;) {
        const pause = await pauses();
        const paused = await unlocked(() => pause.get(key));
        if (paused && paused.consumedPoints > 1 && paused.msBeforeNext > 0) {
          await until(Date.now() + paused.msBeforeNext, deadline);
          continue;
        }
        let granted = true;
        for (const limit of limits) {
          const now = Date.now();
          const window = Math.floor(now / limit.windowMs);
          const end = (window + 1) * limit.windowMs;
          if (end - now < margin(limit.windowMs)) {
            granted = false;
            await until(end, deadline);
            break;
          }
          try {
            const counter = await limiter(limit.requests, limit.windowMs);
            await unlocked(() => counter.consume(`${key}:${window}`));
          } catch (error) {
            if (!(error instanceof RateLimiterRes)) throw error;
            granted = false;
            await until(end, deadline);
            break;
          }
          // A slow answer (a loaded database) can come back too near the end of the window it counted
          // in: that turn is given up rather than sent into the next window uncounted.
          if (end - Date.now() < margin(limit.windowMs)) {
            granted = false;
            await until(end, deadline);
            break;
          }
        }
        if (granted) return Date.now() - startedAt;
      }
    },
    async pause(key, ms) {
      if (ms <= 0) return;
      const pause = await pauses();
      await unlocked(() => pause.block(key, ms / 1000));
    },
  };
}
