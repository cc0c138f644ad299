// `plugboard runner`: a process that only runs executions (no HTTP), for PostgreSQL deployments
// with any number of runners. SIGTERM/SIGINT drain: no new work, running executions finish within
// PLUGBOARD_DRAIN_GRACE_MS, the rest go back to the queue, then the process exits.
import { ConfigError, forgetSecrets, loadConfig, withSecretFiles } from '../config.js';
import type { Services } from '../env.js';
import { createLogger } from '../logger.js';
import { servicesFromConfig } from '../services.js';
import { startTelemetry } from '../telemetry.js';
import { ExecutorIsolationError } from './executor/index.js';
import { runtimeSettings, RuntimeSettingsError } from './index.js';

function fail(lines: string[]): never {
  for (const line of lines) process.stderr.write(`plugboard runner: ${line}\n`);
  process.exit(1);
}

/** Starts a runner from the environment (`*_FILE` secrets read from their files); resolves once it is taking work. */
export async function startRunner(given: Record<string, string | undefined> = process.env): Promise<Services & { close(): Promise<void> }> {
  const config = loadConfig(given);
  const env = withSecretFiles(given);
  const settings = runtimeSettings(env);
  if (!config.encryptionKey) throw new ConfigError(['PLUGBOARD_ENCRYPTION_KEY is not set: the runner decrypts credentials for the flows']);
  const telemetry = await startTelemetry({ serviceName: 'plugboard-runner', env: given });
  const logger = createLogger({ level: config.logLevel, telemetry });
  let services: Awaited<ReturnType<typeof servicesFromConfig>>;
  try {
    services = await servicesFromConfig(config, {
      logger,
      storeOptions: { pgSchema: settings.pgSchema },
      runtime: { env, settings, runner: true },
      telemetry,
    });
  } catch (err) {
    await telemetry?.shutdown();
    throw err;
  }
  logger.info({ runner: services.runner?.id }, 'runner taking work');
  return {
    ...services,
    async close() {
      await services.close();
      logger.info('runner stopped');
      logger.flush?.();
      await telemetry?.shutdown();
    },
  };
}

export async function runnerCommand(given: Record<string, string | undefined> = process.env): Promise<void> {
  // A copy: `given` is usually process.env itself, whose secrets are dropped right here.
  const original = { ...given };
  let env: Record<string, string | undefined>;
  try {
    env = withSecretFiles(original);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.problems);
    throw err;
  }
  forgetSecrets(process.env);
  if (!/^postgres(ql)?:\/\//i.test(env.DATABASE_URL ?? '')) {
    fail([
      'a separate runner needs PostgreSQL (DATABASE_URL=postgres://…): with SQLite, the embedded engine,',
      'executions run inside `plugboard serve` itself (its in-process runner, on unless PLUGBOARD_RUNNER=off).',
    ]);
  }
  let running: Awaited<ReturnType<typeof startRunner>>;
  try {
    running = await startRunner(original);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.problems);
    if (err instanceof RuntimeSettingsError) fail(err.message.split('\n'));
    if (err instanceof ExecutorIsolationError) fail([err.message]);
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
  // A new build of the integrations module: reload here too after reloading `serve` (each process keeps its own versions).
  process.on('SIGHUP', () => {
    running.integrationReload
      .reload()
      .catch((err: unknown) => process.stderr.write(`plugboard runner: integrations not reloaded: ${(err as Error).message}\n`));
  });
}
