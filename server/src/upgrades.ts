// Bulk upgrades (issue 12): every instance of an integration, or one customer's, moved to a version
// one by one through the same instance service as a single upgrade; and the rollback of such a job,
// each instance it upgraded back to its previous version and config. An instance that fails fails
// alone and keeps its version; the job goes on.
//
// Jobs live in the database (migration 0006), so every replica answers for every job. Starting a job
// plans it: one pending outcome row per instance, in the same transaction as the job row. The process
// working on it (its `owner`) renews `heartbeat_at` every few seconds and writes each outcome in the
// same transaction as the job's counters. A running job whose heartbeat is older than `staleAfterMs`
// lost its process (crash, kill, a replica scaled away): any process takes it over, when it starts and
// when the job is read, by compare-and-set on the heartbeat it saw (one winner), if it has the code the
// job moves instances to, and goes on with the pending rows. Nothing is done twice: an instance already on the version it was to reach counts as
// reached (the old owner got there before it could write the outcome). A process that stops cleanly
// hands its jobs over at once (heartbeat cleared) after finishing the instance in hand.
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { FieldError, UpgradeJob, UpgradeOutcome } from 'plugboard/protocol';
import { ConflictError, ForbiddenError, InvalidFieldsError, NotFoundError } from './errors.js';
import type { Instances } from './instances.js';
import type { IntegrationIndex } from './integrations.js';
import type { Logger } from './logger.js';
import type { CoreDatabase, UpgradeJobsTable, UpgradeOutcomesTable } from './store/schema.js';
import { VersionConflictError, type Customer, type Store } from './store/types.js';

/** A job without its outcomes, as the list answers it. */
export type UpgradeJobSummary = Omit<UpgradeJob, 'outcomes'>;

export interface Upgrades {
  /** Starts a job (answers once it is planned; the work goes on in the background). Throws ConflictError when the version is not loaded. */
  start(input: { integrationKey: string; customer?: Customer; to?: string; actor: string; actorName?: string }): Promise<UpgradeJob>;
  /**
   * Starts a job rolling back every instance the upgrade job `id` upgraded. Undefined when there is no
   * such job; ConflictError when it is still running or is itself a rollback.
   */
  rollback(id: string, input: { actor: string; actorName?: string }): Promise<UpgradeJob | undefined>;
  /** The job as stored (any process's); a job whose process is gone is taken over here. */
  get(id: string): Promise<UpgradeJob | undefined>;
  /** Newest first; `before` is the last job of the previous page. */
  list(options: { limit: number; before?: { at: string; id: string } }): Promise<UpgradeJobSummary[]>;
  /** Resolves when this process has stopped working on the job (finished, or handed over). */
  settled(id: string): Promise<void>;
  /** Finishes the instance in hand of each job worked on here, then hands the jobs over to any other process. */
  stop(): Promise<void>;
}

export interface UpgradesOptions {
  store: Store;
  instances: Instances;
  integrations: IntegrationIndex;
  logger: Logger;
  /** How often the owner renews a running job's heartbeat (default 5 s). */
  heartbeatMs?: number;
  /** A running job whose heartbeat is older than this has lost its process (default 30 s, past migrate's 10 s limit). */
  staleAfterMs?: number;
}

type OutcomeStatus = UpgradeOutcome['status'];
type JobRow = UpgradeJobsTable;
type OutcomeRow = UpgradeOutcomesTable;

/** Another process took the job over (this one was silent too long): stop without writing. */
class JobLost extends Error {}

/** Outcomes planned per insert: well under SQLite's and PostgreSQL's bound-parameter limits. */
const PLAN_CHUNK = 500;
/** Pending rows read at a time. */
const BATCH = 50;
/** A heartbeat older than any: handed over, take it now. */
const HANDED_OVER = '1970-01-01T00:00:00.000Z';

const COUNTER: Record<OutcomeStatus, 'upgraded' | 'rolled_back' | 'failed' | 'skipped'> = {
  upgraded: 'upgraded',
  rolled_back: 'rolled_back',
  failed: 'failed',
  skipped: 'skipped',
};

