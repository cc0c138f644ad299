// Erasure of a customer (DELETE /api/v1/vendor/customers/:id): afterwards no row of any table of the
// schema (enumerated from the database, not listed here) names the customer, one of its instances
// or executions; on PostgreSQL pg-boss's schema is scanned too. Another customer's rows stay.
// Real store (SQLite file, and PostgreSQL in fresh schemas when PLUGBOARD_TEST_DATABASE_URL is set),
// the real runtime control plane and queue (no runner: the executions stay queued), real JWTs.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { startOAuthServer } from '../../demo/oauth-server.js';
import { createApp } from '../../server/src/app.js';
import { createTokenVerifier } from '../../server/src/auth.js';
import { createLogger } from '../../server/src/logger.js';
import { allMigrations } from '../../server/src/migrations.js';
import { runtimeSettings } from '../../server/src/runtime/index.js';
import { runtimeDb } from '../../server/src/runtime/schema.js';
import { apiKey, clientCredentials, defineIntegration, field, oauth2, webhook, type Integration } from '../../server/src/sdk/index.js';
import { createCipher, generateEncryptionKey } from '../../server/src/secrets.js';
import { createServices } from '../../server/src/services.js';
import { openStore, type Store } from '../../server/src/store/index.js';
import { CustomerErasure, Instance, PROBLEM_CONTENT_TYPE } from '../../src/protocol/index.js';
import { createErasure } from '../../server/src/erasure.js';
import { eventually } from './fixtures/eventually.js';
import { AUDIENCE, ISSUER, makeKey, PG_URL, signToken } from './fixtures/harness.js';
import { createHarness as createRuntimeHarness } from './runtime.harness.js';

const erasable = defineIntegration({
  key: 'erasable',
  name: 'Erasable',
  description: 'Has a bit of everything a customer can leave behind.',
  category: 'test',
  version: '1.0.0',
  connections: {
    api: apiKey({ label: 'API', fields: { apiKey: field.secret({ label: 'API key' }) } }),
    workspace: oauth2({
      label: 'Workspace',
      authorizationUrl: 'https://chat.example.test/oauth/authorize',
      tokenUrl: 'https://chat.example.test/oauth/token',
      scopes: ['chat:write'],
      clientId: 'plugboard-test',
    }),
  },
  configPages: [{ title: 'Settings', fields: { label: field.text({ label: 'Label' }), token: field.secret({ label: 'Token' }) } }],
  flows: { hook: { trigger: webhook(), async run() {} } },
});

const tmpRoot = mkdtempSync(join(tmpdir(), 'plugboard-erasure-'));
process.once('exit', () => rmSync(tmpRoot, { recursive: true, force: true }));

async function fixture(t: TestContext, engine: 'sqlite' | 'postgres', integrations: Integration[] = [erasable]) {
  const schema = `t_erasure_${randomBytes(6).toString('hex')}`;
  const bossSchema = `${schema}_boss`;
  const store =
    engine === 'sqlite'
      ? await openStore({ databaseUrl: join(tmpRoot, `${randomBytes(6).toString('hex')}.db`), migrations: allMigrations })
      : await openStore({ databaseUrl: PG_URL, pgSchema: schema, migrations: allMigrations });
  const key = await makeKey('ES256');
  const errors: string[] = [];
  const services = await createServices({
    store,
    cipher: createCipher(generateEncryptionKey()),
    integrations,
    logger: createLogger({ level: 'error', stream: { write: (line: string) => void errors.push(line) } }),
    runtime: {
      settings: runtimeSettings({ PLUGBOARD_RUNNER: 'off', PLUGBOARD_PGBOSS_SCHEMA: bossSchema }),
      runner: false,
      ...(engine === 'postgres' ? { databaseUrl: PG_URL } : {}),
    },
  });
  t.after(async () => {
    await services.stop(0);
    if (engine === 'postgres') {
      for (const s of [schema, bossSchema]) await sql`drop schema if exists ${sql.id(s)} cascade`.execute(store.db);
    }
    await store.close();
  });
  const app = createApp({
    services,
    verifier: createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: JSON.stringify({ keys: [key.publicJwk] }) }),
  });
  async function call(method: string, path: string, claims: Record<string, unknown>, body?: unknown, headers: Record<string, string> = {}) {
    const token = await signToken(key, { claims });
    const res = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 500) assert.fail(errors.join('\n'));
    return { status: res.status, headers: res.headers, text, body: text ? (JSON.parse(text) as unknown) : undefined };
  }
  return { store, services, call, schemas: engine === 'postgres' ? [schema, bossSchema] : [] };
}

