// The executor pool with real child processes running the fixture integrations in
// test/node/fixtures/flows: isolation between customers, limits, logs, outcomes, drain.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import {
  createExecutorPool,
  ExecutorPoolClosedError,
  type ExecutionJob,
  type ExecutionLogLine,
  type ExecutionOutcome,
  type ExecutorEvent,
  type ExecutorPool,
} from '../../server/src/runtime/executor/index.js';

const fixtures = new URL('./fixtures/flows/', import.meta.url);
const isolation = new URL('isolation.ts', fixtures).pathname;
const asRoot = process.getuid?.() === 0;

// The parent holds secrets an executor must never see; set before any pool is made.
const parentSecrets = {
  DATABASE_URL: 'postgres://plugboard:db-password-5f1e@127.0.0.1:5432/plugboard',
  PLUGBOARD_ENCRYPTION_KEY: 'parent-encryption-key-9c2d',
  PLUGBOARD_JWT_KEYS: 'parent-jwt-keys-41aa',
  PARENT_ONLY_VARIABLE: 'parent-only-value-7b3e',
};
Object.assign(process.env, parentSecrets);

/** Everything any test saw come out of an executor, checked for parent secrets at the end. */
const seen: unknown[] = [];

function job(customerId: string, integrationKey: string, flow: string, over: Partial<ExecutionJob> = {}): ExecutionJob {
  return {
    executionId: randomUUID(),
    customerId,
    customerExternalId: `ext-${customerId}`,
    instanceId: `inst-${customerId}`,
    integrationKey,
    flow,
    attempt: 1,
    trigger: 'webhook',
    payload: {},
    headers: {},
    config: {},
    connections: {},
    timeoutMs: 10_000,
    ...over,
  };
}

async function run(pool: ExecutorPool, j: ExecutionJob, signal?: AbortSignal): Promise<ExecutionOutcome & { logs: ExecutionLogLine[] }> {
  const logs: ExecutionLogLine[] = [];
  const outcome = await pool.run(j, (line) => logs.push(line), signal);
  seen.push(outcome, logs);
  return { ...outcome, logs };
}

function customer(): string {
  return `cust_${randomUUID().slice(0, 8)}`;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (check()) return;
    await sleep(50);
  }
  assert.fail(`gave up waiting: ${what}`);
}

