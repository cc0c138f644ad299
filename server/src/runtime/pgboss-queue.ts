// The PostgreSQL queue: pg-boss 10, one pg-boss queue per customer (`exec.<customer id>`).
//
// Fairness: pg-boss 10 has no group concurrency, and one shared queue would hand out a flooding
// customer's backlog first (fetch takes the oldest jobs). With a queue per customer, the shared
// FairDispatcher fetches round-robin over the customers that have work, at most `perCustomer` at
// once each (per runner process), so one customer's backlog never blocks another's next job.
//
// Delivery: the pg-boss job id is the execution id (a repeated enqueue is a no-op). A job stays
// `active` while a runner works on it; if the runner dies (SIGKILL), the runners' supervisors see its
// heartbeat stop (runners.ts) and hand its jobs back with `requeue`; pg-boss's own expiry after
// `visibilityTimeoutS` stays as the backstop. Latency: enqueue sends NOTIFY on a channel every
// runner LISTENs to, so a runner wakes at once instead of polling.
//
// Outages: pg-boss runs on a pool of ours with the store's timeouts (a black-holed connection fails
// instead of hanging), whose clients never crash the process with an 'error' event; the LISTEN
// connection reconnects with backoff and checks itself, since a black-holed one reports nothing.
//
// Statements: given the ExecutionStore (same database), the job insert goes with the execution's
// insert (the NOTIFY after its commit, coalesced per customer), the fetch with the execution's start, and the completion with its finish,
// each as one statement (executions.ts). pg-boss builds its own SQL and values (called with a `db`
// that hands them back instead of running them), so its defaults and invariants hold.
import { randomUUID } from 'node:crypto';
import PgBoss from 'pg-boss';
import pg from 'pg';
import type { Logger } from '../logger.js';
import { endWithin, postgresTimeouts, replacingStalledClients } from '../store/index.js';
import type { ExecutionStore, FetchedJob, QueueingStatements, Statement } from './executions.js';
import { FairDispatcher, type Claim, type DispatchOptions, type ExecutionQueue } from './queue.js';

export interface PgBossQueueOptions {
  connectionString: string;
  /** pg-boss's own schema (default `pgboss`); tests use one each. */
  bossSchema?: string;
  /** Start pg-boss maintenance (expiry of dead runners' jobs); true on runners. */
  supervise?: boolean;
  /** An active job not settled within this is handed to another runner; keep it above the flow timeout. */
  visibilityTimeoutS?: number;
  /** How often expired jobs are looked for (pg-boss maintenance interval). */
  maintenanceIntervalS?: number;
  /** Redeliveries pg-boss allows per job (runner crashes and retries both count). */
  retryLimit?: number;
  /** Statement timeout of the queue's connections (default the store's, 30 s). */
  queryTimeoutMs?: number;
  logger?: Logger;
  /** The executions, in the same database: fetch and start, and finish and completion, become one statement each. */
  executions?: ExecutionStore;
}

const QUEUE_PREFIX = 'exec.';
const queueName = (customerId: string) => `${QUEUE_PREFIX}${customerId}`;

type StatementSink = { executeSql(text: string, values: unknown[]): Promise<{ rows: unknown[] }> };

/** The statement pg-boss would run for `call`, not run: `rows` is what pg-boss is told it returned. */
async function statementOf(call: (db: StatementSink) => Promise<unknown>, rows: unknown[] = []): Promise<Statement> {
  let statement: Statement | undefined;
  await call({
    executeSql: async (sql, parameters) => {
      statement = { sql, parameters };
      return { rows };
    },
  });
  if (!statement) throw new Error('pg-boss ran no statement');
  return statement;
}

