// An instance's history as the customer's admin reads it (GET /api/v1/instances/:id/audit): newest
// first, paged, who as the token named them, admins only, scoped to the customer, no secret values.
// Real store (SQLite, and PostgreSQL when PLUGBOARD_TEST_DATABASE_URL is set), real JWTs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AuditList, Instance, PROBLEM_CONTENT_TYPE } from '../../src/protocol/index.js';
import { API_KEY_VALUE, completeConfig } from './fixtures/integrations.js';
import { createHarness, PG_URL, type Harness } from './fixtures/harness.js';

const admin = { name: 'Ada Admin', sub: 'ada' };
const vendorClaims = { role: 'vendor', customer: undefined, customer_name: undefined, sub: 'support-1', name: 'Vendor Support' };

async function historyOf(h: Harness): Promise<Instance> {
  const created = await h.call('POST', '/api/v1/instances', { body: { integrationKey: 'every-field' }, as: admin });
  assert.equal(created.status, 201, created.text);
  const instance = Instance.parse(created.body);
  const saved = await h.call('PUT', `/api/v1/instances/${instance.id}/config`, {
    body: { config: completeConfig },
    headers: { 'if-match': `"${instance.version}"` },
    as: admin,
  });
  assert.equal(saved.status, 200, saved.text);
  // A token without a name: the history shows its sub alone.
  const key = await h.call('PUT', `/api/v1/instances/${instance.id}/connections/api`, {
    body: { values: { apiKey: API_KEY_VALUE, account: 'acme-eu' } },
    as: { sub: 'bob', name: undefined },
  });
  assert.equal(key.status, 200, key.text);
  const active = await h.call('POST', `/api/v1/instances/${instance.id}/activate`, { as: admin });
  assert.equal(active.status, 200, active.text);
  const paused = await h.call('POST', `/api/v1/vendor/instances/${instance.id}/pause`, { as: vendorClaims });
  assert.equal(paused.status, 200, paused.text);
  return instance;
}

const engines = [
  { name: 'sqlite' as const, skip: false as const },
  { name: 'postgres' as const, skip: PG_URL ? (false as const) : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' },
];

for (const engine of engines) {
  describe(`instance history on ${engine.name}`, { skip: engine.skip }, () => {
    test('the admin reads who did what, newest first, with the names the tokens gave', async (t) => {
      const h = await createHarness(t, { engine: engine.name });
      const instance = await historyOf(h);
      const res = await h.call('GET', `/api/v1/instances/${instance.id}/audit`, { as: admin });
      assert.equal(res.status, 200, res.text);
      const page = AuditList.parse(res.body);
      assert.deepEqual(
        page.events.map((e) => e.action),
        ['instance.paused', 'instance.activated', 'connection.set', 'instance.config_saved', 'instance.created'],
      );
      assert.equal(page.nextCursor, null);
      const [paused, activated, connected, saved] = page.events;
      assert.deepEqual(activated!.actor, { type: 'user', id: 'ada', name: 'Ada Admin' });
      assert.deepEqual(connected!.actor, { type: 'user', id: 'bob' });
      // The vendor's staff show by the name their vendor token gave (never their sub).
      assert.deepEqual(paused!.actor, { type: 'vendor', name: 'Vendor Support' });
      assert.equal(paused!.details.by, 'vendor');
      for (const event of page.events) {
        assert.equal(event.target, `instance:${instance.id}`);
        assert.match(event.at, /^\d{4}-\d\d-\d\dT/);
      }
      assert.deepEqual(connected!.details, { connection: 'api', kind: 'apiKey', fields: ['account', 'apiKey'] });
      assert.deepEqual(saved!.details.secretsChanged, ['signingSecret']);
    });

    test('pages like executions: limit, nextCursor, and a cursor it did not hand out refused by name', async (t) => {
      const h = await createHarness(t, { engine: engine.name });
      const instance = await historyOf(h);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
        const res = await h.call('GET', `/api/v1/instances/${instance.id}/audit${query}`, { as: admin });
        assert.equal(res.status, 200, res.text);
        const page = AuditList.parse(res.body);
        assert.ok(page.events.length <= 2);
        seen.push(...page.events.map((e) => e.action));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      assert.deepEqual(seen, ['instance.paused', 'instance.activated', 'connection.set', 'instance.config_saved', 'instance.created']);
      assert.equal(pages, 3);

      for (const bad of ['?cursor=nope', '?limit=0', '?limit=101', '?limit=x']) {
        const res = await h.call('GET', `/api/v1/instances/${instance.id}/audit${bad}`, { as: admin });
        assert.equal(res.status, 422, `${bad}: ${res.text}`);
        assert.equal(res.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
        const path = (res.body as { errors: { path: string }[] }).errors[0]!.path;
        assert.equal(path, bad.includes('cursor') ? 'query.cursor' : 'query.limit');
      }
    });

    test("members get 403; another customer's instance and an unknown one 404", async (t) => {
      const h = await createHarness(t, { engine: engine.name });
      const instance = await historyOf(h);
      const member = await h.call('GET', `/api/v1/instances/${instance.id}/audit`, { as: { role: 'member' } });
      assert.equal(member.status, 403, member.text);
      assert.equal(member.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
      const other = await h.call('GET', `/api/v1/instances/${instance.id}/audit`, { as: { customer: 'globex', customer_name: 'Globex' } });
      assert.equal(other.status, 404, other.text);
      assert.ok(!other.text.includes('instance.created'));
      const unknown = await h.call('GET', '/api/v1/instances/ins_nope/audit', { as: admin });
      assert.equal(unknown.status, 404, unknown.text);
      const vendor = await h.call('GET', `/api/v1/instances/${instance.id}/audit`, { as: vendorClaims });
      assert.equal(vendor.status, 403, vendor.text);
    });

    test('no secret value reaches the history, even one an audit line carried by mistake', async (t) => {
      const h = await createHarness(t, { engine: engine.name });
      const instance = await historyOf(h);
      const customer = await h.store.ensureCustomer('acme');
      const leaked = 'tok_LEAKED_in_details_5551';
      await h.store.vendor.recordAudit({
        customerId: customer.id,
        actor: 'system',
        action: 'connection.refreshed',
        target: `instance:${instance.id}`,
        details: { connection: 'api', accessToken: leaked, nested: { value: leaked }, fields: [leaked, 1] },
      });
      const rotated = await h.call('PUT', `/api/v1/instances/${instance.id}/connections/api`, {
        body: { values: { apiKey: `${API_KEY_VALUE}-2`, account: 'acme-eu' } },
        as: admin,
      });
      assert.equal(rotated.status, 200, rotated.text);

      const res = await h.call('GET', `/api/v1/instances/${instance.id}/audit?limit=100`, { as: admin });
      assert.equal(res.status, 200, res.text);
      for (const secret of [completeConfig.signingSecret, API_KEY_VALUE, leaked]) {
        assert.ok(!res.text.includes(secret), `the history shows ${secret}`);
      }
      const refreshed = AuditList.parse(res.body).events.find((e) => e.action === 'connection.refreshed');
      assert.deepEqual(refreshed?.details, { connection: 'api' });
    });
  });
}
