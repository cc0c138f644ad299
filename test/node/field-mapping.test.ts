// A mapping field (issue 11): rows of "target ← source" whose values come from two data sources.
// Saved through the real API on a real store (SQLite, and PostgreSQL when
// PLUGBOARD_TEST_DATABASE_URL is set): every row's values must be among those the data sources
// offer, a target appears once, and a refusal is a 422 naming the row's cell with nothing written.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { apiKey, defineIntegration, field } from '../../server/src/sdk/index.js';
import { Instance, PROBLEM_CONTENT_TYPE, Problem } from '../../src/protocol/index.js';
import { createHarness, PG_URL, type Harness } from './fixtures/harness.js';

/** How often each data source ran, and with which connections. */
const calls: { name: string; key: string | undefined }[] = [];

const sync = defineIntegration({
  key: 'contact-sync',
  name: 'Contact sync',
  description: 'Copies contacts between two systems.',
  category: 'Testing',
  version: '1.0.0',
  connections: { crm: apiKey({ label: 'CRM account', fields: { apiKey: field.secret({ label: 'API key' }) } }) },
  configPages: [
    { title: 'Sync', fields: { note: field.text({ label: 'Note', required: false }) } },
    {
      title: 'Field mapping',
      fields: {
        mapping: field.mapping({ label: 'Contact fields', targets: 'ourFields', sources: 'theirFields', targetLabel: 'Our field', sourceLabel: 'Their field' }),
      },
    },
  ],
  dataSources: {
    async ourFields() {
      calls.push({ name: 'ourFields', key: undefined });
      return [
        { value: 'email', label: 'Email' },
        { value: 'name', label: 'Name' },
        { value: 'phone', label: 'Phone' },
      ];
    },
    async theirFields({ connections }) {
      const crm = connections.crm;
      const key = crm?.kind === 'apiKey' ? crm.values.apiKey : undefined;
      calls.push({ name: 'theirFields', key });
      if (!key) throw new Error('connect the CRM first');
      return [
        { value: 'email_address', label: 'Email address' },
        { value: 'full_name', label: 'Full name' },
      ];
    },
  },
});

