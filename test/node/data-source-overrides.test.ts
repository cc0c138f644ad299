// Data-source calls with unsaved values (issue 9): a data source runs with the instance's decrypted
// connections, and this one builds its URL from a config field, as many real ones do. Two real HTTP
// servers on loopback stand for the vendor's API (the saved URL) and an attacker's (a URL the caller
// picks); what each receives is what a credential leak would be. Real store on SQLite, and on
// PostgreSQL when PLUGBOARD_TEST_DATABASE_URL is set.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test, type TestContext } from 'node:test';
import { apiKey, defineIntegration, field } from '../../server/src/sdk/index.js';
import { DataSourceResult, Instance, PROBLEM_CONTENT_TYPE, Problem } from '../../src/protocol/index.js';
import { createHarness, PG_URL, type Harness } from './fixtures/harness.js';

const API_KEY = 'sk_live_OVERRIDE_test_key_5531';
const UNSAVED_SECRET = 'tok_UNSAVED_secret_value_8812';
const member = { role: 'member', sub: 'member-1' };

/** A loopback HTTP server that writes down the Authorization header of each request it gets. */
async function recordingServer(): Promise<{ url: string; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization ?? '(none)');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify([{ id: 'p1', name: 'Pipeline' }]));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

let vendorApi: Awaited<ReturnType<typeof recordingServer>>;
let attacker: Awaited<ReturnType<typeof recordingServer>>;
/** What the `boards` data source saw: its secret dependency arrives only through `config`. */
const boardCalls: Record<string, unknown>[] = [];

const crm = defineIntegration({
  key: 'crm-export',
  name: 'CRM export',
  description: 'Exports deals to a self-hosted CRM.',
  category: 'Testing',
  version: '1.0.0',
  connections: { api: apiKey({ label: 'CRM API key', fields: { apiKey: field.secret({ label: 'API key' }) } }) },
  configPages: [
    {
      title: 'Server',
      fields: {
        baseUrl: field.url({ label: 'Base URL' }),
        region: field.choice({ label: 'Region', options: ['eu', 'us'] }),
        label: field.text({ label: 'Label', required: false }),
        boardToken: field.secret({ label: 'Board token', required: false }),
        project: field.picker({ label: 'Project', dataSource: 'projects', dependsOn: ['baseUrl', 'region'] }),
        board: field.picker({ label: 'Board', dataSource: 'boards', dependsOn: ['boardToken'], required: false }),
        team: field.picker({ label: 'Team', dataSource: 'teams', required: false }),
      },
    },
  ],
  dataSources: {
    async projects({ config, connections, fetch, signal }) {
      const api = connections.api;
      const key = api?.kind === 'apiKey' ? api.values.apiKey : '';
      const res = await fetch(`${String(config.baseUrl)}/projects?region=${String(config.region)}`, { headers: { authorization: `Bearer ${key}` }, signal });
      const list = (await res.json()) as { id: string; name: string }[];
      return list.map((p) => ({ value: p.id, label: `${p.name} (${String(config.region)})` }));
    },
    async boards({ config }) {
      boardCalls.push({ ...config });
      return [{ value: 'b1', label: `Board for ${typeof config.boardToken === 'string' ? 'a token' : 'no token'}` }];
    },
    async teams() {
      return [{ value: 't1', label: 'Team one' }];
    },
  },
});

before(async () => {
  vendorApi = await recordingServer();
  attacker = await recordingServer();
});
after(() => {
  vendorApi.server.close();
  attacker.server.close();
});

