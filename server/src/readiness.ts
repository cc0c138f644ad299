// /readyz's answer, kept fresh off the request path: a background check of the database on a
// connection of its own, every second. A saturated store pool or a queue of slow requests does not
// fail it (a balancer would take the last healthy replica out under load), and a database that
// stops answering (refused or black-holed) does within a few seconds.
import pg from 'pg';
import { endWithin } from './store/index.js';
import type { Store } from './store/types.js';

export interface ReadinessState {
  ready: boolean;
  /** Why not ready. */
  reason?: 'draining' | 'database';
  /** When the database last answered the check (epoch ms). */
  checkedAt?: number;
}

export interface Readiness {
  state(): ReadinessState;
  /** Not ready from now on (SIGTERM): the balancer stops sending while requests are still served. */
  startDraining(): void;
  /** Resolves once the first check has ended (either way). */
  readonly firstCheck: Promise<void>;
  close(): Promise<void>;
}

export interface ReadinessOptions {
  /** Throws (or rejects) when the database does not answer; must end on its own within `intervalMs` or so. */
  check: () => Promise<void>;
  /** Default 1000 ms. */
  intervalMs?: number;
  /** Ready while the last successful check is younger than this (default 3000 ms). */
  staleAfterMs?: number;
  /** Releases what `check` holds. */
  close?: () => Promise<void>;
}

export function createReadiness(options: ReadinessOptions): Readiness {
  const intervalMs = options.intervalMs ?? 1000;
  const staleAfterMs = options.staleAfterMs ?? 3000;
  let draining = false;
  let closed = false;
  let checkedAt: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const checkOnce = () =>
    (running = options.check().then(
      () => {
        checkedAt = Date.now();
      },
      () => {},
    ));
  const loop = () => {
    if (closed) return;
    void checkOnce().then(() => {
      if (!closed) timer = setTimeout(loop, intervalMs);
      timer?.unref();
    });
  };
  const firstCheck = checkOnce();
  void firstCheck.then(() => {
    if (!closed) timer = setTimeout(loop, intervalMs);
    timer?.unref();
  });

  return {
    firstCheck,
    state() {
      if (draining) return { ready: false, reason: 'draining', ...(checkedAt !== undefined ? { checkedAt } : {}) };
      if (checkedAt === undefined || Date.now() - checkedAt > staleAfterMs) {
        return { ready: false, reason: 'database', ...(checkedAt !== undefined ? { checkedAt } : {}) };
      }
      return { ready: true, checkedAt };
    },
    startDraining() {
      draining = true;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
      await options.close?.();
    },
  };
}

/**
 * The check for this store: on PostgreSQL `select 1` on a one-connection pool of its own (1 s to
 * connect, 1 s to answer; a connection that timed out is dropped and a new one opened next time);
 * on SQLite, the store's own ping (a local file, no pool to saturate).
 */
export function readinessFor(store: Store, databaseUrl: string | undefined, options: Omit<ReadinessOptions, 'check' | 'close'> = {}): Readiness {
  if (store.engine !== 'postgres' || !databaseUrl) {
    return createReadiness({
      ...options,
      check: async () => {
        if (!(await store.ping())) throw new Error('the database does not answer');
      },
    });
  }
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 1,
    application_name: 'plugboard-readiness',
    connectionTimeoutMillis: 1000,
    query_timeout: 1000,
    statement_timeout: 1000,
    keepAlive: true,
  });
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return createReadiness({
    ...options,
    check: async () => {
      await pool.query('select 1');
    },
    // A black-holed connection may never confirm its end: don't wait for it long.
    close: () => endWithin(pool, 1000),
  });
}
