// Starting and stopping the HTTP server around the app: store, cipher, verifier and
// integrations from the config, graceful shutdown (stop accepting, finish in-flight, close store).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { DestinationStream } from 'pino';
import type { Integration } from './sdk/index.js';
import { createApp, createRouteContext, type AppDeps, type BaseEnv, type RouteContext } from './app.js';
import { createTokenVerifier, KeyConfigError, type TokenVerifier } from './auth.js';
import type { Config } from './config.js';
import { indexIntegrations, loadIntegrations } from './integrations.js';
import { allMigrations } from './migrations.js';
import { accessTokenResolver, oauthFor } from './oauth/index.js';
import { createLogger, type Logger } from './logger.js';
import { executorEnv, runtimeSettings, startRuntime, type RuntimeSettings, type StartedRuntime } from './runtime/index.js';
import { createCipher, type Cipher } from './secrets.js';
import { openStore, type OpenStoreOptions } from './store/index.js';
import type { Store } from './store/types.js';

export { createApp };

export interface StartServerOptions {
  config: Config;
  /** Default: imported from `config.integrationsModule` (none when unset). */
  integrations?: readonly Integration[];
  /** Default: `openStore({ databaseUrl: config.databaseUrl, ...storeOptions })`; closed on shutdown either way. */
  store?: Store;
  /** Extra store options, e.g. `sqlitePath` (every subsystem's migrations are always run). */
  storeOptions?: Omit<OpenStoreOptions, 'databaseUrl'>;
  /** Default: from `config.encryptionKey` (required then). */
  cipher?: Cipher;
  /** Default: from `config.jwt` (keys or JWKS URL, and the issuer, required then). */
  verifier?: TokenVerifier;
  /** Default: pino at `config.logLevel`, to `logStream` or stdout. */
  logger?: Logger;
  logStream?: DestinationStream;
  /** See AppDeps.extend: mount routes of other modules. */
  extend?: AppDeps['extend'];
  /**
   * The flow runtime: /hooks/:token, the executions API, /metrics and (unless PLUGBOARD_RUNNER=off)
   * a runner in this process. Default: started from `env` (default process.env). `false`: none,
   * e.g. for a caller that runs its own and mounts it through `extend`.
   */
  runtime?: false | { env?: Record<string, string | undefined>; settings?: RuntimeSettings };
  /** Install SIGTERM/SIGINT handlers that close gracefully, then exit (the CLI does). Default false. */
  handleSignals?: boolean;
  /** In-flight requests get this long after a shutdown starts before connections are cut. Default 10 s. */
  shutdownGraceMs?: number;
}

export interface RunningServer {
  /** `http://127.0.0.1:<port>` when bound to all interfaces, else the bound host. */
  url: string;
  port: number;
  app: Hono<BaseEnv>;
  store: Store;
  ctx: RouteContext;
  logger: Logger;
  /** The flow runtime started here (undefined with `runtime: false`). */
  runtime: StartedRuntime | undefined;
  /** Stops accepting, lets in-flight requests finish, drains the runtime, closes the store. Safe to call twice. */
  close(): Promise<void>;
}

/** Builds the verifier the config describes. */
export function verifierFromConfig(config: Config, options: { jwksCooldownMs?: number } = {}): TokenVerifier {
  if (!config.jwt.issuer) throw new KeyConfigError('PLUGBOARD_JWT_ISSUER is not set');
  if (!config.jwt.keys && !config.jwt.jwksUrl) throw new KeyConfigError('PLUGBOARD_JWT_KEYS or PLUGBOARD_JWKS_URL is not set');
  return createTokenVerifier({
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    keys: config.jwt.keys,
    jwksUrl: config.jwt.jwksUrl,
    jwksCooldownMs: options.jwksCooldownMs,
  });
}

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.logLevel, stream: options.logStream });
  const verifier = options.verifier ?? verifierFromConfig(config);
  if (!options.cipher && !config.encryptionKey) throw new KeyConfigError('PLUGBOARD_ENCRYPTION_KEY is not set');
  const cipher = options.cipher ?? createCipher(config.encryptionKey!);
  const integrations = options.integrations ?? (config.integrationsModule ? await loadIntegrations(config.integrationsModule) : []);
  if (integrations.length === 0) logger.warn('no integrations loaded: set PLUGBOARD_INTEGRATIONS to the module that exports them');
  const store =
    options.store ??
    (await openStore({
      ...options.storeOptions,
      migrations: { ...allMigrations, ...options.storeOptions?.migrations },
      databaseUrl: config.databaseUrl,
    }));

  const index = indexIntegrations(integrations);
  let runtime: StartedRuntime | undefined;
  if (options.runtime !== false) {
    const env = options.runtime?.env ?? process.env;
    // The executors import the integrations from the module: without one, this process runs no flows.
    if (!config.integrationsModule) logger.warn('PLUGBOARD_INTEGRATIONS is not set: no runner here, webhooks and schedules only queue executions');
    try {
      runtime = await startRuntime({
        store,
        cipher,
        integrations: index,
        integrationsModule: config.integrationsModule,
        databaseUrl: config.databaseUrl,
        publicUrl: config.publicUrl,
        settings: options.runtime?.settings ?? runtimeSettings(env),
        runner: config.integrationsModule ? undefined : false,
        logger,
        getAccessToken: accessTokenResolver(
          oauthFor({ store, cipher, integrations: index, publicUrl: config.publicUrl, allowedOrigins: config.allowedOrigins, logger }),
        ),
        executorEnv: executorEnv(env),
      });
    } catch (err) {
      if (!options.store) await store.close();
      throw err;
    }
  }

  const deps: AppDeps = {
    store,
    cipher,
    integrations: index,
    verifier,
    logger,
    allowedOrigins: config.allowedOrigins,
    bodyLimitBytes: config.bodyLimitBytes,
    dataSourceTimeoutMs: config.dataSourceTimeoutMs,
    publicUrl: config.publicUrl,
    extend:
      runtime || options.extend
        ? (parts) => {
            runtime?.mount(parts);
            options.extend?.(parts);
          }
        : undefined,
  };
  const ctx = createRouteContext(deps);
  const app = createApp({ ...deps, integrations: ctx.integrations, logger: ctx.logger });

  let server!: Server;
  let address: AddressInfo;
  try {
    address = await new Promise<AddressInfo>((resolve, reject) => {
      server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, resolve) as Server;
      server.once('error', reject);
    });
  } catch (err) {
    await runtime?.stop(0);
    if (!options.store) await store.close();
    throw err;
  }
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  logger.info({ url, engine: store.engine, integrations: integrations.length, runner: runtime?.runner?.id ?? null }, 'plugboard listening');

  let closing: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down');
    void close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  function close(): Promise<void> {
    closing ??= (async () => {
      if (options.handleSignals) {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
      await new Promise<void>((resolve) => {
        server.close(() => resolve()); // resolves once in-flight requests have finished
        server.closeIdleConnections();
        const force = setTimeout(() => server.closeAllConnections(), options.shutdownGraceMs ?? 10_000);
        force.unref();
      });
      // Webhooks accepted above are queued by now; the runner drains before the store goes.
      await runtime?.stop();
      await store.close();
      logger.info('stopped');
      logger.flush?.();
    })();
    return closing;
  }
  if (options.handleSignals) {
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return { url, port: address.port, app, store, ctx, logger, runtime, close };
}
