// The store suite, run on real SQLite files and, when PLUGBOARD_TEST_DATABASE_URL is set, on the
// real PostgreSQL, each test in its own fresh schema that is dropped at the end.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test, type TestContext } from 'node:test';
import { sql } from 'kysely';
import {
  DuplicateInstanceError,
  IdempotencyKeyReuseError,
  openStore,
  VersionConflictError,
  type InstanceRecord,
  type NewAuditEvent,
  type OpenStoreOptions,
  type Store,
} from '../../server/src/store/index.js';
import { coreMigrations } from '../../server/src/store/migrations.js';

const PG_URL = process.env.PLUGBOARD_TEST_DATABASE_URL;

interface Fixture {
  store: Store;
  /** Opens a second store on the same database (another replica, or a restart). */
  reopen(extra?: Partial<OpenStoreOptions>): Promise<Store>;
}

interface Engine {
  name: 'sqlite' | 'postgres';
  skip: string | false;
  fixture(t: TestContext, extra?: Partial<OpenStoreOptions>): Promise<Fixture>;
}

const tmpRoot = mkdtempSync(join(tmpdir(), 'plugboard-store-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

const sqliteEngine: Engine = {
  name: 'sqlite',
  skip: false,
  async fixture(t, extra) {
    const file = join(tmpRoot, `${randomBytes(6).toString('hex')}.db`);
    const stores: Store[] = [];
    const open = async (more?: Partial<OpenStoreOptions>) => {
      const store = await openStore({ databaseUrl: file, ...extra, ...more });
      stores.push(store);
      return store;
    };
    t.after(async () => {
      for (const s of stores) await s.close();
    });
    return { store: await open(), reopen: open };
  },
};

const postgresEngine: Engine = {
  name: 'postgres',
  skip: PG_URL ? false : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped',
  async fixture(t, extra) {
    const schema = `t_store_${randomBytes(6).toString('hex')}`;
    const stores: Store[] = [];
    const open = async (more?: Partial<OpenStoreOptions>) => {
      const store = await openStore({ databaseUrl: PG_URL, pgSchema: schema, ...extra, ...more });
      stores.push(store);
      return store;
    };
    const first = await open();
    t.after(async () => {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(first.db);
      for (const s of stores) await s.close();
    });
    return { store: first, reopen: open };
  },
};

const audit = (action: string, details: Record<string, unknown> = {}): NewAuditEvent => ({
  actor: 'user:u1',
  action,
  target: '',
  details,
});

for (const engine of [sqliteEngine, postgresEngine]) {
  describe(`store on ${engine.name}`, { skip: engine.skip }, () => {
    test('migrations are idempotent: a second open keeps the data and adds nothing', async (t) => {
      const { store, reopen } = await engine.fixture(t);
      assert.equal(store.engine, engine.name);
      const acme = await store.ensureCustomer('acme', 'Acme');
      await store.forCustomer(acme).createInstance({ integrationKey: 'slack', audit: audit('instance.created') });
      await store.migrate();
      const again = await reopen();
      await again.migrate();
      const seen = await again.ensureCustomer('acme');
      assert.equal(seen.id, acme.id);
      assert.equal((await again.forCustomer(seen).listInstances()).length, 1);
      assert.equal(await again.ping(), true);
    });

    test(
      'replicas starting at once on a fresh database migrate it once',
      { skip: engine.name === 'sqlite' && 'one process holds one SQLite connection' },
      async (t) => {
        const { store, reopen } = await engine.fixture(t, { migrate: false });
        const replicas = await Promise.all([reopen({ migrate: true }), reopen({ migrate: true }), reopen({ migrate: true })]);
        const customers = await Promise.all(replicas.map((r) => r.ensureCustomer('acme')));
        assert.equal(new Set(customers.map((c) => c.id)).size, 1);
        const ran = await store.db.withTables<{ kysely_migration: { name: string } }>().selectFrom('kysely_migration').select('name').execute();
        assert.deepEqual(
          ran.map((r) => r.name),
          Object.keys(coreMigrations),
        );
      },
    );

    test('extra migrations from subsystems run after the core ones, once', async (t) => {
      const migrations = {
        '0100_test_notes': {
          async up(db: Store['db']) {
            await db.schema
              .createTable('test_notes')
              .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id').onDelete('cascade'))
              .addColumn('body', 'text', (c) => c.notNull())
              .execute();
          },
        },
      };
      const { store, reopen } = await engine.fixture(t, { migrations });
      await reopen({ migrations });
      const notes = store.db.withTables<{ test_notes: { instance_id: string; body: string } }>();
      const acme = await store.ensureCustomer('acme');
      const acmeStore = store.forCustomer(acme);
      const { instance } = await acmeStore.createInstance({ integrationKey: 'slack', audit: audit('instance.created') });
      await notes.insertInto('test_notes').values({ instance_id: instance.id, body: 'hi' }).execute();
      // The subsystem's rows go with the instance, through the cascade the migration declared.
      assert.equal(await acmeStore.deleteInstance(instance.id, audit('instance.deleted')), true);
      assert.deepEqual(await notes.selectFrom('test_notes').selectAll().execute(), []);
      await assert.rejects(reopen({ migrations: { '0001_core': migrations['0100_test_notes'] } }), /taken by a core migration/);
    });

    test("tenant isolation: customer B can neither see nor change A's instance or connections", async (t) => {
      const { store } = await engine.fixture(t);
      const a = store.forCustomer(await store.ensureCustomer('tenant-a'));
      const b = store.forCustomer(await store.ensureCustomer('tenant-b'));
      const { instance } = await a.createInstance({ integrationKey: 'crm', audit: audit('instance.created') });
      await a.updateConfig(instance.id, {
        config: { channel: '#a' },
        secrets: 'v1.k1.x.y',
        secretNames: ['token'],
        expectedVersion: 1,
        audit: audit('instance.config_saved'),
      });
      await a.putConnection(instance.id, 'crm', {
        kind: 'apiKey',
        status: 'connected',
        ciphertext: 'v1.k1.a.b',
        expiresAt: null,
        error: null,
        audit: audit('connection.set'),
      });
      const before = await a.getInstance(instance.id);

      assert.equal(await b.getInstance(instance.id), undefined);
      assert.deepEqual(await b.listInstances(), []);
      // Not found, not "conflict": B must not learn that the id exists.
      assert.equal(
        await b.updateConfig(instance.id, { config: { channel: '#b' }, secrets: null, secretNames: [], expectedVersion: 2, audit: audit('x') }),
        undefined,
      );
      assert.equal(
        await b.updateConfig(instance.id, { config: { channel: '#b' }, secrets: null, secretNames: [], expectedVersion: 1, audit: audit('x') }),
        undefined,
      );
      assert.equal(await b.setStatus(instance.id, { status: 'active', audit: audit('x') }), undefined);
      assert.equal(await b.deleteInstance(instance.id, audit('x')), false);
      assert.deepEqual(await b.listConnections(instance.id), []);
      assert.equal(await b.getConnection(instance.id, 'crm'), undefined);
      assert.equal(
        await b.putConnection(instance.id, 'crm', { kind: 'apiKey', status: 'connected', ciphertext: 'evil', expiresAt: null, error: null }),
        undefined,
      );
      assert.equal(
        await b.putConnection(instance.id, 'other', { kind: 'apiKey', status: 'connected', ciphertext: 'evil', expiresAt: null, error: null }),
        undefined,
      );
      assert.equal(await b.deleteConnection(instance.id, 'crm', audit('x')), false);

      // A sees exactly what it had; B's attempts left no trace, not even in the audit.
      assert.deepEqual(await a.getInstance(instance.id), before);
      const connections = await a.listConnections(instance.id);
      assert.deepEqual(
        connections.map((c) => [c.name, c.ciphertext]),
        [['crm', 'v1.k1.a.b']],
      );
      assert.deepEqual(await b.listAudit(), []);
      assert.equal((await a.listAudit()).length, 3);
    });

    test('50 concurrent creates with one idempotency key make one instance', async (t) => {
      const { store } = await engine.fixture(t);
      const acme = store.forCustomer(await store.ensureCustomer('acme'));
      const results = await Promise.all(
        Array.from({ length: 50 }, () => acme.createInstance({ integrationKey: 'slack', idempotencyKey: 'idem-1', audit: audit('instance.created') })),
      );
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.instance.id)).size, 1);
      assert.equal((await acme.listInstances()).length, 1);
      assert.equal((await acme.listAudit()).filter((e) => e.action === 'instance.created').length, 1);

      // The same key for another integration is a client error, not the old instance.
      await assert.rejects(
        acme.createInstance({ integrationKey: 'crm', idempotencyKey: 'idem-1', audit: audit('instance.created') }),
        (e: unknown) => e instanceof IdempotencyKeyReuseError && e.existingId === results[0]!.instance.id,
      );
      // The key is per customer: another customer using it gets its own instance.
      const other = store.forCustomer(await store.ensureCustomer('other'));
      const theirs = await other.createInstance({ integrationKey: 'slack', idempotencyKey: 'idem-1', audit: audit('instance.created') });
      assert.equal(theirs.created, true);
      assert.notEqual(theirs.instance.id, results[0]!.instance.id);
    });

    test('a second instance of one integration is refused, also under concurrency', async (t) => {
      const { store } = await engine.fixture(t);
      const acme = store.forCustomer(await store.ensureCustomer('acme'));
      const settled = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => acme.createInstance({ integrationKey: 'slack', idempotencyKey: `k${i}`, audit: audit('instance.created') })),
      );
      const won = settled.filter((s) => s.status === 'fulfilled');
      assert.equal(won.length, 1);
      const winnerId = won[0]!.value.instance.id;
      for (const s of settled) {
        if (s.status === 'rejected') {
          assert.ok(s.reason instanceof DuplicateInstanceError, String(s.reason));
          assert.equal(s.reason.existingId, winnerId);
        }
      }
      await assert.rejects(acme.createInstance({ integrationKey: 'slack', audit: audit('instance.created') }), DuplicateInstanceError);
      assert.equal((await acme.listAudit()).length, 1);
    });

    test('config writes are compare-and-set: of two writers on one version, one wins', async (t) => {
      const { store } = await engine.fixture(t);
      const acme = store.forCustomer(await store.ensureCustomer('acme'));
      const { instance } = await acme.createInstance({ integrationKey: 'slack', audit: audit('instance.created') });
      assert.equal(instance.version, 1);
      const write = (channel: string) =>
        acme.updateConfig(instance.id, {
          config: { channel },
          secrets: null,
          secretNames: [],
          expectedVersion: 1,
          audit: audit('instance.config_saved', { fields: ['channel'] }),
        });
      const [first, second] = await Promise.allSettled([write('#one'), write('#two')]);
      const outcomes = [first, second];
      const winners = outcomes.filter((o) => o.status === 'fulfilled');
      const losers = outcomes.filter((o) => o.status === 'rejected');
      assert.equal(winners.length, 1);
      assert.equal(losers.length, 1);
      const conflict = losers[0]!.reason as unknown;
      assert.ok(conflict instanceof VersionConflictError);
      assert.equal(conflict.currentVersion, 2);
      const winner = winners[0]!.value!;
      assert.equal(winner.version, 2);
      const stored = await acme.getInstance(instance.id);
      assert.deepEqual(stored?.config, winner.config);
      assert.equal(stored?.version, 2);
      // Only the winner's change is audited.
      assert.equal((await acme.listAudit()).filter((e) => e.action === 'instance.config_saved').length, 1);
      // A missing id is "not found", not a conflict.
      assert.equal(await acme.updateConfig('ins_missing', { config: {}, secrets: null, secretNames: [], expectedVersion: 1, audit: audit('x') }), undefined);
    });

    test('every write records its audit event; a failed write records none and leaves no half-written row', async (t) => {
      const { store } = await engine.fixture(t);
      const acme = store.forCustomer(await store.ensureCustomer('acme'));
      const { instance } = await acme.createInstance({ integrationKey: 'slack', audit: audit('instance.created') });
      const saved = await acme.updateConfig(instance.id, {
        config: { channel: '#ops', retries: 3 },
        secrets: 'v1.k1.iv.ct',
        secretNames: ['webhookSecret'],
        expectedVersion: 1,
        audit: { actor: 'user:alice', action: 'instance.config_saved', target: `instance:${instance.id}`, details: { fields: ['channel', 'retries'] } },
      });
      assert.deepEqual(saved?.config, { channel: '#ops', retries: 3 });
      assert.deepEqual(saved?.secretNames, ['webhookSecret']);
      assert.equal(saved?.secrets, 'v1.k1.iv.ct');
      await acme.setStatus(instance.id, { status: 'active', audit: audit('instance.activated') });

      const events = await acme.listAudit();
      assert.deepEqual(
        events.map((e) => e.action),
        ['instance.activated', 'instance.config_saved', 'instance.created'],
      );
      const configEvent = events[1]!;
      assert.equal(configEvent.actor, 'user:alice');
      assert.equal(configEvent.target, `instance:${instance.id}`);
      assert.deepEqual(configEvent.details, { fields: ['channel', 'retries'] });
      assert.equal(configEvent.customerId, acme.customer.id);
      assert.match(configEvent.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(events[2]!.target, `instance:${instance.id}`);
      assert.deepEqual(await acme.listAudit({ limit: 1 }), [events[0]]);

      // A stale write fails: no change, no audit.
      await assert.rejects(
        acme.updateConfig(instance.id, {
          config: { channel: '#stale' },
          secrets: null,
          secretNames: [],
          expectedVersion: 1,
          audit: audit('instance.config_saved'),
        }),
        VersionConflictError,
      );
      // The audit insert itself fails (details not serialisable): the config change rolls back with it.
      await assert.rejects(
        acme.updateConfig(instance.id, {
          config: { channel: '#half' },
          secrets: null,
          secretNames: [],
          expectedVersion: 2,
          audit: audit('instance.config_saved', { bad: 1n }),
        }),
      );
      const after = await acme.getInstance(instance.id);
      assert.deepEqual(after?.config, { channel: '#ops', retries: 3 });
      assert.equal(after?.version, 2);
      assert.equal((await acme.listAudit()).length, 3);
    });

    test('concurrent writes (committed together on SQLite) each succeed or fail alone', async (t) => {
      const { store } = await engine.fixture(t);
      const acme = store.forCustomer(await store.ensureCustomer('acme'));
      const created = await Promise.all(
        ['slack', 'github', 'jira', 'notion', 'linear'].map((integrationKey) => acme.createInstance({ integrationKey, audit: audit('instance.created') })),
      );
      const [a, b, c, d, e] = created.map((r) => r.instance) as [InstanceRecord, InstanceRecord, InstanceRecord, InstanceRecord, InstanceRecord];
      const config = (id: string, channel: string, expectedVersion: number, details?: Record<string, unknown>) =>
        acme.updateConfig(id, { config: { channel }, secrets: null, secretNames: [], expectedVersion, audit: audit('instance.config_saved', details) });
      // Asked in one event-loop turn: one group on SQLite, each in its own savepoint.
      const outcomes = await Promise.allSettled([
        acme.setStatus(a.id, { status: 'active', audit: audit('instance.activated') }),
        config(b.id, '#half', 1, { bad: 1n }), // its audit insert throws after its update
        config(c.id, '#stale', 7),
        acme.setStatus(d.id, { status: 'paused', audit: audit('instance.paused') }),
        config(e.id, '#ops', 1),
        acme.setStatus('ins_missing', { status: 'active', audit: audit('instance.activated') }),
      ]);
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'],
      );
      assert.ok((outcomes[2] as PromiseRejectedResult).reason instanceof VersionConflictError);
      assert.equal((outcomes[5] as PromiseFulfilledResult<unknown>).value, undefined);
      const stored = (await store.vendor.listInstances()).map((i) => [i.integrationKey, i.status, i.config, i.version]);
      assert.deepEqual(stored.sort(), [
        ['github', 'draft', {}, 1],
        ['jira', 'draft', {}, 1],
        ['linear', 'draft', { channel: '#ops' }, 2],
        ['notion', 'paused', {}, 1],
        ['slack', 'active', {}, 1],
      ]);
      // Audited: the three that wrote; the failed, the stale and the missing left no line.
      const actions = (await acme.listAudit()).map((event) => event.action).filter((action) => action !== 'instance.created');
      assert.deepEqual(actions.sort(), ['instance.activated', 'instance.config_saved', 'instance.paused']);
    });

    test('status changes: activation is stamped, pause keeps the stamp, reason is stored', async (t) => {
      const { store } = await engine.fixture(t);
      const acme = store.forCustomer(await store.ensureCustomer('acme'));
      const { instance } = await acme.createInstance({ integrationKey: 'slack', audit: audit('instance.created') });
      assert.equal(instance.status, 'draft');
      assert.equal(instance.activatedAt, null);
      const active = await acme.setStatus(instance.id, { status: 'active', audit: audit('instance.activated') });
      assert.equal(active?.status, 'active');
      assert.ok(active?.activatedAt);
      const failed = await acme.setStatus(instance.id, { status: 'error', reason: 'token revoked', audit: audit('instance.error') });
      assert.equal(failed?.statusReason, 'token revoked');
      const paused = await acme.setStatus(instance.id, { status: 'paused', audit: audit('instance.paused') });
      assert.equal(paused?.status, 'paused');
      assert.equal(paused?.statusReason, null);
      assert.equal(paused?.activatedAt, active?.activatedAt);
      assert.equal(paused?.version, 1, 'status changes do not move the config version');
    });

    test("all connections at once: this customer's only; the vendor reads the instances it names", async (t) => {
      const { store } = await engine.fixture(t);
      const acme = store.forCustomer(await store.ensureCustomer('acme'));
      const globex = store.forCustomer(await store.ensureCustomer('globex'));
      const a1 = (await acme.createInstance({ integrationKey: 'crm', audit: audit('instance.created') })).instance;
      const a2 = (await acme.createInstance({ integrationKey: 'slack', audit: audit('instance.created') })).instance;
      const g1 = (await globex.createInstance({ integrationKey: 'crm', audit: audit('instance.created') })).instance;
      const set = (tenant: typeof acme, id: string, name: string) =>
        tenant.putConnection(id, name, { kind: 'apiKey', status: 'connected', ciphertext: `ct-${name}`, expiresAt: null, error: null });
      await set(acme, a1.id, 'crm');
      await set(acme, a2.id, 'chat');
      await set(globex, g1.id, 'crm');
      const mine = await acme.listAllConnections();
      assert.deepEqual(
        mine.map((c) => [c.instanceId, c.name]).sort(),
        [
          [a1.id, 'crm'],
          [a2.id, 'chat'],
        ].sort(),
      );
      assert.deepEqual(
        (await store.vendor.listConnections([a2.id, g1.id])).map((c) => [c.instanceId, c.name]).sort(),
        [
          [a2.id, 'chat'],
          [g1.id, 'crm'],
        ].sort(),
      );
      assert.deepEqual(await store.vendor.listConnections([]), []);
    });

    test('connections: upsert, read, delete; deleting the instance cascades to them', async (t) => {
      const { store } = await engine.fixture(t);
      const acme = store.forCustomer(await store.ensureCustomer('acme'));
      const { instance } = await acme.createInstance({ integrationKey: 'crm', audit: audit('instance.created') });
      const put = (name: string, ciphertext: string) =>
        acme.putConnection(instance.id, name, { kind: 'oauth2', status: 'connected', ciphertext, expiresAt: '2030-01-01T00:00:00.000Z', error: null });
      await put('crm', 'ct-1');
      await put('mail', 'ct-2');
      const updated = await acme.putConnection(instance.id, 'crm', {
        kind: 'oauth2',
        status: 'needs_attention',
        ciphertext: 'ct-3',
        expiresAt: null,
        error: 'refresh failed',
        audit: audit('connection.refresh_failed'),
      });
      assert.equal(updated?.status, 'needs_attention');
      assert.equal(updated?.error, 'refresh failed');
      assert.deepEqual(
        (await acme.listConnections(instance.id)).map((c) => [c.name, c.ciphertext, c.expiresAt]),
        [
          ['crm', 'ct-3', null],
          ['mail', 'ct-2', '2030-01-01T00:00:00.000Z'],
        ],
      );
      assert.equal(
        await acme.putConnection('ins_missing', 'crm', { kind: 'apiKey', status: 'connected', ciphertext: 'x', expiresAt: null, error: null }),
        undefined,
      );
      assert.equal(await acme.deleteConnection(instance.id, 'mail', audit('connection.deleted')), true);
      assert.equal(await acme.deleteConnection(instance.id, 'mail', audit('connection.deleted')), false);
      await put('mail', 'ct-4');

      assert.equal(await acme.deleteInstance(instance.id, audit('instance.deleted')), true);
      assert.equal(await acme.getInstance(instance.id), undefined);
      assert.deepEqual(await acme.listConnections(instance.id), []);
      // Checked on the table itself, not through the scoped API.
      const left = await store.db.selectFrom('connections').select('name').where('instance_id', '=', instance.id).execute();
      assert.deepEqual(left, []);
      assert.equal(await acme.deleteInstance(instance.id, audit('instance.deleted')), false);
      assert.deepEqual(
        (await acme.listAudit()).map((e) => e.action),
        ['instance.deleted', 'connection.deleted', 'connection.refresh_failed', 'instance.created'],
      );
    });

    test("a customer's instances are served from memory and follow every write (PostgreSQL: another replica's too)", async (t) => {
      const { store, reopen } = await engine.fixture(t);
      const acme = await store.ensureCustomer('acme');
      const here = store.forCustomer(acme);
      assert.deepEqual(await here.listInstances(), []);
      const { instance } = await here.createInstance({ integrationKey: 'slack', audit: audit('instance.created') });
      assert.deepEqual(
        (await here.listInstances()).map((i) => [i.id, i.status]),
        [[instance.id, 'draft']],
        'a new instance is listed at once',
      );
      const eventually = async (what: string, check: () => Promise<boolean>) => {
        for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
        assert.ok(await check(), what);
      };
      // On PostgreSQL memory is trusted once the LISTEN connection is up (and our own NOTIFY has come back).
      await eventually('a repeated read is the kept answer, not a query', async () => (await here.listInstances()) === (await here.listInstances()));
      assert.equal((await here.getInstance(instance.id))?.status, 'draft');

      // On PostgreSQL another replica keeps its own copy; a write here reaches it through NOTIFY.
      const replica = engine.name === 'postgres' ? (await reopen()).forCustomer(acme) : here;
      assert.equal((await replica.listInstances()).length, 1);
      assert.equal((await replica.getInstance(instance.id))?.status, 'draft');
      await eventually("the replica's repeated read is its kept answer", async () => (await replica.listInstances()) === (await replica.listInstances()));

      await here.setStatus(instance.id, { status: 'active', audit: audit('instance.activated') });
      assert.equal((await here.listInstances())[0]?.status, 'active', 'a status change is listed at once');
      assert.equal((await here.getInstance(instance.id))?.status, 'active');
      await eventually('the replica lists the new status', async () => (await replica.listInstances())[0]?.status === 'active');
      await eventually('the replica reads the new status', async () => (await replica.getInstance(instance.id))?.status === 'active');

      await here.updateConfig(instance.id, { config: { channel: '#x' }, secrets: null, secretNames: [], expectedVersion: 1, audit: audit('x') });
      assert.equal((await here.getInstance(instance.id))?.version, 2);
      assert.deepEqual((await here.listInstances())[0]?.config, { channel: '#x' });
      await eventually('the replica reads the new config', async () => (await replica.getInstance(instance.id))?.version === 2);

      const crm = await replica.createInstance({ integrationKey: 'crm', audit: audit('instance.created') });
      await eventually('an instance created by the replica is listed here', async () => (await here.listInstances()).length === 2);

      assert.equal(await here.deleteInstance(instance.id, audit('instance.deleted')), true);
      assert.deepEqual(
        (await here.listInstances()).map((i) => i.id),
        [crm.instance.id],
      );
      assert.equal(await here.getInstance(instance.id), undefined);
      await eventually('the replica no longer lists the deleted instance', async () => (await replica.listInstances()).length === 1);
      assert.equal(await replica.getInstance(instance.id), undefined);
    });

    test('ensureCustomer: concurrent first sights create one customer; a given name updates it', async (t) => {
      const { store, reopen } = await engine.fixture(t);
      // On PostgreSQL a second store is a second pool: a real race between replicas.
      const stores = engine.name === 'postgres' ? [store, await reopen()] : [store];
      const seen = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % stores.length]!.ensureCustomer('newco', i === 0 ? 'NewCo' : undefined)));
      assert.equal(new Set(seen.map((c) => c.id)).size, 1);
      const customers = await store.vendor.listCustomers();
      assert.equal(customers.length, 1);
      assert.equal(customers[0]?.name, 'NewCo');
      assert.equal(customers[0]?.externalId, 'newco');
      assert.equal(customers[0]?.instanceCount, 0);
      const renamed = await store.ensureCustomer('newco', 'NewCo Ltd');
      assert.equal(renamed.id, seen[0]!.id);
      assert.equal(renamed.name, 'NewCo Ltd');
      assert.equal((await store.ensureCustomer('newco')).name, 'NewCo Ltd', 'no name given keeps the name');
    });

    test('vendor view spans customers and filters by customer and status', async (t) => {
      const { store } = await engine.fixture(t);
      const a = await store.ensureCustomer('a', 'A');
      const b = await store.ensureCustomer('b', 'B');
      const one = await store.forCustomer(a).createInstance({ integrationKey: 'slack', audit: audit('instance.created') });
      await store.forCustomer(a).createInstance({ integrationKey: 'crm', audit: audit('instance.created') });
      const three = await store.forCustomer(b).createInstance({ integrationKey: 'slack', audit: audit('instance.created') });
      await store.forCustomer(b).setStatus(three.instance.id, { status: 'active', audit: audit('instance.activated') });

      assert.equal((await store.vendor.listInstances()).length, 3);
      assert.deepEqual((await store.vendor.listInstances({ customerId: a.id })).map((i) => i.integrationKey).sort(), ['crm', 'slack']);
      const active = await store.vendor.listInstances({ status: 'active' });
      assert.deepEqual(
        active.map((i) => [i.id, i.customer.externalId]),
        [[three.instance.id, 'b']],
      );
      const got = await store.vendor.getInstance(one.instance.id);
      assert.equal(got?.customer.name, 'A');
      assert.equal(await store.vendor.getInstance('ins_missing'), undefined);
      assert.deepEqual(await store.vendor.getCustomer(b.id), b);
      assert.deepEqual(
        (await store.vendor.listCustomers()).map((c) => [c.externalId, c.instanceCount]),
        [
          ['a', 2],
          ['b', 1],
        ],
      );
      await store.vendor.recordAudit({
        customerId: b.id,
        actor: 'vendor:support',
        action: 'instance.force_paused',
        target: `instance:${three.instance.id}`,
        details: {},
      });
      assert.equal((await store.forCustomer(b).listAudit())[0]?.actor, 'vendor:support');
    });
  });
}

