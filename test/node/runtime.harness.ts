// Builds a real runtime for tests: a store (SQLite file or a fresh PostgreSQL schema), the real
// executor pool running test/node/runtime.fixture.ts in child processes, the queue, a runner, and an
// HTTP app with the webhook and executions routes behind the real JWT verification.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import { sql } from 'kysely';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createApp, type BaseEnv } from '../../server/src/app.js';
import { createTokenVerifier } from '../../server/src/auth.js';
import type { Logger } from '../../server/src/logger.js';
import { createAlertSender } from '../../server/src/runtime/alerts.js';
import { createExecutorPool, type ExecutorPool, type ExecutorPoolOptions } from '../../server/src/runtime/executor/index.js';
import { runtimeSettings } from '../../server/src/runtime/index.js';
import { createRunner, type Runner, type RunnerOptions } from '../../server/src/runtime/runner.js';
import type { Runtime } from '../../server/src/runtime/runtime.js';
import { ExecutionStore } from '../../server/src/runtime/executions.js';
import { allMigrations } from '../../server/src/migrations.js';
import { runtimeDb } from '../../server/src/runtime/schema.js';
import { createSqliteQueue } from '../../server/src/runtime/sqlite-queue.js';
import type { ExecutionQueue } from '../../server/src/runtime/queue.js';
import { createCipher, generateEncryptionKey, type Cipher } from '../../server/src/secrets.js';
import { createServices, type Services } from '../../server/src/services.js';
import { openStore, type Customer, type InstanceRecord, type Store } from '../../server/src/store/index.js';
import type { Integration } from '../../server/src/sdk/index.js';
import integrations from './runtime.fixture.js';

export const FIXTURE_MODULE = fileURLToPath(new URL('./runtime.fixture.ts', import.meta.url));
export const PG_URL = process.env.PLUGBOARD_TEST_DATABASE_URL;
/** The vendor's app, allowed to start OAuth connections. */
export const APP_ORIGIN = 'https://app.vendor.test';
const ISSUER = 'https://vendor.test';

export interface Harness {
  dir: string;
  /** The PostgreSQL schema, when on PostgreSQL. */
  pgSchema?: string;
  outDir: string;
  store: Store;
  cipher: Cipher;
  runtime: Runtime;
  pool: ExecutorPool;
  runner: Runner | undefined;
  app: Hono<BaseEnv>;
  services: Services;
  startRunner(overrides?: Partial<RunnerOptions>): Runner;
  token(customer: string, role?: 'admin' | 'member'): Promise<string>;
  /** A vendor token (`role: "vendor"`, no customer); `vendorRole` sets `vendor_role`, `name` the staff member's name. */
  vendorToken(vendorRole?: 'viewer' | 'support' | 'admin', name?: string): Promise<string>;
  /** An active recorder instance of a new customer. */
  activeInstance(customerExternalId: string): Promise<{ customer: Customer; instance: InstanceRecord; hookUrl: (flow: string) => Promise<string> }>;
  /** Execution ids the flows wrote for this instance (in write order per executor process). */
  sideEffects(instanceId: string, tag?: string): string[];
  encryptionKey: string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Use PostgreSQL in this fresh schema. */
  pgSchema?: string;
  queue?: (deps: { store: Store; runnerId: string }) => Promise<ExecutionQueue> | ExecutionQueue;
  runner?: Partial<RunnerOptions> | false;
  alerts?: { url: string; secret: string };
  maxAttempts?: number;
  /** Runtime variables (PLUGBOARD_*) read by runtimeSettings, e.g. queue limits. */
  runtimeEnv?: Record<string, string>;
  /**
   * Other integrations than runtime.fixture.ts: the module executors import, the same list for the
   * control plane, and executor variables. `reloadable`: the services know the module (its reload, and its loads remembered for a restart).
   */
  integrations?: { module: string; list: readonly Integration[]; env?: Record<string, string>; reloadable?: boolean };
  /** The services' logger (default: silent). */
  logger?: Logger;
  /** A restart: open this harness's database (it keeps it: closing this one leaves it in place). */
  sameDatabaseAs?: Harness;
  /** Executor pool options besides the module and environment (e.g. maxPerCustomer). */
  pool?: Partial<Omit<ExecutorPoolOptions, 'integrationsModule' | 'env'>>;
}

