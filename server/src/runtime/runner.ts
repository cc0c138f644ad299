// A runner takes executions off the queue, builds each one's job (config secrets and connection
// credentials resolved here, in the control plane: instance-inputs.ts), runs it in the customer's executor, and
// stores the outcome with its logs. Retryable failures go back to the queue with exponential
// backoff; an instance whose executions keep failing goes to `error` and recovers on a success.
import { randomUUID } from 'node:crypto';
import type { ExecutionSummary, ExecutionTrigger } from 'plugboard/protocol';
import type { Integration } from '../sdk/index.js';
import type { InstanceInputs } from '../instance-inputs.js';
import type { IntegrationIndex, IntegrationRelease } from '../integrations.js';
import type { Logger } from '../logger.js';
import { isDatabaseUnavailable } from '../problem.js';
import { instanceTag } from '../store/cache.js';
import type { ConnectionRecord, Customer, InstanceRecord, Store } from '../store/types.js';
import type { Telemetry } from '../telemetry.js';
import type { AlertSender } from './alerts.js';
import { ExecutionStore, isTerminal, toSummary, type ExecutionPayload, type ExecutionRow, type FinalStatus, type LogLine } from './executions.js';
import { connectionLimitKey, createConnectionThrottle, NoTurnBeforeDeadlineError, type ConnectionThrottle } from './connection-throttle.js';
import type { ExecutionIO, ExecutionJob, ExecutionOutcome, ExecutorPool, StateChanges } from './executor/index.js';
import { FlowStateStore } from './flow-state.js';
import type { RuntimeMetrics } from './metrics.js';
import type { Claim, ExecutionQueue } from './queue.js';
import { createRunnerSupervisor, type RunnerSupervisor } from './runners.js';
import { runtimeDb } from './schema.js';

/** What one execution went through, for benchmarks and logs (epoch ms). */
export interface ExecutionPhases {
  executionId: string;
  customerId: string;
  status: FinalStatus | 'queued';
  queuedAt: number;
  pickedUpAt: number;
  /** The flow's code started (handed to the pool + the pool's start latency). */
  flowStartedAt: number | undefined;
  doneAt: number;
  cold: boolean;
  overheadMs: number | undefined;
}

/** One attempt of an execution as it ended here, with its log lines (`plugboard dev` prints these). */
export interface ExecutionReport {
  executionId: string;
  customer: string;
  instanceId: string;
  integrationKey: string;
  flow: string;
  trigger: string;
  attempt: number;
  /** `queued`: it failed and will be retried. */
  status: FinalStatus | 'queued';
  error: string | null;
  result: unknown;
  durationMs: number;
  logs: readonly LogLine[];
}