// The processes meet at a real barrier: each opens the database (without migrating), says
// "ready", and waits for the parent's "go", written to all three once all three are ready.
// Each then migrates, appending `enter`/`leave` around migrate() to a shared trace file (appends
// land in the order they happen). A probe migration, run after the core one inside the migration
// that got the lock, waits until all three have entered migrate(): the losers then contend with a
// migration in flight (SQLite: its write lock, then a retry; PostgreSQL: Kysely's advisory lock).
const raceScript = (storeModule: string) => `
  const { appendFileSync, readFileSync } = await import('node:fs');
  const { openStore } = await import(${JSON.stringify(storeModule)});
  const [databaseUrl, pgSchema, trace] = process.argv.slice(1);
  const note = (what) => appendFileSync(trace, what + ' ' + process.pid + '\\n');
  const entered = () => readFileSync(trace, 'utf8').split('\\n').filter((l) => l.startsWith('enter ')).length;
  const migrations = {
    '0100_race_probe': {
      async up(db) {
        note('probe');
        for (const deadline = Date.now() + 20000; entered() < 3; ) {
          if (Date.now() > deadline) throw new Error('race probe: only ' + entered() + ' of 3 processes entered migrate() while the first was migrating');
          await new Promise((r) => setTimeout(r, 10));
        }
        await db.schema.createTable('race_probe').addColumn('pid', 'integer').execute();
      },
    },
  };
  const store = await openStore({ databaseUrl, ...(pgSchema ? { pgSchema } : {}), migrate: false, migrations });
  process.stdout.write('ready\\n');
  await new Promise((go) => process.stdin.once('data', go));
  note('enter');
  await store.migrate();
  note('leave');
  const acme = store.forCustomer(await store.ensureCustomer('acme'));
  const audit = { actor: 'system', action: 'instance.created', target: '', details: {} };
  const results = await Promise.all(Array.from({ length: 25 }, () =>
    acme.createInstance({ integrationKey: 'slack', idempotencyKey: 'same', audit })));
  await acme.putConnection(results[0].instance.id, 'p' + process.pid, { kind: 'apiKey', status: 'connected', ciphertext: 'x', expiresAt: null, error: null });
  process.stdout.write(JSON.stringify({ created: results.filter((r) => r.created).length, ids: [...new Set(results.map((r) => r.instance.id))] }) + '\\n');
  await store.close();
  process.stdin.destroy();`;