export async function createPgBossQueue(options: PgBossQueueOptions): Promise<ExecutionQueue> {
  const schema = options.bossSchema ?? 'pgboss';
  if (!/^[a-z_][a-z0-9_]{0,50}$/.test(schema)) throw new Error(`pg-boss schema "${schema}" must be a lowercase identifier`);
  const channel = `plugboard_work_${schema}`;
  const visibility = options.visibilityTimeoutS ?? 90;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: 5,
    application_name: 'plugboard-queue',
    ...postgresTimeouts(options.queryTimeoutMs),
  });
  // Idle and checked-out clients whose connection dies emit 'error': without listeners the process would crash.
  // Its queries reject with the error anyway, and the pool drops the client (replacingStalledClients: a timed-out or stalled one too).
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const clients = replacingStalledClients(pool);
  const executeSql = async (text: string, values?: unknown[]) => {
    const client = await clients.connect();
    let failed = false;
    try {
      return await client.query<unknown>(text, values ?? []);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      // pg-boss sends its transactions as one text (BEGIN; …; COMMIT): one that fails midway (a
      // deadlock with another process creating a queue) leaves its connection in the aborted
      // transaction, and every later query on it would fail. Such a connection is dropped, not reused.
      client.release(failed);
    }
  };
  const boss = new PgBoss({
    db: { executeSql },
    schema,
    supervise: options.supervise ?? false,
    schedule: false,
    maintenanceIntervalSeconds: options.maintenanceIntervalS ?? 30,
  });
  boss.on('error', (error) => options.logger?.error({ err: error }, 'pg-boss error'));
  try {
    await boss.start();
    await ensureFetchIndex(executeSql, schema);
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  const statistics = options.supervise ? refreshQueueStatistics(executeSql, schema, options.logger) : undefined;
  const created = new Set<string>();
  /** Names this process in its wake-ups (`<customer id> <origin>`). */
  const origin = randomUUID().slice(0, 8);
  const wakeUp = (customerId: string) => `${customerId} ${origin}`;
  let dispatcher: FairDispatcher | undefined;
  let listener: WorkListener | undefined;

  // pg-boss 10 creates a queue as a partition of its job table: two creations at once (first
  // webhooks of two new customers) can deadlock on that table. One at a time in this process, and a
  // few retries against other processes doing the same.
  let creations: Promise<unknown> = Promise.resolve();
  async function createQueue(name: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await boss.createQueue(name, {
          name,
          policy: 'standard',
          retryLimit: options.retryLimit ?? 10,
          retryDelay: 1,
          retryBackoff: true,
          expireInSeconds: visibility,
        });
        return;
      } catch (error) {
        const code = (error as { code?: string }).code;
        // 40P01 deadlock, 40001 serialization, 42P07 the partition exists (created by another process meanwhile).
        if (attempt >= 5 || !['40P01', '40001', '42P07', '23505'].includes(code ?? '')) throw error;
        await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 50));
      }
    }
  }
  async function ensureQueue(name: string): Promise<void> {
    if (created.has(name)) return;
    const run = creations.then(() => (created.has(name) ? undefined : createQueue(name)));
    creations = run.catch(() => {});
    await run;
    created.add(name);
  }

  /**
   * Wakes other processes' runners after a job is committed. The job is stored: the wake-up is a
   * latency hint (they poll too), so the webhook's 202 does not wait for it. Not in the insert's
   * transaction: PostgreSQL serializes the commits of transactions that NOTIFY on one global lock
   * held through their WAL flush, so under webhook load every accept waited for the one before it
   * (the most seen wait of the accept statements). One wake-up per customer in flight; what is
   * committed meanwhile gets one more after it, so each job is followed by a NOTIFY sent after its commit.
   */
  const announcing = new Map<string, boolean>();
  function announce(customerId: string): void {
    if (announcing.has(customerId)) {
      announcing.set(customerId, true);
      return;
    }
    announcing.set(customerId, false);
    boss
      .getDb()
      .executeSql('SELECT pg_notify($1, $2)', [channel, wakeUp(customerId)])
      .catch((error: unknown) => options.logger?.warn({ err: error }, 'NOTIFY failed; runners will find the job by polling'))
      .finally(() => {
        const again = announcing.get(customerId);
        announcing.delete(customerId);
        if (again) announce(customerId);
      });
  }

  // pg-boss's completeJobs (plans.js) wraps this update in a CTE of its own, which can't be nested
  // in another statement's WITH; the same update, for one job.
  const completion = (name: string, jobId: string): Statement => ({
    sql: `UPDATE ${schema}.job SET completed_on = now(), state = 'completed', output = NULL WHERE name = $1 AND id = $2::uuid AND state = 'active' RETURNING id`,
    parameters: [name, jobId],
  });

  async function claim(customerId: string, runnerId?: string, count = 1): Promise<Claim[]> {
    const name = queueName(customerId);
    if (options.executions && runnerId !== undefined) {
      // Several jobs in one statement when several slots are free: one round trip and one commit.
      const fetch = await statementOf((db) => boss.fetch(name, { batchSize: count, db }));
      // The jobs fetch would take next (its own conditions and order, so the fetch index is read, not
      // the partition from its start, where the finished jobs are): is there one besides those taken?
      const pending = {
        sql: `SELECT id FROM ${schema}.job WHERE name = $1 AND state < 'active' AND start_after < now() ORDER BY priority DESC, created_on, id LIMIT $2`,
        parameters: [name, count + 1],
      };
      const fetched = await options.executions.startFetched(fetch, pending, runnerId);
      return fetched.map((job) => claimOf(name, customerId, job));
    }
    const [job] = await boss.fetch<{ executionId: string; instanceId?: string }>(name, { batchSize: 1 });
    if (!job) return [];
    return [
      {
        executionId: job.data.executionId,
        customerId,
        ...(typeof job.data.instanceId === 'string' ? { instanceId: job.data.instanceId } : {}),
        complete: async () => {
          await boss.complete(name, job.id);
        },
        // pg-boss schedules the retry itself (1 s doubling per retry, with jitter), not the runner's delay.
        retry: async (_delayMs, error) => {
          await boss.fail(name, job.id, { error });
        },
      },
    ];
  }

  function claimOf(name: string, customerId: string, fetched: FetchedJob): Claim {
    const data = fetched.data as { executionId?: unknown; instanceId?: unknown } | null;
    const jobId = fetched.jobId;
    return {
      executionId: typeof data?.executionId === 'string' ? data.executionId : jobId,
      customerId,
      ...(fetched.row ? { row: fetched.row } : {}),
      more: fetched.more,
      ...(typeof data?.instanceId === 'string' ? { instanceId: data.instanceId } : {}),
      settlement: () => completion(name, jobId),
      complete: async () => {
        await boss.complete(name, jobId);
      },
      retry: async (_delayMs, error) => {
        await boss.fail(name, jobId, { error });
      },
    };
  }

  async function readyCustomers(): Promise<string[]> {
    // Per customer's queue, whether one job is ready (an index probe each), not every waiting job of
    // every queue: this runs at each poll, and a backlog of 8,000 made it ~10 ms (1.4 ms this way).
    const { rows } = await boss.getDb().executeSql(
      `SELECT q.name FROM ${schema}.queue q WHERE q.name LIKE '${QUEUE_PREFIX}%'
       AND EXISTS (SELECT 1 FROM ${schema}.job j WHERE j.name = q.name AND j.state < 'active' AND j.start_after < now())`,
      [],
    );
    return (rows as { name: string }[]).map((r) => r.name.slice(QUEUE_PREFIX.length));
  }

  const queue: ExecutionQueue = {
    engine: 'postgres',
    async queueing(execution) {
      const name = queueName(execution.customerId);
      await ensureQueue(name);
      const statements: QueueingStatements = {
        job: await statementOf(
          (db) => boss.send(name, { executionId: execution.id, instanceId: execution.instanceId }, { id: execution.id, db }),
          [{ id: execution.id }],
        ),
      };
      return {
        statements,
        queued: async (inserted) => {
          if (inserted) {
            dispatcher?.wake(execution.customerId);
            announce(execution.customerId);
            return;
          }
          // No job: its queue is gone (erased by another process meanwhile). Create it again the ordinary way.
          created.delete(name);
          await queue.enqueue(execution);
        },
      };
    },
    async enqueue(execution) {
      const name = queueName(execution.customerId);
      await ensureQueue(name);
      await boss.send(name, { executionId: execution.id, instanceId: execution.instanceId }, { id: execution.id });
      dispatcher?.wake(execution.customerId);
      announce(execution.customerId);
    },
    consume(handle, dispatch: DispatchOptions) {
      if (dispatcher) throw new Error('this queue is already being consumed');
      const d = new FairDispatcher({ readyCustomers, claim }, handle, dispatch, (error) => options.logger?.error({ err: error }, 'dispatch failed'));
      dispatcher = d;
      listener = listenForWork(
        options.connectionString,
        channel,
        (payload) => {
          if (payload === undefined) return d.wake(); // listening again: look at everything
          const [customerId, from] = payload.split(' ');
          // This process's own enqueues woke its runner already: a second claim would find nothing.
          if (from !== origin) d.wake(customerId || undefined);
        },
        options.logger,
      );
      d.start();
    },
    async stopConsuming() {
      await dispatcher?.stop();
      await listener?.close();
      listener = undefined;
    },
    async requeue(executions) {
      if (executions.length === 0) return;
      // Back to `retry`, due now: the next fetch takes it (pg-boss counts it against the job's retryLimit,
      // which still ends a job that kills every runner it lands on).
      await boss.getDb().executeSql(
        `UPDATE ${schema}.job j SET state = 'retry', start_after = now()
         FROM unnest($1::text[], $2::uuid[]) AS w(name, id)
         WHERE j.name = w.name AND j.id = w.id AND j.state = 'active'`,
        [executions.map((e) => queueName(e.customerId)), executions.map((e) => e.id)],
      );
      for (const customerId of new Set(executions.map((e) => e.customerId))) {
        dispatcher?.wake(customerId);
        await boss.getDb().executeSql('SELECT pg_notify($1, $2)', [channel, wakeUp(customerId)]);
      }
    },
    async renew(executions) {
      if (executions.length === 0) return;
      // SKIP LOCKED: a job locked now is being finished (a grouped finish locks several jobs in its
      // own order), so it needs no renewal, and waiting for it while holding another deadlocked
      // with that finish, which then failed and its execution ran again.
      await boss.getDb().executeSql(
        `UPDATE ${schema}.job j SET started_on = now()
         FROM (SELECT l.name, l.id FROM ${schema}.job l JOIN unnest($1::text[], $2::uuid[]) AS w(name, id)
               ON l.name = w.name AND l.id = w.id WHERE l.state = 'active' FOR UPDATE OF l SKIP LOCKED) AS held
         WHERE j.name = held.name AND j.id = held.id`,
        [executions.map((e) => queueName(e.customerId)), executions.map((e) => e.id)],
      );
    },
    async depth() {
      const { rows } = await boss
        .getDb()
        .executeSql(`SELECT count(*)::int AS n FROM ${schema}.job WHERE name LIKE '${QUEUE_PREFIX}%' AND state < 'active'`, []);
      return Number((rows as { n: number }[])[0]?.n ?? 0);
    },
    async stats() {
      // A retry's wait counts from when it became due (start_after), a new job's from its creation (the same).
      const { rows } = await boss.getDb().executeSql(
        `SELECT count(*)::int AS n, extract(epoch FROM now() - min(start_after) FILTER (WHERE start_after <= now()))::float8 AS oldest
         FROM ${schema}.job WHERE name LIKE '${QUEUE_PREFIX}%' AND state < 'active'`,
        [],
      );
      const row = (rows as { n: number; oldest: number | null }[])[0];
      return { depth: Number(row?.n ?? 0), oldestAgeSeconds: Math.max(0, Number(row?.oldest ?? 0)) };
    },
    async requeueStranded(executions, olderThanMs) {
      if (executions.length === 0) return 0;
      const { rows } = await boss.getDb().executeSql(
        `UPDATE ${schema}.job j SET state = 'retry', start_after = now()
         FROM unnest($1::text[], $2::uuid[]) AS w(name, id)
         WHERE j.name = w.name AND j.id = w.id AND j.state = 'active' AND j.started_on < now() - make_interval(secs => $3)
         RETURNING j.id`,
        [executions.map((e) => queueName(e.customerId)), executions.map((e) => e.id), olderThanMs / 1000],
      );
      for (const customerId of new Set(executions.map((e) => e.customerId))) dispatcher?.wake(customerId);
      return rows.length;
    },
    async lostExecutions(executions) {
      if (executions.length === 0) return [];
      const names = executions.map((e) => queueName(e.customerId));
      const ids = executions.map((e) => e.id);
      // Finished jobs move to the archive table after a while: look in both.
      const { rows } = await boss.getDb().executeSql(
        `WITH wanted AS (SELECT * FROM unnest($1::text[], $2::uuid[]) AS w(name, id))
         SELECT j.id::text AS id, j.state::text AS state, j.output FROM ${schema}.job j JOIN wanted USING (name, id)
         UNION ALL
         SELECT a.id::text, a.state::text, a.output FROM ${schema}.archive a JOIN wanted USING (name, id)`,
        [names, ids],
      );
      const found = new Map((rows as { id: string; state: string; output: unknown }[]).map((r) => [r.id, r]));
      const lost: { id: string; reason: string }[] = [];
      for (const { id } of executions) {
        const job = found.get(id);
        if (!job) lost.push({ id, reason: 'its queue job is gone' });
        else if (job.state === 'failed') {
          // Expiry writes { value: { message } }; our own fail() writes { error }.
          const output = job.output as { value?: { message?: unknown }; message?: unknown; error?: unknown } | null;
          const message = output?.value?.message ?? output?.message ?? output?.error;
          lost.push({ id, reason: `it ran out of deliveries${typeof message === 'string' ? ` (${message.slice(0, 200)})` : ''}` });
        } else if (job.state === 'completed' || job.state === 'cancelled') lost.push({ id, reason: `its queue job is ${job.state}` });
      }
      return lost;
    },
    async forgetCustomer(customerId) {
      const name = queueName(customerId);
      // Not while this process creates a queue: creation and deletion both lock pg-boss's job table.
      const run = creations.then(async () => {
        const { rows } = await boss
          .getDb()
          .executeSql(`SELECT (SELECT count(*) FROM ${schema}.job WHERE name = $1)::int + (SELECT count(*) FROM ${schema}.archive WHERE name = $1)::int AS n`, [
            name,
          ]);
        // Jobs first: pg-boss refuses to delete a queue that still has some. Its archive is not partitioned by queue.
        await boss.getDb().executeSql(`DELETE FROM ${schema}.job WHERE name = $1`, [name]);
        await boss.getDb().executeSql(`DELETE FROM ${schema}.archive WHERE name = $1`, [name]);
        await boss.deleteQueue(name);
        created.delete(name);
        return Number((rows as { n: number }[])[0]?.n ?? 0);
      });
      creations = run.catch(() => {});
      return run;
    },
    async close() {
      await statistics?.stop();
      await queue.stopConsuming();
      await boss.stop({ graceful: false, wait: true, close: true });
      await endWithin(pool, 2000);
    },
  };
  return queue;
}