export interface RunnerOptions {
  store: Store;
  integrations: IntegrationIndex;
  /** Each job's config and connections (fresh tokens), resolved before it is handed to the pool. */
  inputs: InstanceInputs;
  pool: ExecutorPool;
  queue: ExecutionQueue;
  logger?: Logger;
  alerts?: AlertSender;
  metrics?: RuntimeMetrics;
  /** When on: a span per execution attempt (continuing its trigger's trace) and one per ctx.fetch call. */
  telemetry?: Telemetry;
  /** Executions this process runs at once (default 16). */
  concurrency?: number;
  /** Executions of one customer this process runs at once (default 4). */
  perCustomer?: number;
  /** Claims of one customer taken ahead of a free executor slot (default `perCustomer`; queue.ts). */
  claimAhead?: number;
  /** How often the queue is checked without a wake-up (default 500 ms). */
  pollMs?: number;
  /** Time limit of one attempt's flow code (default 30 s). */
  timeoutMs?: number;
  /** First retry delay; each further retry doubles it (default 1 s). */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Connection rate limits (default: counted in the store's database, shared with every runner on it). */
  throttle?: ConnectionThrottle;
  /** Consecutive failed executions that put an instance in `error` (default 3). */
  failureThreshold?: number;
  onPhases?: (phases: ExecutionPhases) => void;
  /** Hears of each attempt as it ends, its log lines included. */
  onReport?: (report: ExecutionReport) => void;
  /** How often executions the queue lost are looked for and marked failed (default 60 s; 0: never). */
  sweepIntervalMs?: number;
  /** Only executions queued longer ago than this are looked at (default 60 s: past any enqueue in flight). */
  lostAfterMs?: number;
  /**
   * Queues with `requeue` (PostgreSQL): this runner beats every couple of seconds, and the
   * executions of a runner silent for this long are handed to the others (default 10 s; 0: off, pg-boss's expiry only).
   */
  deadAfterMs?: number;
}

export interface Runner {
  readonly id: string;
  /** Executions being run now. */
  readonly inFlight: number;
  start(): void;
  /**
   * Drains: takes no new work, lets running executions finish for up to `graceMs`; what is still
   * running then is cancelled and handed back to the queue (not failed), so another runner takes it.
   */
  stop(graceMs: number): Promise<void>;
  /**
   * Marks failed, with the reason, the executions the queue will never deliver again (pg-boss ran out
   * of retries, e.g. runners kept dying on it), so no row stays queued or running forever. Runs
   * every `sweepIntervalMs`; returns how many it ended.
   */
  sweep(): Promise<number>;
}

const RESULT_SUMMARY_CHARS = 1000;

/** Epoch milliseconds with sub-millisecond precision (phase timings of fast executions). */
const epochNow = () => performance.timeOrigin + performance.now();

/**
 * The stored form of a flow's return value. An invocation's caller gets the value itself, so it is
 * kept whole as JSON (the executor already capped it at 4 KB); other triggers keep a short summary.
 */
function summarizeResult(result: unknown, trigger: string): string | null {
  if (result === undefined) return null;
  if (trigger === 'invoke') return JSON.stringify(result) ?? null;
  const text = typeof result === 'string' ? result : JSON.stringify(result);
  if (text === undefined) return null;
  return text.length > RESULT_SUMMARY_CHARS ? `${text.slice(0, RESULT_SUMMARY_CHARS - 1)}…` : text;
}

/** "1 s", "10 s", "1 min", "1 h", "1 day": a limit's window as the log line says it. */
function windowWords(ms: number): string {
  if (ms % 86_400_000 === 0) return ms === 86_400_000 ? '1 day' : `${ms / 86_400_000} days`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

/** How long a runner keeps trying to write what it must write while the database does not answer, and how often. */
const OUTAGE_PATIENCE_MS = 60_000;
const OUTAGE_RETRY_MAX_MS = 500;

/** `write()`, tried again every half second or so while the database is unavailable (an outage), for up to OUTAGE_PATIENCE_MS. */
async function whenDatabaseAnswers<T>(write: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + OUTAGE_PATIENCE_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, OUTAGE_RETRY_MAX_MS)));
    }
  }
}

export function retryDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

