// Dead runner → its executions retried (issue 10): two `plugboard runner` processes on PostgreSQL
// with the default settings (heartbeat every 2 s, dead after PLUGBOARD_RUNNER_DEAD_AFTER_S = 10 s,
// pg-boss expiry at its default 90 s); executions that sleep are started, the runner holding one
// gets SIGKILL, and the time until the other runner has taken every execution the dead one held
// is measured. A few rounds (a fresh runner replaces the dead one each time); prints the median.
// Needs PostgreSQL (PLUGBOARD_TEST_DATABASE_URL, default the local test database).
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { createPgBossQueue } from '../server/src/runtime/pgboss-queue.js';
import { runtimeDb } from '../server/src/runtime/schema.js';
import type { RunnerProcess } from '../test/node/fixtures/plugboard-process.js';

const PG_URL = (process.env.PLUGBOARD_TEST_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test');
// The harness reads the variable when it loads: after the default above.
const { runtimeEnv, spawnRunner } = await import('../test/node/fixtures/plugboard-process.js');
const { createHarness, eventually, newSchema } = await import('../test/node/runtime.harness.js');
const ROUNDS = 3;
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

console.log(`node ${process.version}, load average at start ${loadavg()}`);
const schema = newSchema('bench');
const bossSchema = newSchema('bboss');
const h = await createHarness({ pgSchema: schema, runner: false, queue: () => createPgBossQueue({ connectionString: PG_URL, bossSchema }) });
const runners: RunnerProcess[] = [];
const start = () => {
  const r = spawnRunner(runtimeEnv(h, { schema, bossSchema }));
  runners.push(r);
  return r;
};
const db = runtimeDb(h.store.db);
const seconds: number[] = [];
try {
  start();
  start();
  await Promise.all(runners.map((r) => r.id));
  const instances = await Promise.all([1, 2, 3, 4].map((i) => h.activeInstance(`recovery-${i}`)));
  for (let round = 1; round <= ROUNDS; round++) {
    const ids: string[] = [];
    for (const inst of instances) {
      const res = await h.app.request(await inst.hookUrl('record'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sleepMs: 6000 }),
      });
      ids.push(((await res.json()) as { executionId: string }).executionId);
    }
    const rows = await eventually(
      async () => {
        const rs = await db.selectFrom('executions').select(['id', 'status', 'runner_id']).where('id', 'in', ids).execute();
        return rs.every((r) => r.status === 'running') ? rs : undefined;
      },
      30_000,
      'the executions to start',
    );
    const alive = runners.filter((r) => r.alive());
    const holders = await Promise.all(alive.map(async (r) => ({ r, id: await r.id })));
    const victim = holders.find((x) => x.id === rows[0]!.runner_id)!;
    const held = rows.filter((r) => r.runner_id === victim.id).map((r) => r.id);
    victim.r.child.kill('SIGKILL');
    await victim.r.exited;
    const killedAt = Date.now();
    await eventually(
      async () => {
        const rs = await db.selectFrom('executions').select(['runner_id', 'status']).where('id', 'in', held).execute();
        return rs.every((r) => r.runner_id !== null && r.runner_id !== victim.id) || undefined;
      },
      120_000,
      'the dead runner’s executions to be taken by another',
    );
    const s = (Date.now() - killedAt) / 1000;
    seconds.push(s);
    console.log(`  round ${round}: ${held.length} execution(s) of the killed runner taken by another after ${s.toFixed(1)} s`);
    await eventually(
      async () => {
        const rs = await db.selectFrom('executions').select('status').where('id', 'in', ids).execute();
        return rs.every((r) => r.status === 'succeeded') || undefined;
      },
      60_000,
      'the round’s executions to succeed',
    );
    await start().id;
  }
  const sorted = [...seconds].sort((a, b) => a - b);
  console.log(
    `dead runner → its executions retried: ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} s (median of ${ROUNDS}; pg-boss expiry alone: ~90–110 s)`,
  );
  console.log(`load average at end ${loadavg()}`);
} finally {
  for (const r of runners) if (r.alive()) r.child.kill('SIGKILL');
  await Promise.all(runners.map((r) => r.exited));
  await h.close();
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`drop schema if exists ${bossSchema} cascade`);
  await client.end();
}
