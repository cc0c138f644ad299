// `plugboard demo` / `npm start`: everything for a first look, offline, on one machine.
// The real Plugboard server (startServer) with the demo integrations, plus on the same origin
// the "Acme CRM" host page, Acme's token endpoint and the stand-in third-party services,
// and a local OAuth authorization server (oidc-provider) on a second loopback port.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { loadConfig, startServer, type RunningServer } from '../server/src/index.js';
import { bundleStatus, mountHostPage, packageRoot } from './host-page.js';
import demoIntegrations from '../server/src/examples/integrations.js';
import { DemoInbox, demoServices } from './services.js';
import { createDemoVendor, DEMO_CUSTOMERS, type DemoVendor } from './vendor.js';

export interface StartDemoOptions {
  /** 0 picks a free port. Default: PORT or 8787. */
  port?: number;
  /** Default 127.0.0.1: the demo signs tokens for anyone who asks, so it stays on loopback. */
  host?: string;
  /** Where demo.db and the demo encryption key live. Default ./.plugboard */
  dataDir?: string;
  /** `postgres://…` to run the demo on PostgreSQL; default the SQLite file in dataDir. */
  databaseUrl?: string;
  /** Default `warn` (requests are logged at info). */
  logLevel?: string;
  /** Port of the demo OAuth server. Default port + 1 (0 when port is 0); a busy port falls back to a free one. */
  oauthPort?: number;
  /** Don't start the OAuth server (tests that don't need it). */
  withoutOAuth?: boolean;
  /** Serve this file as /plugboard.js instead of dist/plugboard.js. */
  bundlePath?: string;
  /**
   * A module of the vendor's own integrations instead of the demo's: loaded from the file, as
   * `plugboard serve` does, so `POST /api/v1/vendor/integrations/reload` loads a new build of it.
   */
  integrationsModule?: string;
}

export interface RunningDemo {
  /** What to open in a browser, e.g. http://localhost:8787 */
  url: string;
  port: number;
  server: RunningServer;
  vendor: DemoVendor;
  inbox: DemoInbox;
  /** Issuer of the demo OAuth server, undefined when it isn't running. */
  oauthIssuer: string | undefined;
  /** Why the OAuth server isn't running, if it isn't. */
  oauthProblem: string | undefined;
  /** The demo made a new encryption key (first run) rather than reusing the one in dataDir. */
  generatedEncryptionKey: boolean;
  close(): Promise<void>;
}

/** Raised when the demo's port is taken: the CLI prints the message and exits. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

function freePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

function portIsFree(port: number, host: string): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(port, host, () => probe.close(() => done(true)));
  });
}

/** The demo's AES key, made once and kept beside demo.db, so stored credentials survive a restart. */
function demoEncryptionKey(dataDir: string): { key: string; generated: boolean } {
  const file = join(dataDir, 'demo-encryption.key');
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), generated: false };
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, generated: true };
}

interface OAuthStart {
  issuer: string | undefined;
  problem: string | undefined;
  close: () => Promise<void>;
}

/** Starts demo/oauth-server.ts when it is there; the rest of the demo works without it. */
async function startDemoOAuth(port: number, host: string, redirectUris: string[]): Promise<OAuthStart> {
  const none = (problem: string): OAuthStart => ({ issuer: undefined, problem, close: async () => {} });
  let mod: typeof import('./oauth-server.js');
  try {
    mod = await import('./oauth-server.js');
  } catch (err) {
    return none(`the demo OAuth server could not be loaded (${(err as Error).message.split('\n')[0]}): Chatwave's Connect button won't work`);
  }
  try {
    const server = await mod.startOAuthServer({
      port,
      host,
      title: 'Chatwave',
      clients: [
        {
          clientId: process.env.PLUGBOARD_DEMO_OAUTH_CLIENT_ID ?? 'acme-crm',
          clientSecret: process.env.PLUGBOARD_DEMO_OAUTH_CLIENT_SECRET ?? 'acme-crm-demo-secret',
          redirectUris,
        },
      ],
    });
    return { issuer: server.issuer, problem: undefined, close: () => server.close() };
  } catch (err) {
    return none(`the demo OAuth server did not start: ${(err as Error).message}`);
  }
}

