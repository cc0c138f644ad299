// `plugboard serve`: production. Refuses to start without what production needs, one clear
// line per missing or malformed variable, exit code 1.
import { KeyConfigError } from './auth.js';
import { ConfigError, forgetSecrets, loadConfig, missingForProduction, withSecretFiles, type Config } from './config.js';
import { IntegrationsError } from './integrations.js';
import { ExecutorIsolationError } from './runtime/executor/index.js';
import { RuntimeSettingsError } from './runtime/index.js';
import { RunnerThreadError } from './runtime/runner-thread.js';
import { SecretsError } from './secrets.js';
import { startServer } from './server.js';

function fail(lines: string[]): never {
  for (const line of lines) process.stderr.write(`plugboard serve: ${line}\n`);
  process.exit(1);
}

export async function serveCommand(env: Record<string, string | undefined> = process.env): Promise<void> {
  let config: Config;
  let resolved: Record<string, string | undefined>;
  try {
    resolved = withSecretFiles(env);
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.problems);
    throw err;
  }
  // Read once: from here on only `resolved` holds them, not the environment anything else can read.
  forgetSecrets(process.env);
  const missing = missingForProduction(config);
  if (missing.length) fail(missing);
  try {
    await startServer({ config, handleSignals: true, runtime: { env: resolved } });
  } catch (err) {
    if (
      err instanceof KeyConfigError ||
      err instanceof SecretsError ||
      err instanceof IntegrationsError ||
      err instanceof ExecutorIsolationError ||
      err instanceof RunnerThreadError
    ) {
      fail([err.message]);
    }
    if (err instanceof RuntimeSettingsError) fail(err.message.split('\n'));
    fail([`could not start: ${(err as Error).message}`]);
  }
}

await serveCommand();
