// Where the server is assembled: the services are built here once, in order, and handed to
// createApp (HTTP), the runner CLI and tests. Nothing is added to them afterwards.
//   store, cipher, integrations → connection checks → OAuth → instance inputs → runtime (when it runs) → data sources → instances, erasure, audit trail
import type { Integration } from './sdk/index.js';
import type { Config } from './config.js';
import { createAuditTrail } from './audit-trail.js';
import { createConnectionChecks } from './connection-checks.js';
import { createConnectionProxy } from './connection-proxy.js';
import { createConnectionThrottle } from './runtime/connection-throttle.js';
import { createDataSources } from './data-sources.js';
import { createErasure } from './erasure.js';
import type { Services } from './env.js';
import { createInstanceInputs } from './instance-inputs.js';
import { createInstances } from './instances.js';
import { createIntegrationReload } from './integration-reload.js';
import { createUpgrades } from './upgrades.js';
import { IntegrationIndex, indexIntegrations, loadIntegrations } from './integrations.js';
import { createLogger, type Logger } from './logger.js';
import { allMigrations } from './migrations.js';
import { createOAuth, type OAuthOptions } from './oauth/index.js';
import { createRateLimits, type RateLimitSettings } from './rate-limits.js';
import { executorEnv, runtimeSettings, startRuntime, type RuntimeOptions, type RuntimeSettings } from './runtime/index.js';
import type { RuntimeMetrics } from './runtime/metrics.js';
import { newThreadsChannel, spawnRunnerThread } from './runtime/runner-thread.js';
import { createCipher, type Cipher } from './secrets.js';
import { openStore, type OpenStoreOptions } from './store/index.js';
import type { Store } from './store/types.js';
import type { Telemetry } from './telemetry.js';
import { KeyConfigError } from './auth.js';

export type { Services };

export interface ServicesOptions {
  /** Opened with every subsystem's migrations (`allMigrations`); its opener closes it. */
  store: Store;
  cipher: Cipher;
  /** The vendor's integrations (keys must be unique, or each repeat of a key another version of it: the first is the current one). */
  integrations: readonly Integration[] | IntegrationIndex;
  /** The module file `integrations` came from: integrationReload.reload() imports it again, and each load is remembered for the next start. Absent: neither. */
  integrationsModule?: string;
  /** Default: a silent logger. */
  logger?: Logger;
  /** Base URL of this server (OAuth redirect URI, webhook URLs). Default http://localhost:8787. */
  publicUrl?: string;
  /** Origins allowed by CORS and to start OAuth flows. Default: none (same-origin only). */
  allowedOrigins?: readonly string[];
  /** Time limit of the vendor's code run during a request: data sources, connection tests and identify. Default 10 s. */
  dataSourceTimeoutMs?: number;
  /** Token refresh margin, authorization lifetime, clock (tests). */
  oauth?: Pick<OAuthOptions, 'refreshMarginMs' | 'sessionTtlMs' | 'clock'>;
  /** API requests per minute (default 600 per customer, 1200 per vendor token; 0: no limit). */
  rateLimits?: Partial<RateLimitSettings>;
  /** Start the flow runtime (webhooks, executions, metrics; a runner unless `runner: false`). Absent: none. */
  runtime?: RuntimeOptions;
  /** OpenTelemetry export (startTelemetry); absent: none, and nothing of it on the hot path. */
  telemetry?: Telemetry;
  /** PLUGBOARD_EGRESS_ALLOW's exceptions, for the provider proxy (flows get theirs through the executor's environment). */
  egressAllow?: readonly string[];
}