export const newSchema = (prefix = 't') => `${prefix}_${randomBytes(6).toString('hex')}`;

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-runtime-'));
  const outDir = join(dir, 'out');
  mkdirSync(outDir);
  chmodSync(dir, 0o755);
  chmodSync(outDir, 0o777); // executors may run under their own uid
  const pgSchema = options.sameDatabaseAs ? options.sameDatabaseAs.pgSchema : options.pgSchema;
  const store = await openStore(
    pgSchema
      ? { databaseUrl: PG_URL, pgSchema, migrations: allMigrations }
      : { databaseUrl: join(options.sameDatabaseAs?.dir ?? dir, 'plugboard.db'), migrations: allMigrations },
  );
  const encryptionKey = options.sameDatabaseAs?.encryptionKey ?? generateEncryptionKey();
  const cipher = createCipher(encryptionKey);
  const runnerId = `test_${randomBytes(3).toString('hex')}`;
  const executionsQueue = options.queue
    ? await options.queue({ store, runnerId })
    : createSqliteQueue({ executions: new ExecutionStore(runtimeDb(store.db)), runnerId });
  const pool = createExecutorPool({
    integrationsModule: options.integrations?.module ?? FIXTURE_MODULE,
    // Flows here call stand-in services (OAuth provider, APIs) on loopback: allowed explicitly, the default refuses it.
    env: { ...options.integrations?.env, RUNTIME_TEST_OUT: outDir, PLUGBOARD_EGRESS_ALLOW: '127.0.0.1' },
    idleMs: 30_000,
    ...options.pool,
  });
  // The runtime's control plane from the real assembly; the runners are made here, with test timings.
  const services = await createServices({
    store,
    cipher,
    integrations: options.integrations?.list ?? integrations,
    integrationsModule: options.integrations?.reloadable ? options.integrations.module : undefined,
    logger: options.logger,
    publicUrl: 'http://127.0.0.1:1',
    // The connection proxy calls the same loopback stand-ins.
    egressAllow: ['127.0.0.1'],
    allowedOrigins: [APP_ORIGIN],
    runtime: {
      settings: runtimeSettings({
        ...options.runtimeEnv,
        PLUGBOARD_MAX_ATTEMPTS: options.maxAttempts === undefined ? undefined : String(options.maxAttempts),
      }),
      runner: false,
      queue: executionsQueue,
      alerts: createAlertSender({ url: options.alerts?.url, secret: options.alerts?.secret, baseDelayMs: 100 }),
    },
  });
  const runtime = services.runtime!;

  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
  const verifier = createTokenVerifier({ issuer: ISSUER, audience: 'plugboard', keys: JSON.stringify({ keys: [jwk] }) });
  const app = createApp({ services, verifier });

  const makeRunner = (overrides: Partial<RunnerOptions> = {}) =>
    createRunner({
      store,
      integrations: services.integrations,
      inputs: services.inputs,
      pool,
      queue: executionsQueue,
      alerts: runtime.alerts,
      metrics: runtime.metrics,
      timeoutMs: 10_000,
      retryBaseDelayMs: 50,
      pollMs: 100,
      ...(options.runner || {}),
      ...overrides,
    });
  const runner = options.runner === false ? undefined : makeRunner();
  runner?.start();

  const harness: Harness = {
    dir,
    pgSchema,
    outDir,
    encryptionKey,
    store,
    cipher,
    runtime,
    pool,
    runner,
    app,
    services,
    startRunner(overrides) {
      harness.runner = makeRunner(overrides);
      harness.runner.start();
      return harness.runner;
    },
    async token(customer, role = 'admin') {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ customer, role })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(ISSUER)
        .setAudience('plugboard')
        .setSubject(`user-of-${customer}`)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(privateKey);
    },
    async vendorToken(vendorRole, name) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ role: 'vendor', ...(vendorRole ? { vendor_role: vendorRole } : {}), ...(name ? { name } : {}) })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(ISSUER)
        .setAudience('plugboard')
        .setSubject('vendor-backend')
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(privateKey);
    },
    async activeInstance(externalId) {
      const customer = await store.ensureCustomer(externalId);
      const tenant = store.forCustomer(customer);
      const audit = { actor: 'user:test', action: 'instance.created', target: '', details: {} };
      const { instance } = await tenant.createInstance({ integrationKey: 'recorder', audit });
      const secrets = cipher.encryptJson({ token: 'sk_test_secret_value' }, instance.id);
      await tenant.updateConfig(instance.id, {
        config: { label: 'x' },
        secrets,
        secretNames: ['token'],
        expectedVersion: 1,
        audit: { ...audit, action: 'instance.config_saved' },
      });
      const active = await tenant.setStatus(instance.id, {
        status: 'active',
        audit: { ...audit, action: 'instance.activated', target: `instance:${instance.id}` },
      });
      return {
        customer,
        instance: active!,
        hookUrl: async (flow: string) => {
          const endpoints = await runtime.webhooks.list(active!, services.integrations.get('recorder')!);
          return new URL(endpoints.find((e) => e.flow === flow)!.url).pathname;
        },
      };
    },
    sideEffects(instanceId, tag = 'record') {
      return readdirSync(outDir)
        .filter((name) => name.startsWith(`${instanceId}.`) && name.endsWith('.log'))
        .flatMap((name) => readFileSync(join(outDir, name), 'utf8').split('\n'))
        .filter((line) => line.split(' ')[1] === tag)
        .map((line) => line.split(' ')[0]!);
    },
    async close() {
      await harness.runner?.stop(5000);
      await pool.drain(1000);
      // Guard: a close() that never resolves must not hang the suite; say so if it happens.
      const closed = await Promise.race([pool.close().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5000).unref())]);
      if (!closed) console.log('# executor pool close() did not resolve within 5 s');
      await services.stop(); // flushes and closes the alert sender, closes the queue
      if (options.pgSchema && !options.sameDatabaseAs) {
        await sql`drop schema if exists ${sql.id(options.pgSchema)} cascade`.execute(store.db);
      }
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

export { eventually } from './fixtures/eventually.js';
