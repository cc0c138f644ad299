// Flows against a provider's rules, on the real runtime (executor processes, runners, the store on
// SQLite and, with PLUGBOARD_TEST_DATABASE_URL, PostgreSQL): a connection's rate limit shared by two
// runners, a 429 that pauses every flow on the connection, ctx.state kept only with a success, and
// a sync that hands the flow exactly what changed. The provider is a stand-in on 127.0.0.1.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { InstanceState } from '../../src/protocol/index.js';
import { ExecutionStore, type ExecutionRow } from '../../server/src/runtime/executions.js';
import { runtimeDb } from '../../server/src/runtime/schema.js';
import { createRunner, type Runner } from '../../server/src/runtime/runner.js';
import { createSqliteQueue } from '../../server/src/runtime/sqlite-queue.js';
import { providerIntegration, type Contact } from './fixtures/flows/provider-runtime.js';
import { createHarness, eventually, newSchema, PG_URL, type Harness } from './runtime.harness.js';

const MODULE = fileURLToPath(new URL('./fixtures/flows/provider-runtime.ts', import.meta.url));

/** The stand-in provider: counts /ping arrivals, answers one 429 when armed, lists contacts, records what a sync handled. */
class Provider {
  pings: { at: number; status: number }[] = [];
  contacts: Contact[] = [];
  handled: { created: string[]; updated: string[]; deleted: string[] }[] = [];
  armed429 = false;
  server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/ping') {
      const status = this.armed429 ? 429 : 200;
      this.armed429 = false;
      this.pings.push({ at: Date.now(), status });
      if (status === 429) res.writeHead(429, { 'retry-after': '2', 'content-type': 'text/plain' }).end('slow down');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    if (url.pathname === '/contacts') {
      const after = url.searchParams.get('after');
      const limit = Number(url.searchParams.get('limit') ?? 100);
      const sorted = [...this.contacts].sort((a, b) => a.id.localeCompare(b.id));
      const from = after ? sorted.findIndex((c) => c.id > after) : 0;
      const records = from < 0 ? [] : sorted.slice(from, from + limit);
      const last = records.at(-1);
      const more = last !== undefined && sorted.at(-1)!.id !== last.id;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ records, next: more ? last.id : null }));
      return;
    }
    if (url.pathname === '/handled' && req.method === 'POST') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        this.handled.push(JSON.parse(body) as Provider['handled'][number]);
        res.writeHead(204).end();
      });
      return;
    }
    res.writeHead(404).end();
  });
  url = '';
  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
}

/**
 * A stand-in that only counts /ping arrivals, in a process of its own: its clock reads each arrival as
 * it comes, not when this process (busy with two runners, the throttle and the store) gets round to it.
 */
async function startPingCounter(): Promise<{ url: string; arrivals(): Promise<number[]>; close(): void }> {
  const script = `
    const arrivals = [];
    const server = require('node:http').createServer((req, res) => {
      if (req.url.startsWith('/ping')) { arrivals.push(Date.now()); res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'); return; }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(arrivals));
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const url = `http://127.0.0.1:${line.toString().trim()}`;
  return {
    url,
    arrivals: async () => (await (await fetch(`${url}/arrivals`)).json()) as number[],
    close: () => child.kill(),
  };
}

const engines = [{ name: 'SQLite', pg: false }, ...(PG_URL ? [{ name: 'PostgreSQL', pg: true }] : [])];