export async function createServices(options: ServicesOptions): Promise<Services> {
  const { store, cipher } = options;
  const integrations =
    options.integrations instanceof IntegrationIndex ? options.integrations : indexIntegrations(options.integrations as readonly Integration[]);
  // Rows from before versions were recorded run the version loaded now (migration 0005).
  for (const integration of integrations.values()) await store.vendor.fillIntegrationVersion(integration.key, integration.version);
  const logger = options.logger ?? createLogger({ level: 'silent' });
  // Before the runtime starts: the versions instances still run are loaded again first (issue 12).
  const integrationReload = createIntegrationReload({ integrations, specifier: options.integrationsModule, store, logger });
  await integrationReload.start();
  const publicUrl = (options.publicUrl ?? 'http://localhost:8787').replace(/\/+$/, '');
  const allowedOrigins = options.allowedOrigins ?? [];

  const vendorCodeTimeoutMs = options.dataSourceTimeoutMs ?? 10_000;
  const checks = createConnectionChecks({ logger, timeoutMs: vendorCodeTimeoutMs });
  const oauth = createOAuth({ store, cipher, integrations, publicUrl, allowedOrigins, logger, identify: checks.identify, ...options.oauth });
  const inputs = createInstanceInputs({ store, cipher, oauth });
  const { telemetry } = options;
  const started = options.runtime ? await startRuntime({ store, cipher, integrations, inputs, publicUrl, logger, telemetry }, options.runtime) : undefined;
  const runtime = started?.runtime;
  const dataSources = createDataSources({ integrations, inputs, store, logger, timeoutMs: vendorCodeTimeoutMs });
  const instances = createInstances({
    cipher,
    integrations,
    oauth,
    checks,
    dataSources,
    webhooks: runtime ? (instance, integration) => runtime.webhooks.list(instance, integration) : undefined,
  });
  const erasure = createErasure({ store, oauth, queue: runtime?.queue, executors: started?.retire, logger });
  const rateLimits = await createRateLimits({ store, settings: options.rateLimits, logger });
  const upgrades = createUpgrades({ store, instances, integrations, logger });

  let stopping: Promise<void> | undefined;
  return {
    store,
    cipher,
    integrations,
    logger,
    publicUrl,
    allowedOrigins,
    oauth,
    inputs,
    instances,
    dataSources,
    erasure,
    proxy: createConnectionProxy({ store, cipher, oauth, integrations, egressAllow: options.egressAllow, logger, throttle: createConnectionThrottle(store) }),
    auditTrail: createAuditTrail(),
    integrationReload,
    upgrades,
    rateLimits,
    runtime,
    runner: started?.runner,
    executors: started?.pool,
    runnerReady: started?.runnerReady ?? Promise.resolve(),
    telemetry,
    // Bulk upgrades finish the instance in hand and are handed over, as the runner drains.
    stop: (graceMs) => (stopping ??= Promise.all([upgrades.stop(), started?.stop(graceMs)]).then(() => {})),
  };
}

export interface ServicesFromConfigOptions {
  /** Default: imported from `config.integrationsModule` (none when unset). An index is used as it is (`plugboard dev` swaps its entries on reload). */
  integrations?: readonly Integration[] | IntegrationIndex;
  /** Default: `openStore({ databaseUrl: config.databaseUrl, ...storeOptions })`, closed by `close()`; a given one stays open. */
  store?: Store;
  /** Extra store options, e.g. `sqlitePath` (every subsystem's migrations are always run). */
  storeOptions?: Omit<OpenStoreOptions, 'databaseUrl'>;
  /** Default: from `config.encryptionKey` (required then). */
  cipher?: Cipher;
  /** Default: a silent logger. */
  logger?: Logger;
  /** OpenTelemetry export (startTelemetry); absent: none. The caller shuts it down. */
  telemetry?: Telemetry;
  /**
   * The flow runtime, from `env` (default process.env) unless `settings` are given; a runner runs
   * when PLUGBOARD_RUNNER allows and the integrations module is set (`runner` overrides). `false`: none.
   */
  runtime?:
    | false
    | {
        env?: Record<string, string | undefined>;
        settings?: RuntimeSettings;
        runner?: boolean;
        /**
         * Run the runner on a thread of its own unless PLUGBOARD_RUNNER=inline (startServer asks for it;
         * needs a store opened here on a file or PostgreSQL, which the thread opens too).
         */
        thread?: boolean;
        /** Where the runner thread's log lines go (default: it writes them to stdout). */
        threadLogLine?: (line: string) => void;
        /** Set in the runner thread itself (runner-thread-main.ts). */
        threads?: string;
        metrics?: RuntimeMetrics;
        onReport?: RuntimeOptions['onReport'];
      };
}