interface RaceProcess {
  ready: Promise<void>;
  go(): void;
  report: Promise<{ created: number; ids: string[] }>;
}

function raceProcess(script: string, args: string[]): RaceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const failed = (what: string) => exited.then((code) => Promise.reject(new Error(`race process ${child.pid} ${what} (exit ${code}): ${err.slice(-2000)}`)));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.startsWith('ready\n')) resolve();
    });
    failed('exited before it was ready').catch(reject);
  });
  const report = exited.then((code) => {
    if (code !== 0) return failed('failed');
    return JSON.parse(out.split('\n')[1]!) as { created: number; ids: string[] };
  });
  ready.catch(() => {});
  report.catch(() => {});
  return { ready, go: () => child.stdin.write('go\n'), report };
}

/** The most processes that were inside migrate() at one time, from the trace's enter/leave order. */
function mostInsideAtOnce(lines: string[]): number {
  let inside = 0;
  let most = 0;
  for (const line of lines) {
    if (line.startsWith('enter ')) most = Math.max(most, ++inside);
    if (line.startsWith('leave ')) inside--;
  }
  return most;
}

for (const engine of [sqliteEngine, postgresEngine]) {
  describe(`several processes on one fresh ${engine.name} database`, { skip: engine.skip }, () => {
    test('three processes migrating at once: all three race, the migrations run once, one customer, one instance', async (t) => {
      const file = join(tmpRoot, `multi-${randomBytes(4).toString('hex')}.db`);
      const schema = `t_race_${randomBytes(6).toString('hex')}`;
      const trace = join(tmpRoot, `race-${randomBytes(4).toString('hex')}.trace`);
      writeFileSync(trace, '');
      if (engine.name === 'postgres') {
        t.after(async () => {
          const admin = await openStore({ databaseUrl: PG_URL, migrate: false });
          await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin.db);
          await admin.close();
        });
      }
      const databaseUrl = engine.name === 'sqlite' ? file : PG_URL!;
      const args = [databaseUrl, engine.name === 'postgres' ? schema : '', trace];
      const script = raceScript(fileURLToPath(new URL('../../server/src/store/index.ts', import.meta.url)));
      const processes = [0, 1, 2].map(() => raceProcess(script, args));
      await Promise.all(processes.map((p) => p.ready));
      for (const p of processes) p.go();
      const reports = await Promise.all(processes.map((p) => p.report));

      const lines = readFileSync(trace, 'utf8').trim().split('\n');
      assert.equal(mostInsideAtOnce(lines), 3, `all three were inside migrate() at once:\n${lines.join('\n')}`);
      assert.equal(lines.filter((l) => l.startsWith('probe ')).length, 1, `one process ran the migrations:\n${lines.join('\n')}`);
      assert.equal(
        reports.reduce((sum, r) => sum + r.created, 0),
        1,
      );
      assert.equal(new Set(reports.flatMap((r) => r.ids)).size, 1);
      const store = await openStore(
        engine.name === 'sqlite' ? { databaseUrl: file, migrate: false } : { databaseUrl: PG_URL, pgSchema: schema, migrate: false },
      );
      t.after(() => store.close());
      const ran = await store.db.withTables<{ kysely_migration: { name: string } }>().selectFrom('kysely_migration').select('name').orderBy('name').execute();
      assert.deepEqual(
        ran.map((r) => r.name),
        [...Object.keys(coreMigrations), '0100_race_probe'].sort(),
      );
      assert.equal((await store.vendor.listCustomers()).length, 1);
      const instances = await store.vendor.listInstances();
      assert.equal(instances.length, 1);
      const acme = store.forCustomer(instances[0]!.customer);
      assert.equal((await acme.listConnections(instances[0]!.id)).length, 3);
      assert.equal((await acme.listAudit()).length, 1);
    });
  });
}