export function createRunner(options: RunnerOptions): Runner {
  const { store, integrations, inputs, pool, queue, logger, alerts, metrics, telemetry } = options;
  const executions = new ExecutionStore(runtimeDb(store.db));
  const flowState = new FlowStateStore(runtimeDb(store.db));
  const throttle = options.throttle ?? createConnectionThrottle(store);
  const id = `runner_${randomUUID().slice(0, 8)}`;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const baseDelay = options.retryBaseDelayMs ?? 1000;
  const maxDelay = options.retryMaxDelayMs ?? 5 * 60_000;
  const threshold = options.failureThreshold ?? 3;
  const running = new Map<string, AbortController>();
  /** Claims being handled, by execution id (their jobs are renewed with the heartbeat). */
  const held = new Map<string, string>();
  /** Claims being handled, including their final database writes (a drain waits for these). */
  let handling = 0;
  let stopping = false;
  let sweepTimer: NodeJS.Timeout | undefined;
  let sweeping: Promise<number> | undefined;
  const deadAfterMs = options.deadAfterMs ?? 10_000;
  const supervisor: RunnerSupervisor | undefined =
    queue.requeue && deadAfterMs > 0
      ? createRunnerSupervisor({
          db: runtimeDb(store.db),
          runnerId: id,
          queue,
          deadAfterMs,
          logger,
          held: () => [...held].map(([executionId, customerId]) => ({ id: executionId, customerId })),
        })
      : undefined;

  async function buildJob(
    row: ExecutionRow,
    payload: ExecutionPayload,
    instance: InstanceRecord,
    customer: Customer,
    { integration, moduleUrl }: IntegrationRelease,
    prefetched: readonly ConnectionRecord[] | undefined,
  ): Promise<ExecutionJob> {
    const { config, connections, secretValues } = await inputs.resolve(instance, integration, { connections: prefetched });
    return {
      executionId: row.id,
      customerId: customer.id,
      customerExternalId: customer.externalId,
      instanceId: instance.id,
      integrationKey: integration.key,
      integrationVersion: integration.version,
      ...(moduleUrl !== undefined ? { moduleUrl } : {}),
      flow: row.flow,
      attempt: Number(row.attempt),
      trigger: row.trigger as ExecutionTrigger,
      payload: payload.body,
      headers: payload.headers,
      config,
      connections,
      timeoutMs: payload.timeoutMs !== undefined ? Math.min(timeoutMs, payload.timeoutMs) : timeoutMs,
      secrets: secretValues,
    };
  }

  /** What the executor may ask for while this execution runs: turns of its connections' rate limits, and its instance's state. */
  function executionIO(instance: InstanceRecord, integration: Integration): ExecutionIO {
    const known = (connection: string) => {
      if (!Object.hasOwn(integration.connections, connection)) throw new Error(`ctx.fetch: integration "${integration.key}" has no connection "${connection}"`);
      return connectionLimitKey(instance.id, connection);
    };
    return {
      async takeTurn(connection, deadline) {
        const limits = Object.hasOwn(integration.rateLimits, connection) ? integration.rateLimits[connection]! : [];
        try {
          return await throttle.take(known(connection), limits, deadline);
        } catch (error) {
          if (!(error instanceof NoTurnBeforeDeadlineError)) throw error;
          const rule = limits.length > 0 ? `rate limit (${limits.map((l) => `${l.requests} per ${windowWords(l.windowMs)}`).join(', ')})` : 'pause after a 429';
          throw new Error(
            `Connection "${connection}"'s ${rule} leaves no turn for this request before the execution's time limit (next at ${new Date(error.nextAt).toISOString()}); the execution will be retried`,
          );
        }
      },
      pause: async (connection, ms) => throttle.pause(known(connection), ms),
      readState: () => flowState.read(instance.id),
    };
  }

  /** The instance's failure streak, kept in memory: a success writes nothing while it is 0. Dropped when any process records a failure. */
  const healthTag = (instanceId: string) => `health:${instanceId}`;
  const failureStreak = (instanceId: string) =>
    store.cache.read(
      healthTag(instanceId),
      () => [healthTag(instanceId), instanceTag(instanceId)],
      () => executions.failureStreak(instanceId),
    );
  async function healthChanged(instanceId: string): Promise<void> {
    const tags = [healthTag(instanceId)];
    await store.cache.announce(store.db, tags);
    store.cache.invalidate(tags);
  }

  /** Failure streaks move the instance to `error` and back; the audit lines feed the lifecycle alerts. */
  async function trackHealth(instance: InstanceRecord & { customer: Customer }, status: FinalStatus, error: string | null): Promise<void> {
    const tenant = store.forCustomer(instance.customer);
    if (status === 'succeeded') {
      const streak = (await failureStreak(instance.id)) ?? 0;
      if (streak > 0) {
        await executions.clearFailures(instance.id);
        await healthChanged(instance.id);
      }
      if (instance.status === 'error') {
        await tenant.setStatus(instance.id, {
          status: 'active',
          reason: null,
          audit: { actor: 'system', action: 'instance.recovered', target: `instance:${instance.id}`, details: { failuresBefore: streak } },
        });
      }
      return;
    }
    const failures = await executions.recordFailure(instance.id, error ?? status);
    await healthChanged(instance.id);
    if (failures >= threshold && instance.status === 'active') {
      const reason = `The last ${failures} executions failed; latest: ${error ?? status}`;
      await tenant.setStatus(instance.id, {
        status: 'error',
        reason,
        audit: { actor: 'system', action: 'instance.error', target: `instance:${instance.id}`, details: { failures } },
      });
    }
  }

  async function settle(
    claim: Claim,
    row: ExecutionRow,
    outcome: { status: FinalStatus; error: string | null; result: unknown; retryable: boolean; state?: StateChanges },
    logs: LogLine[],
    startedAt: string,
    durationMs: number,
  ): Promise<FinalStatus | 'queued'> {
    const attempt = Number(row.attempt);
    const retry = outcome.status !== 'succeeded' && outcome.retryable && attempt < Number(row.max_attempts);
    const endedAt = new Date().toISOString();
    if (retry) {
      const delay = retryDelayMs(attempt, baseDelay, maxDelay);
      logs.push({ level: 'warn', message: `attempt ${attempt} of ${row.max_attempts} failed; retrying in about ${Math.round(delay / 1000)} s`, at: endedAt });
      await executions.finish(row, {
        status: 'queued',
        startedAt,
        endedAt,
        durationMs,
        error: outcome.error,
        resultSummary: null,
        logs,
        retryAt: new Date(Date.now() + delay).toISOString(),
      });
      await claim.retry(delay, outcome.error ?? 'failed');
      metrics?.executionRetried();
      return 'queued';
    }
    // PostgreSQL: the job's completion goes with the finish, in one statement.
    const settlement = claim.settlement?.();
    await executions.finish(
      row,
      {
        status: outcome.status,
        startedAt,
        endedAt,
        durationMs,
        error: outcome.error,
        resultSummary: summarizeResult(outcome.result, row.trigger),
        logs,
        ...(outcome.status === 'succeeded' && outcome.state ? { state: outcome.state } : {}),
      },
      settlement,
    );
    if (!settlement) await claim.complete();
    return outcome.status;
  }

  /**
   * The instance and its connections (both kept in memory, dropped by any write to them), read
   * while the execution is marked running when not in memory. Only API-key values are taken from
   * these rows; OAuth tokens are asked of the token service each time.
   */
  function prefetch(instanceId: string): Promise<{ instance: (InstanceRecord & { customer: Customer }) | undefined; connections?: ConnectionRecord[] }> {
    return store.vendor.getInstance(instanceId).then(async (instance) => ({
      instance,
      connections: instance ? await store.forCustomer(instance.customer).listConnections(instance.id) : undefined,
    }));
  }

  function report(
    row: ExecutionRow,
    instance: (InstanceRecord & { customer: Customer }) | undefined,
    end: Pick<ExecutionReport, 'status' | 'error' | 'result' | 'durationMs' | 'logs'>,
  ): void {
    if (!options.onReport) return;
    try {
      options.onReport({
        executionId: row.id,
        customer: instance?.customer.externalId ?? '',
        instanceId: row.instance_id,
        integrationKey: instance?.integrationKey ?? '',
        flow: row.flow,
        trigger: row.trigger,
        attempt: Number(row.attempt),
        ...end,
      });
    } catch (error) {
      logger?.warn({ err: error, executionId: row.id }, 'execution report listener failed');
    }
  }

  /** `ran()`: the flow's outcome is known; the dispatcher's slot takes the next execution while this one's is written. */
  async function handle(claim: Claim, ran: () => void): Promise<void> {
    const pickedUpAt = epochNow();
    const early = claim.instanceId !== undefined ? prefetch(claim.instanceId) : undefined;
    early?.catch(() => {}); // awaited below when used; a failure then is handled there
    const row = claim.row ?? (await executions.start(claim.executionId, id));
    if (!row) {
      // Gone (instance deleted) or already finished by an earlier delivery: nothing to run twice.
      const existing = await executions.get(claim.executionId);
      if (!existing || isTerminal(existing.status)) await claim.complete();
      return;
    }
    const startedAt = row.started_at ?? new Date().toISOString();
    const payload = JSON.parse(row.payload) as ExecutionPayload;
    const span = telemetry?.startExecution({
      traceparent: payload.traceparent,
      executionId: row.id,
      flow: row.flow,
      instanceId: row.instance_id,
      customerId: row.customer_id,
      attempt: Number(row.attempt),
      trigger: row.trigger,
      queuedAt: row.queued_at,
    });
    const read = early && claim.instanceId === row.instance_id ? await early : await prefetch(row.instance_id);
    const instance = read.instance;
    // The instance's own version: a reload leaves instances that were not upgraded on their code.
    const release = instance && integrations.release(instance.integrationKey, instance.integrationVersion);
    const integration = release?.integration;
    const flowDef = integration && Object.hasOwn(integration.flows, row.flow) ? integration.flows[row.flow] : undefined;
    const logs: LogLine[] = [];

    if (!instance || !release || !integration || !flowDef || (instance.status !== 'active' && instance.status !== 'error')) {
      const error = !instance
        ? 'The instance no longer exists'
        : !integration && integrations.has(instance.integrationKey)
          ? `Version ${instance.integrationVersion} of this integration is not loaded here; upgrade the instance, or load a module that has it`
          : !integration || !flowDef
            ? `Flow "${row.flow}" is no longer offered by this integration`
            : `The instance is ${instance.status}; the execution was not started`;
      await settle(claim, row, { status: 'failed', error, result: undefined, retryable: false }, logs, startedAt, 0);
      report(row, instance, { status: 'failed', error, result: undefined, durationMs: 0, logs });
      metrics?.executionFinished('failed', 0);
      span?.end('failed');
      return;
    }

    const controller = new AbortController();
    running.set(row.id, controller);
    let outcome: ExecutionOutcome;
    let handedAt = epochNow();
    try {
      const job = await buildJob(row, payload, instance, instance.customer, release, read.connections);
      handedAt = epochNow();
      outcome = await pool.run(job, (line) => logs.push(line), controller.signal, span && ((call) => span.fetch(call)), executionIO(instance, integration));
    } catch (error) {
      ran();
      running.delete(row.id);
      if (stopping || (error instanceof Error && error.name === 'ExecutorPoolClosedError')) {
        // The pool took nothing: back to the queue as it was.
        span?.end('released');
        await executions.release(row);
        await claim.retry(0, 'runner stopping');
        return;
      }
      outcome = {
        status: 'failed',
        error: `The execution could not be prepared: ${error instanceof Error ? error.message : String(error)}`,
        retryable: false,
        timings: { runMs: 0 },
      };
    }
    ran();
    running.delete(row.id);

    if (stopping && controller.signal.aborted) {
      // Cancelled by the drain's deadline: another runner gets it, it is not a failure.
      span?.end('released');
      await executions.release(row);
      await claim.retry(0, 'runner stopped before the execution finished');
      return;
    }

    const durationMs = Math.max(0, Math.round(epochNow() - pickedUpAt));
    // The flow has run: its outcome is written as soon as the database answers again. Handed back
    // to the queue instead, it would run a second time, and only after the hand-back's own waits.
    const final = await whenDatabaseAnswers(() =>
      settle(
        claim,
        row,
        { status: outcome.status, error: outcome.error ?? null, result: outcome.result, retryable: outcome.retryable, state: outcome.state },
        logs,
        startedAt,
        durationMs,
      ),
    );
    report(row, instance, { status: final, error: outcome.error ?? null, result: outcome.result, durationMs, logs });
    metrics?.executionFinished(final, durationMs);
    span?.end(final);
    options.onPhases?.({
      executionId: row.id,
      customerId: row.customer_id,
      status: final,
      queuedAt: Date.parse(row.queued_at),
      pickedUpAt,
      flowStartedAt: outcome.timings.startLatencyMs !== undefined ? handedAt + outcome.timings.startLatencyMs : undefined,
      doneAt: epochNow(),
      cold: outcome.timings.spawnMs !== undefined,
      overheadMs: outcome.timings.overheadMs,
    });
    if (final === 'queued') return;

    try {
      await trackHealth(instance, final, outcome.error ?? null);
      if (final !== 'succeeded') {
        const summary: ExecutionSummary = toSummary({ ...row, status: final, error: outcome.error ?? null, ended_at: new Date().toISOString() });
        alerts?.send('execution.failed', {
          customer: { id: instance.customer.id, externalId: instance.customer.externalId },
          instance: { id: instance.id, integrationKey: instance.integrationKey },
          execution: { id: summary.id, flow: summary.flow, status: summary.status, attempt: summary.attempt, error: summary.error, trigger: summary.trigger },
        });
      }
    } catch (error) {
      logger?.error({ err: error, executionId: row.id }, 'could not record instance health');
    }
  }

  async function sweepLost(): Promise<number> {
    if (!queue.lostExecutions) return 0;
    const candidates = await executions.unfinished(new Date(Date.now() - (options.lostAfterMs ?? 60_000)).toISOString(), 200);
    const lost = await queue.lostExecutions(candidates.map((c) => ({ id: c.id, customerId: c.customer_id })));
    let ended = 0;
    for (const { id: executionId, reason } of lost) {
      const error = `The execution was abandoned: ${reason}`;
      const row = await executions.abandon(executionId, error);
      if (!row) continue;
      ended++;
      metrics?.executionFinished('failed', 0);
      logger?.warn({ executionId, reason }, 'execution lost by the queue marked failed');
      const instance = await store.vendor.getInstance(row.instance_id);
      if (!instance) continue;
      await trackHealth(instance, 'failed', error);
      alerts?.send('execution.failed', {
        customer: { id: instance.customer.id, externalId: instance.customer.externalId },
        instance: { id: instance.id, integrationKey: instance.integrationKey },
        execution: { id: row.id, flow: row.flow, status: 'failed', attempt: Number(row.attempt), error, trigger: row.trigger },
      });
    }
    return ended;
  }

  const sweep = () => (sweeping ??= sweepLost().finally(() => (sweeping = undefined)));

  /**
   * A claim whose handling threw (the database failed under it: an outage) is unsettled: left so,
   * its row would stay `running` on a live runner until the queue's expiry. It goes back to the
   * queue as soon as the database answers again (tried every half second for a minute; the expiry stays the backstop).
   */
  async function handBack(claim: Claim, error: unknown): Promise<void> {
    const reason = `the runner could not finish handling it: ${error instanceof Error ? error.message : String(error)}`;
    try {
      await whenDatabaseAnswers(async () => {
        await executions.release({ id: claim.executionId });
        await claim.retry(0, reason);
      });
      return;
    } catch {
      // Not an outage, or a long one: the expiry below.
    }
    logger?.error({ executionId: claim.executionId }, 'could not hand the execution back; the queue will redeliver it when its job expires');
  }

  return {
    id,
    get inFlight() {
      return handling;
    },
    sweep,
    start() {
      // Beats from now on (the first one right away) and hands dead runners' executions back.
      supervisor?.start().catch((error: unknown) => logger?.error({ err: error }, 'runner supervisor failed to start'));
      const every = options.sweepIntervalMs ?? 60_000;
      if (every > 0 && queue.lostExecutions) {
        sweepTimer = setInterval(() => {
          sweep().catch((error: unknown) => logger?.error({ err: error }, 'lost-execution sweep failed'));
        }, every);
        sweepTimer.unref();
      }
      queue.consume(
        async (claim, ran) => {
          handling++;
          held.set(claim.executionId, claim.customerId);
          try {
            await handle(claim, ran);
          } catch (error) {
            logger?.error({ err: error, executionId: claim.executionId }, 'execution handling failed; handing it back to the queue');
            await handBack(claim, error);
          } finally {
            held.delete(claim.executionId);
            handling--;
          }
        },
        {
          concurrency: options.concurrency ?? 16,
          perCustomer: options.perCustomer ?? 4,
          ahead: options.claimAhead ?? options.perCustomer ?? 4,
          pollMs: options.pollMs ?? 500,
          runnerId: id,
        },
      );
    },
    async stop(graceMs: number) {
      clearInterval(sweepTimer);
      await sweeping;
      await queue.stopConsuming();
      const deadline = Date.now() + graceMs;
      while (handling > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      stopping = true;
      for (const controller of running.values()) controller.abort();
      while (handling > 0) await new Promise((r) => setTimeout(r, 20));
      // Beating until here: what it ran was its own until the end.
      await supervisor?.stop();
    },
  };
}
