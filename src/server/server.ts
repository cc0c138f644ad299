// Starting and stopping the HTTP server around the app: store, cipher, verifier and
// integrations from the config, graceful shutdown (stop accepting, finish in-flight, close store).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { DestinationStream } from 'pino';
import type { Integration } from '../sdk/index.js';
import { createApp, createRouteContext, type AppDeps, type BaseEnv, type RouteContext } from './app.js';
import { createTokenVerifier, KeyConfigError, type TokenVerifier } from './auth.js';
import type { Config } from './config.js';
import { loadIntegrations } from './integrations.js';
import { oauthMigrations } from './oauth/index.js';
import { createLogger, type Logger } from './logger.js';
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
  /** Extra store options, e.g. `migrations` of the oauth/runtime subsystems, or `sqlitePath`. */
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
  /** Stops accepting, lets in-flight requests finish, closes the store. Safe to call twice. */
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
      migrations: { ...oauthMigrations, ...options.storeOptions?.migrations },
      databaseUrl: config.databaseUrl,
    }));

  const deps: AppDeps = {
    store,
    cipher,
    integrations,
    verifier,
    logger,
    allowedOrigins: config.allowedOrigins,
    bodyLimitBytes: config.bodyLimitBytes,
    dataSourceTimeoutMs: config.dataSourceTimeoutMs,
    publicUrl: config.publicUrl,
    extend: options.extend,
  };
  const ctx = createRouteContext(deps);
  const app = createApp({ ...deps, integrations: ctx.integrations, logger: ctx.logger });

  let server!: Server;
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, resolve) as Server;
    server.once('error', reject);
  });
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  logger.info({ url, engine: store.engine, integrations: integrations.length }, 'plugboard listening');

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
  return { url, port: address.port, app, store, ctx, logger, close };
}
