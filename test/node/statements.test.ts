// How many SQL statements one webhook execution costs end to end (accept, queue, start, finish,
// logs), counted at the drivers through the real path: the webhook route, the queue, the runner,
// a real executor. Counting is deterministic (polling is turned off here), so it is asserted.
// And that what the processes keep in memory is dropped when another process writes (PostgreSQL
// LISTEN/NOTIFY), also after the LISTEN connection was lost.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { BroadcastChannel } from 'node:worker_threads';
import { sql } from 'kysely';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { allMigrations } from '../../server/src/migrations.js';
import { ExecutionStore } from '../../server/src/runtime/executions.js';
import { createPgBossQueue } from '../../server/src/runtime/pgboss-queue.js';
import type { ExecutionPhases } from '../../server/src/runtime/runner.js';
import { runtimeDb } from '../../server/src/runtime/schema.js';
import { WebhookEndpoints } from '../../server/src/runtime/webhooks.js';
import { openStore, type Store } from '../../server/src/store/index.js';
import { createHarness, eventually, newSchema, PG_URL, type Harness } from './runtime.harness.js';

// Every query a node-postgres client sends and every better-sqlite3 statement run (begin and commit included).
let statements = 0;
let commits = 0;
function countCalls(proto: Record<string, unknown>, names: readonly string[]): void {
  for (const name of names) {
    const original = proto[name] as (...args: unknown[]) => unknown;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      statements++;
      if (((this as { source?: string }).source ?? args[0]) === 'commit') commits++;
      return original.apply(this, args);
    };
  }
}
countCalls(pg.Client.prototype as unknown as Record<string, unknown>, ['query']);
{
  type Db = { prepare(sql: string): object; close(): void };
  const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string) => Db;
  const probe = new Database(':memory:');
  countCalls(Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, unknown>, ['run', 'all', 'get', 'iterate']);
  probe.close();
}

const EXECUTIONS = 10;
const LIMIT = 5;

async function statementsPerExecution(engine: 'sqlite' | 'postgres'): Promise<number> {
  const pgSchema = engine === 'postgres' ? newSchema('t') : undefined;
  const bossSchema = newSchema('tboss');
  const done = new Map<string, (phases: ExecutionPhases) => void>();
  const finished = new Map<string, ExecutionPhases>();
  const h = await createHarness({
    ...(pgSchema ? { pgSchema } : {}),
    ...(pgSchema
      ? {
          queue: ({ store }: { store: Store }) =>
            createPgBossQueue({ connectionString: PG_URL!, bossSchema, supervise: false, executions: new ExecutionStore(runtimeDb(store.db)) }),
        }
      : {}),
    // The queue limits' count is one grouped query per process every 250 ms whatever the traffic (a
    // cost per second, not per execution): off here, like polling, so every statement counted is the executions' own.
    runtimeEnv: { PLUGBOARD_QUEUE_LIMIT: '0', PLUGBOARD_QUEUE_LIMIT_PER_CUSTOMER: '0' },
    runner: {
      pollMs: 600_000,
      onPhases: (phases) => {
        finished.set(phases.executionId, phases);
        done.get(phases.executionId)?.(phases);
      },
    },
  });
  try {
    const { hookUrl } = await activeAndWarm(h);
    const url = await hookUrl('record');
    const fire = async (n: number) => {
      const res = await h.app.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) });
      assert.equal(res.status, 202, await res.clone().text());
      const { executionId } = (await res.json()) as { executionId: string };
      const phases = finished.get(executionId) ?? (await new Promise<ExecutionPhases>((resolve) => done.set(executionId, resolve)));
      assert.equal(phases.status, 'succeeded');
      // The runner's last writes (instance health) come after the phases: wait until it is idle (in memory, no SQL).
      await eventually(() => h.runner!.inFlight === 0, 10_000, 'the runner to be idle');
    };
    await fire(-1); // first sight of the customer's queue, the instance, the endpoint
    const before = statements;
    for (let i = 0; i < EXECUTIONS; i++) await fire(i);
    return (statements - before) / EXECUTIONS;
  } finally {
    await h.close();
    if (pgSchema) {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`drop schema if exists ${bossSchema} cascade`);
      await client.end();
    }
  }
}

async function activeAndWarm(h: Harness) {
  return h.activeInstance(`stmt-${Math.random().toString(36).slice(2, 8)}`);
}