for (const engine of engines) {
  describe(`provider rules on ${engine.name}`, () => {
    const provider = new Provider();
    let h: Harness;
    let second: Runner;
    let instanceId: string;
    let customerId: string;

    before(async () => {
      await provider.start();
      h = await createHarness({
        ...(engine.pg ? { pgSchema: newSchema('prov') } : {}),
        integrations: { module: MODULE, list: [providerIntegration], env: { PROVIDER_URL: provider.url } },
        pool: { maxPerCustomer: 10 },
        // Five at a time each: the ten executions are shared by the two runners.
        runner: { perCustomer: 5, concurrency: 5, timeoutMs: 30_000 },
        maxAttempts: 1,
      });
      // A second runner on the same database and pool: its own throttle, sharing only the counters in the database.
      second = createRunner({
        store: h.store,
        integrations: h.services.integrations,
        inputs: h.services.inputs,
        pool: h.pool,
        queue: createSqliteQueue({ executions: new ExecutionStore(runtimeDb(h.store.db)), runnerId: 'second' }),
        perCustomer: 5,
        concurrency: 5,
        timeoutMs: 30_000,
        pollMs: 50,
      });
      second.start();
      const customer = await h.store.ensureCustomer('initech');
      const tenant = h.store.forCustomer(customer);
      const audit = { actor: 'user:test', action: 'instance.created', target: '', details: {} };
      const { instance } = await tenant.createInstance({ integrationKey: providerIntegration.key, audit });
      await tenant.setStatus(instance.id, { status: 'active', audit: { ...audit, action: 'instance.activated' } });
      instanceId = instance.id;
      customerId = customer.id;
    });
    after(async () => {
      await second?.stop(1000);
      await h?.close();
      await new Promise<void>((r) => provider.server.close(() => r()));
    });

    async function run(flow: string, body: unknown): Promise<string> {
      const row = await h.runtime.trigger({ customerId, instanceId, flow, trigger: 'webhook', payload: { body, headers: {} } });
      assert.ok(row, 'the execution was created');
      return row.id;
    }
    async function finished(id: string): Promise<ExecutionRow & { logs: string[] }> {
      const executions = new ExecutionStore(runtimeDb(h.store.db));
      const row = await eventually(async () => {
        const r = await executions.get(id);
        return r && ['succeeded', 'failed', 'timed_out'].includes(r.status) ? r : undefined;
      }, 60_000);
      const logs = await runtimeDb(h.store.db).selectFrom('execution_logs').select('message').where('execution_id', '=', id).orderBy('seq').execute();
      return { ...row, logs: logs.map((l) => l.message) };
    }
    async function state(): Promise<InstanceState> {
      const res = await h.app.request(`/api/v1/vendor/instances/${instanceId}/state`, { headers: { authorization: `Bearer ${await h.vendorToken()}` } });
      assert.equal(res.status, 200);
      return (await res.json()) as InstanceState;
    }

    // Two runners, each with its own throttle (on SQLite its own better-sqlite3 handle on the file; on
    // PostgreSQL its own pool), share only the counters in the database, as two processes would.
    test('ten concurrent executions on two runners never send the connection more than 5 requests in a second', async () => {
      const counter = await startPingCounter();
      try {
        const since = Date.now();
        const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => run('burst', { count: 3, tag: `b${i}`, url: counter.url })));
        const runs = await Promise.all(ids.map(finished));
        assert.deepEqual(
          runs.map((r) => r.status),
          runs.map(() => 'succeeded'),
          runs.map((r) => r.error).join('; '),
        );
        const counts = new Map<number, number>();
        for (const at of (await counter.arrivals()).filter((a) => a >= since)) counts.set(Math.floor(at / 1000), (counts.get(Math.floor(at / 1000)) ?? 0) + 1);
        assert.equal(
          [...counts.values()].reduce((a, b) => a + b, 0),
          30,
          'every call reached the provider',
        );
        console.log(`# requests per second at the provider: ${[...counts.values()].join(', ')}`);
        assert.ok(Math.max(...counts.values()) <= 5, `at most 5 in any clock second; saw ${[...counts.values()].join(', ')}`);
        assert.equal(new Set(runs.map((r) => r.runner_id)).size, 2, 'both runners ran some of them');
        assert.ok(
          runs.some((r) => r.logs.some((l) => /^Waited \d+\.\d s for the rate limit of connection "crm" \(3 requests\)$/.test(l))),
          'the execution log says how long the rate limit held it back',
        );
      } finally {
        counter.close();
      }
    });

    test('a 429 with Retry-After: 2 pauses every flow on the connection, and none of them fails', async () => {
      // Into a fresh second: the first request of the next burst gets the 429.
      await new Promise((r) => setTimeout(r, 1100));
      provider.armed429 = true;
      const since = Date.now();
      const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => run('burst', { count: 2, tag: `p${i}` })));
      const runs = await Promise.all(ids.map(finished));
      assert.deepEqual(
        runs.map((r) => r.status),
        runs.map(() => 'succeeded'),
        runs.map((r) => r.error).join('; '),
      );
      const pings = provider.pings.filter((p) => p.at >= since);
      const refused = pings.filter((p) => p.status === 429);
      assert.equal(refused.length, 1);
      const at = refused[0]!.at;
      // Requests already on their way when the 429 came (or granted before its pause reached the database)
      // may land just after it: on a loaded machine that takes a few hundred ms. Nothing comes during the rest.
      const during = pings.filter((p) => p.at > at + 600 && p.at < at + 1900);
      assert.deepEqual(during, [], 'no request reached the provider during the 2 s pause');
      assert.equal(pings.filter((p) => p.status === 200).length, 20, 'every call succeeded after the pause');
      const paused = runs.find((r) => r.logs.some((l) => l.includes('answered 429')));
      assert.ok(paused, 'the flow that met the 429 says so');
      assert.ok(paused.logs.some((l) => l.includes('every flow on it pauses for 2.0 s')));
    });

    test('ctx.state: a failed execution writes nothing, a successful one is kept, and the vendor API shows it', async () => {
      const first = await finished(await run('remember', { set: { cursor: 'c-1', seen: ['a', 'b'] } }));
      assert.equal(first.status, 'succeeded', first.error ?? '');
      assert.deepEqual(
        (await state()).entries.map((e) => [e.key, e.value]),
        [
          ['cursor', 'c-1'],
          ['seen', ['a', 'b']],
        ],
      );

      const failed = await finished(await run('remember', { set: { cursor: 'c-2', extra: true }, remove: ['seen'], fail: true }));
      assert.equal(failed.status, 'failed');
      const kept = await state();
      assert.deepEqual(
        kept.entries.map((e) => [e.key, e.value]),
        [
          ['cursor', 'c-1'],
          ['seen', ['a', 'b']],
        ],
        'nothing of the failed execution was kept',
      );

      const next = await finished(await run('remember', { set: { cursor: 'c-3' }, remove: ['seen'] }));
      assert.equal(next.status, 'succeeded');
      assert.deepEqual(JSON.parse(next.result_summary!), { keys: ['cursor'] }, 'the flow reads its own writes');
      const now = await state();
      assert.deepEqual(
        now.entries.map((e) => [e.key, e.value]),
        [['cursor', 'c-3']],
      );
      assert.equal(now.bytes, 'cursor'.length + '"c-3"'.length);
      assert.equal(now.limitBytes, 1024 * 1024);

      const hoard = await finished(await run('hoard', {}));
      assert.equal(hoard.status, 'failed');
      assert.match(hoard.error ?? '', /ctx\.state\.set\("big"\): the instance's state would take \d+ KB; its limit is 1024 KB/);
    });

    test('a sync over 1,000 records hands the flow exactly what changed between runs', async () => {
      provider.contacts = Array.from({ length: 1000 }, (_, i) => ({
        id: `c${String(i).padStart(4, '0')}`,
        name: `Contact ${i}`,
        updatedAt: '2026-01-01T00:00:00Z',
      }));
      const sync = async () => {
        const r = await finished(await run('contacts', { scheduledFor: new Date().toISOString() }));
        assert.equal(r.status, 'succeeded', r.error ?? '');
        return r;
      };
      await sync();
      assert.equal(provider.handled.length, 1);
      assert.equal(provider.handled[0]!.created.length, 1000);
      assert.deepEqual([provider.handled[0]!.updated, provider.handled[0]!.deleted], [[], []]);

      // Between runs: 7 updated, 5 created, 3 deleted; the rest untouched.
      const updated = ['c0003', 'c0100', 'c0250', 'c0499', 'c0500', 'c0777', 'c0999'];
      const deleted = ['c0001', 'c0402', 'c0998'];
      const created = ['c1000', 'c1001', 'c1002', 'c1003', 'c1004'];
      for (const c of provider.contacts) if (updated.includes(c.id)) c.updatedAt = '2026-02-01T00:00:00Z';
      provider.contacts = provider.contacts.filter((c) => !deleted.includes(c.id));
      provider.contacts.push(...created.map((id) => ({ id, name: id, updatedAt: '2026-02-01T00:00:00Z' })));
      await sync();
      assert.equal(provider.handled.length, 2);
      const second = provider.handled[1]!;
      assert.deepEqual([second.created.sort(), second.updated.sort(), second.deleted.sort()], [created, updated, deleted]);

      const quiet = await sync();
      assert.equal(provider.handled.length, 2, 'nothing changed: the flow is not called');
      assert.deepEqual(JSON.parse(quiet.result_summary!), { summary: 'No changes (1002 records listed)' });
      const remembered = (await state()).entries.find((e) => e.key === 'sync:contacts');
      assert.equal(Object.keys((remembered?.value as { seen: object }).seen).length, 1002);
    });

    test('deleting the instance deletes its state', async () => {
      const rows = () => runtimeDb(h.store.db).selectFrom('flow_state').select('key').where('instance_id', '=', instanceId).execute();
      assert.ok((await rows()).length > 0);
      const customer = (await h.store.vendor.getCustomer(customerId))!;
      await h.store
        .forCustomer(customer)
        .deleteInstance(instanceId, { actor: 'user:test', action: 'instance.deleted', target: `instance:${instanceId}`, details: {} });
      assert.deepEqual(await rows(), []);
    });
  });
}