type Fixture = Awaited<ReturnType<typeof fixture>>;

/** One customer with everything: an instance (idempotency key), config with a secret, an API key, OAuth tokens and a pending authorization, webhook endpoints and a secret, executions with logs, instance health, audit lines. */
async function populate(f: Fixture, externalId: string): Promise<{ customerId: string; needles: string[] }> {
  const as = { customer: externalId, customer_name: `Name of ${externalId}`, sub: `admin-of-${externalId}` };
  const created = await f.call('POST', '/api/v1/instances', as, { integrationKey: 'erasable' }, { 'idempotency-key': `idem-${externalId}` });
  assert.equal(created.status, 201, created.text);
  const instance = Instance.parse(created.body);
  const saved = await f.call(
    'PUT',
    `/api/v1/instances/${instance.id}/config`,
    as,
    { config: { label: 'x', token: 'secret-token-value' } },
    { 'if-match': '"1"' },
  );
  assert.equal(saved.status, 200, saved.text);
  const key = await f.call('PUT', `/api/v1/instances/${instance.id}/connections/api`, as, { values: { apiKey: 'sk-value' } });
  assert.equal(key.status, 200, key.text);
  const customer = await f.store.ensureCustomer(externalId);
  const tenant = f.store.forCustomer(customer);
  await tenant.putConnection(instance.id, 'workspace', { kind: 'oauth2', status: 'connected', ciphertext: 'sealed-tokens', expiresAt: null, error: null });
  const now = new Date();
  await f.store.db
    .withTables<{ oauth_sessions: Record<string, string | null> }>()
    .insertInto('oauth_sessions')
    .values({
      state: `state-${randomUUID()}`,
      customer_id: customer.id,
      instance_id: instance.id,
      connection: 'workspace',
      verifier: 'sealed-verifier',
      origin: 'https://app.example.test',
      mode: 'popup',
      return_url: null,
      actor: as.sub,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + 600_000).toISOString(),
      used_at: null,
    })
    .execute();
  const active = await f.call('POST', `/api/v1/instances/${instance.id}/activate`, as);
  assert.equal(active.status, 200, active.text);
  const secret = await f.call('POST', `/api/v1/instances/${instance.id}/webhooks/hook/secret`, as);
  assert.equal(secret.status, 201, secret.text);

  const runtime = f.services.runtime!;
  const executions: string[] = [];
  for (let i = 0; i < 3; i++) {
    const row = await runtime.trigger({
      customerId: customer.id,
      instanceId: instance.id,
      flow: 'hook',
      trigger: 'webhook',
      payload: { body: { i }, headers: {} },
    });
    executions.push(row!.id);
  }
  // One ran (with log lines), the others wait in the queue.
  const ran = await runtime.executions.get(executions[0]!);
  await runtime.executions.finish(ran!, {
    status: 'succeeded',
    startedAt: now.toISOString(),
    endedAt: now.toISOString(),
    durationMs: 1,
    error: null,
    resultSummary: null,
    logs: [{ at: now.toISOString(), level: 'info', message: `log of ${externalId}` }],
  });
  await runtimeDb(f.store.db)
    .insertInto('instance_health')
    .values({ instance_id: instance.id, consecutive_failures: 1, last_error: 'boom', updated_at: now.toISOString() })
    .execute();
  return { customerId: customer.id, needles: [customer.id, externalId, instance.id, ...executions] };
}

/** Every row of every table (of the store's schema, and pg-boss's on PostgreSQL) as text, by table. */
async function everyRow(store: Store, schemas: string[]): Promise<Map<string, string[]>> {
  const db = store.db as unknown as Kysely<unknown>;
  const rows = new Map<string, string[]>();
  if (store.engine === 'sqlite') {
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db);
    for (const { name } of tables.rows) {
      const all = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db);
      rows.set(
        name,
        all.rows.map((r) => JSON.stringify(r)),
      );
    }
  } else {
    const tables = await sql<{ schema: string; name: string }>`
      select table_schema as schema, table_name as name from information_schema.tables
      where table_schema in (${sql.join(schemas)}) and table_type = 'BASE TABLE'`.execute(db);
    assert.ok(
      tables.rows.some((r) => r.name === 'job'),
      "pg-boss's tables are scanned",
    );
    for (const { schema, name } of tables.rows) {
      const all = await sql<{ row: string }>`select t::text as row from ${sql.table(`${schema}.${name}`)} t`.execute(db);
      rows.set(
        `${schema}.${name}`,
        all.rows.map((r) => r.row),
      );
    }
  }
  return rows;
}

