// An API-key connection's `test` and `identify` through the HTTP API (real store on SQLite, and
// PostgreSQL when PLUGBOARD_TEST_DATABASE_URL is set): a refused key is a 422 naming the field and
// nothing is stored; a test that throws or hangs is a 502 within the time limit, nothing stored; a
// named account is shown on the instance and in the catalog; identify failing still connects.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { Catalog, Instance, PROBLEM_CONTENT_TYPE, Problem } from '../../src/protocol/index.js';
import { apiKey, defineIntegration, field } from '../../server/src/sdk/index.js';
import { createHarness, PG_URL, type Harness } from './fixtures/harness.js';

const SECRET = 'sk_live_CHECKED_secret_4711';
const HANGING = 'sk_live_HANGS_forever_0001';
const THROWING = 'sk_live_THROWS_now_0002';
const REFUSED = 'sk_live_REFUSED_key_0003';

/** What the tests' connection code saw, to check it ran (and with what). */
const seen: { test: string[]; identify: string[] } = { test: [], identify: [] };

const checked = defineIntegration({
  key: 'checked-crm',
  name: 'Checked CRM',
  description: 'An integration whose API key is tested when saved.',
  category: 'CRM',
  version: '1.0.0',
  connections: {
    crm: apiKey({
      label: 'Checked CRM account',
      fields: {
        account: field.text({ label: 'Account', pattern: /^[a-z-]+$/ }),
        apiKey: field.secret({ label: 'API key' }),
      },
      async test({ credentials: { values }, signal }) {
        seen.test.push(values.apiKey!);
        if (values.apiKey === HANGING) return new Promise<never>(() => {}); // ignores its signal too
        if (values.apiKey === THROWING) throw new Error(`provider down while checking ${values.apiKey}`);
        if (values.apiKey === REFUSED) return { ok: false, message: 'Checked CRM did not accept this key.' };
        if (values.account === 'unknown') return { ok: false, field: 'account', message: 'Checked CRM has no such account.' };
        assert.ok(!signal.aborted);
        return { ok: true };
      },
      async identify({ credentials: { values } }) {
        seen.identify.push(values.account!);
        if (values.account === 'nameless') throw new Error(`identify broke on ${values.apiKey}`);
        return `  Acme   ${values.account}  `;
      },
    }),
  },
  configPages: [{ title: 'Settings', fields: { note: field.text({ label: 'Note', required: false }) } }],
});

/** A connection without test or identify: saved as before, no account named. */
const plain = defineIntegration({
  key: 'plain-crm',
  name: 'Plain CRM',
  description: 'An integration whose API key is saved unchecked.',
  category: 'CRM',
  version: '1.0.0',
  connections: { crm: apiKey({ label: 'Plain CRM key', fields: { apiKey: field.secret({ label: 'API key' }) } }) },
});

