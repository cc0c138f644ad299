// Wiring of the runtime from the environment: the queue for the engine in use, the runtime the
// routes use, and (unless disabled) a runner with its scheduler and lifecycle-alert relay.
//   SQLite:      in-process queue; `plugboard serve` runs the one runner, on a thread of its own
//                (runner-thread.ts; PLUGBOARD_RUNNER=inline: on the HTTP thread, off: none).
//   PostgreSQL:  pg-boss; any number of `plugboard runner` processes, and serve may run one too.
import { sql } from 'kysely';
import type { InstanceInputs } from '../instance-inputs.js';
import type { IntegrationIndex } from '../integrations.js';
import type { Logger } from '../logger.js';
import type { Telemetry } from '../telemetry.js';
import type { Cipher } from '../secrets.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/types.js';
import { ALERT_SECRET_PATTERN, createAlertSender, type AlertSender } from './alerts.js';
import { Backpressure } from './backpressure.js';
import { ExecutionStore } from './executions.js';
import { createExecutorPool, type ExecutorPool } from './executor/index.js';
import { createLifecycleRelay, type LifecycleRelay } from './lifecycle.js';
import { createLifecycleWebhooks, type LifecycleWebhooks } from './lifecycle-webhooks.js';
import { createMetrics, type RuntimeMetrics } from './metrics.js';
import { createPgBossQueue } from './pgboss-queue.js';
import type { ExecutionQueue } from './queue.js';
import { createRunner, type ExecutionPhases, type ExecutionReport, type Runner } from './runner.js';
import type { PendingRunnerThread, RunnerThread } from './runner-thread.js';
import { createRuntime, type Runtime } from './runtime.js';
import { createScheduler, type Scheduler } from './scheduler.js';
import { runtimeDb, runtimeMigrations } from './schema.js';
import { createSqliteQueue } from './sqlite-queue.js';

export { runtimeMigrations } from './schema.js';
export type { Runtime } from './runtime.js';
export type { Runner, ExecutionPhases, ExecutionReport } from './runner.js';

export interface RuntimeSettings {
  /** PLUGBOARD_RUNNER: run a runner in this process (serve; default on). */
  runner: boolean;
  /**
   * PLUGBOARD_RUNNER=on (default): `plugboard serve` runs its runner on a thread of its own
   * (runner-thread.ts), so executions do not wait behind the HTTP traffic's event loop; `inline`: on
   * the HTTP side's thread.
   */
  runnerThread: boolean;
  concurrency: number;
  perCustomer: number;
  /** PLUGBOARD_RUNNER_CLAIM_AHEAD: claims of one customer taken ahead of a free executor slot (default: as many as perCustomer). */
  claimAhead: number;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseDelayMs: number;
  failureThreshold: number;
  alertUrl: string | undefined;
  alertSecret: string | undefined;
  /** PLUGBOARD_LIFECYCLE_WEBHOOK_URL / _SECRET: where instance and connection lifecycle events go (lifecycle-webhooks.ts). */
  lifecycleUrl: string | undefined;
  lifecycleSecret: string | undefined;
  drainGraceMs: number;
  scheduleIntervalMs: number;
  webhookBodyLimitBytes: number;
  /**
   * PLUGBOARD_HTTP_NICE (0–19, default 0): with the runner on its own thread, the HTTP thread lowers
   * its own scheduling priority by this much (Linux: per thread), so when the host's CPU is short the
   * runner's work in progress goes before accepting more of it.
   */
  httpNice: number;
  /** PLUGBOARD_QUEUE_LIMIT_PER_CUSTOMER: queued executions one customer may have before webhooks get 429 (0: no limit). */
  queueLimitPerCustomer: number;
  /** PLUGBOARD_QUEUE_LIMIT: queued executions of all customers before webhooks get 503 (0: no limit). */
  queueLimit: number;
  /** PostgreSQL only. */
  pgSchema: string | undefined;
  bossSchema: string;
  visibilityTimeoutS: number;
  maintenanceIntervalS: number;
  pollMs: number;
  /** PostgreSQL: a runner whose heartbeat is this old is dead and its executions go to others (0: pg-boss expiry only). */
  runnerDeadAfterS: number;
}

export class RuntimeSettingsError extends Error {}

/** `PLUGBOARD_EXECUTOR_ENV_<NAME>=v` hands `<NAME>=v` to every executor (e.g. the vendor's API base URL). */
export function executorEnv(env: Record<string, string | undefined> = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('PLUGBOARD_EXECUTOR_ENV_') && value !== undefined) out[name.slice('PLUGBOARD_EXECUTOR_ENV_'.length)] = value;
  }
  return out;
}

