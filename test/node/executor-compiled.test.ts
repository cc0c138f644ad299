// The executor pool as production runs it: compiled JavaScript, no tsx anywhere in the executor.
import assert from 'node:assert/strict';
import { chmodSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type * as Executor from '../../server/src/runtime/executor/index.js';
import { compileExecutor, type CompiledExecutor } from './fixtures/flows/compiled.js';

let compiled: CompiledExecutor;
let pool: Executor.ExecutorPool;

before(async () => {
  compiled = await compileExecutor();
  const { createExecutorPool } = (await import(compiled.poolModule)) as typeof Executor;
  pool = createExecutorPool({ integrationsModule: compiled.integrationsModule });
});
after(async () => {
  await pool?.close();
  rmSync(compiled.dir, { recursive: true, force: true });
});

const job = (flow: string): Executor.ExecutionJob => ({
  executionId: `exec-${flow}`,
  customerId: 'cust_compiled',
  customerExternalId: 'acme',
  instanceId: 'inst_1',
  integrationKey: 'probe',
  flow,
  attempt: 1,
  trigger: 'schedule',
  payload: { scheduledFor: '2026-01-01T00:00:00Z' },
  headers: {},
  config: {},
  connections: {},
  timeoutMs: 10_000,
});

test('compiled executors run flows without tsx, under the heap cap', async () => {
  const outcome = await pool.run(job('runtime'), () => {});
  assert.equal(outcome.status, 'succeeded', outcome.error);
  const { execArgv, uid } = outcome.result as { execArgv: string[]; uid: number };
  assert.deepEqual(execArgv, ['--max-old-space-size=128']);
  if (process.getuid?.() === 0) assert.ok(uid >= 200_000, `executor runs as uid ${uid}`);
  assert.equal(typeof outcome.timings.spawnMs, 'number');
  const warm = await pool.run(job('trivial'), () => {});
  assert.deepEqual([warm.status, warm.result, warm.timings.spawnMs], ['succeeded', { ok: true }, undefined]);
});

test(
  'as root, code that other users cannot read keeps executors on the server uid, with a warning',
  { skip: process.getuid?.() !== 0 && 'needs root' },
  async () => {
    chmodSync(compiled.dir, 0o700);
    const events: Executor.ExecutorEvent[] = [];
    const { createExecutorPool } = (await import(compiled.poolModule)) as typeof Executor;
    const local = createExecutorPool({ integrationsModule: compiled.integrationsModule, spares: 0, onEvent: (e) => events.push(e) });
    try {
      assert.match(events.find((e) => e.type === 'warning')?.message ?? '', /not readable by other users/);
      const outcome = await local.run({ ...job('runtime'), customerId: 'cust_private' }, () => {});
      assert.equal(outcome.status, 'succeeded', outcome.error);
      assert.equal((outcome.result as { uid: number }).uid, 0);
    } finally {
      await local.close();
      chmodSync(compiled.dir, 0o755);
    }
  },
);
