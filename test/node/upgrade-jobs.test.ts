// Bulk upgrade jobs stored in the database (issue 12): a job started through one replica is read
// through another over the same database; a job whose process stopped or died is taken over and
// finished without upgrading any instance twice; a job's rollback restores each instance's version
// and config. And the two ways to load a new build of the integrations module without a restart:
// POST /api/v1/vendor/integrations/reload, and SIGHUP to a real `plugboard serve`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { AuditList, IntegrationVersions, UpgradeJob, UpgradeJobList, VendorInstance } from '../../src/protocol/index.js';
import { createApp } from '../../server/src/app.js';
import { createTokenVerifier } from '../../server/src/auth.js';
import { loadIntegrations } from '../../server/src/integrations.js';
import { defineIntegration, field, type Integration } from '../../server/src/sdk/index.js';
import { createCipher, generateEncryptionKey } from '../../server/src/secrets.js';
import { createServices } from '../../server/src/services.js';
import { createUpgrades } from '../../server/src/upgrades.js';
import { openStore, type Store } from '../../server/src/store/index.js';
import { eventually } from './fixtures/eventually.js';
import { AUDIENCE, ISSUER, makeKey, PG_URL, signToken, type SigningKey } from './fixtures/harness.js';
import { spawnServe } from './fixtures/plugboard-process.js';

const SDK = fileURLToPath(new URL('../../server/src/sdk/index.ts', import.meta.url));

/** While `holding` > 0, each migrate that starts waits in `waiting` until the test releases it (an instance in hand). */
const gate = { holding: 0, waiting: [] as (() => void)[] };
const release = () => gate.waiting.shift()!();
const migratesWaiting = (n: number) => eventually(() => gate.waiting.length === n, 20_000, `${n} migrate(s) to wait at the gate`);

const v1 = defineIntegration({
  key: 'crm',
  name: 'CRM',
  description: 'Versioned.',
  category: 'test',
  version: '1.0.0',
  configPages: [{ title: 'Setup', fields: { label: field.text({ label: 'Label' }) } }],
});
const v2 = defineIntegration({
  key: 'crm',
  name: 'CRM',
  description: 'Versioned.',
  category: 'test',
  version: '2.0.0',
  configPages: [{ title: 'Setup', fields: { title: field.text({ label: 'Title' }) } }],
  migrate: async ({ config }) => {
    if (config.label === 'boom') throw new Error('cannot carry boom');
    if (gate.holding > 0) {
      gate.holding--;
      await new Promise<void>((resolve) => gate.waiting.push(resolve));
    }
    return { title: `${String(config.label)} v2` };
  },
});