describe('executor pool', () => {
  let pool: ExecutorPool;
  const events: ExecutorEvent[] = [];

  before(() => {
    pool = createExecutorPool({
      integrationsModule: isolation,
      maxOldSpaceMb: 64,
      abortGraceMs: 300,
      // The fetch tests call a server on loopback, which the egress policy refuses unless allowed.
      env: { VENDOR_REGION: 'eu', PLUGBOARD_EGRESS_ALLOW: '127.0.0.1' },
      onEvent: (e) => events.push(e),
    });
  });
  after(() => pool.close());

  test('a flow sees a scrubbed environment: no database URL, no PLUGBOARD_* secrets, nothing of the parent', async () => {
    const c = customer();
    const outcome = await run(pool, job(c, 'probe', 'env'));
    assert.equal(outcome.status, 'succeeded');
    const env = outcome.result as Record<string, string>;
    for (const name of Object.keys(parentSecrets)) assert.equal(env[name], undefined, `${name} leaked`);
    assert.deepEqual(
      Object.keys(env).filter((k) => k.startsWith('PLUGBOARD_')),
      [],
    );
    const allowed = new Set(['PATH', 'NODE_ENV', 'TZ', 'LANG', 'HOME', 'TMPDIR', 'VENDOR_REGION']);
    assert.deepEqual(
      Object.keys(env).filter((k) => !allowed.has(k)),
      [],
    );
    assert.equal(env.VENDOR_REGION, 'eu');
    assert.notEqual(env.HOME, env.TMPDIR);
  });

  // Per-executor uids need root and world-readable code; the pool says (a warning) when it can't use them.
  const separateUids = () => asRoot && !events.some((e) => e.type === 'warning');

  test('a flow cannot read the server process environment from /proc', async (t) => {
    if (!separateUids()) return t.skip('executors run as the server user here (not root, or code not world-readable)');
    const outcome = await run(pool, job(customer(), 'probe', 'parentEnviron'));
    assert.equal(outcome.status, 'succeeded');
    // Another uid (EACCES); in its own PID namespace the server is not even there (ENOENT: its parent is pid 0).
    assert.match(String((outcome.result as { refused?: string }).refused), /EACCES|EPERM|ENOENT/);
  });

  test('a flow is handed exactly its own execution inputs', async () => {
    const c = customer();
    const j = job(c, 'probe', 'inputs', {
      attempt: 2,
      trigger: 'webhook',
      payload: { order: 17, items: ['a', 'b'] },
      headers: { 'content-type': 'application/json' },
      config: { listId: 'L1', apiSecret: 'decrypted-config-secret' },
      connections: { crm: { kind: 'apiKey', values: { key: 'crm-key-123' } } },
    });
    const outcome = await run(pool, j);
    assert.equal(outcome.status, 'succeeded');
    assert.deepEqual(outcome.result, {
      executionId: j.executionId,
      instanceId: j.instanceId,
      customer: { id: c, externalId: `ext-${c}` },
      flow: 'inputs',
      attempt: 2,
      trigger: 'webhook',
      payload: j.payload,
      headers: j.headers,
      config: j.config,
      connections: j.connections,
    });
  });

  test('globals a flow leaves are seen by the same customer next time, never by another customer', async () => {
    const a = customer();
    const b = customer();
    assert.deepEqual((await run(pool, job(a, 'probe', 'rememberNote', { payload: { note: 'A private note' } }))).result, { before: null });
    const againA = await run(pool, job(a, 'probe', 'readNote'));
    assert.equal((againA.result as { note: unknown }).note, 'A private note');

    const fromB = await run(pool, job(b, 'probe', 'readNote'));
    assert.equal((fromB.result as { note: unknown }).note, null);
    assert.notEqual((fromB.result as { executor: string }).executor, (againA.result as { executor: string }).executor);
    await run(pool, job(b, 'probe', 'rememberNote', { payload: { note: 'B note' } }));
    assert.equal(((await run(pool, job(a, 'probe', 'readNote'))).result as { note: unknown }).note, 'A private note');
  });

  test("a flow works in its own temporary directory and cannot list another customer's", async () => {
    const a = customer();
    const b = customer();
    const fromA = (await run(pool, job(a, 'probe', 'files', { payload: { text: 'written by A' } }))).result as {
      cwd: string;
      entries: string[];
      mine: string;
    };
    const fromB = (await run(pool, job(b, 'probe', 'files', { payload: { text: 'written by B' } }))).result as typeof fromA;
    assert.ok(fromA.cwd.startsWith(tmpdir()), fromA.cwd);
    assert.notEqual(fromA.cwd, fromB.cwd);
    assert.deepEqual(fromA.entries, ['mine.txt']);
    assert.deepEqual(fromB.entries, ['mine.txt']);
    assert.equal(fromA.mine, 'written by A');
    assert.equal(fromB.mine, 'written by B');
    if (separateUids()) {
      const snoop = await run(pool, job(b, 'probe', 'listDir', { payload: { path: fromA.cwd } }));
      assert.deepEqual(snoop.result, { refused: 'EACCES' });
    }
  });

  test("a flow that spins forever is killed at its timeout while another customer's execution succeeds", async () => {
    const a = customer();
    const b = customer();
    // Warm both, so the timeout races only flow code.
    await Promise.all([run(pool, job(a, 'probe', 'trivial')), run(pool, job(b, 'probe', 'trivial'))]);
    const [spun, slept] = await Promise.all([
      run(pool, job(a, 'misbehave', 'spin', { timeoutMs: 500 })),
      run(pool, job(b, 'misbehave', 'sleep', { payload: { ms: 300 }, timeoutMs: 10_000 })),
    ]);
    assert.equal(spun.status, 'timed_out');
    assert.equal(spun.reason, 'timeout');
    assert.equal(spun.retryable, false);
    assert.match(spun.error!, /timeout of 500 ms/);
    assert.equal(slept.status, 'succeeded');
    assert.deepEqual(slept.result, { slept: 300 });
    assert.ok(events.some((e) => e.type === 'exited' && e.customerId === a && e.cause === 'timeout'));
    // The customer's executor was replaced: the next run works.
    assert.equal((await run(pool, job(a, 'probe', 'trivial'))).status, 'succeeded');
  });

  test("a timeout kill fails the customer's other running execution as retryable", async () => {
    const a = customer();
    await run(pool, job(a, 'probe', 'trivial'));
    const [spun, neighbour] = await Promise.all([
      run(pool, job(a, 'misbehave', 'spin', { timeoutMs: 400 })),
      run(pool, job(a, 'misbehave', 'sleep', { payload: { ms: 5_000 } })),
    ]);
    assert.equal(spun.status, 'timed_out');
    assert.equal(neighbour.status, 'failed');
    assert.equal(neighbour.reason, 'crash');
    assert.equal(neighbour.retryable, true);
    assert.match(neighbour.error!, /another execution of this customer ran past its timeout/);
  });

  test('ctx.fetch reaches a server, and is aborted at the timeout without killing the executor', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/ok') res.end(JSON.stringify({ hello: 'flow' }));
      // '/hang' never answers
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const a = customer();
      const ok = await run(pool, job(a, 'probe', 'fetchJson', { payload: { url: `${base}/ok` } }));
      assert.deepEqual([ok.status, (ok.result as { body: unknown }).body], ['succeeded', { hello: 'flow' }]);
      const hung = await run(pool, job(a, 'probe', 'fetchJson', { payload: { url: `${base}/hang` }, timeoutMs: 300 }));
      assert.equal(hung.status, 'timed_out');
      const again = await run(pool, job(a, 'probe', 'fetchJson', { payload: { url: `${base}/ok` } }));
      assert.equal((again.result as { executor: string }).executor, (ok.result as { executor: string }).executor, 'same executor');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test('a flow that honours its abort signal is timed out without killing its executor', async () => {
    const a = customer();
    const first = await run(pool, job(a, 'probe', 'readNote'));
    const outcome = await run(pool, job(a, 'misbehave', 'sleep', { payload: { ms: 5_000 }, timeoutMs: 200 }));
    assert.equal(outcome.status, 'timed_out');
    const next = await run(pool, job(a, 'probe', 'readNote'));
    assert.equal((next.result as { executor: string }).executor, (first.result as { executor: string }).executor);
  });

  test('a flow that allocates without bound fails for memory, and the customer runs again in a fresh executor', async () => {
    const a = customer();
    const before = (await run(pool, job(a, 'probe', 'readNote'))).result as { executor: string };
    const hog = await run(pool, job(a, 'misbehave', 'hog', { timeoutMs: 60_000 }));
    assert.equal(hog.status, 'failed');
    assert.equal(hog.reason, 'memory');
    assert.equal(hog.retryable, true);
    assert.match(hog.error!, /out of memory \(limit 64 MB of heap/);
    const next = await run(pool, job(a, 'probe', 'readNote'));
    assert.equal(next.status, 'succeeded');
    assert.notEqual((next.result as { executor: string }).executor, before.executor);
  });

  test('a flow that fills memory outside the heap (Buffers) is stopped by the resident-memory cap', async () => {
    const small = createExecutorPool({ integrationsModule: isolation, maxOldSpaceMb: 64, maxRssMb: 256 });
    try {
      const outcome = await run(small, job(customer(), 'misbehave', 'bufferHog', { timeoutMs: 60_000 }));
      assert.deepEqual([outcome.status, outcome.reason, outcome.retryable], ['failed', 'memory', true]);
    } finally {
      await small.close();
    }
  });

  test('log lines arrive in order, formatted and capped; console output goes to the same log', async () => {
    const outcome = await run(pool, job(customer(), 'misbehave', 'logs', { payload: { count: 300 } }));
    assert.equal(outcome.status, 'succeeded');
    const lines = outcome.logs;
    assert.equal(lines.length, 304);
    assert.deepEqual(
      lines.slice(0, 300).map((l) => l.message),
      Array.from({ length: 300 }, (_, i) => `line ${i}`),
    );
    assert.ok(lines.every((l) => !Number.isNaN(Date.parse(l.at))));
    assert.deepEqual(lines[300], { ...lines[300], level: 'warn', message: 'object { nested: { deep: [ 1, 2, 3 ] } } 42n' });
    assert.equal(lines[301]!.level, 'error');
    assert.ok(Buffer.byteLength(lines[301]!.message) <= 8192);
    assert.match(lines[301]!.message, /^long x+ … \[truncated\]$/);
    assert.deepEqual(
      lines.slice(302).map((l) => [l.level, l.message]),
      [
        ['info', 'from console.log'],
        ['error', 'from console.error'],
      ],
    );
  });

  test('RetryableError is retryable; other errors are not, and carry only their message', async () => {
    const c = customer();
    const retry = await run(pool, job(c, 'misbehave', 'retryable'));
    assert.deepEqual([retry.status, retry.reason, retry.retryable, retry.error], ['failed', 'error', true, 'The CRM answered 503, try again later']);
    const fail = await run(pool, job(c, 'misbehave', 'fails'));
    assert.deepEqual([fail.status, fail.reason, fail.retryable, fail.error], ['failed', 'error', false, 'The list "Leads" does not exist']);
    // The flow's own stack frames go to its log; the executor's own files never do.
    assert.match(fail.logs.at(-1)!.message, /isolation\.ts:\d+/);
    assert.doesNotMatch(fail.logs.at(-1)!.message, /runtime\/executor|node:internal/);
    const thrown = await run(pool, job(c, 'misbehave', 'throwsString'));
    assert.equal(thrown.error, 'plain text thrown');
    const unknown = await run(pool, job(c, 'probe', 'nope'));
    assert.deepEqual([unknown.status, unknown.retryable, unknown.error], ['failed', false, 'Flow "nope" does not exist in integration "probe"']);
  });

  test('a job the pool cannot run fails at once, naming the bad fields', async () => {
    const outcome = await run(pool, job('', 'probe', 'trivial', { timeoutMs: -1 }));
    assert.deepEqual([outcome.status, outcome.reason, outcome.retryable], ['failed', 'error', false]);
    assert.equal(outcome.error, 'The execution job is invalid (customerId, timeoutMs)');
  });

  test('results are JSON-safe and capped', async () => {
    const c = customer();
    const big = await run(pool, job(c, 'misbehave', 'bigResult'));
    const summary = big.result as { truncated: boolean; bytes: number; preview: string };
    assert.equal(summary.truncated, true);
    assert.ok(summary.bytes > 100_000);
    assert.ok(JSON.stringify(summary).length <= 4096);
    const odd = await run(pool, job(c, 'misbehave', 'oddResult'));
    assert.deepEqual(odd.result, { n: '10', when: '1970-01-01T00:00:00.000Z', self: '[Circular]' });
  });

  test('an executor that crashes fails its execution as retryable, and the customer runs again', async () => {
    const c = customer();
    const crashed = await run(pool, job(c, 'misbehave', 'crash'));
    assert.deepEqual([crashed.status, crashed.reason, crashed.retryable], ['failed', 'crash', true]);
    assert.match(crashed.error!, /uncaught error: thrown outside the flow/);
    const exited = await run(pool, job(c, 'misbehave', 'exits'));
    assert.deepEqual([exited.status, exited.reason, exited.retryable], ['failed', 'crash', true]);
    assert.match(exited.error!, /exit code 3/);
    assert.equal((await run(pool, job(c, 'probe', 'trivial'))).status, 'succeeded');
  });

  test('the caller can cancel a running execution', async () => {
    const c = customer();
    const controller = new AbortController();
    const logs: ExecutionLogLine[] = [];
    const pending = pool.run(job(c, 'misbehave', 'sleep', { payload: { ms: 10_000 } }), (line) => logs.push(line), controller.signal);
    await until(() => logs.some((l) => l.message === 'sleeping 10000 ms'), 'the flow to start');
    controller.abort();
    const outcome = await pending;
    seen.push(outcome, logs);
    assert.deepEqual([outcome.status, outcome.reason, outcome.retryable], ['failed', 'crash', true]);
    assert.match(outcome.error!, /cancelled/);
  });

  test('no parent secret appears in any outcome or log line', () => {
    const text = JSON.stringify(seen);
    assert.ok(seen.length > 20);
    for (const secret of Object.values(parentSecrets)) assert.ok(!text.includes(secret), 'a parent secret leaked');
  });
});

describe('executor pool limits and lifecycle', () => {
  test('executions of one customer beyond maxPerCustomer wait in the pool', async () => {
    const pool = createExecutorPool({ integrationsModule: isolation, maxPerCustomer: 1 });
    try {
      const c = customer();
      const both = Promise.all([
        run(pool, job(c, 'misbehave', 'sleep', { payload: { ms: 300 } })),
        run(pool, job(c, 'misbehave', 'sleep', { payload: { ms: 300 } })),
      ]);
      const stats = pool.stats();
      assert.deepEqual([stats.byCustomer[c], stats.queued], [1, 1]);
      const outcomes = await both;
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['succeeded', 'succeeded'],
      );
    } finally {
      await pool.close();
    }
  });

  test('idle executors are stopped; at maxExecutors the least recently used idle one is evicted', async () => {
    const events: ExecutorEvent[] = [];
    const pool = createExecutorPool({ integrationsModule: isolation, idleMs: 1_500, maxExecutors: 1, spares: 0, onEvent: (e) => events.push(e) });
    try {
      const a = customer();
      const b = customer();
      assert.equal((await run(pool, job(a, 'probe', 'trivial'))).status, 'succeeded');
      assert.equal((await run(pool, job(b, 'probe', 'trivial'))).status, 'succeeded');
      assert.ok(events.some((e) => e.type === 'exited' && e.customerId === a && e.cause === 'evicted'));
      assert.equal(pool.stats().executors, 1);
      await until(() => pool.stats().executors === 0, 'idle executor stopped');
      await until(() => events.some((e) => e.type === 'exited' && e.customerId === b && e.cause === 'idle'), 'idle exit event');
      assert.equal((await run(pool, job(b, 'probe', 'trivial'))).status, 'succeeded');
    } finally {
      await pool.close();
    }
  });

  test('a new customer takes a spare executor started ahead of need; a fresh spare replaces it', async () => {
    const events: ExecutorEvent[] = [];
    const pool = createExecutorPool({ integrationsModule: isolation, spares: 1, onEvent: (e) => events.push(e) });
    const spareReady = () => events.filter((e) => e.type === 'spawned' && e.customerId === '').length;
    try {
      await until(() => spareReady() === 1, 'spare started');
      const a = customer();
      const first = await run(pool, job(a, 'probe', 'readNote'));
      assert.equal(first.status, 'succeeded');
      assert.equal(first.timings.spawnMs, undefined, 'the customer did not wait for a process start');
      await until(() => spareReady() === 2, 'replacement spare started');
      const b = customer();
      const other = await run(pool, job(b, 'probe', 'readNote'));
      assert.notEqual((other.result as { executor: string }).executor, (first.result as { executor: string }).executor);
      // b took the second spare; a third starts in its place, and is counted once it has spawned.
      await until(() => spareReady() === 3, 'second replacement spare started');
      assert.equal(pool.stats().executors, 3);
    } finally {
      await pool.close();
    }
  });

  test('drain lets running work finish and refuses new work', async () => {
    const pool = createExecutorPool({ integrationsModule: isolation });
    const c = customer();
    await run(pool, job(c, 'probe', 'trivial'));
    const running = run(pool, job(c, 'misbehave', 'sleep', { payload: { ms: 500 } }));
    const drained = pool.drain(30_000);
    await assert.rejects(
      pool.run(job(c, 'probe', 'trivial'), () => {}),
      ExecutorPoolClosedError,
    );
    assert.equal((await running).status, 'succeeded');
    await drained;
    assert.equal(pool.stats().executors, 0);
  });

  test('drain stops work still running after the grace period, as retryable', async () => {
    const pool = createExecutorPool({ integrationsModule: isolation });
    const c = customer();
    await run(pool, job(c, 'probe', 'trivial'));
    const running = run(pool, job(c, 'misbehave', 'deaf'));
    await until(() => pool.stats().busy === 1, 'execution running');
    await pool.drain(300);
    const outcome = await running;
    assert.deepEqual([outcome.status, outcome.retryable], ['failed', true]);
    assert.equal(pool.stats().executors, 0);
  });

  test('an integrations module that never finishes loading fails executions after the start timeout', async () => {
    const pool = createExecutorPool({ integrationsModule: new URL('hangs.ts', fixtures).pathname, startTimeoutMs: 1_000, spares: 0 });
    try {
      const outcome = await run(pool, job(customer(), 'probe', 'trivial'));
      assert.deepEqual([outcome.status, outcome.reason, outcome.retryable], ['failed', 'crash', true]);
      assert.equal(outcome.error, 'The integrations did not load within 1000 ms');
    } finally {
      await pool.close();
    }
  });

  test('when no executor can be started, the execution fails as retryable and the pool stays up', async () => {
    const pool = createExecutorPool({ integrationsModule: isolation, spares: 1, uids: { first: -5, count: 1 } });
    try {
      for (let i = 0; i < 2; i++) {
        const outcome = await run(pool, job(customer(), 'probe', 'trivial'));
        assert.deepEqual([outcome.status, outcome.reason, outcome.retryable], ['failed', 'crash', true]);
        assert.match(outcome.error!, /^The executor could not be started: /);
      }
    } finally {
      await pool.close();
    }
  });

  test('an integrations module that fails to load fails executions as retryable with its message', async () => {
    const events: ExecutorEvent[] = [];
    const pool = createExecutorPool({ integrationsModule: new URL('broken.ts', fixtures).pathname, onEvent: (e) => events.push(e) });
    try {
      const outcome = await run(pool, job(customer(), 'probe', 'trivial'));
      assert.deepEqual([outcome.status, outcome.reason, outcome.retryable], ['failed', 'crash', true]);
      assert.equal(outcome.error, 'Could not load the integrations: integrations module failed to load');
      const exit = events.find((e) => e.type === 'exited');
      assert.deepEqual(exit && exit.type === 'exited' && [exit.cause, exit.startupError], ['load-failed', outcome.error]);
    } finally {
      await pool.close();
    }
  });
});
