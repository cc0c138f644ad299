// Executions and their logs in the database. The hot path is three writes per execution: the
// insert (queued), the start (running), and the finish (status, timings and every log line in one
// transaction). On PostgreSQL each of them also carries the queue's own statement (the job insert,
// the runners' wake-up following its commit; the job fetch; the job completion), so an execution costs one
// statement per step: see `Statement` below.
import { randomUUID } from 'node:crypto';
import { CompiledQuery, sql, type Selectable } from 'kysely';
import type { ExecutionDetail, ExecutionList, ExecutionLogLine, ExecutionStatus, ExecutionSummary, ExecutionTrigger, LogLevel } from 'plugboard/protocol';
import type { ExecutionOutcome, ExecutionLogLine as LogLine, StateChanges } from './executor/types.js';
import { writeFlowState } from './flow-state.js';
import type { ExecutionsTable, RuntimeDb } from './schema.js';

export type { LogLine };
export type ExecutionRow = Selectable<ExecutionsTable>;
export type FinalStatus = ExecutionOutcome['status'];

/** Per-execution log caps: past either, one marker line is stored and `logsTruncated` is set. */
export const LOG_LIMITS = { lines: 500, bytes: 256 * 1024 } as const;
export const TRUNCATED_MARKER = '… log truncated: this execution wrote more than the stored limit';

/** What a trigger hands a flow (stored as JSON with the execution): the webhook body and forwarded headers, or `{ scheduledFor }`. */
export interface ExecutionPayload {
  body: unknown;
  headers: Record<string, string>;
  /** The trigger's W3C trace context when telemetry is on: the runner's execution span continues that trace. */
  traceparent?: string;
  /** A synchronous invocation's time limit: the flow gets the smaller of this and the runner's own. */
  timeoutMs?: number;
}

export interface NewExecution {
  customerId: string;
  instanceId: string;
  flow: string;
  trigger: ExecutionTrigger;
  payload: ExecutionPayload;
  maxAttempts: number;
  /** Schedule tick: the execution is created only if this tick of this flow has none yet. */
  tickKey?: string;
  /** Made by the caller when it must name the execution before it exists (a webhook delivery's claim). */
  id?: string;
  /** A vendor's retry or re-run: the execution run again. */
  rerunOf?: string;
}

/** A statement with `$n` placeholders (PostgreSQL), as the queue hands out its own (pg-boss's SQL). */
export interface Statement {
  sql: string;
  parameters: readonly unknown[];
}

/** The queue's statement that stores an execution's job, run with the execution's insert (the runners' wake-up follows the commit). */
export interface QueueingStatements {
  /** Returns one row per job inserted (none when the queue does not exist). */
  job: Statement;
}

/** A job the queue handed out (`job`: its fetch statement), with its execution marked running when it could be. */
export interface FetchedJob {
  jobId: string;
  data: unknown;
  /** Undefined when the execution is gone or already finished. */
  row: ExecutionRow | undefined;
  /** Whether another job of the queue was ready (as the statement saw it). */
  more: boolean;
}

/**
 * Several statements as one round trip and one transaction: every one but the last becomes a
 * named data-modifying CTE (PostgreSQL). Kysely can't embed pg-boss's SQL text, so the compiled
 * statements are joined here and their `$n` placeholders renumbered; neither Kysely's compiled SQL
 * nor pg-boss's has a `$` in a literal.
 */
function oneStatement(ctes: readonly (readonly [name: string, Statement])[], last: Statement): CompiledQuery {
  const parameters: unknown[] = [];
  const shifted = (statement: Statement) => {
    const offset = parameters.length;
    parameters.push(...statement.parameters);
    return statement.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
  };
  const withs = ctes.map(([name, statement]) => `${name} AS (${shifted(statement)})`);
  return CompiledQuery.raw(`WITH ${withs.join(', ')} ${shifted(last)}`, parameters);
}