export async function startDemo(options: StartDemoOptions = {}): Promise<RunningDemo> {
  const host = options.host ?? '127.0.0.1';
  const requested = options.port ?? Number(process.env.PORT ?? 8787);
  if (requested !== 0 && !(await portIsFree(requested, host))) {
    throw new PortInUseError(`Port ${requested} is already in use (another demo still running?). Stop it, or pick another port: PORT=8790 npm start`);
  }
  // The public URL must be known before the server starts (OAuth redirect URI, webhook URLs).
  const port = requested === 0 ? await freePort(host) : requested;
  const url = `http://localhost:${port}`;
  const dataDir = resolve(options.dataDir ?? '.plugboard');
  mkdirSync(dataDir, { recursive: true });

  const wantedOAuthPort = options.oauthPort ?? (requested === 0 ? 0 : port + 1);
  const oauthPort = wantedOAuthPort !== 0 && (await portIsFree(wantedOAuthPort, '127.0.0.1')) ? wantedOAuthPort : 0;
  const oauth = options.withoutOAuth
    ? { issuer: undefined, problem: 'not started (withoutOAuth)', close: async () => {} }
    : await startDemoOAuth(oauthPort, '127.0.0.1', [`${url}/oauth/callback`, `http://127.0.0.1:${port}/oauth/callback`]);

  // Read lazily by demo/integrations.ts, in this process and, through the runtime's
  // PLUGBOARD_EXECUTOR_ENV_* pass-through, in the flow executors (their environment is scrubbed).
  const integrationEnv: Record<string, string> = { PLUGBOARD_DEMO_URL: `http://127.0.0.1:${port}` };
  if (oauth.issuer) integrationEnv.PLUGBOARD_DEMO_OAUTH_ISSUER = oauth.issuer;
  for (const [name, value] of Object.entries(integrationEnv)) {
    process.env[name] = value;
    process.env[`PLUGBOARD_EXECUTOR_ENV_${name}`] = value;
  }

  const vendor = await createDemoVendor();
  const inbox = new DemoInbox();
  const encryption = demoEncryptionKey(dataDir);
  const root = packageRoot();
  const integrationsModule = options.integrationsModule ?? fileURLToPath(new URL('../server/src/examples/integrations.ts', import.meta.url));

  const config = loadConfig({
    PORT: String(port),
    HOST: host,
    PUBLIC_URL: url,
    DATABASE_URL: options.databaseUrl,
    PLUGBOARD_ENCRYPTION_KEY: encryption.key,
    PLUGBOARD_JWT_KEYS: JSON.stringify(vendor.jwks),
    PLUGBOARD_JWT_ISSUER: vendor.issuer,
    PLUGBOARD_ALLOWED_ORIGINS: `${url},http://127.0.0.1:${port}`,
    PLUGBOARD_INTEGRATIONS: integrationsModule,
    // The flows' stand-in services (this server's /demo/api, the OAuth provider) are on loopback, which flows may not reach by default.
    PLUGBOARD_EGRESS_ALLOW: [`127.0.0.1:${port}`, ...(oauth.issuer ? [new URL(oauth.issuer).host] : [])].join(','),
    LOG_LEVEL: options.logLevel ?? 'warn',
  });

  // The demo's own routes: Acme CRM's stand-in backend and services, and the host page.
  const routes = new Hono();
  routes.route('/', demoServices({ vendor, inbox, oauthIssuer: () => oauth.issuer, publicUrl: url }));
  mountHostPage(routes, { root, bundlePath: options.bundlePath });
  let server: RunningServer;
  try {
    // startServer also runs the flow runtime (webhooks, schedules, executors) on the same store;
    // the catalog and the executors both load demo/integrations.
    server = await startServer({
      config,
      integrations: options.integrationsModule ? undefined : demoIntegrations,
      storeOptions: { sqlitePath: join(dataDir, 'demo.db') },
      routes,
    });
  } catch (err) {
    await oauth.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortInUseError(`Port ${port} is already in use. Stop what runs there, or pick another port: PORT=8790 npm start`);
    }
    throw err;
  }

  let closed: Promise<void> | undefined;
  return {
    url,
    port,
    server,
    vendor,
    inbox,
    oauthIssuer: oauth.issuer,
    oauthProblem: oauth.problem,
    generatedEncryptionKey: encryption.generated,
    close: () => (closed ??= Promise.all([server.close(), oauth.close()]).then(() => undefined)),
  };
}

/** What `plugboard demo` runs: starts the demo, prints where to go, stops on Ctrl+C. */
export async function runDemoCli(): Promise<void> {
  let demo: RunningDemo;
  try {
    demo = await startDemo({ databaseUrl: process.env.DATABASE_URL, logLevel: process.env.LOG_LEVEL });
  } catch (err) {
    if (err instanceof PortInUseError) {
      console.error(`\n  ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const bundle = bundleStatus(packageRoot());
  const token = await demo.vendor.signToken(DEMO_CUSTOMERS[0]!.id);
  const lines = [
    '',
    '  Plugboard demo',
    '',
    `  demo mode: generated keys, do not use in production`,
    `    - a fresh ES256 key pair signs this run's demo tokens (the public half is PLUGBOARD_JWT_KEYS)`,
    demo.generatedEncryptionKey
      ? `    - a new encryption key was written to .plugboard/demo-encryption.key`
      : `    - the encryption key in .plugboard/demo-encryption.key (made on the first run) is reused`,
    '',
    `  Acme CRM (host page):   ${demo.url}/`,
    `  Theming example:       ${demo.url}/theming.html`,
    `  Plugboard API:         ${demo.url}/api/v1`,
    `  Vendor console (staff): ${demo.url}/demo/console   (signs you in as Acme support; ?role=viewer or admin)`,
    demo.oauthIssuer ? `  Chatwave sign-in (OAuth): ${demo.oauthIssuer}` : `  Chatwave sign-in (OAuth): not running: ${demo.oauthProblem}`,
    bundle.present ? '' : `\n  ! ${bundle.path} is missing: run \`npm run build\` (npm start does) or the page shows no marketplace.\n`,
    `  Try the API with a demo token (Globex admin, valid 10 min):`,
    `    curl -H "Authorization: Bearer ${token!.token}" \\`,
    `      ${demo.url}/api/v1/integrations`,
    `  A fresh one: curl '${demo.url}/demo/token?customer=initech&role=member'`,
    '',
    '  Ctrl+C stops the demo.',
    '',
  ];
  console.log(lines.join('\n'));
  const stop = () => {
    void demo.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

// Run when executed (`npm start` runs this file under tsx), not when a test imports startDemo.
const invokedAs = process.argv[1] ? resolve(process.argv[1]) : '';
if (invokedAs === fileURLToPath(import.meta.url)) {
  await runDemoCli();
}
