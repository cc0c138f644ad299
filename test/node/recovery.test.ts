// Recovery on PostgreSQL with real processes: a runner killed with SIGKILL has its execution
// retried by another within 15 s (heartbeats, not pg-boss's ~90 s expiry); `plugboard runner` and
// `plugboard serve` (with its runner) live through database outages, refused and black-holed, twice
// each, and take work again once the database is back.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createPgBossQueue } from '../../server/src/runtime/pgboss-queue.js';
import { runtimeDb } from '../../server/src/runtime/schema.js';
import { pgProxy } from './fixtures/pg-proxy.js';
import { runtimeEnv, spawnRunner, spawnServe, type PlugboardProcess, type RunnerProcess } from './fixtures/plugboard-process.js';
import { createHarness, eventually, newSchema, PG_URL, type Harness } from './runtime.harness.js';

const skip = PG_URL ? false : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped';

describe('recovery on PostgreSQL', { skip }, () => {
  let h: Harness;
  const schema = newSchema('t');
  const bossSchema = newSchema('b');
  const processes: PlugboardProcess[] = [];
  const runnerEnv = () => ({ ...runtimeEnv(h, { schema, bossSchema }), PLUGBOARD_RUNNER_POLL_MS: '200' });
  const runner = (env: Record<string, string | undefined> = {}): RunnerProcess => {
    const r = spawnRunner({ ...runnerEnv(), ...env });
    processes.push(r);
    return r;
  };
  const post = async (path: string, body: unknown) => {
    const res = await h.app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 202);
    return ((await res.json()) as { executionId: string }).executionId;
  };
  const rowOf = async (id: string) => (await runtimeDb(h.store.db).selectFrom('executions').selectAll().where('id', '=', id).executeTakeFirst())!;

  before(async () => {
    // The API side creates the customers' queues: with pg-boss's default expiry (90 s), only the
    // heartbeats can hand a dead runner's job over within 15 s.
    h = await createHarness({ pgSchema: schema, runner: false, queue: () => createPgBossQueue({ connectionString: PG_URL!, bossSchema }) });
  });

  after(async () => {
    for (const p of processes) if (p.alive()) p.child.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await h?.close();
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`drop schema if exists ${bossSchema} cascade`);
    await client.end();
  });

  test('a runner killed with SIGKILL mid-execution: another runner runs it within 15 s, once, without spending an attempt', async () => {
    const a = runner();
    const b = runner();
    const ids = await Promise.all([a.id, b.id]);
    const { instance, hookUrl } = await h.activeInstance('killed');
    const executionId = await post(await hookUrl('record'), { sleepMs: 4000 });
    const running = await eventually(async () => {
      const row = await rowOf(executionId);
      return row.status === 'running' ? row : undefined;
    });
    const [victim, survivor] = running.runner_id === ids[0] ? [a, b] : [b, a];
    const survivorId = await survivor.id;
    victim.child.kill('SIGKILL');
    await victim.exited;
    const killedAt = Date.now();
    // Before the heartbeats, pg-boss expired the job after 90 s: this gave up first.
    const taken = await eventually(
      async () => {
        const row = await rowOf(executionId);
        return row.runner_id === survivorId ? row : undefined;
      },
      15_000 + 3000,
      () => `the other runner to take the execution: ${survivor.output().slice(-500)}`,
    );
    console.log(`# dead runner → its execution taken by another runner after ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
    assert.notEqual(taken.status, 'queued');
    const done = await eventually(
      async () => {
        const row = await rowOf(executionId);
        return row.status === 'succeeded' ? row : undefined;
      },
      20_000,
      'the execution to succeed on the other runner',
    );
    assert.equal(done.runner_id, survivorId);
    assert.equal(Number(done.attempt), 1, 'the dead runner’s attempt is not counted against the flow');
    // The victim's executor died with it (it never wrote its side effect): one run, on the survivor.
    assert.deepEqual(h.sideEffects(instance.id), [executionId]);
    assert.ok(survivor.alive());
    survivor.child.kill('SIGTERM');
    assert.equal(await survivor.exited, 0);
  });

  test('plugboard runner and plugboard serve live through outages (refused, black-holed, twice) and take work again when the database is back', async (t) => {
    const proxy = await pgProxy(new URL(PG_URL!));
    t.after(() => proxy.close());
    const viaProxy = proxy.via(PG_URL!);
    // Short timeouts: a black-holed query fails after 1 + 2 s.
    const outageEnv = { DATABASE_URL: viaProxy, PLUGBOARD_DB_QUERY_TIMEOUT_MS: '1000' };
    const r = runner(outageEnv);
    const serve = await spawnServe({ ...runnerEnv(), ...outageEnv, PLUGBOARD_SHUTDOWN_DELAY_MS: '0' });
    processes.push(serve);
    const serveUrl = serve.url;
    await r.id;
    const { hookUrl } = await h.activeInstance('outages');
    const url = await hookUrl('record');
    const readyz = () =>
      fetch(`${serveUrl}/readyz`, { signal: AbortSignal.timeout(5000) }).then(
        (res) => res.status,
        () => 0,
      );
    assert.equal(await readyz(), 200);

    const late: string[] = [];
    for (const [round, mode] of [
      [1, 'refuse'],
      [2, 'blackhole'],
      [3, 'refuse'],
      [4, 'blackhole'],
    ] as const) {
      if (mode === 'refuse') await proxy.refuse();
      else proxy.blackhole();
      // Accepted meanwhile through the API side's own connection: waits in the queue for the outage to end.
      const during = await post(url, { n: round });
      let seen = -1;
      await eventually(
        async () => (seen = await readyz()) === 503,
        15_000,
        () => `round ${round} (${mode}): serve's /readyz to answer 503 (last: ${seen}, serve alive: ${serve.alive()}): ${serve.output().slice(-3000)}`,
      );
      await proxy.restore();
      const restoredAt = Date.now();
      const ran = await eventually(async () => (await rowOf(during)).status === 'succeeded', 20_000).then(
        () => true,
        () => false,
      );
      if (ran) console.log(`# round ${round} (${mode}): queued execution done ${((Date.now() - restoredAt) / 1000).toFixed(1)} s after the database came back`);
      else late.push(`${round} (${mode}, ${(await rowOf(during)).status})`);
      assert.ok(r.alive(), `round ${round}: the runner exited: ${r.output().slice(-1500)}`);
      assert.ok(serve.alive(), `round ${round}: serve exited: ${serve.output().slice(-1500)}`);
      await eventually(async () => (await readyz()) === 200, 15_000, `round ${round} (${mode}): serve's /readyz to answer 200 again`);
      // serve takes webhooks itself again. A pooled connection caught in the black hole fails its
      // next statement (503 with Retry-After, after the timeout): a sender retries, as this does.
      let last = '';
      await eventually(
        async () => {
          const res = await fetch(`${serveUrl}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
          last = `${res.status} ${res.headers.get('retry-after')} ${await res.text()}`;
          if (res.status !== 202) assert.equal(res.status, 503, last);
          return res.status === 202 ? (JSON.parse(last.slice(last.indexOf('{'))) as { executionId: string }) : undefined;
        },
        15_000,
        () => `round ${round}: serve to accept a webhook again (last: ${last})`,
      );
    }
    // Every pool of the runner (its claims' own pool included) has the timeouts: a claim sent into the
    // black hole fails after them, so the customer's next claim is not held up for the 30 s default.
    assert.deepEqual(late, [], 'the execution queued during each outage runs once the database is back');
  });

  test('with the default timeouts, a runner whose execution ends during a black hole writes it once the database is back, without running it again', async (t) => {
    const proxy = await pgProxy(new URL(PG_URL!));
    t.after(() => proxy.close());
    // No PLUGBOARD_DB_QUERY_TIMEOUT_MS: what a deployment runs with (statements time out after 30 + 2 s).
    const r = runner({ DATABASE_URL: proxy.via(PG_URL!) });
    await r.id;
    const { instance, hookUrl } = await h.activeInstance('hole-mid-execution');
    const url = await hookUrl('record');
    // What its loops log while their pool's check finds the database silent (the dispatch loop: every poll).
    const noticed = () => r.output().split('does not answer a check').length;
    // One execution first: the runner then has the instance in memory, so the next reads nothing before its flow runs.
    const warm = await post(url, {});
    await eventually(async () => (await rowOf(warm)).status === 'succeeded', 20_000, 'a first execution to run');
    for (const [round, hole] of [
      [1, 'closed again as soon as the flow has run'],
      [2, 'open until the runner has noticed it'],
    ] as const) {
      const executionId = await post(url, { sleepMs: 1500, n: round });
      await eventually(async () => (await rowOf(executionId)).status === 'running', 20_000, `round ${round}: the execution to start`);
      const before = noticed();
      proxy.blackhole();
      // The flow's side effect: it ran, and the runner now writes its outcome into the hole.
      await eventually(() => h.sideEffects(instance.id).includes(executionId), 20_000, `round ${round}: the flow to run`);
      if (round === 2)
        await eventually(
          () => noticed() > before,
          20_000,
          () => `round ${round}: the runner to notice: ${r.output().slice(-1500)}`,
        );
      await proxy.restore();
      // Before: the write waited in its stalled connection for the 32 s timeout (29-32 s measured after
      // the restore), then the flow was handed back and, once in 2 runs, ran a second time.
      let status = '';
      await eventually(
        async () => (status = (await rowOf(executionId)).status) === 'succeeded',
        15_000,
        () => `round ${round} (${hole}): the execution to be written as succeeded (${status}): ${r.output().slice(-1500)}`,
      );
      assert.equal(h.sideEffects(instance.id).filter((id) => id === executionId).length, 1, `round ${round}: the flow ran once`);
      assert.ok(r.alive(), `round ${round}: the runner exited: ${r.output().slice(-1500)}`);
      const next = await post(url, { n: 10 + round });
      await eventually(async () => (await rowOf(next)).status === 'succeeded', 15_000, `round ${round}: the next execution to run`);
    }
  });
});