function assertProblem(res: { status: number; headers: Headers; body: unknown; text: string }, status: number): Problem {
  assert.equal(res.status, status, res.text);
  assert.equal(res.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
  return Problem.parse(res.body);
}

async function instanceOf(h: Harness, integrationKey: string): Promise<Instance> {
  const res = await h.call('POST', '/api/v1/instances', { body: { integrationKey } });
  assert.equal(res.status, 201, res.text);
  return Instance.parse(res.body);
}

const save = (h: Harness, id: string, values: Record<string, string>, connection = 'crm') =>
  h.call('PUT', `/api/v1/instances/${id}/connections/${connection}`, { body: { values } });

async function storedRow(h: Harness, instanceId: string) {
  return h.store.db.selectFrom('connections').selectAll().where('instance_id', '=', instanceId).executeTakeFirst();
}

for (const engine of [
  { name: 'sqlite' as const, skip: false as const },
  { name: 'postgres' as const, skip: PG_URL ? (false as const) : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' },
]) {
  describe(`connection test and identify on ${engine.name}`, { skip: engine.skip }, () => {
    const harness = (t: TestContext) => createHarness(t, { engine: engine.name, integrations: [checked, plain] });

    test('a key the test accepts is stored and the instance says who is connected; the catalog too', async (t) => {
      const h = await harness(t);
      const instance = await instanceOf(h, 'checked-crm');
      const res = await save(h, instance.id, { account: 'north', apiKey: SECRET });
      assert.equal(res.status, 200, res.text);
      const crm = Instance.parse(res.body).connections.find((c) => c.name === 'crm');
      assert.equal(crm?.status, 'connected');
      assert.equal(crm?.accountName, 'Acme north', 'identify’s answer, with its spaces tidied');
      assert.ok(seen.test.includes(SECRET), 'the test ran with the typed key');

      const read = Instance.parse((await h.call('GET', `/api/v1/instances/${instance.id}`)).body);
      assert.equal(read.connections.find((c) => c.name === 'crm')?.accountName, 'Acme north');
      const catalog = Catalog.parse((await h.call('GET', '/api/v1/integrations')).body);
      assert.deepEqual(catalog.integrations.find((i) => i.key === 'checked-crm')?.instance?.accountNames, ['Acme north']);
      assert.equal(catalog.integrations.find((i) => i.key === 'plain-crm')?.instance, null);

      for (const body of h.bodies) assert.ok(!body.includes(SECRET), 'the key is in no response');
      assert.ok(!h.logs.join('').includes(SECRET), 'the key is in no log line');
    });

    test('the catalog’s ETag changes when the connected account does', async (t) => {
      const h = await harness(t);
      const instance = await instanceOf(h, 'checked-crm');
      assert.equal((await save(h, instance.id, { account: 'north', apiKey: SECRET })).status, 200);
      const first = await h.call('GET', '/api/v1/integrations');
      assert.equal((await save(h, instance.id, { account: 'south', apiKey: SECRET })).status, 200);
      const second = await h.call('GET', '/api/v1/integrations', { headers: { 'if-none-match': first.headers.get('etag')! } });
      assert.equal(second.status, 200, 'not a 304: the card must show the new account');
      assert.deepEqual(Catalog.parse(second.body).integrations.find((i) => i.key === 'checked-crm')?.instance?.accountNames, ['Acme south']);
    });

    test('a key the test refuses is a 422 on the field it names (default: the secret), and nothing is stored', async (t) => {
      const h = await harness(t);
      const instance = await instanceOf(h, 'checked-crm');
      let problem = assertProblem(await save(h, instance.id, { account: 'north', apiKey: REFUSED }), 422);
      assert.deepEqual(problem.errors, [{ path: 'values.apiKey', message: 'Checked CRM did not accept this key.' }]);
      assert.equal(await storedRow(h, instance.id), undefined);

      problem = assertProblem(await save(h, instance.id, { account: 'unknown', apiKey: SECRET }), 422);
      assert.deepEqual(problem.errors, [{ path: 'values.account', message: 'Checked CRM has no such account.' }]);
      assert.equal(await storedRow(h, instance.id), undefined);

      const read = Instance.parse((await h.call('GET', `/api/v1/instances/${instance.id}`)).body);
      assert.equal(read.connections.find((c) => c.name === 'crm')?.status, 'missing');
      assert.ok(!h.bodies.some((b) => b.includes(REFUSED) || b.includes(SECRET)), 'no response echoes a key');
    });

    test('a refused replacement keeps the connection that was stored before', async (t) => {
      const h = await harness(t);
      const instance = await instanceOf(h, 'checked-crm');
      assert.equal((await save(h, instance.id, { account: 'north', apiKey: SECRET })).status, 200);
      const before = await storedRow(h, instance.id);
      assertProblem(await save(h, instance.id, { account: 'north', apiKey: REFUSED }), 422);
      assert.deepEqual(await storedRow(h, instance.id), before, 'the stored key and account are untouched');
    });

    test('a test that throws or never answers is a 502 within the time limit, nothing stored, nothing secret logged', async (t) => {
      const h = await harness(t); // the harness's time limit is 300 ms
      const instance = await instanceOf(h, 'checked-crm');
      let problem = assertProblem(await save(h, instance.id, { account: 'north', apiKey: HANGING }), 502);
      assert.match(problem.detail ?? '', /Checked CRM account did not answer within 1 s, so the credentials were not checked or saved/);
      problem = assertProblem(await save(h, instance.id, { account: 'north', apiKey: THROWING }), 502);
      assert.match(problem.detail ?? '', /could not check the credentials right now/);
      assert.equal(await storedRow(h, instance.id), undefined);
      const logs = h.logs.join('\n');
      assert.match(logs, /connection test failed/);
      assert.match(logs, /provider down while checking \[redacted\]/, 'the failure is logged, the key scrubbed from it');
      assert.ok(!logs.includes(THROWING) && !logs.includes(HANGING));
      assert.ok(!h.bodies.some((b) => b.includes(THROWING) || b.includes(HANGING)));
    });

    test('identify failing still connects, without a name, and is logged without the key', async (t) => {
      const h = await harness(t);
      const instance = await instanceOf(h, 'checked-crm');
      const res = await save(h, instance.id, { account: 'nameless', apiKey: SECRET });
      assert.equal(res.status, 200, res.text);
      const crm = Instance.parse(res.body).connections.find((c) => c.name === 'crm');
      assert.equal(crm?.status, 'connected');
      assert.equal(crm?.accountName, null);
      assert.match(h.logs.join('\n'), /connection identify failed/);
      assert.ok(!h.logs.join('').includes(SECRET));
      const catalog = Catalog.parse((await h.call('GET', '/api/v1/integrations')).body);
      assert.equal(catalog.integrations.find((i) => i.key === 'checked-crm')?.instance?.accountNames, undefined);
    });

    test('a connection without test or identify is stored as typed, unnamed', async (t) => {
      const h = await harness(t);
      const instance = await instanceOf(h, 'plain-crm');
      const res = await save(h, instance.id, { apiKey: 'anything-goes' });
      assert.equal(res.status, 200, res.text);
      const crm = Instance.parse(res.body).connections.find((c) => c.name === 'crm');
      assert.equal(crm?.status, 'connected');
      assert.equal(crm?.accountName, null);
    });
  });
}
