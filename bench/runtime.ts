// Runtime figures end to end through the real parts: webhook POST (the Hono app in process, no
// socket) → execution stored and queued → runner → the customer's executor (a real child process)
// → outcome and logs stored. For SQLite (in-process queue) and PostgreSQL (pg-boss with
// LISTEN/NOTIFY, own schemas), with a trivial flow and the default runtime settings (runner
// concurrency 16, 4 per customer, one spare executor). Prints; asserts nothing.
//   start latency: webhook POST sent → the flow's first line runs (warm p50/p99, cold p99)
//   phases:        sent → picked up by the runner → flow running → outcome stored
//   isolation overhead per warm execution: the executor IPC round trip minus the flow's own time
//   SQL statements per webhook execution, end to end (accept, queue, start, finish, logs): every
//                  statement any connection ran (node-postgres Client#query, better-sqlite3
//                  statement runs) during the warm sequential executions ÷ their number; also net
//                  of idle polling, measured over as long with no load
//   executions/s sustained: BENCH_TOTAL webhooks over BENCH_CUSTOMERS warm customers, at most
//                  BENCH_IN_FLIGHT unfinished at once
// Run: node --import tsx bench/runtime.ts   (or npm run bench -- runtime)
// Knobs: BENCH_WARM (300), BENCH_COLD (20), BENCH_TOTAL (2000), BENCH_CUSTOMERS (8),
//        BENCH_IN_FLIGHT (64), BENCH_COLD_PACE_MS (1000), BENCH_ENGINES (sqlite,postgres),
//        PLUGBOARD_TEST_DATABASE_URL, and any PLUGBOARD_* runtime variable (default settings otherwise).
// Under tsx the executors load the flow module through tsx too (slower cold starts than a build;
// bench/executor.ts has the compiled pool's cold-start figures).
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { sql } from 'kysely';
import pg from 'pg';
import { createApp } from '../server/src/app.js';
import { createServices } from '../server/src/services.js';
import { createTokenVerifier } from '../server/src/auth.js';
import { indexIntegrations, loadIntegrations } from '../server/src/integrations.js';
import { createLogger } from '../server/src/logger.js';
import { allMigrations } from '../server/src/migrations.js';
import { runtimeSettings, type ExecutionPhases } from '../server/src/runtime/index.js';
import { createCipher, generateEncryptionKey } from '../server/src/secrets.js';
import { openStore } from '../server/src/store/index.js';
import { writeTrivialIntegration } from './fixtures/trivial-integration.js';

const WARM = Number(process.env.BENCH_WARM ?? 300);
const COLD = Number(process.env.BENCH_COLD ?? 20);
const COLD_PACE_MS = Number(process.env.BENCH_COLD_PACE_MS ?? 1000);
const TOTAL = Number(process.env.BENCH_TOTAL ?? 2000);
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 8);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 64);
const ENGINES = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',');
const PG_URL = process.env.PLUGBOARD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const now = () => performance.timeOrigin + performance.now();

// Statement counting (here only, not in the product): every query a node-postgres client sends
// (pools, pg-boss, LISTEN connections) and every better-sqlite3 statement run (Kysely's begin and
// commit included).
let statements = 0;
const countCalls = (proto: Record<string, unknown>, names: readonly string[]) => {
  for (const name of names) {
    const original = proto[name] as (...args: unknown[]) => unknown;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      statements++;
      return original.apply(this, args);
    };
  }
};
countCalls(pg.Client.prototype as unknown as Record<string, unknown>, ['query']);
{
  type Db = { prepare(sql: string): object; close(): void };
  const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => Db;
  const probe = new Database(':memory:');
  countCalls(Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, unknown>, ['run', 'all', 'get', 'iterate']);
  probe.close();
}
// Anything that goes wrong on the way is printed (JSON lines on stdout).
const logger = createLogger({ level: 'warn' });
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
function line(label: string, values: number[]): void {
  const f = (n: number) => n.toFixed(2).padStart(8);
  console.log(`  ${label.padEnd(52)} p50 ${f(percentile(values, 50))} ms   p99 ${f(percentile(values, 99))} ms   (n=${values.length})`);
}

