// `plugboard dev [module]`: the server for an integration engineer's machine. It runs the
// integrations module given (or PLUGBOARD_INTEGRATIONS), imports it again when it or a file it
// imports from the same folder tree changes — in this process through a fresh tsx namespace, in the
// executors by starting new ones — and prints each run's logs. The process itself never restarts,
// so the database, OAuth sessions and the port stay as they are.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KeyConfigError } from './auth.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { IntegrationsError, indexIntegrations } from './integrations.js';
import type { ExecutionReport } from './runtime/index.js';
import { ExecutorIsolationError } from './runtime/executor/index.js';
import { RuntimeSettingsError } from './runtime/index.js';
import type { Integration } from './sdk/index.js';
import { SecretsError } from './secrets.js';
import { startServer, type RunningServer } from './server.js';

type Write = (text: string) => void;

/** A run as a person reads it in a terminal: one line for the run, one indented line per log line. */
export function formatReport(report: ExecutionReport): string {
  const time = new Date().toISOString().slice(11, 19);
  const status = report.status === 'queued' ? 'failed, will retry' : report.status.replace('_', ' ');
  const head = `${time} ${report.integrationKey}/${report.flow} ${status} in ${report.durationMs} ms (${report.trigger}, attempt ${report.attempt}, customer ${report.customer})`;
  const lines = report.logs.map((l) => `  ${l.level.padEnd(5)} ${l.message.replaceAll('\n', '\n        ')}`);
  if (report.error && report.status !== 'succeeded') lines.push(`  error ${report.error}`);
  return `${[head, ...lines].join('\n')}\n`;
}

/**
 * Imports the module and everything it imports under a namespace of its own, so each load
 * evaluates every file afresh; reports the files it read (to watch them). Needs tsx, as the
 * executors do for a TypeScript module.
 */
async function importFresh(moduleFile: string, generation: number): Promise<{ list: Integration[]; files: string[] }> {
  const { register } = (await import('tsx/esm/api')) as typeof import('tsx/esm/api');
  const files: string[] = [];
  const api = register({
    namespace: `plugboard-dev-${generation}`,
    onImport: (url) => {
      if (url.startsWith('file:')) files.push(fileURLToPath(url.split('?')[0]!));
    },
  });
  try {
    const mod = (await api.import(pathToFileURL(moduleFile).href, import.meta.url)) as { default?: unknown; integrations?: unknown };
    const list = Array.isArray(mod.default) ? mod.default : mod.integrations;
    if (!Array.isArray(list)) throw new IntegrationsError(`"${moduleFile}" must export an array of integrations (default or \`integrations\`)`);
    indexIntegrations(list as Integration[]);
    return { list: list as Integration[], files };
  } finally {
    await api.unregister();
  }
}

/** The dev database's encryption key, kept beside it so credentials stored in one session are readable in the next. */
function devEncryptionKey(config: Config, write: Write): string {
  if (config.encryptionKey) return config.encryptionKey;
  const dir = resolve('.plugboard');
  const file = join(dir, 'dev-encryption-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dir, { recursive: true });
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  write(`plugboard dev: made an encryption key for local credentials in ${relative(process.cwd(), file)} (never use it in production)\n`);
  return key;
}

export interface DevServer {
  server: RunningServer;
  /** Imports the module again and starts new executors; resolves false (and prints why) when the new code does not load. */
  reload(): Promise<boolean>;
  close(): Promise<void>;
}

export async function startDev(options: { env: Record<string, string | undefined>; module?: string; write?: Write }): Promise<DevServer> {
  const write = options.write ?? ((text) => process.stdout.write(text));
  const given = options.module ?? options.env.PLUGBOARD_INTEGRATIONS;
  if (!given) throw new ConfigError(['give the integrations module: plugboard dev ./src/integrations.ts (or set PLUGBOARD_INTEGRATIONS)']);
  const moduleFile = resolve(given);
  if (!existsSync(moduleFile)) throw new ConfigError([`the integrations module ${given} does not exist`]);
  const env = {
    // A laptop without root has no PID namespaces; the executors say so once.
    PLUGBOARD_ALLOW_WEAK_ISOLATION: '1',
    LOG_LEVEL: 'warn',
    PLUGBOARD_SHUTDOWN_DELAY_MS: '0',
    ...options.env,
    PLUGBOARD_INTEGRATIONS: moduleFile,
  };
  const loaded = loadConfig(env);
  const config: Config = { ...loaded, encryptionKey: devEncryptionKey(loaded, write) };

  let generation = 0;
  const first = await importFresh(moduleFile, generation);
  // Updated in place on reload: every service looks integrations up here when it needs one.
  const index = indexIntegrations(first.list);
  const server = await startServer({
    config,
    integrations: index,
    handleSignals: true,
    runtime: { env, onReport: (report) => write(formatReport(report)) },
  });
  const root = dirname(moduleFile);
  let watched = new Set(first.files.filter((f) => f.startsWith(root + sep) && !f.includes(`${sep}node_modules${sep}`)));
  write(
    `plugboard dev: ${server.url} — ${index.size} integration(s) from ${relative(process.cwd(), moduleFile) || moduleFile}; watching ${watched.size} file(s)\n`,
  );

  async function reload(): Promise<boolean> {
    generation++;
    let next: Awaited<ReturnType<typeof importFresh>>;
    try {
      next = await importFresh(moduleFile, generation);
    } catch (err) {
      write(`plugboard dev: the changed module does not load, still running the previous version: ${err instanceof Error ? err.message : String(err)}\n`);
      return false;
    }
    // The newest load (a version edited in place replaces its code: no version bump needed here); the executors restart below.
    index.addGeneration(next.list);
    watched = new Set(next.files.filter((f) => f.startsWith(root + sep) && !f.includes(`${sep}node_modules${sep}`)));
    server.services.executors?.reload();
    write(`plugboard dev: reloaded ${index.size} integration(s) (${[...index.keys()].join(', ')})\n`);
    return true;
  }

  // One reload per burst of saves (editors write a file in several steps).
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(root, { recursive: true }, (_event, name) => {
      if (!name || !watched.has(join(root, name.toString()))) return;
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), 100);
    });
  } catch (err) {
    write(`plugboard dev: cannot watch ${root} (${err instanceof Error ? err.message : String(err)}); changes need a restart\n`);
  }

  return {
    server,
    reload,
    async close() {
      clearTimeout(timer);
      watcher?.close();
      await server.close();
    },
  };
}

function fail(lines: string[]): never {
  for (const line of lines) process.stderr.write(`plugboard dev: ${line}\n`);
  process.exit(1);
}

export async function devCommand(argv: string[], env: Record<string, string | undefined> = process.env): Promise<void> {
  try {
    await startDev({ env, module: argv[0] });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.problems);
    if (err instanceof KeyConfigError || err instanceof SecretsError || err instanceof IntegrationsError || err instanceof ExecutorIsolationError)
      fail([err.message]);
    if (err instanceof RuntimeSettingsError) fail(err.message.split('\n'));
    fail([`could not start: ${err instanceof Error ? err.message : String(err)}`]);
  }
}
