// Configuration from the environment. `loadConfig` parses and rejects malformed values;
// `missingForProduction` lists what `plugboard serve` refuses to start without.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EgressAllowError, parseEgressAllow } from './runtime/executor/egress-policy.js';
import { DEFAULT_CHECKPOINT_INTERVAL_MS } from './store/checkpoints.js';

export interface JwtConfig {
  /** Verification keys as text: a JWKS JSON document or one or more PEM public keys. */
  keys: string | undefined;
  /** Where the vendor publishes its JWKS (fetched, cached, refetched on an unknown `kid`). */
  jwksUrl: string | undefined;
  issuer: string | undefined;
  audience: string;
}

export interface Config {
  port: number;
  host: string;
  /** Base URL the browser and OAuth providers reach this server at (no trailing slash). */
  publicUrl: string;
  /** `postgres://…` for PostgreSQL; unset: a SQLite file under `./.plugboard/`. */
  databaseUrl: string | undefined;
  /** Base64/base64url AES-256 key(s), `kid:key` comma list for rotation (see secrets.ts). */
  encryptionKey: string | undefined;
  jwt: JwtConfig;
  /** Origins allowed by CORS and as OAuth `postMessage` targets. */
  allowedOrigins: string[];
  /** Module (path or package name) whose default export lists the vendor's integrations. */
  integrationsModule: string | undefined;
  logLevel: string;
  bodyLimitBytes: number;
  /** How long a data source (dynamic picklist), or a connection's test or identify, may run before it is aborted. */
  dataSourceTimeoutMs: number;
  /** PLUGBOARD_ALLOW_WEAK_ISOLATION: run flows even where executors can't get their own PID namespace. */
  allowWeakIsolation: boolean;
  /** The files secrets were read from (`<NAME>_FILE`): no flow may read them (each executor sees /dev/null there). */
  secretFiles: string[];
  /** Exceptions to the flows' egress policy: hosts, host:port, addresses or CIDRs flows may reach on loopback/private/link-local ranges. */
  egressAllow: string[];
  /** API requests per minute per customer and per vendor token (0: no limit). */
  rateLimits: { customerPerMinute: number; vendorPerMinute: number };
  /** After SIGTERM, how long /readyz answers 503 while requests are still served, before the listener closes. */
  shutdownDelayMs?: number;
  /** PostgreSQL: a statement still unanswered after this fails (503 for the API), so a hung database never hangs a request or a runner. */
  databaseQueryTimeoutMs?: number;
  /** SQLite file: a WAL checkpoint this often on a thread of its own; 0: SQLite's own, inside a commit on the event loop. */
  sqliteCheckpointMs?: number;
}

/**
 * PLUGBOARD_SHUTDOWN_DELAY_MS's default: a balancer checking /readyz every 2 s with HAProxy's own
 * defaults (fall 3, fastinter = inter) takes a draining replica out 4-6 s after its SIGTERM: with 5 s,
 * requests reached a closed listener (3 of 1,517 and 4 of 1,323 failed in 2 of 3 rolling restarts).
 * 8 s covers 6 s and a slow check, and leaves `docker stop`'s default 10 s for in-flight requests.
 */
export const DEFAULT_SHUTDOWN_DELAY_MS = 8000;