function rowsNaming(rows: Map<string, string[]>, needles: readonly string[]): string[] {
  const found: string[] = [];
  for (const [table, texts] of rows) {
    for (const text of texts) if (needles.some((n) => text.includes(n))) found.push(`${table}: ${text.slice(0, 300)}`);
  }
  return found;
}

const engines = [
  { name: 'sqlite' as const, skip: false as const },
  { name: 'postgres' as const, skip: PG_URL ? (false as const) : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' },
];
const vendor = { role: 'vendor', customer: undefined, customer_name: undefined, sub: 'support-1' };

for (const engine of engines) {
  describe(`customer erasure on ${engine.name}`, { skip: engine.skip }, () => {
    test('removes every row that names the customer, says what it removed, and leaves the other customer whole', async (t) => {
      const f = await fixture(t, engine.name);
      const gone = await populate(f, `erase-me-${randomBytes(4).toString('hex')}`);
      const kept = await populate(f, `keep-me-${randomBytes(4).toString('hex')}`);
      const before = await everyRow(f.store, f.schemas);
      assert.ok(rowsNaming(before, gone.needles).length > 10, 'the fixture left rows to erase');
      const keptBefore = rowsNaming(before, kept.needles);

      const res = await f.call('DELETE', `/api/v1/vendor/customers/${gone.customerId}`, vendor);
      assert.equal(res.status, 200, res.text);
      const erasure = CustomerErasure.parse(res.body);
      assert.equal(erasure.customerId, gone.customerId);
      const { removed } = erasure;
      assert.equal(removed.customers, 1);
      assert.equal(removed.instances, 1);
      assert.equal(removed.connections, 2);
      assert.equal(removed.oauthSessions, 1);
      assert.equal(removed.executions, 3);
      assert.equal(removed.executionLogs, 1);
      assert.equal(removed.webhookEndpoints, 1);
      assert.equal(removed.instanceHealth, 1);
      assert.ok((removed.auditEvents ?? 0) >= 5, JSON.stringify(removed));
      if (engine.name === 'postgres') assert.equal(removed.queuedJobs, 3);

      const after = await everyRow(f.store, f.schemas);
      assert.deepEqual(rowsNaming(after, gone.needles), []);
      assert.deepEqual(rowsNaming(after, kept.needles), keptBefore);

      const kept200 = await f.call('GET', '/api/v1/vendor/customers', vendor);
      assert.deepEqual(
        (kept200.body as { customers: { id: string }[] }).customers.map((c) => c.id),
        [kept.customerId],
      );
    });

    test('a second call, an unknown id and a customer token are refused with problem+json', async (t) => {
      const f = await fixture(t, engine.name);
      const gone = await populate(f, `erase-twice-${randomBytes(4).toString('hex')}`);
      const first = await f.call('DELETE', `/api/v1/vendor/customers/${gone.customerId}`, vendor);
      assert.equal(first.status, 200, first.text);
      for (const id of [gone.customerId, 'cus_unknown', '__proto__']) {
        const again = await f.call('DELETE', `/api/v1/vendor/customers/${id}`, vendor);
        assert.equal(again.status, 404, again.text);
        assert.equal(again.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
      }
      const other = await populate(f, `not-by-admin-${randomBytes(4).toString('hex')}`);
      const byAdmin = await f.call('DELETE', `/api/v1/vendor/customers/${other.customerId}`, { customer: 'whoever', role: 'admin' });
      assert.equal(byAdmin.status, 403, byAdmin.text);
      assert.equal((await f.call('GET', '/api/v1/vendor/customers', vendor)).text.includes(other.customerId), true);
    });

    test("OAuth grants are revoked at the provider before the tokens' rows go", async (t) => {
      const client = { clientId: 'acme-crm', clientSecret: 'acme-crm-test-secret' };
      const server = await startOAuthServer({ clients: [{ ...client, redirectUris: ['http://localhost:8787/oauth/callback'] }] });
      t.after(() => server.close());
      const granted = defineIntegration({
        key: 'granted',
        name: 'Granted',
        description: 'Holds a token from a real authorization server.',
        category: 'test',
        version: '1.0.0',
        connections: { service: clientCredentials({ label: 'Service', issuer: server.issuer, scopes: ['channels:read'], ...client }) },
      });
      const f = await fixture(t, engine.name, [granted]);
      const as = { customer: `granted-${randomBytes(4).toString('hex')}` };
      const created = await f.call('POST', '/api/v1/instances', as, { integrationKey: 'granted' });
      assert.equal(created.status, 201, created.text);
      const instance = Instance.parse(created.body);
      const customer = await f.store.ensureCustomer(as.customer);
      const { accessToken } = await f.services.oauth.getAccessToken({ customerId: customer.id, instanceId: instance.id, connection: 'service' });
      const channels = (token: string) => fetch(server.channelsUrl, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
      assert.equal(await channels(accessToken), 200);

      const res = await f.call('DELETE', `/api/v1/vendor/customers/${customer.id}`, vendor);
      assert.equal(res.status, 200, res.text);
      assert.equal(CustomerErasure.parse(res.body).removed.connections, 1);
      assert.ok(server.revocationRequests >= 1);
      assert.equal(await channels(accessToken), 401);
    });

    test(
      'other schemas of the database created and dropped meanwhile (another tenant, a test side by side) do not fail an erasure',
      { skip: engine.name !== 'postgres' },
      async (t) => {
        const f = await fixture(t, engine.name);
        const customers = await Promise.all(Array.from({ length: 20 }, (_, i) => f.store.ensureCustomer(`beside-${i}-${randomBytes(4).toString('hex')}`)));
        const churn = new pg.Client({ connectionString: PG_URL });
        await churn.connect();
        const prefix = `t_erasure_churn_${randomBytes(4).toString('hex')}`;
        let stop = false;
        let churned = 0;
        const churning = (async () => {
          for (let i = 0; !stop; i++) {
            const other = `${prefix}_${i}`;
            await churn.query(`create schema ${other}; create table ${other}.items (id serial primary key, customer_id text)`);
            await churn.query(`drop schema ${other} cascade`);
            churned++;
          }
        })();
        t.after(async () => {
          stop = true;
          await churning.catch(() => {});
          await churn.end();
        });
        const statuses: string[] = [];
        for (const customer of customers) {
          const res = await f.call('DELETE', `/api/v1/vendor/customers/${customer.id}`, vendor);
          statuses.push(res.status === 200 ? '200' : `${res.status} ${res.text}`);
        }
        stop = true;
        await churning;
        assert.ok(churned > 0, 'schemas came and went meanwhile');
        assert.deepEqual(
          statuses.filter((s) => s !== '200'),
          [],
        );
      },
    );
  });
}

// The executor is the same on both engines; its queue's part is tested above on each.
describe('customer erasure with a runner here', () => {
  test("ends the customer's executor: what runs in it is killed, another customer's run goes on", async (t) => {
    const h = await createRuntimeHarness();
    t.after(() => h.close());
    const gone = await h.activeInstance(`erase-running-${randomBytes(4).toString('hex')}`);
    const kept = await h.activeInstance(`keep-running-${randomBytes(4).toString('hex')}`);
    for (const { hookUrl } of [gone, kept]) {
      const res = await h.app.request(await hookUrl('record'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sleepMs: 600_000 }),
      });
      assert.equal(res.status, 202, await res.text());
    }
    await eventually(
      () => h.pool.stats().byCustomer[gone.customer.id] === 1 && h.pool.stats().byCustomer[kept.customer.id] === 1,
      20_000,
      'both flows running',
    );

    const erasure = createErasure({ store: h.store, oauth: h.services.oauth, queue: h.runtime.queue, executors: h.pool });
    const { removed } = await erasure.erase(gone.customer.id, 'vendor:test');
    assert.equal(removed.executions, 1);
    // erase() resolves once the executor's processes have exited.
    assert.equal(h.pool.stats().byCustomer[gone.customer.id], undefined);
    assert.equal(h.pool.stats().byCustomer[kept.customer.id], 1);
    assert.equal(await h.store.vendor.getCustomer(gone.customer.id), undefined);
  });
});