describe('SQL statements per webhook execution', () => {
  test('SQLite: at most 5, end to end', async () => {
    const n = await statementsPerExecution('sqlite');
    console.log(`# SQLite: ${n} statements per webhook execution`);
    assert.ok(n <= LIMIT, `${n} statements per execution`);
  });

  test('PostgreSQL: at most 5, end to end', { skip: !PG_URL && 'PLUGBOARD_TEST_DATABASE_URL is not set' }, async () => {
    const n = await statementsPerExecution('postgres');
    console.log(`# PostgreSQL: ${n} statements per webhook execution`);
    assert.ok(n <= LIMIT, `${n} statements per execution`);
  });
});

// A backlog is claimed several executions per statement (pg-boss's fetch with a batch size, the
// executions started in the same statement): before, one claim statement per execution, each a
// round trip and a commit on the runner's path.
describe('claims of a backlog (PostgreSQL)', () => {
  test('several queued executions per claim statement', { skip: !PG_URL && 'PLUGBOARD_TEST_DATABASE_URL is not set' }, async () => {
    const bossSchema = newSchema('tboss');
    const h = await createHarness({
      pgSchema: newSchema('t'),
      queue: ({ store }: { store: Store }) =>
        createPgBossQueue({ connectionString: PG_URL!, bossSchema, supervise: false, executions: new ExecutionStore(runtimeDb(store.db)) }),
      runtimeEnv: { PLUGBOARD_QUEUE_LIMIT: '0', PLUGBOARD_QUEUE_LIMIT_PER_CUSTOMER: '0' },
      runner: false,
    });
    const query = pg.Client.prototype.query;
    try {
      const url = await (await activeAndWarm(h)).hookUrl('record');
      const ids: string[] = [];
      for (let n = 0; n < 12; n++) {
        const res = await h.app.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) });
        ids.push(((await res.json()) as { executionId: string }).executionId);
      }
      let claims = 0;
      pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
        if (typeof args[0] === 'string' && args[0].includes('SKIP LOCKED')) claims++;
        return (query as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof query;
      const runner = h.startRunner({ perCustomer: 4, pollMs: 600_000 });
      const db = runtimeDb(h.store.db);
      await eventually(
        async () =>
          (await db.selectFrom('executions').select('id').where('id', 'in', ids).where('status', '=', 'succeeded').execute()).length === ids.length ||
          undefined,
        30_000,
        'the backlog to be run',
      );
      await runner.stop(5000);
      console.log(`# ${claims} claim statements for ${ids.length} queued executions`);
      assert.ok(claims <= 9, `${claims} claim statements for ${ids.length} executions`);
    } finally {
      pg.Client.prototype.query = query;
      await h.close();
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`drop schema if exists ${bossSchema} cascade`);
      await client.end();
    }
  });
});

// Finishes that come while one is in flight share the next statement (group commit): the first goes
// alone, the other five together. Before: one statement (and one commit) per finish.
describe('finishes (PostgreSQL)', () => {
  test('finishes that come together share one statement', { skip: !PG_URL && 'PLUGBOARD_TEST_DATABASE_URL is not set' }, async () => {
    const h = await createHarness({ pgSchema: newSchema('t'), runner: false });
    try {
      const { customer, instance } = await activeAndWarm(h);
      const executions = new ExecutionStore(runtimeDb(h.store.db));
      const rows = [];
      const of = { customerId: customer.id, instanceId: instance.id, flow: 'record', trigger: 'webhook', maxAttempts: 1 } as const;
      for (let n = 0; n < 6; n++) {
        const queued = await executions.create({ ...of, payload: { body: { n }, headers: {} } });
        rows.push((await executions.start(queued!.id, 'runner_test'))!);
      }
      const at = new Date().toISOString();
      const before = statements;
      await Promise.all(
        rows.map((row, n) =>
          executions.finish(
            row,
            {
              status: 'succeeded',
              startedAt: at,
              endedAt: at,
              durationMs: 1,
              error: null,
              resultSummary: `${n}`,
              logs: [{ level: 'info', message: `line ${n}`, at }],
            },
            { sql: 'SELECT $1::int AS settled', parameters: [n] },
          ),
        ),
      );
      const used = statements - before;
      for (const [n, row] of rows.entries()) {
        const detail = await executions.detail(customer.id, row.id);
        assert.equal(detail?.status, 'succeeded');
        assert.equal(detail?.resultSummary, `${n}`);
        assert.deepEqual(
          detail?.logs.map((l) => l.message),
          [`line ${n}`],
        );
      }
      assert.equal(used, 2, `${used} statements for 6 finishes`);
    } finally {
      await h.close();
    }
  });
});