describe('a PostgreSQL database shared with others', { skip: postgresEngine.skip }, () => {
  test("migrates its own schema while another schema's tables change under it", async (t) => {
    const tag = randomBytes(5).toString('hex');
    const other = `t_other_${tag}`;
    const admin = await openStore({ databaseUrl: PG_URL, migrate: false });
    const schemas = [other];
    t.after(async () => {
      for (const schema of schemas) await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(admin.db);
      await admin.close();
    });
    // Another application keeps renaming columns (as another replica's migration does): Kysely's
    // own introspector reads every schema's columns and fails with 42703 when one is renamed
    // between its catalog snapshot and its per-column pg_get_serial_sequence call.
    const columns = Array.from({ length: 400 }, (_, i) => `c${i} int`).join(', ');
    await sql`create schema ${sql.id(other)}`.execute(admin.db);
    for (const table of ['a', 'b', 'c']) await sql.raw(`create table ${other}.${table} (id serial primary key, ${columns})`).execute(admin.db);
    let churning = true;
    const churn = (async () => {
      for (let flip = false; churning; flip = !flip) {
        for (const table of ['a', 'b', 'c']) {
          await sql.raw(`alter table ${other}.${table} rename column ${flip ? 'moved' : 'c399'} to ${flip ? 'c399' : 'moved'}`).execute(admin.db);
        }
      }
    })();
    try {
      for (let round = 0; round < 6; round++) {
        const own = `t_own_${tag}_${round}`;
        schemas.push(own);
        const store = await openStore({ databaseUrl: PG_URL, pgSchema: own });
        const ran = await store.db.withTables<{ kysely_migration: { name: string } }>().selectFrom('kysely_migration').select('name').execute();
        assert.equal(ran.length, Object.keys(coreMigrations).length);
        await store.close();
      }
    } finally {
      churning = false;
      await churn;
    }
  });
});