type ExecuteSql = (text: string, values?: unknown[]) => Promise<{ rows: unknown[] }>;

/**
 * pg-boss 10's fetch takes a queue's next jobs `ORDER BY priority desc, created_on, id`, and its
 * only index on waiting jobs (job_i5) is on (name, start_after): each claim read and sorted the
 * customer's whole backlog (8,000 jobs: ~10-20 ms of PostgreSQL CPU per claim, and more while the
 * backlog grows under load). An index in the fetch's order lets a claim read only the jobs it takes.
 * Created on the partitioned job table, so every customer's partition gets it, now and later; looked
 * for first, so a start does not take the table's lock when it exists.
 */
const FETCH_INDEX = 'job_plugboard_fetch';

async function ensureFetchIndex(executeSql: ExecuteSql, schema: string): Promise<void> {
  const { rows } = await executeSql('SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = $2', [schema, FETCH_INDEX]);
  if (rows.length > 0) return;
  for (let attempt = 1; ; attempt++) {
    try {
      await executeSql(`CREATE INDEX IF NOT EXISTS ${FETCH_INDEX} ON ${schema}.job (name, priority DESC, created_on, id) WHERE state < 'active'`);
      return;
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      // Another process created it at the same moment.
      if (['42P07', '23505'].includes(code)) return;
      // A deadlock with another process creating a queue (a partition of the same table): again.
      if (attempt >= 5 || !['40P01', '40001'].includes(code)) throw error;
      await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 50));
    }
  }
}