// Accepts that come while one is in flight share the next statement (group commit), as finishes
// do; one that breaks a constraint (its instance deleted meanwhile) fails alone. Before: one
// statement (and one commit) per webhook.
describe('accepts (PostgreSQL)', () => {
  test(
    'webhooks that come together are stored in one statement, each with its job, and each runs once',
    { skip: !PG_URL && 'PLUGBOARD_TEST_DATABASE_URL is not set' },
    async () => {
      const bossSchema = newSchema('tboss');
      const h = await createHarness({
        pgSchema: newSchema('t'),
        queue: ({ store }) =>
          createPgBossQueue({ connectionString: PG_URL!, bossSchema, supervise: false, executions: new ExecutionStore(runtimeDb(store.db)) }),
        runner: false,
      });
      try {
        const { instance, hookUrl } = await activeAndWarm(h);
        const url = await hookUrl('record');
        const post = () => h.app.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        assert.equal((await post()).status, 202); // the endpoint, instance and queue known from here on
        await new Promise((r) => setTimeout(r, 300)); // its NOTIFY and the queue counts out of the way
        const before = statements;
        const answers = await Promise.all(Array.from({ length: 12 }, async () => post()));
        const used = statements - before;
        assert.deepEqual(
          answers.map((a) => a.status),
          Array(12).fill(202),
        );
        // The first alone, the other eleven together, a NOTIFY or two after their commits, the queue counts once.
        console.log(`# ${used} statements for 12 webhooks at once`);
        assert.ok(used <= 5, `${used} statements for 12 webhooks at once`);
        h.startRunner();
        const ids = await Promise.all(answers.map(async (a) => ((await a.json()) as { executionId: string }).executionId));
        await eventually(
          async () => (await Promise.all(ids.map((id) => h.runtime.executions.get(id)))).every((r) => r?.status === 'succeeded'),
          30_000,
          'all 12 to run',
        );
        const runs = h.sideEffects(instance.id);
        for (const id of ids) assert.equal(runs.filter((r) => r === id).length, 1, `execution ${id} ran once`);
      } finally {
        await h.close();
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`drop schema if exists ${bossSchema} cascade`);
        await client.end();
      }
    },
  );

  test(
    'an accept whose instance is gone fails alone; the others of its statement are stored',
    { skip: !PG_URL && 'PLUGBOARD_TEST_DATABASE_URL is not set' },
    async () => {
      const h = await createHarness({ pgSchema: newSchema('t'), runner: false });
      try {
        const { customer, instance } = await activeAndWarm(h);
        const executions = new ExecutionStore(runtimeDb(h.store.db));
        const job = { job: { sql: 'SELECT 1 AS job', parameters: [] } };
        const accept = (instanceId: string, n: number) =>
          executions.createQueued(
            {
              id: crypto.randomUUID(),
              customerId: customer.id,
              instanceId,
              flow: 'record',
              trigger: 'webhook',
              maxAttempts: 1,
              payload: { body: { n }, headers: {} },
            },
            job,
          );
        // The first goes alone; the other three wait for it and go together.
        const settled = await Promise.allSettled([accept(instance.id, 0), accept(instance.id, 1), accept('no-such-instance', 2), accept(instance.id, 3)]);
        assert.deepEqual(
          settled.map((s) => s.status),
          ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
        );
        for (const s of settled) if (s.status === 'fulfilled') assert.equal((await executions.get(s.value.row.id))?.status, 'queued');
      } finally {
        await h.close();
      }
    },
  );
});

// Activate/pause toggles of one instance through the API: the instance and its connections come
// from memory (the status write keeps the row it wrote and leaves the connections in place), so
// each toggle is its transaction (SQLite: begin, status update, audit insert, commit; PostgreSQL
// also the NOTIFY that tells other processes) and the read of the instance's webhook URLs, which
// its answer shows when a runtime runs; on PostgreSQL also the rate-limit counter, shared by the
// replicas. Before: 2.5 more (the instance, its connections twice).
async function statementsPerToggle(h: Harness): Promise<number> {
  const { customer, instance } = await h.activeInstance(`toggle-${Math.random().toString(36).slice(2, 8)}`);
  const authorization = `Bearer ${await h.token(customer.externalId)}`;
  let active = true;
  const toggle = async () => {
    active = !active;
    const res = await h.app.request(`/api/v1/instances/${instance.id}/${active ? 'activate' : 'pause'}`, { method: 'POST', headers: { authorization } });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(((await res.json()) as { status: string }).status, active ? 'active' : 'paused');
    // PostgreSQL delivers the toggle's own NOTIFY back to this process meanwhile.
    await new Promise((r) => setTimeout(r, 50));
  };
  await toggle(); // first sight of the customer and the token
  await toggle();
  const before = statements;
  for (let i = 0; i < 6; i++) await toggle();
  return (statements - before) / 6;
}

