// Bulk upgrades (issue 12): every instance of an integration, or one customer's, moved to a version
// one by one through the same instance service as a single upgrade. An instance whose migrate throws
// or whose migrated config the version refuses fails alone and keeps its version; the job goes on.
// Jobs live in this process's memory (progress is read from the replica that started the job).
import { randomUUID } from 'node:crypto';
import type { FieldError, UpgradeJob, UpgradeOutcome } from 'plugboard/protocol';
import { ConflictError, InvalidFieldsError } from './errors.js';
import type { Instances } from './instances.js';
import type { IntegrationIndex } from './integrations.js';
import type { Logger } from './logger.js';
import type { Customer, Store } from './store/types.js';

export interface Upgrades {
  /** Starts a job (answers at once, the work goes on in the background). Throws ConflictError when the version is not loaded. */
  start(input: { integrationKey: string; customer?: Customer; to?: string; actor: string; actorName?: string }): Promise<UpgradeJob>;
  get(id: string): UpgradeJob | undefined;
  /** Resolves when the job has finished (tests, shutdown). */
  settled(id: string): Promise<void>;
}

/** Finished jobs kept for reading; the oldest go first. */
const KEEP = 100;

export function createUpgrades(options: { store: Store; instances: Instances; integrations: IntegrationIndex; logger: Logger }): Upgrades {
  const { store, instances, integrations, logger } = options;
  const jobs = new Map<string, { job: UpgradeJob; done: Promise<void> }>();

  function outcomeOf(error: unknown): Pick<UpgradeOutcome, 'status' | 'error' | 'errors'> {
    if (error instanceof InvalidFieldsError) return { status: 'failed', error: error.message, errors: error.errors as FieldError[] };
    if (error instanceof Error) return { status: 'failed', error: error.message.slice(0, 500) };
    return { status: 'failed', error: String(error).slice(0, 500) };
  }

  async function run(job: UpgradeJob, customer: Customer | undefined, actor: string, actorName: string | undefined): Promise<void> {
    const list = (await store.vendor.listInstances(customer ? { customerId: customer.id } : undefined)).filter((i) => i.integrationKey === job.integrationKey);
    job.total = list.length;
    for (const instance of list) {
      const base = {
        instanceId: instance.id,
        customer: { id: instance.customer.id, externalId: instance.customer.externalId },
        from: instance.integrationVersion,
      };
      let outcome: UpgradeOutcome;
      if (instance.integrationVersion === job.to) outcome = { ...base, status: 'skipped' };
      else {
        try {
          const caller = { tenant: store.forCustomer(instance.customer), actor, actorName, grants: undefined };
          await instances.upgrade(caller, instance.id, { to: job.to });
          outcome = { ...base, status: 'upgraded' };
        } catch (error) {
          outcome = { ...base, ...outcomeOf(error) };
        }
      }
      job.outcomes.push(outcome);
      job.done++;
      job[outcome.status]++;
    }
  }

  return {
    async start({ integrationKey, customer, to, actor, actorName }) {
      const target = integrations.release(integrationKey, to ?? null)?.integration;
      if (!target) {
        throw new ConflictError(
          to === undefined ? `There is no integration "${integrationKey}" loaded` : `Version ${to} of "${integrationKey}" is not loaded`,
          {
            versions: integrations.versions(integrationKey),
          },
        );
      }
      const job: UpgradeJob = {
        id: `upg_${randomUUID()}`,
        integrationKey,
        to: target.version,
        customer: customer?.externalId ?? null,
        status: 'running',
        total: 0,
        done: 0,
        upgraded: 0,
        failed: 0,
        skipped: 0,
        outcomes: [],
        startedAt: new Date().toISOString(),
        finishedAt: null,
      };
      const done = run(job, customer, actor, actorName)
        .catch((err: unknown) => logger.error({ err, job: job.id }, 'bulk upgrade stopped'))
        .finally(() => {
          job.status = 'finished';
          job.finishedAt = new Date().toISOString();
        });
      jobs.set(job.id, { job, done });
      for (const [id, entry] of jobs) if (jobs.size > KEEP && entry.job.status === 'finished') jobs.delete(id);
      return job;
    },
    get: (id) => jobs.get(id)?.job,
    settled: async (id) => jobs.get(id)?.done,
  };
}
