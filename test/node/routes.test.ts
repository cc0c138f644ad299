// The HTTP API through app.request(): real store (SQLite file, and PostgreSQL in a fresh schema
// when PLUGBOARD_TEST_DATABASE_URL is set), real cipher, real JWTs. Asserts what callers see.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import {
  Catalog,
  CustomerList,
  DataSourceResult,
  Instance,
  InstanceList,
  IntegrationDetail,
  PROBLEM_CONTENT_TYPE,
  Problem,
  VendorInstanceList,
} from '../../src/protocol/index.js';
import { API_KEY_VALUE, completeConfig, dataSourceCalls } from './fixtures/integrations.js';
import { createHarness, PG_URL, type Harness } from './fixtures/harness.js';

const vendorClaims = { role: 'vendor', customer: undefined, customer_name: undefined, sub: 'support-1' };
const otherCustomer = { customer: 'globex', customer_name: 'Globex' };

function assertProblem(res: { status: number; headers: Headers; body: unknown }, status: number): Problem {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
  const parsed = Problem.safeParse(res.body);
  assert.ok(parsed.success, 'body is a problem+json document');
  assert.equal(parsed.data.status, status);
  return parsed.data;
}

function paths(problem: Problem): string[] {
  return (problem.errors ?? []).map((e) => e.path).sort();
}

async function createInstance(h: Harness, integrationKey = 'every-field', as?: Record<string, unknown>): Promise<Instance> {
  const res = await h.call('POST', '/api/v1/instances', { body: { integrationKey }, as });
  assert.equal(res.status, 201, res.text);
  return Instance.parse(res.body);
}

async function saveConfig(h: Harness, id: string, config: Record<string, unknown>, version: number) {
  return h.call('PUT', `/api/v1/instances/${id}/config`, { body: { config }, headers: { 'if-match': `"${version}"` } });
}

async function ready(h: Harness): Promise<Instance> {
  const created = await createInstance(h);
  const saved = await saveConfig(h, created.id, completeConfig, created.version);
  assert.equal(saved.status, 200, saved.text);
  const key = await h.call('PUT', `/api/v1/instances/${created.id}/connections/api`, { body: { values: { apiKey: API_KEY_VALUE, account: 'acme-eu' } } });
  assert.equal(key.status, 200, key.text);
  return Instance.parse(key.body);
}