function assertProblem(res: { status: number; headers: Headers; body: unknown; text: string }, status: number): Problem {
  assert.equal(res.status, status, res.text);
  assert.equal(res.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
  return Problem.parse(res.body);
}

/** An instance with a saved base URL (the vendor's API), region and API key. */
async function configured(h: Harness): Promise<Instance> {
  const created = await h.call('POST', '/api/v1/instances', { body: { integrationKey: 'crm-export' } });
  assert.equal(created.status, 201, created.text);
  const id = (created.body as Instance).id;
  const saved = await h.call('PUT', `/api/v1/instances/${id}/config`, {
    body: { config: { baseUrl: vendorApi.url, region: 'eu' } },
    headers: { 'if-match': '"1"' },
  });
  assert.equal(saved.status, 200, saved.text);
  const key = await h.call('PUT', `/api/v1/instances/${id}/connections/api`, { body: { values: { apiKey: API_KEY } } });
  assert.equal(key.status, 200, key.text);
  return Instance.parse(key.body);
}

const auditOf = async (h: Harness) =>
  (await h.store.forCustomer(await h.store.ensureCustomer('acme')).listAudit({ limit: 1000 })).filter((a) => a.action.startsWith('data_source.'));

const engines = [
  { name: 'sqlite' as const, skip: false as const },
  { name: 'postgres' as const, skip: PG_URL ? (false as const) : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' },
];

for (const engine of engines) {
  describe(`data-source overrides on ${engine.name}`, { skip: engine.skip }, () => {
    const harness = (t: TestContext) => createHarness(t, { engine: engine.name, integrations: [crm] });

    test('any role runs a data source with the saved config (GET): the key goes to the saved URL, nothing is audited', async (t) => {
      const h = await harness(t);
      const inst = await configured(h);
      vendorApi.seen.length = 0;
      for (const as of [undefined, member]) {
        const res = await h.call('GET', `/api/v1/instances/${inst.id}/data-sources/projects?q=`, { as });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(DataSourceResult.parse(res.body).options, [{ value: 'p1', label: 'Pipeline (eu)' }]);
      }
      assert.deepEqual(vendorApi.seen, [`Bearer ${API_KEY}`, `Bearer ${API_KEY}`]);
      assert.deepEqual(await auditOf(h), []);
    });

    test('a member’s call with unsaved values is refused (403) and the key goes nowhere', async (t) => {
      const h = await harness(t);
      const inst = await configured(h);
      attacker.seen.length = 0;
      const unsaved = { baseUrl: attacker.url };
      // The old way (unsaved values in the query of a GET) and the new one (POST body).
      const viaQuery = await h.call('GET', `/api/v1/instances/${inst.id}/data-sources/projects?config=${encodeURIComponent(JSON.stringify(unsaved))}`, {
        as: member,
      });
      assert.match(assertProblem(viaQuery, 403).detail ?? '', /admin/);
      const viaBody = await h.call('POST', `/api/v1/instances/${inst.id}/data-sources/projects`, { as: member, body: { config: unsaved } });
      assertProblem(viaBody, 403);
      assert.deepEqual(attacker.seen, [], 'the attacker’s server got no request, so no key');
      assert.deepEqual(await auditOf(h), []);
    });

    test('an admin may not override a field the data source does not depend on: 422 naming it, nothing sent', async (t) => {
      const h = await harness(t);
      const inst = await configured(h);
      attacker.seen.length = 0;
      const call = (config: Record<string, unknown>) => h.call('POST', `/api/v1/instances/${inst.id}/data-sources/projects`, { body: { config } });

      let problem = assertProblem(await call({ baseUrl: attacker.url, label: 'x' }), 422);
      assert.deepEqual(
        problem.errors?.map((e) => e.path),
        ['config.label'],
      );
      assert.match(problem.errors![0]!.message, /does not depend on "label".*baseUrl, region/);
      // A field of another picker's data source, a field that does not exist, a prototype key.
      problem = assertProblem(await call({ boardToken: 'x' }), 422);
      assert.deepEqual(
        problem.errors?.map((e) => e.path),
        ['config.boardToken'],
      );
      problem = assertProblem(await call({ constructor: 'y', toString: 'z' }), 422);
      assert.deepEqual(problem.errors?.map((e) => e.path).sort(), ['config.constructor', 'config.toString']);
      // `__proto__` in JSON names no field: it never becomes a value the data source sees.
      const proto = await h.call('POST', `/api/v1/instances/${inst.id}/data-sources/projects`, {
        rawBody: `{"config":{"__proto__":{"baseUrl":"${attacker.url}"}}}`,
        headers: { 'content-type': 'application/json' },
      });
      assert.ok(proto.status < 500, proto.text);
      // A data source no picker makes depend on anything takes no unsaved values at all.
      problem = assertProblem(await h.call('POST', `/api/v1/instances/${inst.id}/data-sources/teams`, { body: { config: { baseUrl: attacker.url } } }), 422);
      assert.match(problem.errors![0]!.message, /takes no unsaved values/);
      // An admin's unsaved values belong in a POST body, not in a URL.
      problem = assertProblem(await h.call('GET', `/api/v1/instances/${inst.id}/data-sources/projects?config=%7B%7D`), 422);
      assert.deepEqual(
        problem.errors?.map((e) => e.path),
        ['config'],
      );
      assert.deepEqual(attacker.seen, []);
      assert.deepEqual(await auditOf(h), []);
    });

    test('unsaved values are validated as a config save validates them (same message, same path)', async (t) => {
      const h = await harness(t);
      const inst = await configured(h);
      for (const bad of [{ baseUrl: 'ftp://files.example.test' }, { region: 'mars' }, { baseUrl: 42 }]) {
        const saving = assertProblem(
          await h.call('PUT', `/api/v1/instances/${inst.id}/config`, { body: { config: bad }, headers: { 'if-match': `"${inst.version}"` } }),
          422,
        );
        const calling = assertProblem(await h.call('POST', `/api/v1/instances/${inst.id}/data-sources/projects`, { body: { config: bad } }), 422);
        assert.deepEqual(calling.errors, saving.errors, JSON.stringify(bad));
      }
      assert.deepEqual(await auditOf(h), []);
    });

    test('an admin’s call with unsaved dependsOn values runs with them and is audited: instance, data source, field names, never a secret', async (t) => {
      const h = await harness(t);
      const inst = await configured(h);
      vendorApi.seen.length = 0;
      attacker.seen.length = 0;
      // The admin is trying another server before saving it: allowed, and on the record.
      const res = await h.call('POST', `/api/v1/instances/${inst.id}/data-sources/projects`, {
        body: { q: '', config: { baseUrl: attacker.url, region: 'us' } },
        as: { name: 'Ada Admin' },
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(DataSourceResult.parse(res.body).options, [{ value: 'p1', label: 'Pipeline (us)' }]);
      assert.deepEqual(attacker.seen, [`Bearer ${API_KEY}`]);
      assert.deepEqual(vendorApi.seen, []);

      boardCalls.length = 0;
      const board = await h.call('POST', `/api/v1/instances/${inst.id}/data-sources/boards`, { body: { config: { boardToken: UNSAVED_SECRET } } });
      assert.equal(board.status, 200, board.text);
      assert.equal(boardCalls.at(-1)!.boardToken, UNSAVED_SECRET, 'the data source got the unsaved secret');

      const events = await auditOf(h);
      assert.deepEqual(events.map((e) => [e.actor, e.action, e.target, e.details]).reverse(), [
        ['user:user-1', 'data_source.called_with_unsaved_values', `instance:${inst.id}`, { dataSource: 'projects', fields: ['baseUrl', 'region'] }],
        ['user:user-1', 'data_source.called_with_unsaved_values', `instance:${inst.id}`, { dataSource: 'boards', fields: ['boardToken'] }],
      ]);
      const everything = JSON.stringify(await h.store.forCustomer(await h.store.ensureCustomer('acme')).listAudit({ limit: 1000 }));
      assert.ok(!everything.includes(UNSAVED_SECRET), 'no audit event holds the secret');
      assert.ok(!h.logs.join('\n').includes(UNSAVED_SECRET), 'no log line holds the secret');
      assert.ok(!h.bodies.join('\n').includes(UNSAVED_SECRET), 'no response holds the secret');

      // Unsaved values are for this call only: the next plain call uses the saved config again.
      const plain = await h.call('GET', `/api/v1/instances/${inst.id}/data-sources/projects`);
      assert.equal(plain.status, 200, plain.text);
      assert.deepEqual(vendorApi.seen, [`Bearer ${API_KEY}`]);
    });

    test('a prototype key as a data-source name is a 404, never a call', async (t) => {
      const h = await harness(t);
      const inst = await configured(h);
      for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
        assertProblem(await h.call('GET', `/api/v1/instances/${inst.id}/data-sources/${name}`), 404);
        assertProblem(await h.call('POST', `/api/v1/instances/${inst.id}/data-sources/${name}`, { body: { config: {} } }), 404);
      }
    });
  });
}
