// Starting and stopping the HTTP server around the app: the services from the config
// (services.ts), the verifier, graceful shutdown (stop accepting, finish in-flight, close store).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { DestinationStream } from 'pino';
import { createApp, type AppOptions } from './app.js';
import { createTokenVerifier, KeyConfigError, type TokenVerifier } from './auth.js';
import { DEFAULT_SHUTDOWN_DELAY_MS, type Config } from './config.js';
import type { BaseEnv, Services } from './env.js';
import { createLogger, type Logger } from './logger.js';
import { readinessFor } from './readiness.js';
import type { Cipher } from './secrets.js';
import { servicesFromConfig, type ServicesFromConfigOptions } from './services.js';
import type { OpenStoreOptions } from './store/index.js';
import type { Store } from './store/types.js';
import { startTelemetry, type Telemetry } from './telemetry.js';

export interface StartServerOptions {
  config: Config;
  /** Default: imported from `config.integrationsModule` (none when unset). */
  integrations?: ServicesFromConfigOptions['integrations'];
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
  /** Your own routes, served beside Plugboard's behind the same middleware (see AppOptions.routes). */
  routes?: AppOptions['routes'];
  /**
   * The flow runtime: /hooks/:token, the executions API, /metrics and (unless PLUGBOARD_RUNNER=off)
   * a runner in this process, on a thread of its own (PLUGBOARD_RUNNER=inline: on the HTTP side's). Default: started from `env` (default process.env). `false`: none.
   */
  runtime?: ServicesFromConfigOptions['runtime'];
  /**
   * OpenTelemetry export. Default: started from process.env when OTEL_EXPORTER_OTLP_ENDPOINT (or a
   * per-signal endpoint) is set, as service `plugboard-server` unless OTEL_SERVICE_NAME says otherwise,
   * and shut down by close(). A given one is used (and left running); false: none.
   */
  telemetry?: Telemetry | false;
  /** Install SIGTERM/SIGINT handlers that close gracefully, then exit (the CLI does). Default false. */
  handleSignals?: boolean;
  /** In-flight requests get this long after the listener closes before connections are cut. Default 10 s. */
  shutdownGraceMs?: number;
  /**
   * On SIGTERM/SIGINT (handleSignals), /readyz answers 503 at once and requests are still served
   * this long before the listener closes, so a balancer sees it and stops sending. Default
   * `config.shutdownDelayMs`, else DEFAULT_SHUTDOWN_DELAY_MS. `close()` itself does not wait it.
   */
  shutdownDelayMs?: number;
}

export interface RunningServer {
  /** `http://127.0.0.1:<port>` when bound to all interfaces, else the bound host. */
  url: string;
  port: number;
  app: Hono<BaseEnv>;
  store: Store;
  services: Services;
  logger: Logger;
  /** Stops accepting, lets in-flight requests finish, drains the runtime, closes the store. Safe to call twice. */
  close(): Promise<void>;
  /** /readyz answers 503 from now on; requests are still served until close(). */
  startDraining(): void;
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
  const ownTelemetry = options.telemetry === undefined ? await startTelemetry({ serviceName: 'plugboard-server' }) : undefined;
  const telemetry = options.telemetry === false ? undefined : (options.telemetry ?? ownTelemetry);
  const logger = options.logger ?? createLogger({ level: config.logLevel, stream: options.logStream, telemetry });
  const verifier = options.verifier ?? verifierFromConfig(config);
  let services: Awaited<ReturnType<typeof servicesFromConfig>>;
  try {
    services = await servicesFromConfig(config, {
      integrations: options.integrations,
      store: options.store,
      storeOptions: options.storeOptions,
      cipher: options.cipher,
      logger,
      // The runner on a thread of its own (PLUGBOARD_RUNNER=inline: on this one), its log lines where this side's go.
      runtime:
        options.runtime === false
          ? false
          : { ...options.runtime, thread: true, threadLogLine: options.logStream ? (line) => void options.logStream!.write(line) : undefined },
      telemetry,
    });
  } catch (err) {
    await ownTelemetry?.shutdown();
    throw err;
  }
  const { store } = services;
  let draining = false;
  // /readyz answers from a check on a connection of its own, so a saturated pool doesn't fail it.
  const readiness = readinessFor(store, config.databaseUrl);
  await readiness.firstCheck;
  const app = createApp({ services, verifier, bodyLimitBytes: config.bodyLimitBytes, routes: options.routes, draining: () => draining, readiness });

  let server!: Server;
  let address: AddressInfo;
  try {
    address = await new Promise<AddressInfo>((resolve, reject) => {
      server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, resolve) as Server;
      server.once('error', reject);
    });
  } catch (err) {
    await readiness.close();
    await services.stop(0);
    await services.close();
    await ownTelemetry?.shutdown();
    throw err;
  }
  // While draining, each response closes its connection: a keep-alive client (a balancer's or an
  // ingress's pool, which a health check doesn't empty) reconnects to a replica that stays, instead
  // of racing the listener's close with its next request.
  server.prependListener('request', (_req, res) => {
    if (draining) res.setHeader('connection', 'close');
  });
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  logger.info({ url, engine: store.engine, integrations: services.integrations.size, runner: services.runner?.id || null }, 'plugboard listening');

  let closing: Promise<void> | undefined;
  const shutdownDelayMs = options.shutdownDelayMs ?? config.shutdownDelayMs ?? DEFAULT_SHUTDOWN_DELAY_MS;
  const startDraining = () => {
    draining = true;
    readiness.startDraining();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (draining) return; // a second signal during the delay changes nothing
    startDraining();
    logger.info({ signal, shutdownDelayMs }, 'draining: /readyz answers 503, still serving until the delay ends');
    void new Promise((resolve) => setTimeout(resolve, shutdownDelayMs))
      .then(() => {
        logger.info({ signal }, 'shutting down');
        return close();
      })
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  // SIGHUP: load a new build of the integrations module, as POST /api/v1/vendor/reload does.
  function onReload(): void {
    services.integrationReload.reload().then(
      () => {},
      (err: unknown) => logger.error({ err }, 'integrations not reloaded'),
    );
  }
  function close(): Promise<void> {
    closing ??= (async () => {
      draining = true;
      if (options.handleSignals) {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        process.off('SIGHUP', onReload);
      }
      await new Promise<void>((resolve) => {
        server.close(() => resolve()); // resolves once in-flight requests have finished
        server.closeIdleConnections();
        const force = setTimeout(() => server.closeAllConnections(), options.shutdownGraceMs ?? 10_000);
        force.unref();
      });
      // Webhooks accepted above are queued by now; the runner drains before the store goes.
      await services.close();
      await readiness.close();
      if (options.store) await store.close();
      logger.info('stopped');
      logger.flush?.();
      await ownTelemetry?.shutdown(); // exports what is still buffered
    })();
    return closing;
  }
  if (options.handleSignals) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.on('SIGHUP', onReload);
  }
  // A runner on its own thread starts while this side already listens (webhooks queue meanwhile);
  // one that cannot start (executor isolation…) fails the start as an inline one does.
  if (services.runner && !services.runner.id) {
    try {
      await services.runnerReady;
    } catch (err) {
      await close();
      throw err;
    }
    logger.info({ runner: services.runner.id }, 'runner thread taking work');
  }
  return { url, port: address.port, app, store, services, logger, close, startDraining };
}
