// `plugboard serve`: production. Refuses to start without what production needs, one clear
// line per missing or malformed variable, exit code 1.
import { KeyConfigError } from './auth.js';
import { ConfigError, loadConfig, missingForProduction, type Config } from './config.js';
import { IntegrationsError } from './integrations.js';
import { RuntimeSettingsError } from './runtime/index.js';
import { SecretsError } from './secrets.js';
import { startServer } from './server.js';

function fail(lines: string[]): never {
  for (const line of lines) process.stderr.write(`plugboard serve: ${line}\n`);
  process.exit(1);
}

export async function serveCommand(env: Record<string, string | undefined> = process.env): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.problems);
    throw err;
  }
  const missing = missingForProduction(config);
  if (missing.length) fail(missing);
  try {
    await startServer({ config, handleSignals: true });
  } catch (err) {
    if (err instanceof KeyConfigError || err instanceof SecretsError || err instanceof IntegrationsError) fail([err.message]);
    if (err instanceof RuntimeSettingsError) fail(err.message.split('\n'));
    fail([`could not start: ${(err as Error).message}`]);
  }
}

await serveCommand();