/** A partition is analyzed once this many of its rows changed (and at least half as many as it holds). */
const STALE_MODIFICATIONS = 1000;
const STATISTICS_EVERY_MS = 10_000;

/**
 * The planner uses that index only when it knows a customer's partition holds many waiting jobs: a
 * partition never analyzed (made when the customer's first webhook came, then filled by a backlog)
 * is estimated at a few rows, and the fetch goes back to sorting the backlog. Autovacuum analyzes
 * partitions after 10 % of their rows changed, when it runs; where it is off or behind, a supervising
 * process analyzes the job partitions whose rows mostly changed since their last analysis.
 */
function refreshQueueStatistics(executeSql: ExecuteSql, schema: string, logger: Logger | undefined): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const pass = async () => {
    const { rows } = await executeSql(
      `SELECT s.relname FROM pg_inherits i JOIN pg_stat_user_tables s ON s.relid = i.inhrelid
       WHERE i.inhparent = to_regclass($1) AND s.n_mod_since_analyze > greatest($2::bigint, s.n_live_tup / 2)`,
      [`${schema}.job`, STALE_MODIFICATIONS],
    );
    for (const { relname } of rows as { relname: string }[]) await executeSql(`ANALYZE ${schema}.${pg.escapeIdentifier(relname)}`);
  };
  const tick = () => {
    running ??= pass()
      .catch((error: unknown) => logger?.warn({ err: error }, 'could not analyze the queue partitions'))
      .finally(() => (running = undefined));
  };
  const timer = setInterval(tick, STATISTICS_EVERY_MS);
  timer.unref();
  tick();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