// The trivial flow, in a module the executors import (readable by the executors' own uids).
const { dir, module: integrationsModule } = writeTrivialIntegration('bench');
const integrations = await loadIntegrations(integrationsModule);
const index = indexIntegrations(integrations);
const { publicKey } = await generateKeyPair('ES256');
const verifier = createTokenVerifier({
  issuer: 'https://vendor.bench',
  audience: 'plugboard',
  keys: JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg: 'ES256' }] }),
});

async function benchEngine(engine: string): Promise<void> {
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const bossSchema = `benchboss_${randomBytes(5).toString('hex')}`;
  const postgres = engine === 'postgres';
  if (postgres) {
    const probe = new pg.Client({ connectionString: PG_URL });
    try {
      await probe.connect();
      await probe.end();
    } catch (error) {
      console.log(`\n[postgres] skipped: cannot connect to ${PG_URL} (${(error as Error).message})`);
      return;
    }
  }
  const databaseUrl = postgres ? PG_URL : join(dir, `${schema}.db`);
  const store = await openStore({ databaseUrl, pgSchema: postgres ? schema : undefined, migrations: allMigrations });
  const cipher = createCipher(generateEncryptionKey());
  const pending = new Map<string, (phases: ExecutionPhases) => void>();
  const early = new Map<string, ExecutionPhases>();
  const services = await createServices({
    store,
    cipher,
    integrations: index,
    publicUrl: 'http://bench.local',
    logger,
    runtime: {
      integrationsModule,
      databaseUrl,
      // The defaults, unless PLUGBOARD_* runtime variables are given (e.g. PLUGBOARD_RUNNER_CONCURRENCY).
      settings: runtimeSettings({ ...process.env, PLUGBOARD_PGBOSS_SCHEMA: bossSchema }),
      runner: true,
      onPhases: (phases) => {
        const done = pending.get(phases.executionId);
        if (done) done(phases);
        else early.set(phases.executionId, phases); // finished before the POST returned its id
      },
    },
  });
  const app = createApp({ services, verifier });
  const integration = index.get('bench')!;

  async function hookOf(customerExternalId: string): Promise<string> {
    const customer = await store.ensureCustomer(customerExternalId);
    const tenant = store.forCustomer(customer);
    const audit = { actor: 'user:bench', action: 'instance.created', target: '', details: {} };
    const { instance } = await tenant.createInstance({ integrationKey: 'bench', audit });
    const active = await tenant.setStatus(instance.id, { status: 'active', audit: { ...audit, action: 'instance.activated' } });
    const [endpoint] = await services.runtime!.webhooks.list(active!, integration);
    return new URL(endpoint!.url).pathname;
  }

  /** POSTs the webhook; resolves with when it was sent, answered, and the execution's phases. */
  async function fire(path: string, n = 0): Promise<{ sentAt: number; acceptedAt: number; phases: ExecutionPhases }> {
    const sentAt = now();
    const res = await app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) });
    const acceptedAt = now();
    if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
    const { executionId } = (await res.json()) as { executionId: string };
    const phases = early.get(executionId) ?? (await new Promise<ExecutionPhases>((resolve) => pending.set(executionId, resolve)));
    early.delete(executionId);
    pending.delete(executionId);
    if (phases.status !== 'succeeded') throw new Error(`execution ${executionId} ended ${phases.status}`);
    return { sentAt, acceptedAt, phases };
  }

  console.log(`\n[${engine}] ${postgres ? `pg-boss 10, LISTEN/NOTIFY, schemas ${schema}/${bossSchema}` : 'in-process queue on the executions table'}`);

  // Warm: one customer, one execution at a time (no queueing: the latency of the path itself).
  const warmHook = await hookOf('warm');
  for (let i = 0; i < 30; i++) await fire(warmHook, i); // first run starts the executor; then JIT settles
  const startLatency: number[] = [];
  const accepted: number[] = [];
  const toPickup: number[] = [];
  const pickupToFlow: number[] = [];
  const flowToDone: number[] = [];
  const overhead: number[] = [];
  const statements0 = statements;
  const warm0 = now();
  for (let i = 0; i < WARM; i++) {
    const { sentAt, acceptedAt, phases } = await fire(warmHook, i);
    startLatency.push(phases.flowStartedAt! - sentAt);
    accepted.push(acceptedAt - sentAt);
    toPickup.push(phases.pickedUpAt - sentAt);
    pickupToFlow.push(phases.flowStartedAt! - phases.pickedUpAt);
    flowToDone.push(phases.doneAt - phases.flowStartedAt!);
    if (phases.overheadMs !== undefined) overhead.push(phases.overheadMs);
  }
  const warmStatements = statements - statements0;
  const warmMs = now() - warm0;
  // Idle: the same time with no load (polling, pg-boss maintenance), at most 5 s, scaled.
  const idleMs = Math.min(warmMs, 5000);
  const idle0 = statements;
  await new Promise((r) => setTimeout(r, idleMs));
  const idleStatements = ((statements - idle0) * warmMs) / idleMs;
  console.log(
    `  ${'SQL statements per webhook execution, end to end'.padEnd(52)} ${(warmStatements / WARM).toFixed(2)} (${((warmStatements - idleStatements) / WARM).toFixed(2)} net of idle polling: ${(idleStatements / WARM).toFixed(2)} per execution's time)`,
  );
  line('warm start latency (POST sent → flow code running)', startLatency);
  line('  webhook handling (POST sent → 202 with the id)', accepted);
  line('  POST sent → picked up by the runner', toPickup);
  line('  picked up → flow code running', pickupToFlow);
  line('  flow code running → outcome and logs stored', flowToDone);
  line('isolation overhead per warm execution (IPC)', overhead);

  // Cold: the first execution of a customer with no executor yet, one every COLD_PACE_MS, so the
  // pool's spare executor can be back in place, as when new customers arrive now and then.
  const cold: number[] = [];
  let spawned = 0;
  for (let i = 0; i < COLD; i++) {
    const hook = await hookOf(`cold-${i}`);
    await new Promise((r) => setTimeout(r, COLD_PACE_MS));
    const { sentAt, phases } = await fire(hook);
    cold.push(phases.flowStartedAt! - sentAt);
    if (phases.cold) spawned++;
  }
  line('cold start latency (a new customer, spare executor)', cold);
  console.log(`  (${spawned} of ${COLD} cold runs waited for a process start; the others took the ready spare)`);

  // Sustained: TOTAL webhooks round-robin over CUSTOMERS warm customers, IN_FLIGHT unfinished at most.
  const hooks = await Promise.all(Array.from({ length: CUSTOMERS }, (_, c) => hookOf(`load-${c}`)));
  await Promise.all(hooks.map((hook) => fire(hook)));
  let next = 0;
  const loaded: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < TOTAL) {
        const n = next++;
        const { sentAt, phases } = await fire(hooks[n % CUSTOMERS]!, n);
        loaded.push(phases.flowStartedAt! - sentAt);
      }
    }),
  );
  const seconds = (now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `  ${`sustained: ${CUSTOMERS} customers, ≤ ${IN_FLIGHT} unfinished`.padEnd(52)} ${(TOTAL / seconds).toFixed(0)} executions/s (${TOTAL} in ${seconds.toFixed(2)} s)`,
  );
  line('  start latency under that load', loaded);
  const cpuMs = (cpu.user + cpu.system) / 1000 / TOTAL;
  console.log(
    `  ${'control-plane CPU per execution (this process)'.padEnd(52)} ${cpuMs.toFixed(2)} ms (HTTP + queue + runner + pool side; executors not counted) → ≤ ${(1000 / cpuMs).toFixed(0)}/s per free core`,
  );

  await services.stop(5000);
  if (postgres) {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db);
    await sql`drop schema if exists ${sql.id(bossSchema)} cascade`.execute(store.db);
  }
  await store.close();
}

console.log(
  `# runtime end to end, trivial flow, default settings; node ${process.version}, ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at start`,
);
console.log(
  `# warm ${WARM} sequential, cold ${COLD} one per ${COLD_PACE_MS} ms, sustained ${TOTAL} over ${CUSTOMERS} customers with ≤ ${IN_FLIGHT} unfinished`,
);
try {
  for (const engine of ENGINES) await benchEngine(engine.trim());
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`# load average ${loadavg()[0]!.toFixed(1)} at end`);
