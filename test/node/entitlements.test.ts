// Who sees what, as callers see it: the catalog a customer gets for its plan (token claim or the
// value the vendor API stored), the flagged "higher plan" entries, ETags that never let one plan's
// answer serve another, refused deploys and activations, and the vendor API that sets the plan.
// SQLite always; PostgreSQL too when PLUGBOARD_TEST_DATABASE_URL is set.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Catalog, CustomerEntitlements, IntegrationDetail, PROBLEM_CONTENT_TYPE } from '../../src/protocol/index.js';
import { defineIntegration } from '../../server/src/sdk/index.js';
import { createHarness, PG_URL, type Harness } from './fixtures/harness.js';

const integrations = [
  defineIntegration({ key: 'notes', name: 'Notes', description: 'Notes sync.', category: 'Productivity', version: '1.0.0', labels: ['starter'] }),
  defineIntegration({ key: 'erp', name: 'ERP', description: 'ERP sync.', category: 'Finance', version: '1.0.0', labels: ['pro', 'finance'] }),
  defineIntegration({ key: 'chat', name: 'Chat', description: 'Chat alerts.', category: 'Messaging', version: '1.0.0' }),
];

const vendor = (vendorRole = 'admin') => ({ role: 'vendor', customer: undefined, customer_name: undefined, sub: 'jane', vendor_role: vendorRole });
const plan = (entitlements: string[] | undefined, customer = 'acme') => ({ customer, customer_name: customer, entitlements });

const keys = (body: unknown) => Catalog.parse(body).integrations.map((i) => `${i.key}${i.entitled === false ? ' (locked)' : ''}`);