interface WorkListener {
  close(): Promise<void>;
}

const LISTEN_CHECK_MS = 5000;
const LISTEN_RETRY_MAX_MS = 2000;

/**
 * The LISTEN connection that wakes the dispatcher. Lost (error, end, or a check query that does not
 * answer: a black-holed connection says nothing), it is replaced with backoff (0.25 s doubling to 2 s);
 * meanwhile the dispatcher polls, and it is woken once listening again, for work sent in between.
 */
function listenForWork(connectionString: string, channel: string, onPayload: (payload: string | undefined) => void, logger: Logger | undefined): WorkListener {
  let current: pg.Client | undefined;
  let closed = false;
  let delay = 250;
  let retry: NodeJS.Timeout | undefined;
  let wasLost = false;

  const lost = (client: pg.Client, error?: unknown) => {
    if (current !== client || closed) return;
    current = undefined;
    void client.end().catch(() => {});
    if (!wasLost) logger?.warn({ err: error }, 'LISTEN connection lost; polling until it is back');
    wasLost = true;
    retry = setTimeout(connect, delay);
    delay = Math.min(delay * 2, LISTEN_RETRY_MAX_MS);
  };
  function connect() {
    if (closed) return;
    const client = new pg.Client({
      connectionString,
      application_name: 'plugboard-listen',
      connectionTimeoutMillis: 5000,
      query_timeout: 3000,
      keepAlive: true,
    });
    current = client;
    client.on('notification', (message) => onPayload(message.payload ?? ''));
    client.on('error', (error) => lost(client, error));
    client.on('end', () => lost(client));
    client
      .connect()
      .then(() => client.query(`LISTEN ${channel}`))
      .then(
        () => {
          if (current !== client) return;
          delay = 250;
          if (wasLost) logger?.info('LISTEN connection back');
          wasLost = false;
          onPayload(undefined);
        },
        (error: unknown) => lost(client, error),
      );
  }
  const check = setInterval(() => {
    const client = current;
    client?.query('SELECT 1').catch((error: unknown) => lost(client, error));
  }, LISTEN_CHECK_MS);
  check.unref();
  connect();
  return {
    async close() {
      closed = true;
      clearInterval(check);
      clearTimeout(retry);
      const client = current;
      current = undefined;
      // A black-holed connection may never confirm the goodbye: don't wait for it long.
      await Promise.race([client?.end().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    },
  };
}
