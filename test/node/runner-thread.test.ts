// `plugboard serve`'s runner on a thread of its own (runner-thread.ts): with the HTTP side's event
// loop blocked, a webhook's execution still completes; writes on either side drop the other side's
// cached rows (SQLite: BroadcastChannel); PLUGBOARD_RUNNER=inline keeps the runner on the HTTP side.
// The SIGTERM drain of an execution running in the thread is drain.test.ts's SQLite case.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ExecutionDetail, Instance } from '../../src/protocol/index.js';
import { loadConfig } from '../../server/src/config.js';
import { generateEncryptionKey } from '../../server/src/secrets.js';
import { startServer } from '../../server/src/server.js';
import { apiCaller, makeKey, signToken, ISSUER } from './fixtures/harness.js';
import { eventually, FIXTURE_MODULE } from './runtime.harness.js';

interface ReadOnlyDb {
  prepare(sql: string): { get(...args: unknown[]): unknown };
  close(): void;
}
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string, options: { readonly: boolean }) => ReadOnlyDb;

/** Blocks this thread (its event loop: every request, timer and message here) until `done()` or the deadline; returns `done()`'s last answer. */
function blockUntil<T>(done: () => T | undefined, ms: number): T | undefined {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + ms;
  let value = done();
  while (value === undefined && Date.now() < deadline) {
    Atomics.wait(sleeper, 0, 0, 50);
    value = done();
  }
  return value;
}