const engines = [
  { name: 'sqlite' as const, skip: false as const },
  { name: 'postgres' as const, skip: PG_URL ? (false as const) : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' },
];

for (const engine of engines) {
  describe(`entitlements on ${engine.name}`, { skip: engine.skip }, () => {
    const harness = (t: { after(fn: () => unknown): void }): Promise<Harness> => createHarness(t, { engine: engine.name, integrations });

    test('the catalog lists what the plan includes; the others only when asked, flagged', async (t) => {
      const h = await harness(t);
      const all = await h.call('GET', '/api/v1/integrations');
      assert.deepEqual(keys(all.body), ['notes', 'erp', 'chat'], 'no entitlements: everything, nothing flagged');
      assert.deepEqual(Catalog.parse(all.body).integrations[1]!.labels, ['pro', 'finance']);

      const starter = await h.call('GET', '/api/v1/integrations', { as: plan(['starter', 'chat']) });
      assert.deepEqual(keys(starter.body), ['notes', 'chat'], 'a label and a key');
      const none = await h.call('GET', '/api/v1/integrations', { as: plan([]) });
      assert.deepEqual(keys(none.body), []);

      const flagged = await h.call('GET', '/api/v1/integrations?include=unentitled', { as: plan(['starter']) });
      assert.deepEqual(keys(flagged.body), ['notes', 'erp (locked)', 'chat (locked)']);

      assert.equal((await h.call('GET', '/api/v1/integrations/erp', { as: plan(['starter']) })).status, 404);
      const detail = await h.call('GET', '/api/v1/integrations/erp?include=unentitled', { as: plan(['starter']) });
      assert.equal(detail.status, 200);
      assert.equal(IntegrationDetail.parse(detail.body).entitled, false);

      const bad = await h.call('GET', '/api/v1/integrations?include=everything', { as: plan(['starter']) });
      assert.equal(bad.status, 422);
      assert.equal(bad.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
      assert.deepEqual(
        bad.body.errors.map((e: { path: string }) => e.path),
        ['include'],
      );
    });

    test("one plan's cached answer never serves another's: ETags differ and a 304 needs the same plan", async (t) => {
      const h = await harness(t);
      const pro = await h.call('GET', '/api/v1/integrations', { as: plan(['pro'], 'pro-co'), headers: { 'accept-encoding': 'gzip' } });
      const full = await h.call('GET', '/api/v1/integrations', { as: plan(undefined, 'full-co'), headers: { 'accept-encoding': 'gzip' } });
      assert.deepEqual(keys(pro.body), ['erp']);
      assert.deepEqual(keys(full.body), ['notes', 'erp', 'chat']);
      const proTag = pro.headers.get('etag')!;
      assert.notEqual(proTag, full.headers.get('etag'));

      // The full-plan customer presenting the pro customer's ETag gets its own full answer, not a 304.
      const again = await h.call('GET', '/api/v1/integrations', { as: plan(undefined, 'full-co'), headers: { 'if-none-match': proTag } });
      assert.equal(again.status, 200);
      assert.deepEqual(keys(again.body), ['notes', 'erp', 'chat']);
      const same = await h.call('GET', '/api/v1/integrations', { as: plan(['pro'], 'pro-co'), headers: { 'if-none-match': proTag } });
      assert.equal(same.status, 304);

      // A plan that includes everything answers exactly as no plan does.
      const everything = await h.call('GET', '/api/v1/integrations', { as: plan(['starter', 'pro', 'chat'], 'all-co') });
      assert.equal(everything.text, (await h.call('GET', '/api/v1/integrations', { as: plan(undefined, 'all-co') })).text);
    });

    test('deploying or activating an integration outside the plan is a 403 that writes nothing', async (t) => {
      const h = await harness(t);
      const refused = await h.call('POST', '/api/v1/instances', { body: { integrationKey: 'erp' }, as: plan(['starter']) });
      assert.equal(refused.status, 403);
      assert.equal(refused.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
      assert.equal(refused.body.reason, 'notEntitled');
      assert.equal(refused.body.integrationKey, 'erp');
      assert.match(refused.body.detail, /ERP is not included in this customer's plan/);
      assert.deepEqual((await h.call('GET', '/api/v1/instances', { as: plan(['starter']) })).body.instances, []);

      // Entitled: deploy and activate; then the vendor narrows the plan.
      const created = await h.call('POST', '/api/v1/instances', { body: { integrationKey: 'notes' }, as: plan(['starter']) });
      assert.equal(created.status, 201, created.text);
      const id = created.body.id as string;
      assert.equal((await h.call('POST', `/api/v1/instances/${id}/activate`, { as: plan(['starter']) })).status, 200);
      const set = await h.call('PUT', '/api/v1/vendor/customers/acme/entitlements', { as: vendor(), body: { entitlements: ['pro'] } });
      assert.equal(set.status, 200, set.text);

      // The stored plan wins over the token's: the running instance can be paused, not started again.
      assert.equal((await h.call('POST', `/api/v1/instances/${id}/pause`, { as: plan(['starter']) })).status, 200);
      const restart = await h.call('POST', `/api/v1/instances/${id}/activate`, { as: plan(['starter']) });
      assert.equal(restart.status, 403);
      assert.equal(restart.body.reason, 'notEntitled');
      // Still listed (locked) so the customer can find and delete it.
      assert.deepEqual(keys((await h.call('GET', '/api/v1/integrations', { as: plan(['starter']) })).body), ['notes (locked)', 'erp']);
      assert.equal((await h.call('DELETE', `/api/v1/instances/${id}`, { as: plan(['starter']) })).status, 204);
    });

    test('the vendor API reads, sets and clears a plan; bad input names the field; only admins set it', async (t) => {
      const h = await harness(t);
      await h.call('GET', '/api/v1/integrations', { as: plan(['starter']) }); // acme is seen
      const read = await h.call('GET', '/api/v1/vendor/customers/acme/entitlements', { as: vendor('viewer') });
      assert.equal(read.status, 200);
      const before = CustomerEntitlements.parse(read.body);
      assert.equal(before.entitlements, null);
      assert.equal(before.customer.externalId, 'acme');

      const byId = await h.call('PUT', `/api/v1/vendor/customers/${before.customer.id}/entitlements`, {
        as: vendor(),
        body: { entitlements: ['pro', 'chat', 'pro'] },
      });
      assert.equal(byId.status, 200, byId.text);
      assert.deepEqual(CustomerEntitlements.parse(byId.body).entitlements, ['pro', 'chat']);
      assert.deepEqual(keys((await h.call('GET', '/api/v1/integrations', { as: plan(['starter']) })).body), ['erp', 'chat'], 'stored wins over the claim');

      const cleared = await h.call('PUT', '/api/v1/vendor/customers/acme/entitlements', { as: vendor(), body: { entitlements: null } });
      assert.equal(cleared.body.entitlements, null);
      assert.deepEqual(keys((await h.call('GET', '/api/v1/integrations', { as: plan(['starter']) })).body), ['notes'], 'cleared: the claim again');

      for (const [body, path] of [
        [{ entitlements: 'pro' }, 'entitlements'],
        [{ entitlements: [''] }, 'entitlements.0'],
        [{}, 'entitlements'],
      ] as const) {
        const res = await h.call('PUT', '/api/v1/vendor/customers/acme/entitlements', { as: vendor(), body });
        assert.equal(res.status, 422, res.text);
        assert.equal(res.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
        assert.ok(
          res.body.errors.some((e: { path: string }) => e.path === path),
          res.text,
        );
      }
      assert.equal(
        (await h.call('GET', '/api/v1/vendor/customers/acme/entitlements', { as: vendor() })).body.entitlements,
        null,
        'refused writes wrote nothing',
      );

      const support = await h.call('PUT', '/api/v1/vendor/customers/acme/entitlements', { as: vendor('support'), body: { entitlements: ['pro'] } });
      assert.equal(support.status, 403);
      assert.equal(support.body.requiredRole, 'admin');
      assert.equal((await h.call('GET', '/api/v1/vendor/customers/nobody/entitlements', { as: vendor() })).status, 404);

      const customer = (await h.store.vendor.findCustomer('acme'))!;
      const audit = await h.store.forCustomer(customer).listAudit();
      const changes = audit.filter((a) => a.action === 'customer.entitlements_set');
      assert.equal(changes.length, 2);
      assert.equal(changes[0]!.actor, 'vendor:jane');
      assert.deepEqual(changes[1]!.details.entitlements, ['pro', 'chat']);
    });
  });
}