/** Every variable read, with its default, for the README and `plugboard --help`. */
export const CONFIG_VARIABLES: readonly { name: string; default: string; description: string }[] = [
  { name: 'PORT', default: '8787', description: 'HTTP port' },
  { name: 'HOST', default: '0.0.0.0', description: 'interface to listen on' },
  { name: 'PUBLIC_URL', default: 'http://localhost:$PORT', description: 'URL browsers and OAuth providers reach the server at' },
  { name: 'DATABASE_URL', default: 'SQLite file under ./.plugboard/', description: 'postgres://… for PostgreSQL' },
  { name: 'PLUGBOARD_ENCRYPTION_KEY', default: '(required by serve)', description: 'AES-256 key for credentials and secret config' },
  { name: 'PLUGBOARD_JWT_KEYS', default: '(this or PLUGBOARD_JWKS_URL)', description: 'JWKS JSON, PEM public key(s), or a path to either' },
  { name: 'PLUGBOARD_JWKS_URL', default: '(this or PLUGBOARD_JWT_KEYS)', description: "the vendor's JWKS URL (cached, kid rotation)" },
  { name: 'PLUGBOARD_JWT_ISSUER', default: '(required by serve)', description: 'expected iss of vendor tokens' },
  { name: 'PLUGBOARD_JWT_AUDIENCE', default: 'plugboard', description: 'expected aud of vendor tokens' },
  { name: 'PLUGBOARD_ALLOWED_ORIGINS', default: '(none)', description: 'comma-separated origins allowed by CORS' },
  { name: 'PLUGBOARD_INTEGRATIONS', default: '(none: empty catalog)', description: "module exporting the vendor's integrations" },
  { name: 'LOG_LEVEL', default: 'info', description: 'pino level: fatal, error, warn, info, debug, trace, silent' },
  { name: 'PLUGBOARD_BODY_LIMIT_BYTES', default: '1048576', description: 'largest accepted request body' },
  { name: 'PLUGBOARD_DATA_SOURCE_TIMEOUT_MS', default: '10000', description: "time limit of a data source call, and of a connection's test and identify" },
  { name: 'PLUGBOARD_RATE_LIMIT_CUSTOMER', default: '600', description: 'API requests per minute per customer (all its users together); 0: no limit' },
  { name: 'PLUGBOARD_RATE_LIMIT_VENDOR', default: '1200', description: 'vendor API requests per minute per vendor token subject; 0: no limit' },
  {
    name: 'PLUGBOARD_SHUTDOWN_DELAY_MS',
    default: String(DEFAULT_SHUTDOWN_DELAY_MS),
    description: 'on SIGTERM, /readyz answers 503 and requests are still served this long before the listener closes (drain behind a balancer)',
  },
  {
    name: 'PLUGBOARD_DB_QUERY_TIMEOUT_MS',
    default: '30000',
    description: 'PostgreSQL: statement timeout (the client gives up 2 s later on a connection that stopped answering); connecting gives up after 5 s',
  },
  {
    name: 'PLUGBOARD_SQLITE_CHECKPOINT_MS',
    default: String(DEFAULT_CHECKPOINT_INTERVAL_MS),
    description: "SQLite: a WAL checkpoint this often on a thread of its own; 0: SQLite's own, inside the commit that passes 1,000 pages, on the event loop",
  },
  {
    name: 'PLUGBOARD_ALLOW_WEAK_ISOLATION',
    default: '0',
    description: "1: run flows even where executors can't have their own PID namespace (no unshare, or neither root nor user namespaces)",
  },
  {
    name: 'DATABASE_URL_FILE, PLUGBOARD_ENCRYPTION_KEY_FILE, PLUGBOARD_ALERT_SECRET_FILE, PLUGBOARD_LIFECYCLE_WEBHOOK_SECRET_FILE',
    default: '(unset)',
    description: 'a file holding that secret instead of the variable; read at start, then both dropped from the environment',
  },
  {
    name: 'PLUGBOARD_EGRESS_ALLOW',
    default: '(none)',
    description: 'comma-separated hosts, host:port, addresses or CIDRs flows may reach although loopback, private, link-local or metadata',
  },
];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

type Env = Record<string, string | undefined>;

/** Variables that hold secrets; each may come as `<NAME>_FILE` instead, so the value is never in the process's environment block. */
export const SECRET_VARIABLES = ['DATABASE_URL', 'PLUGBOARD_ENCRYPTION_KEY', 'PLUGBOARD_ALERT_SECRET', 'PLUGBOARD_LIFECYCLE_WEBHOOK_SECRET'] as const;