describe('SQL statements per activate/pause toggle', () => {
  test('SQLite: 5 (begin, status update, audit insert, commit; webhook URLs)', async () => {
    const h = await createHarness({ runner: false });
    try {
      assert.equal(await statementsPerToggle(h), 5);
    } finally {
      await h.close();
    }
  });

  test('SQLite: 32 toggles at once commit in one transaction, each audited, announced to the other threads in one message', async () => {
    const threads = `statements-${Math.random().toString(36).slice(2, 10)}`;
    const store = await openStore({ databaseUrl: ':memory:', migrations: allMigrations, cache: { threads } });
    // What a runner thread's cache would hear.
    const heard: string[][] = [];
    const runnerSide = new BroadcastChannel(threads);
    runnerSide.onmessage = (event) => heard.push((event as { data: string[] }).data);
    try {
      const tenant = store.forCustomer(await store.ensureCustomer('grouped'));
      const audit = (action: string) => ({ actor: 'user:test', action, target: '', details: {} });
      const ids = await Promise.all(
        Array.from({ length: 32 }, async (_, i) => (await tenant.createInstance({ integrationKey: `i${i}`, audit: audit('instance.created') })).instance.id),
      );
      const before = commits;
      const statementsBefore = statements;
      const written = await Promise.all(ids.map((id) => tenant.setStatus(id, { status: 'active', audit: audit('instance.activated') })));
      // Asked in one event-loop turn: one group; none threw, so no savepoints: begin, 32 × (update, audit insert), commit.
      assert.equal(commits - before, 1);
      assert.equal(statements - statementsBefore, 2 + 32 * 2);
      assert.deepEqual(new Set(written.map((i) => i?.status)), new Set(['active']));
      assert.equal((await tenant.listAudit({ limit: 1000 })).filter((e) => e.action === 'instance.activated').length, 32);
      await eventually(() => heard.length > 0, 5000, 'the other threads to hear of the writes');
      const heardBefore = heard.length;
      await Promise.all(ids.map((id) => tenant.setStatus(id, { status: 'paused', audit: audit('instance.paused') })));
      await eventually(() => heard.length > heardBefore, 5000, 'the other threads to hear of the pauses');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(heard.slice(heardBefore), [ids.map((id) => `instance:${id}`)]);
    } finally {
      runnerSide.close();
      await store.close();
    }
  });

  test('PostgreSQL: 7 (the same, the NOTIFY and the rate-limit counter)', { skip: !PG_URL && 'PLUGBOARD_TEST_DATABASE_URL is not set' }, async () => {
    const h = await createHarness({ pgSchema: newSchema('t'), runner: false });
    try {
      assert.equal(await statementsPerToggle(h), 7);
    } finally {
      await h.close();
    }
  });
});