const isForeignKeyViolation = (error: unknown) => (error as { code?: string } | null)?.code === '23503';
const isUniqueViolation = (error: unknown) => (error as { code?: string } | null)?.code === '23505';
const isDeadlock = (error: unknown) => (error as { code?: string } | null)?.code === '40P01';

/** A cursor this API did not hand out (or one for another listing). */
export class BadCursorError extends Error {
  override name = 'BadCursorError';
}

const now = () => new Date().toISOString();
const TERMINAL = new Set<string>(['succeeded', 'failed', 'timed_out']);
export const isTerminal = (status: string): boolean => TERMINAL.has(status);

export function toSummary(row: ExecutionRow): ExecutionSummary {
  return {
    id: row.id,
    instanceId: row.instance_id,
    flow: row.flow,
    status: row.status as ExecutionStatus,
    trigger: row.trigger as ExecutionTrigger,
    attempt: Number(row.attempt),
    queuedAt: row.queued_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    error: row.error,
    resultSummary: row.result_summary,
    ...(row.rerun_of ? { rerunOf: row.rerun_of } : {}),
  };
}

function encodeCursor(row: Pick<ExecutionRow, 'queued_at' | 'id'>): string {
  return Buffer.from(`${row.queued_at}|${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { queuedAt: string; id: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const bar = text.indexOf('|');
  if (bar <= 0 || Number.isNaN(Date.parse(text.slice(0, bar)))) throw new BadCursorError('cursor is not one this API returned');
  return { queuedAt: text.slice(0, bar), id: text.slice(bar + 1) };
}

/** Applies the caps to one attempt's lines, given what earlier attempts already stored. */
export function capLogs(
  lines: readonly LogLine[],
  stored: { count: number; bytes: number; truncated: boolean },
): { kept: LogLine[]; bytes: number; truncated: boolean } {
  if (stored.truncated) return { kept: [], bytes: 0, truncated: true };
  const kept: LogLine[] = [];
  let bytes = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line.message);
    if (stored.count + kept.length + 1 > LOG_LIMITS.lines - 1 || stored.bytes + bytes + size > LOG_LIMITS.bytes) {
      kept.push({ level: 'warn', message: TRUNCATED_MARKER, at: line.at });
      return { kept, bytes, truncated: true };
    }
    kept.push(line);
    bytes += size;
  }
  return { kept, bytes, truncated: false };
}

/** A finish waiting for its group's statement (PostgreSQL): its CTEs, its final update, and the job's settlement alone. */
interface PendingFinish {
  id: string;
  ctes: [string, Statement][];
  last: Statement;
  settlement: Statement;
  done(error?: unknown): void;
}

/** Finishes in one statement at most (its parameters: ~20 each, and 5 per log line). */
const FINISH_GROUP_MAX = 16;
/** Accepts in one statement at most (~40 parameters each). */
const ACCEPT_GROUP_MAX = 32;

interface PendingAccept {
  execution: Statement;
  job: Statement;
  done(error: unknown, result?: { row: ExecutionRow; queued: boolean }): void;
}

export class ExecutionStore {
  private readonly finishes: PendingFinish[] = [];
  private finishing = false;
  private readonly accepts: PendingAccept[] = [];
  private accepting = false;

  constructor(private readonly db: RuntimeDb) {}

  /** Inserts a queued execution. Undefined when `tickKey` was already taken (that tick has fired). */
  async create(input: NewExecution): Promise<ExecutionRow | undefined> {
    return this.insertQuery(input).executeTakeFirst();
  }

  /**
   * PostgreSQL: inserts a queued execution and its queue job in one statement (the runners'
   * wake-up follows the commit, in `queued`). `queued` is false when the queue stored no job (its queue was missing): the caller
   * enqueues it again the ordinary way. Not for schedule ticks (their insert may do nothing).
   */
  async createQueued(input: NewExecution & { id: string }, queueing: QueueingStatements): Promise<{ row: ExecutionRow; queued: boolean }> {
    const execution = this.insertQuery(input).compile();
    return new Promise((resolve, reject) => {
      this.accepts.push({ execution, job: queueing.job, done: (error, result) => (result ? resolve(result) : reject(error as Error)) });
      if (!this.accepting) void this.flushAccepts();
    });
  }

  /**
   * Group commit of accepts, as of finishes: one goes out at once; those that come while it is in
   * flight go together in the next statement (one round trip, one commit and one WAL flush for up
   * to 32: under webhook load each accept was its own, ~2 ms of PostgreSQL CPU apiece).
   */
  private async flushAccepts(): Promise<void> {
    this.accepting = true;
    while (this.accepts.length > 0) {
      const batch = this.accepts.splice(0, ACCEPT_GROUP_MAX);
      try {
        const results = await this.insertAccepts(batch);
        for (const [i, accept] of batch.entries()) accept.done(undefined, results[i]);
      } catch (error) {
        // One of them breaking a constraint (its instance deleted meanwhile, its id taken) fails the
        // statement: each on its own then, so only that one fails. Anything else (the database
        // unavailable) is every one's error.
        const own = isForeignKeyViolation(error) || isUniqueViolation(error);
        if (batch.length > 1 && own)
          for (const accept of batch) await this.insertAccepts([accept]).then((results) => accept.done(undefined, results[0]), accept.done);
        else for (const accept of batch) accept.done(error);
      }
    }
    this.accepting = false;
  }

  private async insertAccepts(batch: readonly PendingAccept[]): Promise<{ row: ExecutionRow; queued: boolean }[]> {
    const ctes = batch.flatMap((accept, i): [string, Statement][] => [
      [`execution_${i}`, accept.execution],
      [`job_${i}`, accept.job],
    ]);
    const select = batch.map(
      (_, i) => `SELECT ${i} AS accept_index, execution_${i}.*, (SELECT count(*) FROM job_${i})::int AS queued_jobs FROM execution_${i}`,
    );
    const { rows } = await this.db.executeQuery<ExecutionRow & { accept_index: number; queued_jobs: number }>(
      oneStatement(ctes, { sql: select.join(' UNION ALL '), parameters: [] }),
    );
    return batch.map((accept, i) => {
      const stored = rows.find((r) => Number(r.accept_index) === i);
      if (!stored) throw new Error(`execution ${String(accept.execution.parameters[0])} was not stored`);
      const { accept_index: _, queued_jobs, ...row } = stored;
      return { row, queued: Number(queued_jobs) > 0 };
    });
  }

  private insertQuery(input: NewExecution) {
    const at = now();
    return this.db
      .insertInto('executions')
      .values({
        id: input.id ?? randomUUID(),
        customer_id: input.customerId,
        instance_id: input.instanceId,
        flow: input.flow,
        status: 'queued',
        trigger: input.trigger,
        attempt: 0,
        max_attempts: input.maxAttempts,
        queued_at: at,
        run_after: at,
        started_at: null,
        ended_at: null,
        duration_ms: null,
        error: null,
        result_summary: null,
        payload: JSON.stringify(input.payload),
        tick_key: input.tickKey ?? null,
        runner_id: null,
        log_count: 0,
        log_bytes: 0,
        logs_truncated: 0,
        rerun_of: input.rerunOf ?? null,
      })
      .onConflict((oc) => oc.columns(['instance_id', 'flow', 'tick_key']).doNothing())
      .returningAll();
  }

  /**
   * PostgreSQL: runs the queue's fetch of jobs and marks their executions running in the same
   * statement. Empty when there was no job; a job's `row` is undefined when its execution is gone
   * or already finished (a repeated delivery: settle the job, run nothing). `pending`: jobs the
   * fetch could take, as the statement's snapshot sees them (the fetched ones among them).
   */
  async startFetched(fetch: Statement, pending: Statement, runnerId: string): Promise<FetchedJob[]> {
    const start = this.db
      .updateTable('executions')
      .set({ status: 'running', attempt: sql<number>`attempt + 1`, started_at: now(), runner_id: runnerId })
      // Found by primary key whatever the table's statistics say: with `id IN (SELECT …)` and
      // `status IN ('queued', 'running')`, a stale estimate of few unfinished rows had each claim read
      // every queued execution through the claim index (the whole backlog). Not finished = queued or running.
      .where(sql<boolean>`id = ANY (ARRAY(SELECT id::text FROM job))`)
      .where('status', 'not in', [...TERMINAL])
      .returningAll()
      .compile();
    const query = oneStatement(
      [
        ['job', fetch],
        ['started', start],
        ['pending', pending],
      ],
      {
        sql: `SELECT job.id::text AS job_id, job.data AS job_data, EXISTS (SELECT 1 FROM pending WHERE pending.id NOT IN (SELECT id FROM job)) AS job_more, started.*
              FROM job LEFT JOIN started ON started.id = job.id::text`,
        parameters: [],
      },
    );
    const { rows } = await this.db.executeQuery<Partial<ExecutionRow> & { job_id: string; job_data: unknown; job_more: boolean }>(query);
    return rows.map(({ job_id, job_data, job_more, ...row }) => ({
      jobId: job_id,
      data: job_data,
      more: job_more,
      row: row.id ? (row as ExecutionRow) : undefined,
    }));
  }

  /**
   * Marks an execution running and counts the attempt. Undefined when it is gone or already
   * finished (a repeated delivery: at-least-once queues may hand out a job twice).
   */
  async start(id: string, runnerId: string): Promise<ExecutionRow | undefined> {
    return this.db
      .updateTable('executions')
      .set({ status: 'running', attempt: sql<number>`attempt + 1`, started_at: now(), runner_id: runnerId })
      .where('id', '=', id)
      .where('status', 'in', ['queued', 'running'])
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * The in-process queue's claim: the oldest runnable execution of this customer, marked running
   * in the same statement (SQLite runs one writer at a time, so two claims never take one row).
   */
  async claimNext(customerId: string, runnerId: string): Promise<(ExecutionRow & { more: number | boolean }) | undefined> {
    const at = now();
    return (
      this.db
        .updateTable('executions')
        .set({ status: 'running', attempt: sql<number>`attempt + 1`, started_at: at, runner_id: runnerId })
        .where(
          'id',
          '=',
          this.db
            .selectFrom('executions')
            .select('id')
            .where('status', '=', 'queued')
            .where('customer_id', '=', customerId)
            .where('run_after', '<=', at)
            .orderBy('run_after')
            .orderBy('id')
            .limit(1),
        )
        .where('status', '=', 'queued')
        .returningAll()
        // Whether another one is ready: spares the dispatcher a claim that finds nothing.
        .returning((eb) =>
          eb
            .exists(
              eb
                .selectFrom('executions as next')
                .select('next.id')
                .where('next.status', '=', 'queued')
                .where('next.customer_id', '=', customerId)
                .where('next.run_after', '<=', at)
                .whereRef('next.id', '!=', 'executions.id'),
            )
            .as('more'),
        )
        .executeTakeFirst()
    );
  }

  /** Customers with an execution that may start now. */
  async readyCustomers(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('executions')
      .select('customer_id')
      .distinct()
      .where('status', '=', 'queued')
      .where('run_after', '<=', now())
      .execute();
    return rows.map((r) => r.customer_id);
  }

  /** Hands a started execution back untouched (the runner stopped before it could run it). */
  async release(row: Pick<ExecutionRow, 'id'>): Promise<void> {
    await this.db
      .updateTable('executions')
      .set({ status: 'queued', attempt: sql<number>`attempt - 1`, run_after: now(), runner_id: null })
      .where('id', '=', row.id)
      .where('status', '=', 'running')
      .execute();
  }

  /** Executions a dead process left running go back to the queue (single-process engines only). */
  async requeueRunning(runnerId?: string): Promise<number> {
    let query = this.db.updateTable('executions').set({ status: 'queued', run_after: now() }).where('status', '=', 'running');
    if (runnerId !== undefined) query = query.where('runner_id', '=', runnerId);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Oldest executions not finished and queued before `queuedBefore`: candidates for the lost-execution sweep. */
  async unfinished(queuedBefore: string, limit: number): Promise<Pick<ExecutionRow, 'id' | 'customer_id'>[]> {
    return this.db
      .selectFrom('executions')
      .select(['id', 'customer_id'])
      .where('status', 'in', ['queued', 'running'])
      .where('queued_at', '<', queuedBefore)
      .orderBy('queued_at')
      .limit(limit)
      .execute();
  }

  /** Ends an execution the queue will never deliver again as failed, with the reason. Undefined when it already ended. */
  async abandon(id: string, error: string): Promise<ExecutionRow | undefined> {
    const at = now();
    return this.db
      .updateTable('executions')
      .set({ status: 'failed', ended_at: at, error, runner_id: null })
      .where('id', '=', id)
      .where('status', 'in', ['queued', 'running'])
      .returningAll()
      .executeTakeFirst();
  }

  async depth(): Promise<number> {
    const row = await this.db
      .selectFrom('executions')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('status', '=', 'queued')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Queued executions by customer (backpressure's one grouped query; the claim index covers it). */
  async queuedByCustomer(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('executions')
      .select((eb) => ['customer_id', eb.fn.countAll<string | number>().as('n')])
      .where('status', '=', 'queued')
      .groupBy('customer_id')
      .execute();
    return new Map(rows.map((r) => [r.customer_id, Number(r.n)]));
  }

  /** The queue figures of the embedded engine (its queue is this table): depth, and the oldest runnable one's wait. */
  async queueStats(): Promise<{ depth: number; oldestAgeSeconds: number }> {
    const at = now();
    const row = await this.db
      .selectFrom('executions')
      .select((eb) => [eb.fn.countAll<string | number>().as('n'), eb.fn.min('run_after').filterWhere('run_after', '<=', at).as('oldest')])
      .where('status', '=', 'queued')
      .executeTakeFirstOrThrow();
    const oldest = row.oldest ? Date.parse(row.oldest) : NaN;
    return { depth: Number(row.n), oldestAgeSeconds: Number.isFinite(oldest) ? Math.max(0, (Date.parse(at) - oldest) / 1000) : 0 };
  }

  async get(id: string): Promise<ExecutionRow | undefined> {
    return this.db.selectFrom('executions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Ends one attempt in one transaction: its log lines (capped, counted from what `row` says was
   * stored: the row as this attempt's start returned it) and either a final status, or back to
   * `queued` with `retryAt` for another attempt. `settlement`: the queue's statement that settles
   * the job (PostgreSQL), run in the same statement; also run alone when the execution is gone.
   */
  async finish(
    row: ExecutionRow,
    input: {
      status: FinalStatus | 'queued';
      startedAt: string;
      endedAt: string;
      durationMs: number;
      error: string | null;
      resultSummary: string | null;
      logs: readonly LogLine[];
      retryAt?: string;
      /** A succeeded execution's ctx.state writes: stored in the same transaction as its finish. */
      state?: StateChanges;
    },
    settlement?: Statement,
  ): Promise<void> {
    const state = input.state;
    if (state && (Object.keys(state.set).length > 0 || state.deleted.length > 0)) {
      // Rare (only executions that wrote state): a transaction around the usual statements.
      let settledAlone = false;
      try {
        await this.db.transaction().execute(async (trx) => {
          await new ExecutionStore(trx).finish(row, { ...input, state: undefined }, settlement);
          await writeFlowState(trx, row.instance_id, state, input.endedAt);
        });
      } catch (error) {
        // The instance was deleted meanwhile: its state went with it; the job still has to be settled.
        // (On PostgreSQL the inner finish's own fallback then meets an aborted transaction: 25P02.)
        const gone =
          isForeignKeyViolation(error) || (error as { code?: string } | null)?.code === '25P02' || String((error as Error).message).includes('FOREIGN KEY');
        if (!gone) throw error;
        settledAlone = true;
      }
      if (settledAlone && settlement) await this.db.executeQuery(CompiledQuery.raw(settlement.sql, [...settlement.parameters]));
      return;
    }
    const stored = { count: Number(row.log_count), bytes: Number(row.log_bytes), truncated: Number(row.logs_truncated) === 1 };
    const capped = capLogs(input.logs, stored);
    const insertLogs = (db: RuntimeDb) =>
      db
        .insertInto('execution_logs')
        .values(
          capped.kept.map((line, i) => ({
            execution_id: row.id,
            seq: stored.count + i + 1,
            at: line.at,
            level: line.level,
            message: line.message,
          })),
        )
        // A job delivered twice at once (at-least-once) can finish twice: the first one's lines stay.
        .onConflict((oc) => oc.columns(['execution_id', 'seq']).doNothing());
    const update = (db: RuntimeDb) =>
      db
        .updateTable('executions')
        .set({
          status: input.status,
          started_at: input.startedAt,
          ended_at: input.status === 'queued' ? null : input.endedAt,
          duration_ms: input.durationMs,
          error: input.error,
          result_summary: input.resultSummary,
          run_after: input.retryAt ?? now(),
          log_count: stored.count + capped.kept.length,
          log_bytes: stored.bytes + capped.bytes,
          logs_truncated: capped.truncated ? 1 : 0,
        })
        .where('id', '=', row.id);

    if (settlement) {
      const ctes: [string, Statement][] = [['settled', settlement]];
      if (capped.kept.length > 0) ctes.push(['logs', insertLogs(this.db).compile()]);
      await this.finishGrouped({ id: row.id, ctes, last: update(this.db).compile(), settlement });
      return;
    }
    // SQLite (in-process, one writer): the lines, then the status, without BEGIN and COMMIT around
    // them. A crash in between leaves the execution running, so it is run again on restart; the
    // lines written so far stay (the new attempt's lines with the same numbers are not stored).
    if (capped.kept.length > 0) {
      try {
        await insertLogs(this.db).execute();
      } catch (error) {
        // The instance was deleted meanwhile: nothing to keep.
        if (isForeignKeyViolation(error) || String((error as Error).message).includes('FOREIGN KEY')) return;
        throw error;
      }
    }
    await update(this.db).execute();
  }

  /**
   * PostgreSQL group commit of finishes: one goes out at once; those that come while it is in
   * flight go together in the next statement (one round trip and one commit for several: under
   * load, the runner's finishes otherwise queue for its pool behind each other and its claims).
   * Two finishes of one execution (a job delivered twice) never share a statement.
   */
  private finishGrouped(finish: Omit<PendingFinish, 'done'>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.finishes.push({ ...finish, done: (error) => (error === undefined ? resolve() : reject(error as Error)) });
      if (!this.finishing) void this.flushFinishes();
    });
  }

  private async flushFinishes(): Promise<void> {
    this.finishing = true;
    while (this.finishes.length > 0) {
      const batch: PendingFinish[] = [];
      const ids = new Set<string>();
      for (let i = 0; i < this.finishes.length && batch.length < FINISH_GROUP_MAX;) {
        const finish = this.finishes[i]!;
        if (ids.has(finish.id)) {
          i++;
          continue;
        }
        ids.add(finish.id);
        batch.push(finish);
        this.finishes.splice(i, 1);
      }
      if (batch.length === 1) {
        await this.finishAlone(batch[0]!);
        continue;
      }
      const ctes = batch.flatMap((f, i) => [
        ...f.ctes.map(([name, statement]): [string, Statement] => [`${name}_${i}`, statement]),
        [`ended_${i}`, f.last] as [string, Statement],
      ]);
      const last = ctes.pop()![1];
      try {
        await this.db.executeQuery(oneStatement(ctes, last));
        for (const f of batch) f.done();
      } catch (error) {
        // An instance deleted meanwhile fails the whole statement, and a deadlock (several jobs locked in
        // this order) aborts it: each on its own then, not handed back (their flows have run). Anything
        // else (the database unavailable) is every one's error.
        if (isForeignKeyViolation(error) || isDeadlock(error)) for (const f of batch) await this.finishAlone(f);
        else for (const f of batch) f.done(error);
      }
    }
    this.finishing = false;
  }

  private async finishAlone(finish: PendingFinish): Promise<void> {
    try {
      try {
        await this.db.executeQuery(oneStatement(finish.ctes, finish.last));
      } catch (error) {
        // The instance was deleted meanwhile (its lines have no execution left): nothing to keep, the job is settled.
        if (!isForeignKeyViolation(error)) throw error;
        await this.db.executeQuery(CompiledQuery.raw(finish.settlement.sql, [...finish.settlement.parameters]));
      }
      finish.done();
    } catch (error) {
      finish.done(error);
    }
  }

  // ---------------------------------------------------------------- customer-scoped reads

  /** Newest first; `cursor` continues after the last row of the previous page. */
  async list(customerId: string, instanceId: string, options: { status?: ExecutionStatus; cursor?: string; limit: number }): Promise<ExecutionList> {
    let query = this.db.selectFrom('executions').selectAll().where('customer_id', '=', customerId).where('instance_id', '=', instanceId);
    if (options.status !== undefined) query = query.where('status', '=', options.status);
    if (options.cursor !== undefined) {
      const after = decodeCursor(options.cursor);
      query = query.where((eb) => eb.or([eb('queued_at', '<', after.queuedAt), eb.and([eb('queued_at', '=', after.queuedAt), eb('id', '<', after.id)])]));
    }
    const rows = await query
      .orderBy('queued_at', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit + 1)
      .execute();
    const page = rows.slice(0, options.limit);
    const last = page.at(-1);
    return { executions: page.map(toSummary), nextCursor: rows.length > options.limit && last ? encodeCursor(last) : null };
  }

  async detail(customerId: string, id: string): Promise<ExecutionDetail | undefined> {
    const row = await this.db.selectFrom('executions').selectAll().where('customer_id', '=', customerId).where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const logs = await this.db.selectFrom('execution_logs').select(['seq', 'at', 'level', 'message']).where('execution_id', '=', id).orderBy('seq').execute();
    return {
      ...toSummary(row),
      logs: logs.map((l): ExecutionLogLine => ({ seq: Number(l.seq), at: l.at, level: l.level as LogLevel, message: l.message })),
      logsTruncated: Number(row.logs_truncated) === 1,
    };
  }

  // ---------------------------------------------------------------- instance health

  /** Counts a final failure; returns the consecutive failures now recorded. */
  async recordFailure(instanceId: string, error: string): Promise<number> {
    const row = await this.db
      .insertInto('instance_health')
      .values({ instance_id: instanceId, consecutive_failures: 1, last_error: error, updated_at: now() })
      .onConflict((oc) =>
        oc.column('instance_id').doUpdateSet({
          consecutive_failures: sql<number>`instance_health.consecutive_failures + 1`,
          last_error: error,
          updated_at: now(),
        }),
      )
      .returning('consecutive_failures')
      .executeTakeFirst();
    return Number(row?.consecutive_failures ?? 1);
  }

  /** The consecutive final failures recorded (0 when none). */
  async failureStreak(instanceId: string): Promise<number> {
    const row = await this.db.selectFrom('instance_health').select('consecutive_failures').where('instance_id', '=', instanceId).executeTakeFirst();
    return Number(row?.consecutive_failures ?? 0);
  }

  /** Clears the failure streak. */
  async clearFailures(instanceId: string): Promise<void> {
    await this.db.updateTable('instance_health').set({ consecutive_failures: 0, updated_at: now() }).where('instance_id', '=', instanceId).execute();
  }
}
