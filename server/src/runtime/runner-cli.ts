// `plugboard runner`: a process that only runs executions (no HTTP), for PostgreSQL deployments
// with any number of runners. SIGTERM/SIGINT drain: no new work, running executions finish within
// PLUGBOARD_DRAIN_GRACE_MS, the rest go back to the queue, then the process exits.
import { ConfigError, loadConfig } from '../config.js';
import { indexIntegrations, loadIntegrations } from '../integrations.js';
import { createLogger } from '../logger.js';
import { allMigrations } from '../migrations.js';
import { accessTokenResolver, oauthFor } from '../oauth/index.js';
import { createCipher } from '../secrets.js';
import { openStore } from '../store/index.js';
import { executorEnv, runtimeSettings, RuntimeSettingsError, startRuntime, type StartedRuntime } from './index.js';

function fail(lines: string[]): never {
  for (const line of lines) process.stderr.write(`plugboard runner: ${line}\n`);
  process.exit(1);
}

/** Starts a runner from the environment; resolves once it is taking work. */
export async function startRunner(env: Record<string, string | undefined> = process.env): Promise<StartedRuntime & { close(): Promise<void> }> {
  const config = loadConfig(env);
  const settings = runtimeSettings(env);
  const logger = createLogger({ level: config.logLevel });
  if (!config.encryptionKey) throw new ConfigError(['PLUGBOARD_ENCRYPTION_KEY is not set: the runner decrypts credentials for the flows']);
  const integrationsList = config.integrationsModule ? await loadIntegrations(config.integrationsModule) : [];
  const store = await openStore({ databaseUrl: config.databaseUrl, pgSchema: settings.pgSchema, migrations: allMigrations });
  const cipher = createCipher(config.encryptionKey);
  const integrations = indexIntegrations(integrationsList);
  const oauth = oauthFor({ store, cipher, integrations, publicUrl: config.publicUrl, allowedOrigins: config.allowedOrigins, logger });
  const started = await startRuntime({
    store,
    cipher,
    integrations,
    integrationsModule: config.integrationsModule,
    databaseUrl: config.databaseUrl,
    publicUrl: config.publicUrl,
    settings,
    runner: true,
    logger,
    getAccessToken: accessTokenResolver(oauth),
    executorEnv: executorEnv(env),
  });
  logger.info({ runner: started.runner?.id }, 'runner taking work');
  return {
    ...started,
    async close() {
      await started.stop();
      await store.close();
      logger.info('runner stopped');
      logger.flush?.();
    },
  };
}

export async function runnerCommand(env: Record<string, string | undefined> = process.env): Promise<void> {
  if (!/^postgres(ql)?:\/\//i.test(env.DATABASE_URL ?? '')) {
    fail([
      'a separate runner needs PostgreSQL (DATABASE_URL=postgres://…): with SQLite, the embedded engine,',
      'executions run inside `plugboard serve` itself (its in-process runner, on unless PLUGBOARD_RUNNER=off).',
    ]);
  }
  let running: Awaited<ReturnType<typeof startRunner>>;
  try {
    running = await startRunner(env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.problems);
    if (err instanceof RuntimeSettingsError) fail(err.message.split('\n'));
    fail([`could not start: ${(err as Error).message}`]);
  }
  let stopping = false;
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    void running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
