// Claims taken ahead (PostgreSQL): a job claimed while the customer's executor is busy waits in the
// executor pool, and pg-boss counts its expiry from the claim. A job held by a live runner must not
// expire while it waits (another delivery would run it a second time): the runner's heartbeat
// renews the jobs of the executions it holds; a dead runner's jobs still come back through the heartbeats.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import pg from 'pg';
import { ExecutionStore } from '../../server/src/runtime/executions.js';
import { createPgBossQueue } from '../../server/src/runtime/pgboss-queue.js';
import { runtimeDb } from '../../server/src/runtime/schema.js';
import { createHarness, eventually, newSchema, PG_URL } from './runtime.harness.js';

describe('claims ahead on PostgreSQL', { skip: PG_URL ? false : 'PLUGBOARD_TEST_DATABASE_URL not set' }, () => {
  test('a job claimed ahead outlives its expiry waiting for the executor, and still runs once', async () => {
    const bossSchema = newSchema('tboss');
    const h = await createHarness({
      pgSchema: newSchema('t'),
      // Expiry 3 s, looked for every second: shorter than the second execution's wait plus its run (5 s).
      queue: ({ store }) =>
        createPgBossQueue({
          connectionString: PG_URL!,
          bossSchema,
          supervise: true,
          visibilityTimeoutS: 3,
          maintenanceIntervalS: 1,
          executions: new ExecutionStore(runtimeDb(store.db)),
        }),
      runtimeEnv: { PLUGBOARD_QUEUE_LIMIT: '0', PLUGBOARD_QUEUE_LIMIT_PER_CUSTOMER: '0' },
      // One at a time in the executor, one claimed ahead: the second waits for the first's whole run.
      runner: { perCustomer: 1, claimAhead: 1, timeoutMs: 2900, deadAfterMs: 2500 },
      pool: { maxPerCustomer: 1 },
    });
    try {
      const { instance, hookUrl } = await h.activeInstance('ahead');
      const url = await hookUrl('record');
      // The executor is started first: its cold start is not what this is about.
      const warm = await h.app.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      const { executionId: warmId } = (await warm.json()) as { executionId: string };
      await eventually(async () => (await h.runtime.executions.get(warmId))?.status === 'succeeded', 30_000, 'the executor to be warm');
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await h.app.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sleepMs: 2500 }) });
        assert.equal(res.status, 202);
        ids.push(((await res.json()) as { executionId: string }).executionId);
      }
      const ended = async () => {
        const rows = await Promise.all(ids.map((id) => h.runtime.executions.get(id)));
        return rows.every((r) => r?.status === 'succeeded') ? rows : undefined;
      };
      await eventually(ended, 30_000, 'both executions to succeed');
      // A redelivery after an expiry would show here (and in the attempts), a little after the first run.
      await new Promise((r) => setTimeout(r, 3000));
      const runs = h.sideEffects(instance.id);
      for (const id of ids) assert.equal(runs.filter((r) => r === id).length, 1, `execution ${id} ran ${runs.filter((r) => r === id).length} times`);
      for (const row of await Promise.all(ids.map((id) => h.runtime.executions.get(id)))) assert.equal(Number(row!.attempt), 1);
    } finally {
      await h.close();
    }
  });

  test("a heartbeat's renewal never deadlocks with a grouped finish of the same jobs", async () => {
    // A grouped finish locks its jobs one by one in its own order. A renewal that waited for one of
    // them while holding another made PostgreSQL abort one of the two (40P01): under load the finish
    // lost, and its executions were handed back and ran again (bench/load.ts, 2026-12-02).
    const bossSchema = newSchema('tboss');
    const queue = await createPgBossQueue({ connectionString: PG_URL!, bossSchema });
    const finisher = new pg.Client({ connectionString: PG_URL });
    await finisher.connect();
    try {
      const customerId = randomUUID();
      const [a, b] = [randomUUID(), randomUUID()];
      for (const id of [a, b]) await queue.enqueue({ id, customerId });
      // Both held by a runner.
      await finisher.query(`UPDATE ${bossSchema}.job SET state = 'active', started_on = now() - interval '1 minute' WHERE id = ANY($1::uuid[])`, [[a, b]]);
      // A finish has completed b and goes on to a.
      await finisher.query('BEGIN');
      await finisher.query(`UPDATE ${bossSchema}.job SET state = 'completed', completed_on = now() WHERE id = $1::uuid`, [b]);
      const renewal = queue.renew!([
        { id: a, customerId },
        { id: b, customerId },
      ]).then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      await new Promise((r) => setTimeout(r, 300));
      await finisher.query(`UPDATE ${bossSchema}.job SET state = 'completed', completed_on = now() WHERE id = $1::uuid`, [a]);
      await finisher.query('COMMIT');
      assert.equal(await renewal, undefined);
      const { rows } = await finisher.query<{ state: string }>(`SELECT state FROM ${bossSchema}.job WHERE id = ANY($1::uuid[])`, [[a, b]]);
      assert.deepEqual(
        rows.map((r) => r.state),
        ['completed', 'completed'],
      );
    } finally {
      await finisher.query('ROLLBACK').catch(() => {});
      await queue.close();
      await finisher.query(`DROP SCHEMA IF EXISTS ${bossSchema} CASCADE`);
      await finisher.end();
    }
  });
});