/** One replica: its own store connection, services and app over the shared database. */
interface Replica {
  store: Store;
  call(method: string, path: string, role: 'viewer' | 'support' | 'admin', body?: unknown): Promise<{ status: number; headers: Headers; body: any }>;
  close(): Promise<void>;
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`bulk upgrade jobs (${engine})`, { skip: engine === 'postgres' && !PG_URL ? 'set PLUGBOARD_TEST_DATABASE_URL' : false }, () => {
    let dir: string;
    let key: SigningKey;
    const encryptionKey = generateEncryptionKey();
    const open: Replica[] = [];
    let database: () => Promise<Store>;
    let dropSchema = async () => {};

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'plugboard-upgrade-jobs-'));
      key = await makeKey('ES256');
    });
    after(async () => {
      for (const r of open.splice(0)) await r.close();
      await dropSchema();
      rmSync(dir, { recursive: true, force: true });
    });

    /** A fresh database for one test: every replica of the test opens it. */
    function freshDatabase(): void {
      const name = `jobs_${randomBytes(6).toString('hex')}`;
      database =
        engine === 'sqlite'
          ? // One SQLite file is one process's (serve's HTTP side and its runner thread): their caches drop
            // each other's entries through a BroadcastChannel, as these replicas' do. Separate processes
            // on one file are not a deployment (PostgreSQL is, below, with NOTIFY).
            () => openStore({ databaseUrl: join(dir, `${name}.db`), cache: { threads: `plugboard-test-${name}` } })
          : () => openStore({ databaseUrl: PG_URL, pgSchema: name, poolSize: 4 });
      if (engine === 'postgres') {
        const previous = dropSchema;
        dropSchema = async () => {
          await previous();
          const store = await openStore({ databaseUrl: PG_URL, migrate: false });
          await sql`drop schema if exists ${sql.id(name)} cascade`.execute(store.db);
          await store.close();
        };
      }
    }

    async function replica(integrations: readonly Integration[]): Promise<Replica> {
      const store = await database();
      const services = await createServices({ store, cipher: createCipher(encryptionKey), integrations });
      const app = createApp({
        services,
        verifier: createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: JSON.stringify({ keys: [key.publicJwk] }) }),
      });
      let closed = false;
      const r: Replica = {
        store,
        async call(method, path, role, body) {
          const token = await signToken(key, { claims: { role: 'vendor', vendor_role: role, customer: undefined, customer_name: undefined } });
          const res = await app.request(path, {
            method,
            headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          });
          const text = await res.text();
          return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
        },
        async close() {
          if (closed) return;
          closed = true;
          await services.stop();
          await store.close();
        },
      };
      open.push(r);
      return r;
    }

    async function deploy(r: Replica, customer: string, label: string): Promise<VendorInstance> {
      await r.store.ensureCustomer(customer);
      const created = await r.call('POST', `/api/v1/vendor/customers/${customer}/instances`, 'support', { integrationKey: 'crm' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = VendorInstance.parse(created.body).id;
      const saved = await r.call('PUT', `/api/v1/vendor/instances/${id}/config`, 'support', { config: { label }, version: 1 });
      assert.equal(saved.status, 200, JSON.stringify(saved.body));
      return VendorInstance.parse(saved.body);
    }

    async function finished(r: Replica, id: string): Promise<UpgradeJob> {
      let seen: unknown;
      return eventually(
        async () => {
          const read = await r.call('GET', `/api/v1/vendor/upgrades/${id}`, 'viewer');
          seen = read.body;
          assert.equal(read.status, 200, JSON.stringify(read.body));
          const job = UpgradeJob.parse(read.body);
          return job.status === 'finished' && job;
        },
        20_000,
        () => `job ${id} to finish (last seen ${JSON.stringify(seen)})`,
      );
    }

    async function instance(r: Replica, id: string): Promise<VendorInstance> {
      const read = await r.call('GET', `/api/v1/vendor/instances/${id}`, 'viewer');
      assert.equal(read.status, 200, JSON.stringify(read.body));
      return VendorInstance.parse(read.body);
    }

    /** How many times the instance was upgraded, from its audit trail. */
    async function upgradesOf(r: Replica, id: string): Promise<number> {
      const read = await r.call('GET', `/api/v1/vendor/instances/${id}/audit`, 'viewer');
      assert.equal(read.status, 200, JSON.stringify(read.body));
      return AuditList.parse(read.body).events.filter((e) => e.action === 'instance.upgraded').length;
    }

    test('a job started on one replica is read on another, listed, and rolled back instance by instance', async () => {
      freshDatabase();
      const old = await replica([v1]);
      const a = await deploy(old, 'jobs-a', 'alpha');
      const b = await deploy(old, 'jobs-b', 'boom');
      const c = await deploy(old, 'jobs-c', 'gamma');
      // The new build is loaded on one replica only; the other answers for the job all the same.
      const fresh = await replica([v2, v1]);

      const started = await fresh.call('POST', '/api/v1/vendor/integrations/crm/upgrades', 'support', {});
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const id = UpgradeJob.parse(started.body).id;
      assert.equal(started.headers.get('location'), `/api/v1/vendor/upgrades/${id}`);
      assert.equal(UpgradeJob.parse(started.body).total, 3);

      const job = await finished(old, id);
      assert.deepEqual([job.kind, job.to, job.total, job.done, job.upgraded, job.failed, job.skipped], ['upgrade', '2.0.0', 3, 3, 2, 1, 0]);
      const byId = new Map(job.outcomes.map((o) => [o.instanceId, o]));
      assert.deepEqual([byId.get(a.id)?.status, byId.get(b.id)?.status, byId.get(c.id)?.status], ['upgraded', 'failed', 'upgraded']);
      assert.match(byId.get(b.id)?.errors?.[0]?.message ?? '', /cannot carry boom/);
      assert.equal(byId.get(a.id)?.customer.externalId, 'jobs-a');
      assert.deepEqual(
        (await fresh.call('GET', `/api/v1/vendor/upgrades/${id}`, 'viewer')).body,
        (await old.call('GET', `/api/v1/vendor/upgrades/${id}`, 'viewer')).body,
      );
      assert.deepEqual((await instance(old, a.id)).config, { title: 'alpha v2' });

      // Rolling back acts for customers: support, not viewer. Unknown job: 404.
      assert.equal((await old.call('POST', `/api/v1/vendor/upgrades/${id}/rollback`, 'viewer')).status, 403);
      assert.equal((await old.call('POST', '/api/v1/vendor/upgrades/upg_nope/rollback', 'support')).status, 404);
      const rollback = await old.call('POST', `/api/v1/vendor/upgrades/${id}/rollback`, 'support');
      assert.equal(rollback.status, 202, JSON.stringify(rollback.body));
      const back = UpgradeJob.parse(rollback.body);
      assert.equal(rollback.headers.get('location'), `/api/v1/vendor/upgrades/${back.id}`);
      assert.deepEqual([back.kind, back.rollbackOf, back.to, back.total], ['rollback', id, '1.0.0', 2]);
      const undone = await finished(fresh, back.id);
      assert.deepEqual([undone.done, undone.rolledBack, undone.failed, undone.skipped], [2, 2, 0, 0]);
      assert.deepEqual(
        undone.outcomes.map((o) => [o.instanceId, o.status, o.from, o.to]).sort(),
        [
          [a.id, 'rolled_back', '2.0.0', '1.0.0'],
          [c.id, 'rolled_back', '2.0.0', '1.0.0'],
        ].sort(),
      );
      for (const [x, label] of [
        [a, 'alpha'],
        [b, 'boom'],
        [c, 'gamma'],
      ] as const) {
        const now = await instance(fresh, x.id);
        assert.equal(now.integrationVersion, '1.0.0');
        assert.deepEqual(now.config, { label });
      }
      assert.equal((await old.call('POST', `/api/v1/vendor/upgrades/${back.id}/rollback`, 'support')).status, 409, 'a rollback is not rolled back');

      // Newest first, one per page.
      const first = UpgradeJobList.parse((await old.call('GET', '/api/v1/vendor/upgrades?limit=1', 'viewer')).body);
      assert.deepEqual(
        first.jobs.map((j) => j.id),
        [back.id],
      );
      assert.ok(first.nextCursor);
      const second = UpgradeJobList.parse((await fresh.call('GET', `/api/v1/vendor/upgrades?limit=1&cursor=${first.nextCursor}`, 'viewer')).body);
      assert.deepEqual(
        second.jobs.map((j) => [j.id, j.upgraded]),
        [[id, 2]],
      );
      assert.equal(second.nextCursor, null);
      assert.equal((await old.call('GET', '/api/v1/vendor/upgrades?cursor=bm9wZQ', 'viewer')).status, 422);
    });

    test('a job whose replica stops mid-job is taken over by another and each instance is upgraded once', async () => {
      freshDatabase();
      const first = await replica([v2, v1]);
      const ids: string[] = [];
      // Deployed on 1.0.0 through a replica that has only it, then upgraded from the one with both.
      const seed = await replica([v1]);
      for (const [customer, label] of [
        ['stop-a', 'alpha'],
        ['stop-b', 'beta'],
        ['stop-c', 'gamma'],
      ] as const) {
        ids.push((await deploy(seed, customer, label)).id);
      }
      gate.holding = 1;
      const started = await first.call('POST', '/api/v1/vendor/integrations/crm/upgrades', 'support', {});
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const id = UpgradeJob.parse(started.body).id;
      await migratesWaiting(1);
      // The replica stops (SIGTERM) while one instance's migrate runs: it finishes that one and hands the job over.
      const stopping = first.close();
      release();
      await stopping;
      // Handed over mid-job; a replica without version 2.0.0's code reports it but leaves it to one that has it.
      const handed = UpgradeJob.parse((await seed.call('GET', `/api/v1/vendor/upgrades/${id}`, 'viewer')).body);
      assert.deepEqual([handed.status, handed.done, handed.upgraded], ['running', 1, 1]);

      const second = await replica([v2, v1]);
      const job = await finished(second, id);
      assert.deepEqual([job.total, job.done, job.upgraded, job.failed, job.skipped], [3, 3, 3, 0, 0]);
      for (const instanceId of ids) {
        assert.equal((await instance(second, instanceId)).integrationVersion, '2.0.0');
        assert.equal(await upgradesOf(second, instanceId), 1, `instance ${instanceId} upgraded once`);
      }
    });

    test('a job taken from a stalled process while it upgrades an instance: that instance is counted once, as upgraded', async () => {
      freshDatabase();
      const seed = await replica([v1]);
      const ids: string[] = [];
      for (const customer of ['stall-a', 'stall-b', 'stall-c']) ids.push((await deploy(seed, customer, customer)).id);
      // The stalled process: its heartbeat is not renewed while the test holds its migrate.
      const stalledStore = await database();
      const stalledServices = await createServices({ store: stalledStore, cipher: createCipher(encryptionKey), integrations: [v2, v1] });
      const stalled = createUpgrades({
        store: stalledStore,
        instances: stalledServices.instances,
        integrations: stalledServices.integrations,
        logger: stalledServices.logger,
        heartbeatMs: 3_600_000,
      });
      gate.holding = 2;
      const { id } = await stalled.start({ integrationKey: 'crm', actor: 'vendor-backend' });
      await migratesWaiting(1);
      await stalledStore.db
        .updateTable('upgrade_jobs')
        .set({ heartbeat_at: new Date(Date.now() - 10 * 60_000).toISOString() })
        .where('id', '=', id)
        .execute();
      const taker = await replica([v2, v1]);
      assert.equal((await taker.call('GET', `/api/v1/vendor/upgrades/${id}`, 'viewer')).status, 200);
      // The taker is at the same instance; the stalled process writes it first, then finds the job taken.
      await migratesWaiting(2);
      release();
      await stalled.settled(id);
      release();
      const job = await finished(taker, id);
      assert.deepEqual([job.total, job.done, job.upgraded, job.failed, job.skipped], [3, 3, 3, 0, 0], JSON.stringify(job.outcomes));
      for (const instanceId of ids) assert.equal(await upgradesOf(taker, instanceId), 1, `instance ${instanceId} upgraded once`);
      await stalled.stop();
      await stalledServices.stop();
      await stalledStore.close();
    });

    test('a running job whose process died (old heartbeat) is resumed on read; one with a live owner is left alone', async () => {
      freshDatabase();
      const seed = await replica([v1]);
      const a = await deploy(seed, 'dead-a', 'alpha');
      const b = await deploy(seed, 'dead-b', 'beta');
      const survivor = await replica([v2, v1]);
      // The dead process had upgraded A but died before writing its outcome.
      const up = await survivor.call('POST', `/api/v1/vendor/instances/${a.id}/upgrade`, 'support', {});
      assert.equal(up.status, 200, JSON.stringify(up.body));

      const minutesAgo = new Date(Date.now() - 10 * 60_000).toISOString();
      const plant = async (id: string, heartbeat: string) => {
        await survivor.store.db
          .insertInto('upgrade_jobs')
          .values({
            id,
            kind: 'upgrade',
            integration_key: 'crm',
            to_version: '2.0.0',
            customer_id: null,
            customer_external_id: null,
            rollback_of: null,
            actor: 'vendor-backend',
            actor_name: null,
            status: 'running',
            total: 2,
            done: 0,
            upgraded: 0,
            failed: 0,
            skipped: 0,
            rolled_back: 0,
            started_at: minutesAgo,
            finished_at: null,
            owner: 'proc_elsewhere',
            heartbeat_at: heartbeat,
          })
          .execute();
        await survivor.store.db
          .insertInto('upgrade_outcomes')
          .values(
            [a, b].map((x, position) => ({
              job_id: id,
              position,
              instance_id: x.id,
              customer_id: x.customer.id,
              customer_external_id: x.customer.externalId,
              from_version: '1.0.0',
              to_version: '2.0.0',
              status: 'pending',
              error: null,
              errors: null,
              done_at: null,
            })),
          )
          .execute();
      };
      await plant('upg_alive', new Date(Date.now() + 60_000).toISOString());
      const alive = UpgradeJob.parse((await survivor.call('GET', '/api/v1/vendor/upgrades/upg_alive', 'viewer')).body);
      assert.deepEqual([alive.status, alive.done], ['running', 0], 'a job whose owner beats is not taken');
      await survivor.store.db.deleteFrom('upgrade_outcomes').where('job_id', '=', 'upg_alive').execute();
      await survivor.store.db.deleteFrom('upgrade_jobs').where('id', '=', 'upg_alive').execute();

      await plant('upg_dead', minutesAgo);
      const job = await finished(survivor, 'upg_dead');
      assert.deepEqual([job.total, job.done, job.upgraded, job.failed, job.skipped], [2, 2, 2, 0, 0]);
      assert.equal(await upgradesOf(survivor, a.id), 1, 'A, reached before the process died, is not upgraded again');
      assert.equal(await upgradesOf(survivor, b.id), 1);
      assert.equal((await instance(survivor, b.id)).integrationVersion, '2.0.0');
    });

    test('POST /integrations/reload answers 200 with the new versions once the module file changed', async () => {
      freshDatabase();
      const moduleDir = mkdtempSync(join(dir, 'module-'));
      const modulePath = join(moduleDir, 'integrations.ts');
      writeFileSync(modulePath, moduleBuild('1.0.0'));
      const store = await database();
      const services = await createServices({
        store,
        cipher: createCipher(encryptionKey),
        integrations: await loadIntegrations(modulePath),
        integrationsModule: modulePath,
      });
      const app = createApp({
        services,
        verifier: createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: JSON.stringify({ keys: [key.publicJwk] }) }),
      });
      after(() => store.close());
      const vendor = await signToken(key, { claims: { role: 'vendor', vendor_role: 'admin', customer: undefined } });
      const reload = () => app.request('/api/v1/vendor/integrations/reload', { method: 'POST', headers: { authorization: `Bearer ${vendor}` } });
      const catalogVersion = async () => {
        const res = await app.request('/api/v1/integrations', { headers: { authorization: `Bearer ${await signToken(key)}` } });
        return ((await res.json()) as { integrations: { key: string; version: string }[] }).integrations.find((i) => i.key === 'notes')?.version;
      };
      assert.equal(await catalogVersion(), '1.0.0');

      const unchanged = await reload();
      assert.equal(unchanged.status, 200);
      assert.equal(IntegrationVersions.parse(await unchanged.json()).changed, false);

      writeFileSync(modulePath, moduleBuild('2.0.0'));
      const res = await reload();
      assert.equal(res.status, 200);
      const report = IntegrationVersions.parse(await res.json());
      assert.equal(report.changed, true);
      assert.equal(report.generation, 2);
      // 1.0.0 is not kept: no instance runs it.
      assert.deepEqual(
        report.integrations.map((i) => [i.key, i.version, i.versions]),
        [['notes', '2.0.0', ['2.0.0']]],
      );
      assert.equal(await catalogVersion(), '2.0.0');
    });
  });
}