async function serveWith(t: { after(fn: () => unknown): void }, runnerMode: 'on' | 'inline', more: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-thread-'));
  const outDir = join(dir, 'out');
  mkdirSync(outDir);
  chmodSync(dir, 0o755);
  chmodSync(outDir, 0o777); // executors may run under their own uid
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const key = await makeKey('ES256');
  const file = join(dir, 'plugboard.db');
  const env = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: file,
    PLUGBOARD_ENCRYPTION_KEY: generateEncryptionKey(),
    PLUGBOARD_JWT_KEYS: JSON.stringify({ keys: [key.publicJwk] }),
    PLUGBOARD_JWT_ISSUER: ISSUER,
    PLUGBOARD_INTEGRATIONS: FIXTURE_MODULE,
    PLUGBOARD_EXECUTOR_ENV_RUNTIME_TEST_OUT: outDir,
    PLUGBOARD_RUNNER: runnerMode,
    PLUGBOARD_RUNNER_POLL_MS: '100',
    PLUGBOARD_MAX_ATTEMPTS: '1',
    PLUGBOARD_FAILURE_THRESHOLD: '2',
    PLUGBOARD_DRAIN_GRACE_MS: '5000',
    ...more,
  };
  const running = await startServer({ config: loadConfig(env), runtime: { env }, logStream: { write: () => {} } });
  let closed = false;
  t.after(() => (closed ? undefined : running.close()));
  const call = apiCaller(running.url, await signToken(key));

  const draft = Instance.parse((await call('POST', '/instances', { integrationKey: 'recorder' })).body);
  const saved = await call('PUT', `/instances/${draft.id}/config`, { config: { label: 'x', token: 'abc' }, version: draft.version });
  assert.equal(saved.status, 200);
  const instance = Instance.parse((await call('POST', `/instances/${draft.id}/activate`)).body);
  const hookPath = new URL(instance.webhooks!.find((w) => w.flow === 'record')!.url).pathname;
  const hook = async (body: unknown) => {
    const res = await fetch(`${running.url}${hookPath}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 202);
    return ((await res.json()) as { executionId: string }).executionId;
  };
  const finished = (id: string) =>
    eventually(
      async () => {
        const { status, body } = await call('GET', `/executions/${id}`);
        const d = status === 200 ? ExecutionDetail.parse(body) : undefined;
        return d && d.status !== 'queued' && d.status !== 'running' ? d : undefined;
      },
      60_000,
      `execution ${id} to finish`,
    );
  const db = new Database(file, { readonly: true });
  t.after(() => db.close());
  const statusOf = (id: string) => (db.prepare('select status from executions where id = ?').get(id) as { status: string } | undefined)?.status;
  const close = async () => {
    await running.close();
    closed = true;
  };
  return { running, call, instance, hook, finished, statusOf, close };
}

/** A task's nice value (`/proc/<pid>/task/<tid>/stat`, field 19), or undefined once it is gone. */
function niceOf(pid: number, tid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  } catch {
    return undefined;
  }
}

test('serve: the runner thread completes an execution while the HTTP thread is blocked, and the two sides drop each other’s cached rows', async (t) => {
  const { running, call, instance, hook, finished, statusOf, close } = await serveWith(t, 'on');
  assert.match(running.services.runner?.id ?? '', /^runner_/);

  // Warm: the customer's executor starts (cold) and the thread caches the instance (token "abc").
  const first = await finished(await hook({}));
  assert.equal(first.status, 'succeeded');
  assert.deepEqual(JSON.parse(first.resultSummary!), { ok: true, tokenLength: 3 });

  // Nothing on this thread runs while it is blocked: the claim, the executor's answer and the
  // outcome's write all happen on the runner's thread.
  const during = await hook({});
  const status = blockUntil(() => {
    const s = statusOf(during);
    return s === 'succeeded' || s === 'failed' ? s : undefined;
  }, 30_000);
  assert.equal(status, 'succeeded', 'the execution completed while the HTTP side’s event loop was blocked');

  // HTTP side → thread: the new config (written here) is what the next execution in the thread sees.
  const current = Instance.parse((await call('GET', `/instances/${instance.id}`)).body);
  const saved = await call('PUT', `/instances/${instance.id}/config`, { config: { label: 'x', token: 'abcdefgh' }, version: current.version });
  assert.equal(saved.status, 200);
  const after = await finished(await hook({}));
  assert.deepEqual(JSON.parse(after.resultSummary!), { ok: true, tokenLength: 8 }, 'the thread dropped its cached instance');

  // Thread → HTTP side: two failures put the instance in `error` (written by the runner thread);
  // the instance read here (cached by the GET above) shows it.
  assert.equal((await finished(await hook({ fail: 'fatal' }))).status, 'failed');
  assert.equal((await finished(await hook({ fail: 'fatal' }))).status, 'failed');
  const seen = await eventually(
    async () => {
      const body = Instance.parse((await call('GET', `/instances/${instance.id}`)).body);
      return body.status === 'error' ? body : undefined;
    },
    10_000,
    'the instance in error as the HTTP side reads it',
  );
  assert.equal(seen.status, 'error');

  // /metrics (served here) counts what the thread ran.
  const metrics = await (await fetch(`${running.url}/metrics`)).text();
  assert.match(metrics, /plugboard_executions_total\{status="succeeded"\} 3/);
  assert.match(metrics, /plugboard_executions_total\{status="failed"\} 2/);

  await close();
  assert.equal(running.services.runner?.inFlight, 0);
});

test('PLUGBOARD_RUNNER=inline: the runner shares the HTTP thread, so nothing completes while it is blocked', async (t) => {
  const { hook, finished, statusOf } = await serveWith(t, 'inline');
  assert.equal((await finished(await hook({}))).status, 'succeeded');
  const during = await hook({});
  // Blocked for 3 s: the runner on this thread cannot even claim it.
  const status = blockUntil(() => (statusOf(during) === 'succeeded' ? 'succeeded' : undefined), 3000);
  assert.equal(status, undefined);
  assert.equal((await finished(during)).status, 'succeeded');
});

// Last in this file: a thread's priority can't be raised back, and every later server here would run at it.
test(
  'PLUGBOARD_HTTP_NICE lowers only the HTTP thread’s priority: the runner’s thread and its executors keep the process’s',
  { skip: process.platform !== 'linux' && 'per-thread priorities are Linux’s' },
  async (t) => {
    const { hook, finished, close } = await serveWith(t, 'on', { PLUGBOARD_HTTP_NICE: '7' });
    assert.equal((await finished(await hook({}))).status, 'succeeded');
    // This file's main thread is the server's HTTP thread (its tid is the pid).
    assert.equal(niceOf(process.pid, process.pid), 7);
    const others = readdirSync(`/proc/${process.pid}/task`)
      .map(Number)
      .filter((tid) => tid !== process.pid);
    assert.ok(
      others.some((tid) => niceOf(process.pid, tid) === 0),
      'the runner’s thread runs at the process’s priority',
    );
    // The customer's executor, forked by the runner's thread, too.
    const children = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .filter((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
        } catch {
          return false;
        }
      });
    assert.ok(children.length > 0, 'an executor process is running');
    for (const pid of children) assert.equal(niceOf(pid, pid), 0, `executor ${pid} at the process's priority`);
    await close();
  },
);