const engines = [
  { name: 'sqlite' as const, skip: false as const },
  { name: 'postgres' as const, skip: PG_URL ? (false as const) : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' },
];

for (const engine of engines) {
  describe(`routes on ${engine.name}`, { skip: engine.skip }, () => {
    const harness = (t: TestContext) => createHarness(t, { engine: engine.name });

    test('catalog lists every integration with this customer’s instance merged in', async (t) => {
      const h = await harness(t);
      let res = await h.call('GET', '/api/v1/integrations');
      assert.equal(res.status, 200);
      let catalog = Catalog.parse(res.body);
      assert.deepEqual(
        catalog.integrations.map((i) => [i.key, i.instance]),
        [
          ['every-field', null],
          ['chat', null],
        ],
      );
      assert.equal(catalog.integrations[1]!.icon, 'https://cdn.example.test/chat.svg');

      const inst = await createInstance(h);
      res = await h.call('GET', '/api/v1/integrations');
      catalog = Catalog.parse(res.body);
      assert.deepEqual(catalog.integrations[0]!.instance, { id: inst.id, status: 'draft', updatedAt: inst.updatedAt });
      // Another customer sees its own (empty) state.
      res = await h.call('GET', '/api/v1/integrations', { as: otherCustomer });
      assert.equal(Catalog.parse(res.body).integrations[0]!.instance, null);
    });

    test('integration detail has config pages as JSON Schema, connections and the instance', async (t) => {
      const h = await harness(t);
      const res = await h.call('GET', '/api/v1/integrations/every-field');
      assert.equal(res.status, 200);
      const detail = IntegrationDetail.parse(res.body);
      assert.equal(detail.configPages.length, 2);
      assert.deepEqual(Object.keys(detail.configPages[0]!.schema.properties as object), ['name', 'notes', 'signingSecret', 'batchSize', 'enabled']);
      assert.deepEqual(
        detail.connections.map((c) => [c.name, c.kind]),
        [['api', 'apiKey']],
      );
      assert.deepEqual(detail.dataSources, ['channels', 'broken', 'slow', 'malformed']);
      assert.equal(detail.instance, null);
      assertProblem(await h.call('GET', '/api/v1/integrations/nope'), 404);
    });

    test('POST /instances: 201 then 200 with the same Idempotency-Key, 409 naming the existing instance otherwise', async (t) => {
      const h = await harness(t);
      const headers = { 'idempotency-key': 'create-1' };
      const first = await h.call('POST', '/api/v1/instances', { body: { integrationKey: 'every-field' }, headers });
      assert.equal(first.status, 201);
      assert.equal(first.headers.get('location'), `/api/v1/instances/${first.body.id}`);
      const inst = Instance.parse(first.body);
      assert.equal(inst.status, 'draft');
      assert.equal(inst.version, first.headers.get('etag')?.replace(/"/g, '') && Number(first.headers.get('etag')!.replace(/"/g, '')));
      assert.deepEqual(inst.connections, [
        { name: 'api', label: 'Every Field API key', kind: 'apiKey', status: 'missing', error: null, expiresAt: null, updatedAt: null },
      ]);
      assert.ok(inst.blockers.some((b) => b.path === 'connections.api'));

      const repeat = await h.call('POST', '/api/v1/instances', { body: { integrationKey: 'every-field' }, headers });
      assert.equal(repeat.status, 200);
      assert.equal(repeat.body.id, inst.id);

      const dup = assertProblem(await h.call('POST', '/api/v1/instances', { body: { integrationKey: 'every-field' } }), 409);
      assert.equal(dup.instanceId, inst.id);

      assert.deepEqual(paths(assertProblem(await h.call('POST', '/api/v1/instances', { body: { integrationKey: 'nope' } }), 422)), ['integrationKey']);
      assert.deepEqual(paths(assertProblem(await h.call('POST', '/api/v1/instances', { body: {} }), 422)), ['integrationKey']);
      assertProblem(await h.call('POST', '/api/v1/instances', { rawBody: '{not json', headers: { 'content-type': 'application/json' } }), 400);
      const reuse = assertProblem(await h.call('POST', '/api/v1/instances', { body: { integrationKey: 'chat' }, headers }), 422);
      assert.deepEqual(paths(reuse), ['Idempotency-Key']);
      const list = InstanceList.parse((await h.call('GET', '/api/v1/instances')).body);
      assert.equal(list.instances.length, 1);
    });

    test('50 concurrent creates with one Idempotency-Key make one instance', async (t) => {
      const h = await harness(t);
      const token = await h.token();
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          h.call('POST', '/api/v1/instances', { body: { integrationKey: 'every-field' }, headers: { 'idempotency-key': 'burst' }, token }),
        ),
      );
      const statuses = results.map((r) => r.status).sort();
      assert.equal(statuses.filter((s) => s === 201).length, 1, `statuses: ${statuses.join(',')}`);
      assert.equal(statuses.filter((s) => s === 200).length, 49);
      assert.equal(new Set(results.map((r) => r.body.id)).size, 1);
      assert.equal(InstanceList.parse((await h.call('GET', '/api/v1/instances')).body).instances.length, 1);
    });

    test('PUT config: draft saves keep progress, versions are compared, ETag answers', async (t) => {
      const h = await harness(t);
      const inst = await createInstance(h);
      // No version at all → 428.
      assertProblem(await h.call('PUT', `/api/v1/instances/${inst.id}/config`, { body: { config: { name: 'x' } } }), 428);
      // A partial draft is fine.
      let res = await saveConfig(h, inst.id, { name: 'Draft one', batchSize: 5 }, inst.version);
      assert.equal(res.status, 200, res.text);
      let saved = Instance.parse(res.body);
      assert.equal(saved.version, inst.version + 1);
      assert.equal(res.headers.get('etag'), `"${saved.version}"`);
      assert.equal(saved.config.name, 'Draft one');
      assert.equal(saved.config.enabled, false, 'defaults are filled in');
      assert.ok(saved.blockers.some((b) => b.path === 'config.mode'));
      // Stale version → 409 with the current one; nothing written.
      const stale = assertProblem(await saveConfig(h, inst.id, { name: 'Lost' }, inst.version), 409);
      assert.equal(stale.currentVersion, saved.version);
      // body.version works too.
      res = await h.call('PUT', `/api/v1/instances/${inst.id}/config`, { body: { config: { name: 'Via body' }, version: saved.version } });
      assert.equal(res.status, 200, res.text);
      saved = Instance.parse(res.body);
      assert.equal(saved.config.name, 'Via body');
      assert.equal(saved.config.batchSize, undefined, 'fields absent from a write are cleared');
      const reread = Instance.parse((await h.call('GET', `/api/v1/instances/${inst.id}`)).body);
      assert.deepEqual(reread, saved);
    });

    test('two PUT config with the same version: one 200, one 409', async (t) => {
      const h = await harness(t);
      const inst = await createInstance(h);
      const token = await h.token();
      const [a, b] = await Promise.all(
        ['A', 'B'].map((name) =>
          h.call('PUT', `/api/v1/instances/${inst.id}/config`, { body: { config: { name } }, headers: { 'if-match': `"${inst.version}"` }, token }),
        ),
      );
      assert.deepEqual([a!.status, b!.status].sort(), [200, 409]);
      const winner = a!.status === 200 ? 'A' : 'B';
      const reread = Instance.parse((await h.call('GET', `/api/v1/instances/${inst.id}`)).body);
      assert.equal(reread.config.name, winner);
      assert.equal(reread.version, inst.version + 1);
    });

    test('each field kind’s bad values get 422 naming the field, and nothing is written', async (t) => {
      const h = await harness(t);
      const inst = await createInstance(h);
      const base = await saveConfig(h, inst.id, { name: 'Kept' }, inst.version);
      const before = Instance.parse(base.body);
      const bad: [string, unknown][] = [
        ['name', 42],
        ['name', ''],
        ['name', 'x'.repeat(41)],
        ['notes', 'n'.repeat(201)],
        ['signingSecret', 12345],
        ['batchSize', 'ten'],
        ['batchSize', 0],
        ['batchSize', 101],
        ['batchSize', 2.5],
        ['enabled', 'yes'],
        ['mode', 'sideways'],
        ['events', ['created', 'exploded']],
        ['events', []],
        ['events', 'created'],
        ['endpoint', 'not a url'],
        ['endpoint', 'http://insecure.example.test'],
        ['contact', 'not-an-email'],
        ['mapping', '{broken json'],
        ['channel', ''],
        ['unknownField', 'x'],
      ];
      for (const [field, value] of bad) {
        const res = await saveConfig(h, inst.id, { name: 'Changed', [field]: value }, before.version);
        const problem = assertProblem(res, 422);
        assert.deepEqual(paths(problem), [`config.${field}`], `${field}=${JSON.stringify(value)} → ${JSON.stringify(problem.errors)}`);
        assert.ok(problem.errors![0]!.message.length > 0);
      }
      // Several bad fields at once: each is named.
      const many = assertProblem(await saveConfig(h, inst.id, { batchSize: -1, contact: 'x', mode: 1 }, before.version), 422);
      assert.deepEqual(paths(many), ['config.batchSize', 'config.contact', 'config.mode']);
      const after = Instance.parse((await h.call('GET', `/api/v1/instances/${inst.id}`)).body);
      assert.deepEqual(after, before, 'nothing was written');
      // Bad body shapes.
      assertProblem(await h.call('PUT', `/api/v1/instances/${inst.id}/config`, { body: { config: 'x' }, headers: { 'if-match': '"1"' } }), 422);
      assertProblem(await h.call('PUT', `/api/v1/instances/${inst.id}/config`, { body: { config: {} }, headers: { 'if-match': 'banana' } }), 422);
    });

    test('secret config values are write-only: stored encrypted, kept when omitted, cleared with null', async (t) => {
      const h = await harness(t);
      const inst = await createInstance(h);
      let res = await saveConfig(h, inst.id, { name: 'S', signingSecret: completeConfig.signingSecret }, inst.version);
      let saved = Instance.parse(res.body);
      assert.deepEqual(saved.secretsSet, ['signingSecret']);
      assert.equal('signingSecret' in saved.config, false);
      const record = await h.store.forCustomer(await h.store.ensureCustomer('acme')).getInstance(inst.id);
      assert.ok(record?.secrets?.startsWith('v1.'), 'stored as ciphertext');
      assert.ok(!JSON.stringify(record).includes(completeConfig.signingSecret));
      // Omitted (and "") → kept.
      res = await saveConfig(h, inst.id, { name: 'S2', signingSecret: '' }, saved.version);
      saved = Instance.parse(res.body);
      assert.deepEqual(saved.secretsSet, ['signingSecret']);
      // null → cleared.
      res = await saveConfig(h, inst.id, { name: 'S3', signingSecret: null }, saved.version);
      saved = Instance.parse(res.body);
      assert.deepEqual(saved.secretsSet, []);
    });

    test('API-key connection: 422 per field, stored encrypted, reported connected; OAuth connection refused with a clear 409', async (t) => {
      const h = await harness(t);
      const inst = await createInstance(h);
      const url = `/api/v1/instances/${inst.id}/connections/api`;
      let problem = assertProblem(await h.call('PUT', url, { body: { values: { apiKey: '', account: 'Bad Account!' } } }), 422);
      assert.deepEqual(paths(problem), ['values.account', 'values.apiKey']);
      problem = assertProblem(await h.call('PUT', url, { body: { values: { apiKey: 'sk_live_x', account: 'ok', extra: 1 } } }), 422);
      assert.deepEqual(paths(problem), ['values.extra']);
      assertProblem(await h.call('PUT', url, { body: {} }), 422);
      assertProblem(await h.call('PUT', `/api/v1/instances/${inst.id}/connections/nope`, { body: { values: {} } }), 404);
      let current = Instance.parse((await h.call('GET', `/api/v1/instances/${inst.id}`)).body);
      assert.equal(current.connections[0]!.status, 'missing');

      const res = await h.call('PUT', url, { body: { values: { apiKey: API_KEY_VALUE, account: 'acme-eu' } } });
      assert.equal(res.status, 200, res.text);
      current = Instance.parse(res.body);
      assert.equal(current.connections[0]!.status, 'connected');
      assert.ok(!current.blockers.some((b) => b.path === 'connections.api'));

      const chat = await createInstance(h, 'chat');
      const oauth = assertProblem(await h.call('PUT', `/api/v1/instances/${chat.id}/connections/workspace`, { body: { values: { token: 'x' } } }), 409);
      assert.match(oauth.detail!, /authorize/);

      const del = await h.call('DELETE', url);
      assert.equal(del.status, 200);
      assert.equal(Instance.parse(del.body).connections[0]!.status, 'missing');
      assertProblem(await h.call('DELETE', url), 404);
    });

    test('activate is refused with each blocker named until config and connections are complete; pause works', async (t) => {
      const h = await harness(t);
      const inst = await createInstance(h);
      const refused = assertProblem(await h.call('POST', `/api/v1/instances/${inst.id}/activate`), 409);
      const blockerPaths = paths(refused);
      for (const p of [
        'config.name',
        'config.signingSecret',
        'config.batchSize',
        'config.mode',
        'config.events',
        'config.endpoint',
        'config.contact',
        'config.mapping',
        'config.channel',
        'connections.api',
      ]) {
        assert.ok(blockerPaths.includes(p), `blocker ${p} named (got ${blockerPaths.join(', ')})`);
      }
      const draft = Instance.parse((await h.call('GET', `/api/v1/instances/${inst.id}`)).body);
      assert.deepEqual(draft.blockers.map((b) => b.path).sort(), blockerPaths, 'the Instance shows the same blockers');
      assert.equal(draft.status, 'draft');
      assertProblem(await h.call('POST', `/api/v1/instances/${inst.id}/pause`), 409);

      // Config complete but connection missing → only the connection blocks.
      await saveConfig(h, inst.id, completeConfig, draft.version);
      assert.deepEqual(paths(assertProblem(await h.call('POST', `/api/v1/instances/${inst.id}/activate`), 409)), ['connections.api']);

      await h.call('PUT', `/api/v1/instances/${inst.id}/connections/api`, { body: { values: { apiKey: API_KEY_VALUE, account: 'acme-eu' } } });
      const activated = await h.call('POST', `/api/v1/instances/${inst.id}/activate`);
      assert.equal(activated.status, 200, activated.text);
      const active = Instance.parse(activated.body);
      assert.equal(active.status, 'active');
      assert.deepEqual(active.blockers, []);
      assert.ok(active.activatedAt);
      // An active instance only takes complete config, and keeps its connection.
      assert.deepEqual(paths(assertProblem(await saveConfig(h, inst.id, { name: 'only this' }, active.version), 422)), [
        'config.batchSize',
        'config.channel',
        'config.contact',
        'config.endpoint',
        'config.events',
        'config.mapping',
        'config.mode',
      ]);
      assertProblem(await h.call('DELETE', `/api/v1/instances/${inst.id}/connections/api`), 409);

      const paused = await h.call('POST', `/api/v1/instances/${inst.id}/pause`);
      assert.equal(Instance.parse(paused.body).status, 'paused');
      const again = await h.call('POST', `/api/v1/instances/${inst.id}/activate`);
      assert.equal(Instance.parse(again.body).status, 'active');
    });

    test('data sources run with the decrypted connection and the saved config; failures are 502 problems, never 500', async (t) => {
      const h = await harness(t);
      const inst = await ready(h);
      dataSourceCalls.length = 0;
      const res = await h.call('GET', `/api/v1/instances/${inst.id}/data-sources/channels?q=s`);
      assert.equal(res.status, 200, res.text);
      const result = DataSourceResult.parse(res.body);
      assert.deepEqual(result.options, [
        { value: 'sales', label: '#sales (acme-eu)' },
        { value: 'support', label: '#support (acme-eu)' },
      ]);
      const call = dataSourceCalls.at(-1)!;
      assert.equal(call.keyLooksRight, true, 'the data source got the decrypted API key');
      assert.equal(call.config.mode, 'push', 'the saved config');
      // Unsaved values: only for fields a picker of the data source depends on (data-source-overrides.test.ts).
      const unsaved = assertProblem(await h.call('POST', `/api/v1/instances/${inst.id}/data-sources/channels`, { body: { config: { mode: 'pull' } } }), 422);
      assert.deepEqual(paths(unsaved), ['config.mode']);

      const broken = assertProblem(await h.call('GET', `/api/v1/instances/${inst.id}/data-sources/broken`), 502);
      assert.ok(!broken.detail!.includes(API_KEY_VALUE));
      assert.ok(!broken.detail!.includes('broken'), 'the data source’s name is the integration’s code, not the customer’s words');
      const slow = assertProblem(await h.call('GET', `/api/v1/instances/${inst.id}/data-sources/slow`), 502);
      assert.match(slow.detail!, /did not answer/);
      assertProblem(await h.call('GET', `/api/v1/instances/${inst.id}/data-sources/malformed`), 502);
      assertProblem(await h.call('GET', `/api/v1/instances/${inst.id}/data-sources/nope`), 404);
      assert.deepEqual(paths(assertProblem(await h.call('GET', `/api/v1/instances/${inst.id}/data-sources/channels?config=%7Bx`), 422)), ['config']);
      assert.ok(!h.logs.join('\n').includes(API_KEY_VALUE), 'the failing data source’s message is scrubbed in logs');
      assert.ok(h.logs.some((l) => l.includes('data source failed')));
    });

    test('tenant isolation: every instance route with another customer’s instance id answers 404 and changes nothing', async (t) => {
      const h = await harness(t);
      const mine = await ready(h);
      const before = (await h.call('GET', `/api/v1/instances/${mine.id}`)).body;
      const auditBefore = (await h.store.forCustomer(await h.store.ensureCustomer('acme')).listAudit()).length;
      const as = otherCustomer;
      const id = mine.id;
      const attempts: [string, string, unknown?, Record<string, string>?][] = [
        ['GET', `/api/v1/instances/${id}`],
        ['DELETE', `/api/v1/instances/${id}`],
        ['PUT', `/api/v1/instances/${id}/config`, { config: { name: 'hijack' } }, { 'if-match': `"${mine.version}"` }],
        ['PUT', `/api/v1/instances/${id}/connections/api`, { values: { apiKey: 'sk_live_evil', account: 'evil' } }],
        ['DELETE', `/api/v1/instances/${id}/connections/api`],
        ['POST', `/api/v1/instances/${id}/activate`],
        ['POST', `/api/v1/instances/${id}/pause`],
        ['GET', `/api/v1/instances/${id}/data-sources/channels`],
      ];
      for (const [method, path, body, headers] of attempts) {
        assertProblem(await h.call(method, path, { as, body, headers }), 404);
      }
      assert.equal(InstanceList.parse((await h.call('GET', '/api/v1/instances', { as })).body).instances.length, 0);
      assert.deepEqual((await h.call('GET', `/api/v1/instances/${mine.id}`)).body, before);
      assert.equal((await h.store.forCustomer(await h.store.ensureCustomer('acme')).listAudit()).length, auditBefore);
    });

    test('DELETE removes the instance and its connections', async (t) => {
      const h = await harness(t);
      const inst = await ready(h);
      const del = await h.call('DELETE', `/api/v1/instances/${inst.id}`);
      assert.equal(del.status, 204);
      assertProblem(await h.call('GET', `/api/v1/instances/${inst.id}`), 404);
      assertProblem(await h.call('DELETE', `/api/v1/instances/${inst.id}`), 404);
      assert.equal(Catalog.parse((await h.call('GET', '/api/v1/integrations')).body).integrations[0]!.instance, null);
    });

    test('vendor API lists customers and instances across tenants and force-pauses', async (t) => {
      const h = await harness(t);
      const acme = await ready(h);
      await h.call('POST', `/api/v1/instances/${acme.id}/activate`);
      await createInstance(h, 'chat', otherCustomer);

      const customers = CustomerList.parse((await h.call('GET', '/api/v1/vendor/customers', { as: vendorClaims })).body);
      assert.deepEqual(customers.customers.map((c) => [c.externalId, c.name, c.instanceCount]).sort(), [
        ['acme', 'Acme Corp', 1],
        ['globex', 'Globex', 1],
      ]);

      let list = VendorInstanceList.parse((await h.call('GET', '/api/v1/vendor/instances', { as: vendorClaims })).body);
      assert.equal(list.instances.length, 2);
      list = VendorInstanceList.parse((await h.call('GET', '/api/v1/vendor/instances?customer=globex', { as: vendorClaims })).body);
      assert.deepEqual(
        list.instances.map((i) => [i.integrationKey, i.customer.externalId]),
        [['chat', 'globex']],
      );
      list = VendorInstanceList.parse((await h.call('GET', '/api/v1/vendor/instances?status=active', { as: vendorClaims })).body);
      assert.deepEqual(
        list.instances.map((i) => i.id),
        [acme.id],
      );
      assert.deepEqual(paths(assertProblem(await h.call('GET', '/api/v1/vendor/instances?status=bogus', { as: vendorClaims }), 422)), ['status']);

      const paused = await h.call('POST', `/api/v1/vendor/instances/${acme.id}/pause`, { as: vendorClaims });
      assert.equal(paused.status, 200, paused.text);
      assert.equal(paused.body.status, 'paused');
      assert.equal(paused.body.statusReason, 'Paused by the vendor');
      assert.equal(Instance.parse((await h.call('GET', `/api/v1/instances/${acme.id}`)).body).status, 'paused');
      assertProblem(await h.call('POST', '/api/v1/vendor/instances/nope/pause', { as: vendorClaims }), 404);
      const audit = await h.store.forCustomer(await h.store.ensureCustomer('acme')).listAudit();
      assert.ok(audit.some((a) => a.actor === 'vendor:support-1' && a.action === 'instance.paused'));
    });

    test('no secret value appears in any response body, log line or audit event', async (t) => {
      const h = await harness(t);
      const inst = await ready(h);
      await h.call('POST', `/api/v1/instances/${inst.id}/activate`);
      await h.call('POST', `/api/v1/instances/${inst.id}/data-sources/channels`, { body: { config: { signingSecret: 'whsec_UNSAVED_secret_value_42' } } });
      await h.call('GET', `/api/v1/instances/${inst.id}/data-sources/broken`);
      await h.call('GET', '/api/v1/instances');
      await h.call('GET', '/api/v1/integrations');
      await h.call('GET', '/api/v1/vendor/instances', { as: vendorClaims });
      await h.call('POST', `/api/v1/vendor/instances/${inst.id}/pause`, { as: vendorClaims });
      // A failing request that carried the secret in its body.
      await h.call('PUT', `/api/v1/instances/${inst.id}/connections/api`, { body: { values: { apiKey: API_KEY_VALUE, account: 'BAD!' } } });
      const audit = [...(await h.store.forCustomer(await h.store.ensureCustomer('acme')).listAudit({ limit: 1000 }))];
      assert.ok(audit.length >= 5, 'changes were audited');
      assert.ok(h.logs.length > 10, 'requests were logged');
      const token = await h.token();
      const haystacks = { responses: h.bodies.join('\n'), logs: h.logs.join('\n'), audit: JSON.stringify(audit) };
      for (const [where, text] of Object.entries(haystacks)) {
        for (const secret of [API_KEY_VALUE, completeConfig.signingSecret, 'whsec_UNSAVED_secret_value_42', token.split('.')[2]!]) {
          assert.ok(!text.includes(secret), `${where} must not contain ${secret.slice(0, 12)}…`);
        }
      }
    });
  });
}