/** A module file of one integration, `notes`, at a version. */
function moduleBuild(version: string): string {
  return `import { defineIntegration, field } from ${JSON.stringify(SDK)};
export default [defineIntegration({
  key: 'notes',
  name: 'Notes',
  description: 'Reloaded.',
  category: 'test',
  version: '${version}',
  configPages: [{ title: 'Setup', fields: { label: field.text({ label: 'Label' }) } }],
})];
`;
}

test('SIGHUP makes a running plugboard serve load the changed module: same process, requests in flight answered', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-sighup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const modulePath = join(dir, 'integrations.ts');
  writeFileSync(modulePath, moduleBuild('1.0.0'));
  const key = await makeKey('ES256');
  const serve = await spawnServe({
    DATABASE_URL: join(dir, 'plugboard.db'),
    PLUGBOARD_ENCRYPTION_KEY: generateEncryptionKey(),
    PLUGBOARD_INTEGRATIONS: modulePath,
    PLUGBOARD_JWT_KEYS: JSON.stringify({ keys: [key.publicJwk] }),
    PLUGBOARD_JWT_ISSUER: ISSUER,
    PLUGBOARD_RUNNER: 'off',
    // Its SIGTERM at the end needs no delay for a balancer (drain.test.ts tests the delay).
    PLUGBOARD_SHUTDOWN_DELAY_MS: '0',
  });
  t.after(() => {
    if (serve.alive()) serve.child.kill('SIGKILL');
  });
  const token = await signToken(key);
  const catalog = async () => {
    const res = await fetch(`${serve.url}/api/v1/integrations`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { integrations?: { key: string; version: string }[] };
    return { status: res.status, version: body.integrations?.find((i) => i.key === 'notes')?.version };
  };
  assert.deepEqual(await catalog(), { status: 200, version: '1.0.0' });
  const pid = serve.child.pid;

  writeFileSync(modulePath, moduleBuild('2.0.0'));
  const inFlight = Array.from({ length: 20 }, () => catalog());
  assert.ok(serve.child.kill('SIGHUP'));
  for (const answer of await Promise.all(inFlight)) {
    assert.equal(answer.status, 200);
    assert.ok(answer.version === '1.0.0' || answer.version === '2.0.0', JSON.stringify(answer));
  }
  await eventually(
    async () => (await catalog()).version === '2.0.0',
    20_000,
    () => `the catalog to answer 2.0.0 (serve said: ${serve.output().slice(-800)})`,
  );
  assert.ok(serve.alive(), 'serve was not restarted');
  assert.equal(serve.child.pid, pid);
  assert.match(serve.output(), /integrations reloaded/);

  serve.child.kill('SIGTERM');
  assert.equal(await serve.exited, 0);
});