describe('caches across processes (PostgreSQL)', { skip: !PG_URL && 'PLUGBOARD_TEST_DATABASE_URL is not set' }, () => {
  const pgSchema = newSchema('t');
  let h: Harness;
  let other: Store;

  before(async () => {
    h = await createHarness({ pgSchema, runner: false });
    // Another process's store on the same schema: its writes reach the harness's caches only through NOTIFY.
    other = await openStore({ databaseUrl: PG_URL, pgSchema, migrations: allMigrations });
  });
  after(async () => {
    await other?.close();
    await h?.close();
  });

  const post = (url: string) => h.app.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const audit = { actor: 'user:test', action: 'instance.paused', target: 'instance:x', details: {} };

  test('an instance paused through another store stops its webhook (404), from memory before', async () => {
    const { customer, instance, hookUrl } = await h.activeInstance('cache-pause');
    const url = await hookUrl('record');
    assert.equal((await post(url)).status, 202);
    assert.equal((await post(url)).status, 202);
    const reads = statements;
    assert.equal((await post(url)).status, 202);
    // Endpoint, instance and customer came from memory: the accept is the execution's insert (and its job, on the harness's queue).
    assert.ok(statements - reads <= 2, `${statements - reads} statements for a cached webhook`);

    await other.forCustomer(await other.ensureCustomer(customer.externalId)).setStatus(instance.id, { status: 'paused', audit });
    await eventually(async () => (await post(url)).status === 404, 10_000, 'the webhook to answer 404 after the pause');
  });

  test("a connection written through another store is seen, also after this store's own status writes", async () => {
    const { customer, instance } = await h.activeInstance('cache-connection');
    const tenant = h.store.forCustomer(customer);
    assert.deepEqual(await tenant.listConnections(instance.id), []);
    await tenant.setStatus(instance.id, { status: 'paused', audit });
    const theirs = other.forCustomer(await other.ensureCustomer(customer.externalId));
    await theirs.putConnection(instance.id, 'crm', { kind: 'apiKey', status: 'connected', ciphertext: 'sealed', expiresAt: null, error: null });
    await tenant.setStatus(instance.id, { status: 'active', audit });
    await eventually(async () => (await tenant.listConnections(instance.id)).length === 1, 10_000, 'the connection written through the other store');
    await theirs.deleteConnection(instance.id, 'crm', audit);
    await eventually(async () => (await tenant.listConnections(instance.id)).length === 0, 10_000, 'the connection deleted through the other store');
  });

  test('a customer renamed through another store is seen renamed', async () => {
    await h.store.ensureCustomer('cache-rename', 'Old name');
    assert.equal((await h.store.ensureCustomer('cache-rename')).name, 'Old name');
    await other.ensureCustomer('cache-rename', 'New name');
    await eventually(async () => (await h.store.ensureCustomer('cache-rename')).name === 'New name', 10_000, 'the new name');
  });

  test("a signing secret rotated through another store is checked at once (the endpoint's cached row is dropped)", async () => {
    const { customer, instance, hookUrl } = await h.activeInstance('cache-secret');
    const url = await hookUrl('signed');
    // No secret yet: refused, and the endpoint (without a secret) is now in memory.
    assert.equal((await post(url)).status, 401);
    const endpoints = new WebhookEndpoints(runtimeDb(other.db), other.cache, h.cipher, 'http://127.0.0.1:1');
    const secret = await endpoints.rotateSecret({ id: instance.id, customerId: customer.id }, h.services.integrations.get('recorder')!, 'signed');
    const signed = () => {
      const id = `msg_${Math.random().toString(36).slice(2)}`;
      const at = new Date();
      return h.app.request(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': new Webhook(secret!).sign(id, at, '{}'),
        },
        body: '{}',
      });
    };
    await eventually(async () => (await signed()).status === 202, 10_000, 'the delivery signed with the new secret to be accepted');
  });

  test('an erased customer: its webhooks answer 404 at once, in the erasing process too', async () => {
    const { customer, hookUrl } = await h.activeInstance('cache-erased');
    const url = await hookUrl('record');
    assert.equal((await post(url)).status, 202);
    assert.equal((await other.ensureCustomer('cache-erased')).id, customer.id); // in the other process's memory too
    await h.services.erasure.erase(customer.id, 'vendor:test');
    assert.equal((await post(url)).status, 404);
    assert.notEqual((await h.store.ensureCustomer('cache-erased')).id, customer.id, 'a new customer, not the erased one from memory');
    await eventually(async () => (await other.ensureCustomer('cache-erased')).id !== customer.id, 10_000, 'the other process to forget the erased customer');
  });

  test('after the LISTEN connection is lost, nothing stale is served (notifications may have been missed)', async () => {
    const { customer, instance, hookUrl } = await h.activeInstance('cache-reconnect');
    const url = await hookUrl('record');
    assert.equal((await post(url)).status, 202);
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      // Both stores' LISTEN connections on this schema's channel.
      const { rows } = await admin.query<{ n: number }>(
        `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where query like 'LISTEN "plugboard_cache_' || $1::text || '"%'`,
        [pgSchema],
      );
      assert.ok(rows[0]!.n >= 1, 'a LISTEN connection to cut');
    } finally {
      await admin.end();
    }
    await other.forCustomer(customer).setStatus(instance.id, { status: 'paused', audit });
    await eventually(async () => (await post(url)).status === 404, 10_000, 'the webhook to answer 404 after the pause');
    // And it listens again: a later write still reaches it.
    await other.forCustomer(customer).setStatus(instance.id, { status: 'active', audit });
    await eventually(async () => (await post(url)).status === 202, 10_000, 'the webhook to accept again');
    await eventually(
      async () => {
        const { rows } = await sql<{
          n: number;
        }>`select count(*)::int as n from pg_stat_activity where query like ${`LISTEN "plugboard_cache_${pgSchema}"%`}`.execute(h.store.db);
        return rows[0]!.n >= 2;
      },
      10_000,
      'both stores to listen again',
    );
  });
});