/** The services `plugboard serve` and `plugboard runner` run with, from the configuration. `close()` stops them and closes a store opened here. */
export async function servicesFromConfig(config: Config, options: ServicesFromConfigOptions = {}): Promise<Services & { close(): Promise<void> }> {
  const logger = options.logger ?? createLogger({ level: 'silent' });
  if (!options.cipher && !config.encryptionKey) throw new KeyConfigError('PLUGBOARD_ENCRYPTION_KEY is not set');
  const cipher = options.cipher ?? createCipher(config.encryptionKey!);

  let runtime: RuntimeOptions | undefined;
  let threads: string | undefined;
  if (options.runtime !== false) {
    const env = options.runtime?.env ?? process.env;
    // The executors import the integrations from the module: without one, this process runs no flows.
    if (!config.integrationsModule) logger.warn('PLUGBOARD_INTEGRATIONS is not set: no runner here, webhooks and schedules only queue executions');
    const settings = options.runtime?.settings ?? runtimeSettings(env);
    const runner = options.runtime?.runner ?? (config.integrationsModule ? undefined : false);
    // The thread opens the same database (not a store handed in, nor an in-memory SQLite database)
    // and a report callback can't cross to it (`plugboard dev` keeps its runner here).
    const onThread =
      options.runtime?.thread === true &&
      settings.runnerThread &&
      (runner ?? settings.runner) &&
      !options.store &&
      !options.runtime.onReport &&
      config.databaseUrl?.trim() !== ':memory:';
    threads = onThread ? newThreadsChannel() : options.runtime?.threads;
    runtime = {
      threads,
      metrics: options.runtime?.metrics,
      // Spawned now: the thread loads its modules while this side loads the integrations and opens the store.
      thread: onThread
        ? spawnRunnerThread({
            config,
            env,
            storeOptions: {
              sqlitePath: options.storeOptions?.sqlitePath,
              pgSchema: options.storeOptions?.pgSchema ?? settings.pgSchema,
              queryTimeoutMs: options.storeOptions?.queryTimeoutMs ?? config.databaseQueryTimeoutMs,
            },
            threads: threads!,
            telemetry: options.telemetry !== undefined,
            logLine: options.runtime?.threadLogLine,
            httpNice: settings.httpNice,
          })
        : undefined,
      settings,
      integrationsModule: config.integrationsModule,
      databaseUrl: config.databaseUrl,
      databaseQueryTimeoutMs: config.databaseQueryTimeoutMs,
      runner,
      onReport: options.runtime?.onReport,
      allowWeakIsolation: config.allowWeakIsolation,
      hiddenFiles: config.secretFiles,
      // The executors read their egress exceptions from here (and drop the variable before any flow runs).
      executorEnv: { ...executorEnv(env), ...(config.egressAllow.length ? { PLUGBOARD_EGRESS_ALLOW: config.egressAllow.join(',') } : {}) },
    };
  }

  let integrations: readonly Integration[] | IntegrationIndex;
  let store: Store;
  try {
    integrations = options.integrations ?? (config.integrationsModule ? await loadIntegrations(config.integrationsModule) : []);
    store =
      options.store ??
      (await openStore({
        // PLUGBOARD_PG_SCHEMA: `serve` keeps its tables where `plugboard runner` looks for them.
        pgSchema: runtime?.settings.pgSchema,
        queryTimeoutMs: config.databaseQueryTimeoutMs,
        sqliteCheckpointMs: config.sqliteCheckpointMs,
        ...options.storeOptions,
        // SQLite: the runner thread's cache and this one drop each other's entries.
        ...(runtime?.thread ? { cache: { ...options.storeOptions?.cache, threads } } : {}),
        migrations: { ...allMigrations, ...options.storeOptions?.migrations },
        databaseUrl: config.databaseUrl,
      }));
  } catch (error) {
    await runtime?.thread?.cancel();
    throw error;
  }
  if ((integrations instanceof Map ? integrations.size : (integrations as readonly Integration[]).length) === 0)
    logger.warn('no integrations loaded: set PLUGBOARD_INTEGRATIONS to the module that exports them');
  const closeStore = options.store ? async () => {} : () => store.close();
  let services: Services;
  try {
    services = await createServices({
      store,
      cipher,
      integrations,
      logger,
      publicUrl: config.publicUrl,
      allowedOrigins: config.allowedOrigins,
      dataSourceTimeoutMs: config.dataSourceTimeoutMs,
      rateLimits: config.rateLimits,
      runtime,
      telemetry: options.telemetry,
      egressAllow: config.egressAllow,
      integrationsModule: options.integrations ? undefined : config.integrationsModule,
    });
  } catch (error) {
    await runtime?.thread?.cancel();
    await closeStore();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    ...services,
    close: () =>
      (closing ??= (async () => {
        await services.stop();
        await closeStore();
      })()),
  };
}