describe('HTTP edges', () => {
  test('unknown routes, oversized and malformed bodies, CORS and security headers', async (t) => {
    const h = await createHarness(t, { deps: { bodyLimitBytes: 2048 } });
    assertProblem(await h.call('GET', '/nope', { token: null }), 404);
    assertProblem(await h.call('GET', '/api/v1/nope'), 404);
    const big = await h.call('POST', '/api/v1/instances', {
      rawBody: JSON.stringify({ integrationKey: 'x'.repeat(5000) }),
      headers: { 'content-type': 'application/json' },
    });
    assertProblem(big, 413);

    const health = await h.call('GET', '/healthz', { token: null });
    assert.equal(health.status, 200);
    assert.equal(health.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(health.headers.get('x-request-id'));
    const readyz = await h.call('GET', '/readyz', { token: null });
    assert.deepEqual(readyz.body, { status: 'ready', database: 'sqlite' });

    const allowed = await h.app.request('/api/v1/integrations', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.acme.test', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization,if-match' },
    });
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.acme.test');
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /If-Match/i);
    const denied = await h.app.request('/api/v1/integrations', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.test', 'access-control-request-method': 'GET' },
    });
    assert.equal(denied.headers.get('access-control-allow-origin'), null);
  });

  test('an unexpected error is a generic 500 problem, logged, leaking nothing', async (t) => {
    const h = await createHarness(t);
    await h.store.close(); // the database is gone: the store throws its own internal error
    const res = await h.call('GET', '/api/v1/integrations');
    const problem = assertProblem(res, 500);
    assert.equal(problem.title, 'Internal server error');
    assert.doesNotMatch(res.text, /sqlite|database|stack|at /i);
    assert.ok(h.logs.some((l) => l.includes('unhandled error')));
    assertProblem(await h.call('GET', '/readyz', { token: null }), 503);
  });
});