/** A copy of `env` with every `<NAME>_FILE` read into `<NAME>` (the `_FILE` entry removed); throws ConfigError naming the bad ones. */
export function withSecretFiles(env: Env): Env {
  const out: Env = { ...env };
  const problems: string[] = [];
  for (const name of SECRET_VARIABLES) {
    const path = out[`${name}_FILE`]?.trim();
    delete out[`${name}_FILE`];
    if (!path) continue;
    if (out[name]?.trim()) {
      problems.push(`Set ${name} or ${name}_FILE, not both`);
      continue;
    }
    try {
      // A trailing newline is how editors and `echo` leave a one-line file.
      out[name] = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problems.push(`${name}_FILE: can't read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return out;
}

/** Drops the secret variables and their `_FILE` forms from `env` once read, so nothing later in this process (or a child it starts) finds them there. */
export function forgetSecrets(env: Env = process.env): void {
  for (const name of SECRET_VARIABLES) {
    delete env[name];
    delete env[`${name}_FILE`];
  }
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
    return fallback;
  }
  return n;
}

function flag(env: Env, name: string, problems: string[]): boolean {
  const raw = value(env, name)?.toLowerCase();
  if (raw === undefined || ['0', 'false', 'off'].includes(raw)) return false;
  if (['1', 'true', 'on'].includes(raw)) return true;
  problems.push(`${name} must be 1 or 0 (got "${raw}")`);
  return false;
}

function url(env: Env, name: string, problems: string[], protocols = ['http:', 'https:']): string | undefined {
  const raw = value(env, name);
  if (raw === undefined) return undefined;
  try {
    const u = new URL(raw);
    if (!protocols.includes(u.protocol)) throw new Error('protocol');
    return raw.replace(/\/+$/, '');
  } catch {
    problems.push(`${name} must be a ${protocols.map((p) => p.slice(0, -1)).join(' or ')} URL (got "${raw}")`);
    return undefined;
  }
}

function egressAllow(env: Env, problems: string[]): string[] {
  try {
    return parseEgressAllow(value(env, 'PLUGBOARD_EGRESS_ALLOW'));
  } catch (err) {
    if (!(err instanceof EgressAllowError)) throw err;
    problems.push(...err.problems);
    return [];
  }
}

/** Accepts the keys inline (JWKS JSON or PEM) or as a path to a file holding either. */
function jwtKeys(env: Env, problems: string[], cwd: string): string | undefined {
  const raw = value(env, 'PLUGBOARD_JWT_KEYS');
  if (raw === undefined) return undefined;
  if (raw.startsWith('{') || raw.startsWith('-----BEGIN')) return raw;
  const path = resolve(cwd, raw);
  if (!existsSync(path)) {
    problems.push(`PLUGBOARD_JWT_KEYS is neither JWKS JSON, a PEM key, nor an existing file (looked for ${path})`);
    return undefined;
  }
  return readFileSync(path, 'utf8');
}

export function loadConfig(given: Env = process.env, options: { cwd?: string } = {}): Config {
  const env = withSecretFiles(given);
  const problems: string[] = [];
  const cwd = options.cwd ?? process.cwd();
  const port = integer(env, 'PORT', 8787, 0, 65535, problems);
  const databaseUrl = value(env, 'DATABASE_URL');
  const logLevel = value(env, 'LOG_LEVEL') ?? 'info';
  if (!LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LEVELS.join(', ')} (got "${logLevel}")`);
  const allowedOrigins: string[] = [];
  for (const origin of (value(env, 'PLUGBOARD_ALLOWED_ORIGINS') ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean)) {
    try {
      const u = new URL(origin);
      if (u.origin !== origin.replace(/\/$/, '')) throw new Error('not an origin');
      allowedOrigins.push(u.origin);
    } catch {
      problems.push(`PLUGBOARD_ALLOWED_ORIGINS: "${origin}" is not an origin like https://app.example.com`);
    }
  }
  const config: Config = {
    port,
    host: value(env, 'HOST') ?? '0.0.0.0',
    publicUrl: url(env, 'PUBLIC_URL', problems) ?? `http://localhost:${port}`,
    databaseUrl,
    encryptionKey: value(env, 'PLUGBOARD_ENCRYPTION_KEY'),
    jwt: {
      keys: jwtKeys(env, problems, cwd),
      jwksUrl: url(env, 'PLUGBOARD_JWKS_URL', problems),
      issuer: value(env, 'PLUGBOARD_JWT_ISSUER'),
      audience: value(env, 'PLUGBOARD_JWT_AUDIENCE') ?? 'plugboard',
    },
    allowedOrigins,
    integrationsModule: value(env, 'PLUGBOARD_INTEGRATIONS'),
    logLevel,
    bodyLimitBytes: integer(env, 'PLUGBOARD_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024, problems),
    dataSourceTimeoutMs: integer(env, 'PLUGBOARD_DATA_SOURCE_TIMEOUT_MS', 10_000, 100, 120_000, problems),
    allowWeakIsolation: flag(env, 'PLUGBOARD_ALLOW_WEAK_ISOLATION', problems),
    secretFiles: SECRET_VARIABLES.map((name) => given[`${name}_FILE`]?.trim()).filter((path): path is string => Boolean(path)),
    egressAllow: egressAllow(env, problems),
    rateLimits: {
      customerPerMinute: integer(env, 'PLUGBOARD_RATE_LIMIT_CUSTOMER', 600, 0, 1_000_000, problems),
      vendorPerMinute: integer(env, 'PLUGBOARD_RATE_LIMIT_VENDOR', 1200, 0, 1_000_000, problems),
    },
    shutdownDelayMs: integer(env, 'PLUGBOARD_SHUTDOWN_DELAY_MS', DEFAULT_SHUTDOWN_DELAY_MS, 0, 600_000, problems),
    databaseQueryTimeoutMs: integer(env, 'PLUGBOARD_DB_QUERY_TIMEOUT_MS', 30_000, 500, 3_600_000, problems),
    sqliteCheckpointMs: integer(env, 'PLUGBOARD_SQLITE_CHECKPOINT_MS', DEFAULT_CHECKPOINT_INTERVAL_MS, 0, 60_000, problems),
  };
  if (config.jwt.keys && config.jwt.jwksUrl) problems.push('Set PLUGBOARD_JWT_KEYS or PLUGBOARD_JWKS_URL, not both');
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** One line per variable production can't run without. Empty when ready. */
export function missingForProduction(config: Config): string[] {
  const missing: string[] = [];
  if (!config.encryptionKey) {
    missing.push('PLUGBOARD_ENCRYPTION_KEY is not set: credentials cannot be stored encrypted (generate one with `plugboard keygen`)');
  }
  if (!config.jwt.keys && !config.jwt.jwksUrl) {
    missing.push('PLUGBOARD_JWT_KEYS (or PLUGBOARD_JWKS_URL) is not set: vendor tokens cannot be verified');
  }
  if (!config.jwt.issuer) missing.push("PLUGBOARD_JWT_ISSUER is not set: the vendor's token issuer (iss) must be named");
  return missing;
}