function summaryOf(row: JobRow): UpgradeJobSummary {
  return {
    id: row.id,
    kind: row.kind as 'upgrade' | 'rollback',
    rollbackOf: row.rollback_of,
    integrationKey: row.integration_key,
    to: row.to_version,
    customer: row.customer_external_id,
    status: row.status as UpgradeJob['status'],
    total: Number(row.total),
    done: Number(row.done),
    upgraded: Number(row.upgraded),
    rolledBack: Number(row.rolled_back),
    failed: Number(row.failed),
    skipped: Number(row.skipped),
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

function outcomeOf(row: OutcomeRow, kind: string): UpgradeOutcome {
  return {
    instanceId: row.instance_id,
    customer: { id: row.customer_id, externalId: row.customer_external_id },
    from: row.from_version,
    ...(kind === 'rollback' ? { to: row.to_version } : {}),
    status: row.status as OutcomeStatus,
    ...(row.error !== null ? { error: row.error } : {}),
    ...(row.errors !== null ? { errors: JSON.parse(row.errors) as FieldError[] } : {}),
  };
}

/** Our own refusals say why; any other error's text (a database's, carrying values) stays in the log, as a 500's does. */
function failureOf(error: unknown, logger: Logger, instanceId: string): { status: 'failed'; error: string; errors?: FieldError[] } {
  if (error instanceof InvalidFieldsError) return { status: 'failed', error: error.message, errors: error.errors as FieldError[] };
  if (error instanceof ConflictError || error instanceof NotFoundError || error instanceof ForbiddenError || error instanceof VersionConflictError) {
    return { status: 'failed', error: error.message.slice(0, 500) };
  }
  logger.error({ err: error, instanceId }, 'bulk upgrade of an instance failed');
  return { status: 'failed', error: 'Something went wrong on our side; the error was logged' };
}

export function createUpgrades(options: UpgradesOptions): Upgrades {
  const { store, instances, integrations, logger } = options;
  const heartbeatMs = options.heartbeatMs ?? 5000;
  const staleAfterMs = options.staleAfterMs ?? 30_000;
  const db = store.db;
  /** This process, as a job's owner. */
  const me = `proc_${randomUUID()}`;
  const working = new Map<string, Promise<void>>();
  let stopping = false;

  const now = () => new Date().toISOString();
  const isStale = (row: JobRow) => row.status === 'running' && row.heartbeat_at < new Date(Date.now() - staleAfterMs).toISOString();

  /** This process has the code the job moves instances to (a replica not yet on the new build leaves the job to one that is). */
  const canRun = (row: JobRow) => row.to_version.split(', ').every((version) => integrations.release(row.integration_key, version) !== undefined);

  /** Takes the job if its heartbeat is still the stale one seen (one process wins), and works on it. */
  async function takeOver(row: JobRow): Promise<void> {
    if (stopping || working.has(row.id) || !canRun(row)) return;
    const taken = await db
      .updateTable('upgrade_jobs')
      .set({ owner: me, heartbeat_at: now() })
      .where('id', '=', row.id)
      .where('status', '=', 'running')
      .where('heartbeat_at', '=', row.heartbeat_at)
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) !== 1) return;
    logger.info({ job: row.id, from: row.owner }, 'bulk upgrade taken over');
    work(row.id);
  }

  /** Every job whose process is gone (on start). */
  async function takeOverStale(): Promise<void> {
    const cutoff = new Date(Date.now() - staleAfterMs).toISOString();
    const rows = await db.selectFrom('upgrade_jobs').selectAll().where('status', '=', 'running').where('heartbeat_at', '<', cutoff).execute();
    for (const row of rows) await takeOver(row);
  }

  function work(id: string): void {
    const beat = setInterval(() => {
      db.updateTable('upgrade_jobs')
        .set({ heartbeat_at: now() })
        .where('id', '=', id)
        .where('owner', '=', me)
        .where('status', '=', 'running')
        .execute()
        .catch((err: unknown) => logger.warn({ err, job: id }, 'bulk upgrade heartbeat not written'));
    }, heartbeatMs);
    beat.unref();
    const done = run(id)
      .catch((err: unknown) => {
        if (err instanceof JobLost) logger.warn({ job: id }, 'bulk upgrade taken over by another process');
        else logger.error({ err, job: id }, 'bulk upgrade stopped; another process takes it over');
      })
      .finally(() => {
        clearInterval(beat);
        working.delete(id);
      });
    working.set(id, done);
  }

  const outcomeRows = (id: string) => db.selectFrom('upgrade_outcomes').selectAll().where('job_id', '=', id).orderBy('position');

  async function run(id: string): Promise<void> {
    const job = await db.selectFrom('upgrade_jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    for (;;) {
      const pending = await outcomeRows(id).where('status', '=', 'pending').limit(BATCH).execute();
      if (!pending.length) break;
      for (const row of pending) {
        if (stopping) {
          // Handed over: any process takes it on its next start or read, none waits out the heartbeat.
          await db.updateTable('upgrade_jobs').set({ heartbeat_at: HANDED_OVER }).where('id', '=', id).where('owner', '=', me).execute();
          return;
        }
        await record(id, row.position, await reach(job, row));
      }
    }
    await db
      .updateTable('upgrade_jobs')
      .set({ status: 'finished', finished_at: now(), heartbeat_at: now() })
      .where('id', '=', id)
      .where('owner', '=', me)
      .execute();
  }

  /** Moves one instance (or finds it already there) and says what became of it. */
  async function reach(job: JobRow, row: OutcomeRow): Promise<{ status: OutcomeStatus; error?: string; errors?: FieldError[] }> {
    const instance = await store.vendor.getInstance(row.instance_id);
    if (!instance) return { status: 'failed', error: 'The instance was deleted' };
    const moved: OutcomeStatus = job.kind === 'rollback' ? 'rolled_back' : 'upgraded';
    // There already: planned there (skipped), or this job got it there before its process stopped.
    if (instance.integrationVersion === row.to_version) return { status: row.from_version === row.to_version ? 'skipped' : moved };
    const caller = { tenant: store.forCustomer(instance.customer), actor: job.actor, actorName: job.actor_name ?? undefined, grants: undefined };
    try {
      if (job.kind === 'rollback') {
        // Only what this job's upgrade did is undone: an instance moved since is left as it is.
        if (instance.integrationVersion !== row.from_version || instance.previousRelease?.integrationVersion !== row.to_version) {
          return {
            status: 'skipped',
            error: `It runs ${instance.integrationVersion ?? 'an unrecorded version'} now, not what the upgrade left; left as it is`,
          };
        }
        await instances.rollback(caller, instance.id);
      } else await instances.upgrade(caller, instance.id, { to: row.to_version });
      return { status: moved };
    } catch (error) {
      // Written meanwhile by the process this job was taken from, still finishing the same instance.
      if (error instanceof VersionConflictError && (await store.vendor.getInstance(instance.id))?.integrationVersion === row.to_version) {
        return { status: moved };
      }
      return failureOf(error, logger, instance.id);
    }
  }

  /** The outcome and the job's counters in one transaction, only while this process still owns the job. */
  async function record(id: string, position: number, outcome: { status: OutcomeStatus; error?: string; errors?: FieldError[] }): Promise<void> {
    const column = COUNTER[outcome.status];
    await db.transaction().execute(async (tx: Transaction<CoreDatabase>) => {
      const owned = await tx
        .updateTable('upgrade_jobs')
        .set((eb) => ({ done: eb('done', '+', 1), [column]: eb(column, '+', 1), heartbeat_at: now() }))
        .where('id', '=', id)
        .where('owner', '=', me)
        .where('status', '=', 'running')
        .executeTakeFirst();
      if (Number(owned.numUpdatedRows) !== 1) throw new JobLost();
      await tx
        .updateTable('upgrade_outcomes')
        .set({
          status: outcome.status,
          error: outcome.error ?? null,
          errors: outcome.errors ? JSON.stringify(outcome.errors) : null,
          done_at: now(),
        })
        .where('job_id', '=', id)
        .where('position', '=', position)
        .execute();
    });
  }

  async function read(id: string): Promise<UpgradeJob | undefined> {
    const row = await db.selectFrom('upgrade_jobs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    if (isStale(row)) await takeOver(row);
    const outcomes = await outcomeRows(id).where('status', '<>', 'pending').execute();
    return { ...summaryOf(row), outcomes: outcomes.map((o) => outcomeOf(o, row.kind)) };
  }

  /** Stores the job and its plan (one pending row per instance) at once, then works on it here. */
  async function plan(
    job: Omit<
      JobRow,
      'status' | 'total' | 'done' | 'upgraded' | 'failed' | 'skipped' | 'rolled_back' | 'started_at' | 'finished_at' | 'owner' | 'heartbeat_at'
    >,
    rows: Omit<OutcomeRow, 'job_id' | 'position' | 'status' | 'error' | 'errors' | 'done_at'>[],
  ): Promise<UpgradeJob> {
    const at = now();
    await db.transaction().execute(async (tx) => {
      await tx
        .insertInto('upgrade_jobs')
        .values({
          ...job,
          status: 'running',
          total: rows.length,
          done: 0,
          upgraded: 0,
          failed: 0,
          skipped: 0,
          rolled_back: 0,
          started_at: at,
          finished_at: null,
          owner: me,
          heartbeat_at: at,
        })
        .execute();
      for (let i = 0; i < rows.length; i += PLAN_CHUNK) {
        await tx
          .insertInto('upgrade_outcomes')
          .values(
            rows
              .slice(i, i + PLAN_CHUNK)
              .map((r, j) => ({ ...r, job_id: job.id, position: i + j, status: 'pending', error: null, errors: null, done_at: null })),
          )
          .execute();
      }
    });
    const answer = (await read(job.id))!;
    work(job.id);
    return answer;
  }

  // Jobs left running by a process that is gone are taken over when this one starts.
  takeOverStale().catch((err: unknown) => logger.warn({ err }, 'running bulk upgrades not checked'));

  return {
    async start({ integrationKey, customer, to, actor, actorName }) {
      const target = integrations.release(integrationKey, to ?? null)?.integration;
      if (!target) {
        throw new ConflictError(
          to === undefined ? `There is no integration "${integrationKey}" loaded` : `Version ${to} of "${integrationKey}" is not loaded`,
          { versions: integrations.versions(integrationKey) },
        );
      }
      const list = (await store.vendor.listInstances(customer ? { customerId: customer.id } : undefined)).filter((i) => i.integrationKey === integrationKey);
      return plan(
        {
          id: `upg_${randomUUID()}`,
          kind: 'upgrade',
          integration_key: integrationKey,
          to_version: target.version,
          customer_id: customer?.id ?? null,
          customer_external_id: customer?.externalId ?? null,
          rollback_of: null,
          actor,
          actor_name: actorName ?? null,
        },
        list.map((i) => ({
          instance_id: i.id,
          customer_id: i.customer.id,
          customer_external_id: i.customer.externalId,
          from_version: i.integrationVersion,
          to_version: target.version,
        })),
      );
    },

    async rollback(id, { actor, actorName }) {
      const upgrade = await read(id);
      if (!upgrade) return undefined;
      if (upgrade.kind === 'rollback') throw new ConflictError('This job is a rollback; roll back an upgrade job');
      if (upgrade.status === 'running') throw new ConflictError('The upgrade is still running; roll it back once it has finished');
      const upgraded = upgrade.outcomes.filter((o) => o.status === 'upgraded');
      const back = [...new Set(upgraded.map((o) => o.from ?? ''))].sort();
      const row = await db.selectFrom('upgrade_jobs').select(['customer_id']).where('id', '=', id).executeTakeFirstOrThrow();
      return plan(
        {
          id: `upg_${randomUUID()}`,
          kind: 'rollback',
          integration_key: upgrade.integrationKey,
          to_version: back.join(', '),
          customer_id: row.customer_id,
          customer_external_id: upgrade.customer,
          rollback_of: id,
          actor,
          actor_name: actorName ?? null,
        },
        upgraded.map((o) => ({
          instance_id: o.instanceId,
          customer_id: o.customer.id,
          customer_external_id: o.customer.externalId,
          from_version: upgrade.to,
          to_version: o.from ?? '',
        })),
      );
    },

    get: read,

    async list({ limit, before }) {
      let query = db.selectFrom('upgrade_jobs').selectAll();
      if (before) {
        query = query.where((eb) => eb.or([eb('started_at', '<', before.at), eb.and([eb('started_at', '=', before.at), eb('id', '<', before.id)])]));
      }
      const rows = await query.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map(summaryOf);
    },

    settled: async (id) => working.get(id),

    async stop() {
      stopping = true;
      await Promise.all(working.values());
    },
  };
}