function problem(res: { status: number; headers: Headers; body: unknown; text: string }, status: number): Problem {
  assert.equal(res.status, status, res.text);
  assert.equal(res.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
  return Problem.parse(res.body);
}

async function connected(h: Harness): Promise<Instance> {
  const created = await h.call('POST', '/api/v1/instances', { body: { integrationKey: 'contact-sync' } });
  assert.equal(created.status, 201, created.text);
  const id = (created.body as Instance).id;
  const key = await h.call('PUT', `/api/v1/instances/${id}/connections/crm`, { body: { values: { apiKey: 'crm_key_7731' } } });
  assert.equal(key.status, 200, key.text);
  return Instance.parse(key.body);
}

const save = (h: Harness, inst: Instance, config: Record<string, unknown>, version = inst.version) =>
  h.call('PUT', `/api/v1/instances/${inst.id}/config`, { body: { config }, headers: { 'if-match': `"${version}"` } });

const engines = [
  { name: 'sqlite' as const, skip: false as const },
  { name: 'postgres' as const, skip: PG_URL ? (false as const) : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' },
];

describe('field.mapping in the SDK', () => {
  test('the page schema carries the kind, both data sources and the column names', () => {
    const page = sync.describe().configPages[1]!;
    const p = (page.schema.properties as Record<string, Record<string, unknown>>).mapping!;
    assert.equal(p['x-plug-kind'], 'mapping');
    assert.equal(p['x-plug-targets'], 'ourFields');
    assert.equal(p['x-plug-sources'], 'theirFields');
    assert.equal(p['x-plug-target-label'], 'Our field');
    assert.equal(p['x-plug-source-label'], 'Their field');
    assert.equal(p.minItems, 1);
    assert.deepEqual(page.schema.required, ['mapping']);
  });

  test('defineIntegration refuses a mapping whose data source is not declared, naming field and source', () => {
    const define = (targets: string, sources: string) =>
      defineIntegration({
        key: 'broken-sync',
        name: 'Broken',
        description: 'd',
        category: 'Testing',
        version: '1.0.0',
        configPages: [{ title: 'Map', fields: { mapping: field.mapping({ label: 'Fields', targets, sources }) } }],
        dataSources: { known: async () => [] },
      });
    assert.throws(() => define('known', 'missing'), /field "mapping" uses unknown data source "missing"/);
    assert.throws(() => define('nope', 'known'), /field "mapping" uses unknown data source "nope"/);
    assert.doesNotThrow(() => define('known', 'known'));
  });
});

for (const engine of engines) {
  describe(`mapping saves on ${engine.name}`, { skip: engine.skip }, () => {
    const harness = (t: TestContext) => createHarness(t, { engine: engine.name, integrations: [sync] });

    test('rows whose values the data sources offer are saved as rows', async (t) => {
      const h = await harness(t);
      const inst = await connected(h);
      calls.length = 0;
      const rows = [
        { target: 'email', source: 'email_address' },
        { target: 'name', source: 'full_name' },
      ];
      const res = await save(h, inst, { mapping: rows });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Instance.parse(res.body).config, { mapping: rows });
      // Each data source ran once, the source list with the instance's own (decrypted) credentials.
      assert.deepEqual(
        calls.sort((a, b) => a.name.localeCompare(b.name)),
        [
          { name: 'ourFields', key: undefined },
          { name: 'theirFields', key: 'crm_key_7731' },
        ],
      );
    });

    test('a value not offered: 422 naming the cell (config.mapping.<row>.target/source), nothing written', async (t) => {
      const h = await harness(t);
      const inst = await connected(h);
      const res = await save(h, inst, {
        mapping: [
          { target: 'email', source: 'email_address' },
          { target: 'name', source: 'full_name' },
          { target: 'birthday', source: 'email_address' },
          { target: 'phone', source: 'mobile' },
        ],
      });
      const p = problem(res, 422);
      assert.deepEqual(
        p.errors?.map((e) => e.path),
        ['config.mapping.2.target', 'config.mapping.3.source'],
      );
      assert.match(p.errors![0]!.message, /Contact fields: "birthday" is not a field that can be filled/);
      assert.match(p.errors![1]!.message, /Contact fields: "mobile" is not a field that can be read/);
      const after = await h.call('GET', `/api/v1/instances/${inst.id}`);
      assert.equal(Instance.parse(after.body).version, inst.version, 'no half-written row');
      assert.deepEqual(Instance.parse(after.body).config, {});
    });

    test('a target filled twice: 422 on the second row, before any data source runs', async (t) => {
      const h = await harness(t);
      const inst = await connected(h);
      calls.length = 0;
      const res = await save(h, inst, {
        mapping: [
          { target: 'email', source: 'email_address' },
          { target: 'name', source: 'full_name' },
          { target: 'email', source: 'full_name' },
        ],
      });
      const p = problem(res, 422);
      assert.deepEqual(p.errors, [{ path: 'config.mapping.2.target', message: '"email" is filled by more than one row' }]);
      assert.deepEqual(calls, []);
    });

    test('malformed rows: each bad cell (or row) named; not a list: the field named', async (t) => {
      const h = await harness(t);
      const inst = await connected(h);
      const cells = problem(
        await save(h, inst, {
          mapping: [
            { target: 'email', source: '' },
            { target: 7, source: 'full_name' },
          ],
        }),
        422,
      );
      assert.deepEqual(
        cells.errors?.map((e) => e.path),
        ['config.mapping.0.source', 'config.mapping.1.target'],
      );
      assert.match(cells.errors![0]!.message, /Each row of Contact fields needs a source/);
      const extra = problem(await save(h, inst, { mapping: [{ target: 'email', source: 'email_address', extra: 1 }] }), 422);
      assert.equal(extra.errors?.[0]?.path, 'config.mapping.0');
      const notList = problem(await save(h, inst, { mapping: { email: 'email_address' } }), 422);
      assert.deepEqual(
        notList.errors?.map((e) => e.path),
        ['config.mapping'],
      );
      const empty = problem(await save(h, inst, { mapping: [] }), 422);
      assert.deepEqual(empty.errors, [{ path: 'config.mapping', message: 'Map at least one field in Contact fields' }]);
    });

    test('a page without the mapping saves without running the data sources; a draft may leave it out', async (t) => {
      const h = await harness(t);
      const inst = await connected(h);
      calls.length = 0;
      const res = await save(h, inst, { note: 'hello' });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(calls, []);
      const activate = await h.call('POST', `/api/v1/instances/${inst.id}/activate`);
      const p = problem(activate, 409);
      assert.ok(
        p.errors?.some((e) => e.path === 'config.mapping'),
        activate.text,
      );
    });

    test('the source list cannot be read yet (no connection): a draft keeps the rows and the rest of the page; activation checks them', async (t) => {
      const h = await harness(t);
      const created = await h.call('POST', '/api/v1/instances', { body: { integrationKey: 'contact-sync' } });
      const inst = Instance.parse(created.body);
      // Nothing connected yet: the customer moves on through the wizard, nothing typed is lost.
      const rows = [{ target: 'email', source: 'no_such_field' }];
      const saved = await save(h, inst, { note: 'from the first page', mapping: rows });
      assert.equal(saved.status, 200, saved.text);
      assert.deepEqual(Instance.parse(saved.body).config, { note: 'from the first page', mapping: rows });
      // Connected now: activation runs the lists it could not run then, and names the row's cell.
      const key = await h.call('PUT', `/api/v1/instances/${inst.id}/connections/crm`, { body: { values: { apiKey: 'crm_key_7731' } } });
      assert.equal(key.status, 200, key.text);
      const refused = problem(await h.call('POST', `/api/v1/instances/${inst.id}/activate`), 409);
      assert.deepEqual(
        refused.errors?.map((e) => e.path),
        ['config.mapping.0.source'],
      );
      const after = Instance.parse((await h.call('GET', `/api/v1/instances/${inst.id}`)).body);
      assert.equal(after.status, 'draft');
      // Fixed with values the lists offer: it activates.
      const fixed = await save(h, after, { mapping: [{ target: 'email', source: 'email_address' }] });
      assert.equal(fixed.status, 200, fixed.text);
      const activated = await h.call('POST', `/api/v1/instances/${inst.id}/activate`);
      assert.equal(activated.status, 200, activated.text);
    });
  });
}