/** Reads the runtime's variables; throws one error naming every bad one. */
export function runtimeSettings(env: Record<string, string | undefined> = process.env): RuntimeSettings {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const timeoutMs = int('PLUGBOARD_EXECUTION_TIMEOUT_MS', 30_000, 100, 3_600_000);
  const runnerFlag = (env.PLUGBOARD_RUNNER ?? 'on').trim().toLowerCase();
  if (!['on', 'off', 'inline', 'true', 'false', '1', '0'].includes(runnerFlag))
    problems.push(`PLUGBOARD_RUNNER must be on, inline or off (got "${runnerFlag}")`);
  // Alerts and lifecycle events: a URL and its Standard Webhooks secret each, always signed.
  const signedReceiver = (urlName: string, secretName: string) => {
    const url = env[urlName]?.trim() || undefined;
    if (url && !/^https?:\/\//.test(url)) problems.push(`${urlName} must be an http(s) URL`);
    const secret = env[secretName]?.trim() || undefined;
    if (url && !secret) problems.push(`${secretName} is needed with ${urlName} (they are always signed)`);
    if (secret && !ALERT_SECRET_PATTERN.test(secret)) {
      problems.push(
        `${secretName} must be a Standard Webhooks secret: whsec_ followed by the base64 of 24 to 64 random bytes (e.g. "whsec_$(openssl rand -base64 32)")`,
      );
    }
    return { url, secret };
  };
  const alerts = signedReceiver('PLUGBOARD_ALERT_WEBHOOK_URL', 'PLUGBOARD_ALERT_SECRET');
  const lifecycle = signedReceiver('PLUGBOARD_LIFECYCLE_WEBHOOK_URL', 'PLUGBOARD_LIFECYCLE_WEBHOOK_SECRET');
  const perCustomer = int('PLUGBOARD_RUNNER_PER_CUSTOMER', 4, 1, 1000);
  const settings: RuntimeSettings = {
    runner: ['on', 'inline', 'true', '1'].includes(runnerFlag),
    runnerThread: runnerFlag !== 'inline',
    concurrency: int('PLUGBOARD_RUNNER_CONCURRENCY', 16, 1, 1000),
    perCustomer,
    claimAhead: int('PLUGBOARD_RUNNER_CLAIM_AHEAD', perCustomer, 0, 1000),
    timeoutMs,
    maxAttempts: int('PLUGBOARD_MAX_ATTEMPTS', 3, 1, 20),
    retryBaseDelayMs: int('PLUGBOARD_RETRY_BASE_MS', 1000, 10, 3_600_000),
    failureThreshold: int('PLUGBOARD_FAILURE_THRESHOLD', 3, 1, 1000),
    alertUrl: alerts.url,
    alertSecret: alerts.secret,
    lifecycleUrl: lifecycle.url,
    lifecycleSecret: lifecycle.secret,
    drainGraceMs: int('PLUGBOARD_DRAIN_GRACE_MS', 30_000, 0, 3_600_000),
    scheduleIntervalMs: int('PLUGBOARD_SCHEDULE_INTERVAL_MS', 10_000, 100, 600_000),
    webhookBodyLimitBytes: int('PLUGBOARD_WEBHOOK_BODY_LIMIT_BYTES', 256 * 1024, 1024, 100 * 1024 * 1024),
    httpNice: int('PLUGBOARD_HTTP_NICE', 0, 0, 19),
    queueLimitPerCustomer: int('PLUGBOARD_QUEUE_LIMIT_PER_CUSTOMER', 1000, 0, 10_000_000),
    queueLimit: int('PLUGBOARD_QUEUE_LIMIT', 20_000, 0, 100_000_000),
    pgSchema: env.PLUGBOARD_PG_SCHEMA?.trim() || undefined,
    bossSchema: env.PLUGBOARD_PGBOSS_SCHEMA?.trim() || 'pgboss',
    visibilityTimeoutS: int('PLUGBOARD_VISIBILITY_TIMEOUT_S', Math.ceil(timeoutMs / 1000) + 60, 2, 86_400),
    maintenanceIntervalS: int('PLUGBOARD_MAINTENANCE_INTERVAL_S', 30, 1, 3600),
    pollMs: int('PLUGBOARD_RUNNER_POLL_MS', 500, 20, 60_000),
    runnerDeadAfterS: int('PLUGBOARD_RUNNER_DEAD_AFTER_S', 10, 0, 86_400),
  };
  if (problems.length) throw new RuntimeSettingsError(problems.join('\n'));
  return settings;
}

export interface StartedRuntime {
  /** The control plane the routes use: webhooks, executions, metrics. */
  runtime: Runtime;
  runner: Runner | undefined;
  /** The runner's executor pool, when it runs on this thread. */
  pool: ExecutorPool | undefined;
  /** Where erasure retires a customer's executors (the runner thread's, when it has one). */
  retire: Pick<ExecutorPool, 'retire'> | undefined;
  /** Drains the runner (up to the grace period), then stops everything; the store stays open. */
  stop(graceMs?: number): Promise<void>;
  /** Resolves once the runner takes work (at once unless it runs on its own thread: runner-thread.ts). */
  runnerReady: Promise<void>;
}

/** What the runtime is built from: the services it shares with the HTTP side (services.ts). */
export interface RuntimeParts {
  store: Store;
  cipher: Cipher;
  integrations: IntegrationIndex;
  /** Resolves each execution's config and connections (fresh tokens). */
  inputs: InstanceInputs;
  publicUrl: string;
  logger?: Logger;
  /** OpenTelemetry, when exported (telemetry.ts): execution spans, the trace context stored with each execution, metrics. */
  telemetry?: Telemetry;
}

export interface RuntimeOptions {
  settings: RuntimeSettings;
  /** Module the executors import the integrations from; needed when a runner runs. */
  integrationsModule?: string;
  databaseUrl?: string;
  /** PostgreSQL statement timeout of pg-boss's connections (default that of the store). */
  databaseQueryTimeoutMs?: number;
  /** Run a runner here (default: settings.runner). */
  runner?: boolean;
  /** Variables every executor gets (their environment is otherwise scrubbed). */
  executorEnv?: Record<string, string>;
  /** Run flows even where executors can't have their own PID namespace (PLUGBOARD_ALLOW_WEAK_ISOLATION). */
  allowWeakIsolation?: boolean;
  /** Files no flow may read (the `*_FILE` secrets). */
  hiddenFiles?: readonly string[];
  /** Each execution's phase times, as the runner here finishes it (benchmarks). */
  onPhases?: (phases: ExecutionPhases) => void;
  /** Each attempt as the runner here ends it, with its log lines (`plugboard dev`). */
  onReport?: (report: ExecutionReport) => void;
  /** The queue, when not the one the engine and settings call for (tests); closed on stop either way. */
  queue?: ExecutionQueue;
  /** The alert sender, when not the one the settings describe (tests); closed on stop either way. */
  alerts?: AlertSender;
  /**
   * Run the runner on this thread of its own (runner-thread.ts, spawned early so it loads while this
   * side starts); this side keeps the control plane (webhooks, executions API, metrics).
   */
  thread?: PendingRunnerThread;
  /** SQLite: the BroadcastChannel name this process's threads wake each other's runner on (runner-thread.ts). */
  threads?: string;
  /** The metrics, when not this process's own (the runner thread sends its figures to the HTTP side). */
  metrics?: RuntimeMetrics;
}

/**
 * On PostgreSQL, the runner claims, reads and writes through a pool of its own (same database and
 * schema): under webhook load its statements would otherwise queue behind the webhooks' in the
 * shared pool, and executions would crawl while webhooks pour in.
 */
async function runnerStore(store: Store, databaseUrl: string, size: number, queryTimeoutMs: number | undefined): Promise<Store> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db);
  // The same timeouts as every other pool: a claim sent into a black-holed connection must fail after
  // them, or its customer's next claim waits for the 30 s default after the database is back.
  return openStore({ databaseUrl, pgSchema: rows[0]?.schema, migrate: false, poolSize: size, queryTimeoutMs });
}