describe('openStore configuration', () => {
  test('DATABASE_URL forms select the engine and the SQLite file', async (t) => {
    const dir = join(tmpRoot, 'nested', 'deeper');
    const viaPath = await openStore({ databaseUrl: join(dir, 'a.db') });
    t.after(() => viaPath.close());
    assert.equal(viaPath.engine, 'sqlite');
    const viaFileUrl = await openStore({ databaseUrl: `file://${join(dir, 'a.db')}` });
    t.after(() => viaFileUrl.close());
    // Same file: what one wrote, the other reads.
    const c = await viaPath.ensureCustomer('shared');
    assert.equal((await viaFileUrl.ensureCustomer('shared')).id, c.id);
    const viaSqlitePath = await openStore({ sqlitePath: join(dir, 'b.db') });
    t.after(() => viaSqlitePath.close());
    assert.equal((await viaSqlitePath.vendor.listCustomers()).length, 0);
    await assert.rejects(openStore({ databaseUrl: 'mysql://localhost/x' }), /unsupported scheme/);
    await assert.rejects(openStore({ databaseUrl: 'postgres://127.0.0.1:1/x', pgSchema: 'bad;schema' }), /plain lower-case identifier/);
  });

  test('a new SQLite database is readable by its owner only (flows run as other users)', async (t) => {
    const dir = join(tmpRoot, 'private', 'data');
    const store = await openStore({ databaseUrl: join(dir, 'p.db') });
    t.after(() => store.close());
    await store.ensureCustomer('someone');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    for (const name of readdirSync(dir)) assert.equal(statSync(join(dir, name)).mode & 0o077, 0, `${name} is readable by others`);
  });
});
