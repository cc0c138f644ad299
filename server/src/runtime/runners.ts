// Fast recovery of a dead runner's executions (PostgreSQL, several runner processes). pg-boss 10 has
// no lease renewal, and its expiry must stay above the longest flow, so a runner killed mid-execution
// would hold its jobs for ~90 s. Instead every runner writes a heartbeat row (`runners`) every
// couple of seconds, and each runner's supervisor looks for executions `running` on a runner whose
// heartbeat is older than `deadAfterMs`: it puts those rows back to `queued` (one conditional
// UPDATE, so exactly one supervisor wins each) and hands their jobs back to the queue, due now.
// Heartbeat times are the database's clock, so hosts' clocks never disagree about who is dead.
// The supervisor also hands back jobs taken but never started (a claim whose answer was lost
// with its connection in an outage), which would otherwise wait for pg-boss's expiry.
import { sql } from 'kysely';
import type { Logger } from '../logger.js';
import type { ExecutionQueue } from './queue.js';
import type { RuntimeDb } from './schema.js';

export interface RunnerSupervisorOptions {
  db: RuntimeDb;
  runnerId: string;
  /** Must have `requeue`. */
  queue: ExecutionQueue;
  /** A runner whose heartbeat is older than this is dead (PLUGBOARD_RUNNER_DEAD_AFTER_S, default 10 s). */
  deadAfterMs?: number;
  /** Default: a fifth of `deadAfterMs`, at most 2 s. */
  heartbeatMs?: number;
  logger?: Logger;
  /** Each execution handed back. */
  onRecovered?: (executionId: string, deadRunnerId: string) => void;
  /** The executions this runner holds now (claimed, waiting for the executor or running): their jobs are renewed with each heartbeat. */
  held?: () => { id: string; customerId: string }[];
}

export interface RunnerSupervisor {
  start(): Promise<void>;
  /** Stops beating and removes this runner's row (call once its executions have ended). */
  stop(): Promise<void>;
  /** One look for dead runners' executions; how many were handed back. */
  recover(): Promise<number>;
}

/** The database's clock in epoch milliseconds. */
const dbNowMs = sql<string>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;
/** Rows of runners gone this long are deleted once nothing of theirs is running. */
const FORGET_AFTER_MS = 24 * 3600_000;

export function createRunnerSupervisor(options: RunnerSupervisorOptions): RunnerSupervisor {
  const { db, runnerId, queue, logger } = options;
  const deadAfterMs = options.deadAfterMs ?? 10_000;
  const heartbeatMs = options.heartbeatMs ?? Math.max(100, Math.min(2000, Math.floor(deadAfterMs / 5)));
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let tick: Promise<void> | undefined;
  /**
   * Since when this runner's own heartbeats have succeeded without a gap. Others are judged only
   * after deadAfterMs of that: after a database outage every heartbeat is old, and live runners
   * need a moment to beat again before anyone may call them dead.
   */
  let healthySince: number | undefined;
  let beatFailing = false;

  async function beat(): Promise<void> {
    await db
      .insertInto('runners')
      .values({ id: runnerId, started_at: new Date().toISOString(), last_seen_ms: dbNowMs })
      .onConflict((oc) => oc.column('id').doUpdateSet({ last_seen_ms: dbNowMs }))
      .execute();
  }

  /**
   * Jobs a runner took whose execution it never started: the claim's answer was lost with its
   * connection (an outage), so pg-boss holds them `active` and the row stays `queued`, until expiry.
   */
  async function recoverStranded(): Promise<number> {
    if (!queue.requeueStranded) return 0;
    const queued = await db
      .selectFrom('executions')
      .select(['id', 'customer_id'])
      .where('status', '=', 'queued')
      .where('run_after', '<', new Date(Date.now() - deadAfterMs).toISOString())
      .orderBy('run_after')
      .limit(100)
      .execute();
    const n = await queue.requeueStranded(
      queued.map((row) => ({ id: row.id, customerId: row.customer_id })),
      deadAfterMs,
    );
    if (n > 0) logger?.warn({ executions: n }, 'executions whose claim was lost handed back to the queue');
    return n;
  }

  async function recover(): Promise<number> {
    return (await recoverDead()) + (await recoverStranded());
  }

  async function recoverDead(): Promise<number> {
    const cutoff = sql<string>`${dbNowMs} - ${deadAfterMs}`;
    const stale = await db
      .selectFrom('executions as e')
      .innerJoin('runners as r', 'r.id', 'e.runner_id')
      .select(['e.id', 'e.runner_id'])
      .where('e.status', '=', 'running')
      .where('r.last_seen_ms', '<', cutoff)
      .limit(200)
      .execute();
    if (stale.length === 0) {
      await db
        .deleteFrom('runners')
        .where('last_seen_ms', '<', sql<string>`${dbNowMs} - ${FORGET_AFTER_MS}`)
        .execute();
      return 0;
    }
    const deadRunners = [...new Set(stale.map((s) => s.runner_id!))];
    // The winner: a row another supervisor (or a live runner) took meanwhile no longer matches.
    // The attempt the dead runner started is given back: its death is not the flow's failure.
    const taken = await db
      .updateTable('executions')
      .set({ status: 'queued', attempt: sql<number>`attempt - 1`, run_after: new Date().toISOString(), runner_id: null })
      .where(
        'id',
        'in',
        stale.map((s) => s.id),
      )
      .where('status', '=', 'running')
      .where('runner_id', 'in', deadRunners)
      .returning(['id', 'customer_id'])
      .execute();
    if (taken.length === 0) return 0;
    await queue.requeue!(taken.map((row) => ({ id: row.id, customerId: row.customer_id })));
    const runnerOf = new Map(stale.map((s) => [s.id, s.runner_id!]));
    for (const row of taken) {
      logger?.warn({ executionId: row.id, deadRunner: runnerOf.get(row.id) }, 'execution of a dead runner handed back to the queue');
      options.onRecovered?.(row.id, runnerOf.get(row.id)!);
    }
    return taken.length;
  }

  async function round(): Promise<void> {
    try {
      await beat();
      healthySince ??= Date.now();
      if (beatFailing) logger?.info('runner heartbeat written again');
      beatFailing = false;
      // pg-boss counts a job's expiry from its fetch: a job claimed ahead waits for the executor
      // before its flow's own time limit starts, and would expire under a live runner (then be run
      // a second time elsewhere). Live, this runner renews what it holds; dead, its beats stop.
      const held = options.held?.() ?? [];
      if (held.length > 0) await queue.renew?.(held);
    } catch (error) {
      healthySince = undefined;
      if (!beatFailing) logger?.warn({ err: error }, 'runner heartbeat failed; retrying');
      beatFailing = true;
      return;
    }
    if (Date.now() - healthySince < deadAfterMs) return;
    try {
      await recover();
    } catch (error) {
      logger?.warn({ err: error }, 'recovery of dead runners’ executions failed; retrying');
    }
  }

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      tick = round().finally(schedule);
    }, heartbeatMs);
    timer.unref();
  };

  return {
    recover,
    async start() {
      // The row exists before this runner takes any work, so its executions are always covered.
      tick = round();
      await tick;
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await tick;
      await db
        .deleteFrom('runners')
        .where('id', '=', runnerId)
        .execute()
        .catch(() => {});
    },
  };
}