export async function startRuntime(parts: RuntimeParts, options: RuntimeOptions): Promise<StartedRuntime> {
  const { store, logger, telemetry } = parts;
  const { settings } = options;
  const withRunner = options.runner ?? settings.runner;
  // The runner runs here, not in a thread of its own.
  const runsHere = withRunner && !options.thread;
  const executions = new ExecutionStore(runtimeDb(store.db));
  const ownStore =
    runsHere && store.engine === 'postgres' && options.databaseUrl && !options.queue
      ? await runnerStore(store, options.databaseUrl, Math.min(8, settings.concurrency), options.databaseQueryTimeoutMs)
      : undefined;
  const queue: ExecutionQueue =
    options.queue ??
    (store.engine === 'postgres'
      ? await createPgBossQueue({
          connectionString: options.databaseUrl!,
          bossSchema: settings.bossSchema,
          supervise: runsHere,
          visibilityTimeoutS: settings.visibilityTimeoutS,
          maintenanceIntervalS: settings.maintenanceIntervalS,
          queryTimeoutMs: options.databaseQueryTimeoutMs,
          logger,
          executions: ownStore ? new ExecutionStore(runtimeDb(ownStore.db)) : executions,
        })
      : createSqliteQueue({ executions, runnerId: 'embedded', threads: options.threads, onError: (err) => logger?.error({ err }, 'queue failed') }));
  const metrics = options.metrics ?? createMetrics(telemetry && { meter: telemetry.meter, queueStats: () => queue.stats() });
  const alerts = options.alerts ?? createAlertSender({ url: settings.alertUrl, secret: settings.alertSecret, logger });
  const runtime = createRuntime({
    store,
    cipher: parts.cipher,
    queue,
    metrics,
    alerts,
    publicUrl: parts.publicUrl,
    maxAttempts: settings.maxAttempts,
    webhookBodyLimitBytes: settings.webhookBodyLimitBytes,
    backpressure: new Backpressure({
      perCustomer: settings.queueLimitPerCustomer,
      global: settings.queueLimit,
      countQueued: () => executions.queuedByCustomer(),
      onError: (err) => logger?.warn({ err }, 'queued counts could not be refreshed; queue limits are not enforced until they are'),
    }),
    telemetry,
  });

  let pool: ExecutorPool | undefined;
  let runner: Runner | undefined;
  let scheduler: Scheduler | undefined;
  let relay: LifecycleRelay | undefined;
  let lifecycleWebhooks: LifecycleWebhooks | undefined;
  let thread: RunnerThread | undefined;
  if (withRunner && options.thread) {
    if (!options.integrationsModule) throw new RuntimeSettingsError('a runner needs PLUGBOARD_INTEGRATIONS (the executors import the integrations from it)');
    thread = options.thread.start({ metrics, logger });
    runner = thread.runner;
  } else if (withRunner) {
    if (!options.integrationsModule) throw new RuntimeSettingsError('a runner needs PLUGBOARD_INTEGRATIONS (the executors import the integrations from it)');
    pool = createExecutorPool({
      integrationsModule: options.integrationsModule,
      maxPerCustomer: settings.perCustomer,
      env: options.executorEnv,
      allowWeakIsolation: options.allowWeakIsolation,
      hiddenFiles: options.hiddenFiles,
      // What the operator should fix (weak isolation, uids off) goes to the log.
      onEvent: (event) => {
        if (event.type === 'warning') logger?.warn(event.message);
      },
    });
    runner = createRunner({
      store: ownStore ?? store,
      integrations: parts.integrations,
      inputs: parts.inputs,
      pool,
      queue,
      logger,
      alerts,
      metrics,
      telemetry,
      concurrency: settings.concurrency,
      perCustomer: settings.perCustomer,
      claimAhead: settings.claimAhead,
      pollMs: settings.pollMs,
      timeoutMs: settings.timeoutMs,
      retryBaseDelayMs: settings.retryBaseDelayMs,
      failureThreshold: settings.failureThreshold,
      deadAfterMs: settings.runnerDeadAfterS * 1000,
      onPhases: options.onPhases,
      onReport: options.onReport,
    });
    runner.start();
    scheduler = createScheduler({ store, integrations: parts.integrations, runtime, intervalMs: settings.scheduleIntervalMs, logger });
    scheduler.start();
    relay = createLifecycleRelay({ store, alerts, onError: (err) => logger?.warn({ err }, 'lifecycle alert relay failed') });
    relay.start();
    if (settings.lifecycleUrl && settings.lifecycleSecret) {
      lifecycleWebhooks = createLifecycleWebhooks({ store, url: settings.lifecycleUrl, secret: settings.lifecycleSecret, logger });
      lifecycleWebhooks.start();
    }
  }

  return {
    runtime,
    runner,
    pool,
    retire: thread?.executors ?? pool,
    runnerReady: thread?.ready ?? Promise.resolve(),
    async stop(graceMs = settings.drainGraceMs) {
      await thread?.stop(graceMs);
      await scheduler?.stop();
      await relay?.stop();
      await lifecycleWebhooks?.stop();
      await runner?.stop(graceMs);
      await pool?.drain(1000);
      await alerts.flush(5000);
      alerts.close();
      await queue.close();
      await ownStore?.close();
    },
  };
}

export { runtimeMigrations as migrations };
