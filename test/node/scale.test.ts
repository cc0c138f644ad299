// Scale-out on the real PostgreSQL: pg-boss queues, runner processes (`plugboard runner`, real
// child processes with their own executor pools), exactly-once side effects, SIGKILL recovery,
// SIGTERM drain, and schedules fired once per tick with two runners.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { ExecutionDetail } from '../../src/protocol/index.js';
import { createPgBossQueue } from '../../server/src/runtime/pgboss-queue.js';
import { createRunner } from '../../server/src/runtime/runner.js';
import { runtimeDb } from '../../server/src/runtime/schema.js';
import { createHarness, eventually, FIXTURE_MODULE, newSchema, PG_URL, type Harness } from './runtime.harness.js';

const RUNNER_CLI = fileURLToPath(new URL('../../server/src/runtime/runner-main.ts', import.meta.url));

interface RunnerProcess {
  child: ChildProcess;
  id: Promise<string>;
  exited: Promise<number | null>;
}

describe('scale-out on PostgreSQL', { skip: PG_URL ? false : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' }, () => {
  let h: Harness;
  const schema = newSchema('t');
  const bossSchema = newSchema('b');
  const runners: RunnerProcess[] = [];

  function spawnRunner(): RunnerProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', RUNNER_CLI], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: PG_URL,
        PLUGBOARD_PG_SCHEMA: schema,
        PLUGBOARD_PGBOSS_SCHEMA: bossSchema,
        PLUGBOARD_ENCRYPTION_KEY: h.encryptionKey,
        PLUGBOARD_INTEGRATIONS: FIXTURE_MODULE,
        PLUGBOARD_EXECUTOR_ENV_RUNTIME_TEST_OUT: h.outDir,
        PLUGBOARD_EXECUTION_TIMEOUT_MS: '5000',
        // Far above any execution here, even on a loaded machine (a job expired mid-run would run twice):
        // a SIGKILLed runner's work comes back through the heartbeats (PLUGBOARD_RUNNER_DEAD_AFTER_S).
        PLUGBOARD_VISIBILITY_TIMEOUT_S: '120',
        PLUGBOARD_RUNNER_DEAD_AFTER_S: '5',
        PLUGBOARD_MAINTENANCE_INTERVAL_S: '1',
        PLUGBOARD_RUNNER_POLL_MS: '200',
        PLUGBOARD_SCHEDULE_INTERVAL_MS: '300',
        PLUGBOARD_DRAIN_GRACE_MS: '15000',
        PLUGBOARD_RUNNER_CONCURRENCY: '16',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const id = new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /"runner":"(runner_[0-9a-f]+)"/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', () => reject(new Error(`runner exited before starting: ${out.slice(-500)}`)));
    });
    id.catch(() => {});
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const runner = { child, id, exited };
    runners.push(runner);
    return runner;
  }

  const post = (path: string, body: unknown) =>
    h.app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const statusOf = async (id: string) => (await runtimeDb(h.store.db).selectFrom('executions').selectAll().where('id', '=', id).executeTakeFirst())!;

  before(async () => {
    h = await createHarness({
      pgSchema: schema,
      runner: false,
      // The queue's visibility timeout is set by whoever creates it (here the API side): same as the runners'.
      queue: () => createPgBossQueue({ connectionString: PG_URL!, bossSchema, supervise: false, visibilityTimeoutS: 120 }),
    });
    spawnRunner();
    spawnRunner();
    await Promise.all(runners.map((r) => r.id));
  });

  after(async () => {
    for (const r of runners) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    await Promise.all(runners.map((r) => r.exited));
    await h?.close();
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`drop schema if exists ${bossSchema} cascade`);
    await client.end();
  });

  test('two runners process 500 webhook executions, each exactly once', async () => {
    const instances = await Promise.all([1, 2, 3, 4, 5].map((i) => h.activeInstance(`scale-${i}`)));
    const ids = new Set<string>();
    for (const inst of instances) {
      const url = await inst.hookUrl('record');
      for (let i = 0; i < 100; i++) {
        const res = await post(url, { i });
        assert.equal(res.status, 202);
        ids.add(((await res.json()) as { executionId: string }).executionId);
      }
    }
    assert.equal(ids.size, 500);
    const sentAt = Date.now();
    const db = runtimeDb(h.store.db);
    await eventually(
      async () => {
        const row = await db
          .selectFrom('executions')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('status', '=', 'succeeded')
          .where('trigger', '=', 'webhook')
          .where(
            'instance_id',
            'in',
            instances.map((i) => i.instance.id),
          )
          .executeTakeFirstOrThrow();
        return Number(row.n) === 500 || undefined;
      },
      150_000,
      '500 executions to succeed',
    );
    console.log(`# 500 executions done ${((Date.now() - sentAt) / 1000).toFixed(1)} s after the last webhook was accepted`);
    const effects = instances.flatMap((i) => h.sideEffects(i.instance.id));
    assert.equal(effects.length, 500, 'no execution ran twice');
    assert.deepEqual(new Set(effects), ids, 'every execution ran');
    const byRunner = await db
      .selectFrom('executions')
      .select(['runner_id', (eb) => eb.fn.countAll<string>().as('n')])
      .where('trigger', '=', 'webhook')
      .groupBy('runner_id')
      .execute();
    console.log(`# executions per runner: ${byRunner.map((r) => `${r.runner_id}=${r.n}`).join(', ')}`);

    // Both runners ran the schedulers all along: each (instance, flow, tick) fired at most once.
    const ticks = await db.selectFrom('executions').select(['instance_id', 'tick_key']).where('trigger', '=', 'schedule').execute();
    assert.ok(ticks.length > 0, 'schedules fired');
    assert.equal(new Set(ticks.map((t) => `${t.instance_id} ${t.tick_key}`)).size, ticks.length);
    for (const inst of instances) {
      const tickEffects = h.sideEffects(inst.instance.id, 'tick');
      assert.equal(new Set(tickEffects).size, tickEffects.length, 'no tick ran twice');
    }
  });

  test('a runner killed with SIGKILL mid-execution: another runner retries it (through its heartbeat, not the job expiry) and it completes', async () => {
    const { instance, hookUrl } = await h.activeInstance('killed');
    const { executionId } = (await (await post(await hookUrl('record'), { sleepMs: 3000 })).json()) as { executionId: string };
    const running = await eventually(async () => {
      const row = await statusOf(executionId);
      return row.status === 'running' ? row : undefined;
    });
    const victim = (await Promise.all(runners.map(async (r) => ({ r, id: await r.id.catch(() => '') })))).find((x) => x.id === running.runner_id)!;
    assert.ok(victim, 'the running execution belongs to one of our runners');
    victim.r.child.kill('SIGKILL');
    await victim.r.exited;
    spawnRunner(); // keep two alive for the next test
    const done = await eventually(
      async () => {
        const row = await statusOf(executionId);
        return row.status === 'succeeded' ? row : undefined;
      },
      60_000,
      'the killed execution to complete elsewhere',
    );
    assert.notEqual(done.runner_id, running.runner_id);
    // The dead runner's attempt is given back: a crash is not the flow's failure.
    assert.equal(Number(done.attempt), 1);
    assert.deepEqual(h.sideEffects(instance.id), [executionId]);
  });

  test('SIGTERM drains a runner: nothing lost, nothing run twice', async () => {
    const instances = await Promise.all([1, 2].map((i) => h.activeInstance(`drain-${i}`)));
    const ids: string[] = [];
    for (const inst of instances) {
      const url = await inst.hookUrl('record');
      for (let i = 0; i < 20; i++) ids.push(((await (await post(url, { sleepMs: 300 })).json()) as { executionId: string }).executionId);
    }
    const alive = runners.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
    // Terminate one while it is working.
    const target = alive[0]!;
    const targetId = await target.id;
    await eventually(async () => {
      const row = await runtimeDb(h.store.db)
        .selectFrom('executions')
        .select('id')
        .where('runner_id', '=', targetId)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return row ?? undefined;
    });
    target.child.kill('SIGTERM');
    assert.equal(await target.exited, 0, 'the runner exits cleanly after draining');
    await eventually(
      async () => {
        const rows = await Promise.all(ids.map(statusOf));
        return rows.every((r) => r.status === 'succeeded') || undefined;
      },
      90_000,
      'every execution to succeed',
    );
    const effects = instances.flatMap((i) => h.sideEffects(i.instance.id));
    assert.equal(effects.length, ids.length, 'nothing ran twice');
    assert.deepEqual(new Set(effects), new Set(ids), 'nothing lost');
  });
});

