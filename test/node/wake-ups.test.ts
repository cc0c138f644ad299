// Wake-ups across processes (PostgreSQL): the NOTIFY that wakes other processes' runners follows
// each accepted webhook's commit, one per customer in flight at a time (not in the insert's
// transaction, whose commits PostgreSQL would serialize on its notify lock). What is committed while
// one is in flight gets another after it: a runner that only hears NOTIFYs (it never polls here)
// still runs every execution of a burst.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ExecutionStore } from '../../server/src/runtime/executions.js';
import { createPgBossQueue } from '../../server/src/runtime/pgboss-queue.js';
import { createRunner } from '../../server/src/runtime/runner.js';
import { runtimeDb } from '../../server/src/runtime/schema.js';
import { createHarness, eventually, newSchema, PG_URL } from './runtime.harness.js';

describe('wake-ups on PostgreSQL', { skip: PG_URL ? false : 'PLUGBOARD_TEST_DATABASE_URL not set' }, () => {
  test('a runner on its own queue connection, never polling, runs every execution of a burst of webhooks', async () => {
    const bossSchema = newSchema('tboss');
    const h = await createHarness({
      pgSchema: newSchema('t'),
      queue: ({ store }) => createPgBossQueue({ connectionString: PG_URL!, bossSchema, supervise: false, executions: new ExecutionStore(runtimeDb(store.db)) }),
      runtimeEnv: { PLUGBOARD_QUEUE_LIMIT: '0', PLUGBOARD_QUEUE_LIMIT_PER_CUSTOMER: '0' },
      runner: false,
    });
    // Another origin (as another process or the runner thread): the HTTP side's enqueues reach it only through NOTIFY.
    const queue = await createPgBossQueue({ connectionString: PG_URL!, bossSchema, supervise: false, executions: new ExecutionStore(runtimeDb(h.store.db)) });
    const runner = createRunner({
      store: h.store,
      integrations: h.services.integrations,
      inputs: h.services.inputs,
      pool: h.pool,
      queue,
      pollMs: 600_000,
      deadAfterMs: 0,
      sweepIntervalMs: 0,
    });
    try {
      const { hookUrl } = await h.activeInstance('burst');
      const url = await hookUrl('record');
      runner.start();
      for (const size of [1, 40, 1]) {
        const answers = await Promise.all(
          Array.from({ length: size }, async (_, n) =>
            h.app.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) }),
          ),
        );
        const ids = await Promise.all(
          answers.map(async (res) => {
            assert.equal(res.status, 202);
            return ((await res.json()) as { executionId: string }).executionId;
          }),
        );
        await eventually(
          async () => (await Promise.all(ids.map((id) => h.runtime.executions.get(id)))).every((row) => row?.status === 'succeeded'),
          30_000,
          `the ${size} execution(s) of the burst to succeed`,
        );
      }
    } finally {
      await runner.stop(5000);
      await queue.close();
      await h.close();
    }
  });
});