describe('lost executions on PostgreSQL', { skip: PG_URL ? false : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' }, () => {
  test('an execution whose job ran out of deliveries is marked failed with the reason, not left running', async () => {
    const bossSchema = newSchema('b');
    // No redelivery at all: the first runner to die holding the job loses it for good.
    const h = await createHarness({
      pgSchema: newSchema('t'),
      runner: false,
      queue: () => createPgBossQueue({ connectionString: PG_URL!, bossSchema, supervise: true, visibilityTimeoutS: 1, maintenanceIntervalS: 1, retryLimit: 0 }),
    });
    try {
      const { hookUrl } = await h.activeInstance('doomed');
      const res = await h.app.request(await hookUrl('record'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      const { executionId } = (await res.json()) as { executionId: string };
      // A runner that takes the job, marks it running, then hangs (as if killed): never settles it.
      h.runtime.queue.consume(
        async (claim) => {
          await h.runtime.executions.start(claim.executionId, 'runner_dead');
          await new Promise(() => {});
        },
        { concurrency: 1, perCustomer: 1, pollMs: 100 },
      );
      await eventually(async () => (await h.runtime.executions.get(executionId))?.status === 'running' || undefined);
      await h.runtime.queue.stopConsuming();
      const sweeper = createRunner({
        store: h.store,
        integrations: h.services.integrations,
        inputs: h.services.inputs,
        pool: h.pool,
        queue: h.runtime.queue,
        lostAfterMs: 0,
      });
      // pg-boss expires the job after the visibility timeout and, with no retries left, fails it.
      await eventually(async () => (await sweeper.sweep()) === 1 || undefined, 30_000, 'the sweep to find the lost execution');
      const detail = await h.app.request(`/api/v1/executions/${executionId}`, { headers: { authorization: `Bearer ${await h.token('doomed')}` } });
      const body = (await detail.json()) as ExecutionDetail;
      assert.equal(body.status, 'failed');
      assert.match(body.error ?? '', /abandoned: it ran out of deliveries \(job failed by timeout in active state\)/);
      assert.ok(body.endedAt);
      assert.equal(await sweeper.sweep(), 0, 'an ended execution is not swept again');
    } finally {
      await h.close();
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`drop schema if exists ${bossSchema} cascade`);
      await client.end();
    }
  });
});
