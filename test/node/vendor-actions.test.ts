// The vendor's staff acting for a customer through the vendor API: deploy, configure, connect,
// activate, pause and delete, each audited as the staff member and shown in the customer's own
// history of the instance; the customer's plan and the roles still apply.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AuditList, PROBLEM_CONTENT_TYPE, VendorInstance } from '../../src/protocol/index.js';
import { API_KEY_VALUE, completeConfig } from './fixtures/integrations.js';
import { suiteHarness } from './fixtures/harness.js';

const staff = (vendorRole = 'support') => ({
  role: 'vendor',
  customer: undefined,
  customer_name: undefined,
  sub: 'jane-42',
  name: 'Acme support (jane@acme.test)',
  vendor_role: vendorRole,
});

describe('vendor actions for a customer', () => {
  const harness = suiteHarness();

  test('support deploys, configures, connects and activates; the customer sees it active and who did it', async () => {
    const h = harness();
    await h.call('GET', '/api/v1/integrations'); // acme is seen
    const deployed = await h.call('POST', '/api/v1/vendor/customers/acme/instances', { as: staff(), body: { integrationKey: 'every-field' } });
    assert.equal(deployed.status, 201, deployed.text);
    const instance = VendorInstance.parse(deployed.body);
    assert.equal(instance.customer.externalId, 'acme');

    const bad = await h.call('PUT', `/api/v1/vendor/instances/${instance.id}/config`, {
      as: staff(),
      body: { config: { nope: 1 }, version: instance.version },
    });
    assert.equal(bad.status, 422);
    assert.equal(bad.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
    assert.deepEqual(
      bad.body.errors.map((e: { path: string }) => e.path),
      ['config.nope'],
    );

    const saved = await h.call('PUT', `/api/v1/vendor/instances/${instance.id}/config`, {
      as: staff(),
      body: { config: completeConfig, version: instance.version },
    });
    assert.equal(saved.status, 200, saved.text);
    const keyed = await h.call('PUT', `/api/v1/vendor/instances/${instance.id}/connections/api`, {
      as: staff(),
      body: { values: { apiKey: API_KEY_VALUE, account: 'acme-eu' } },
    });
    assert.equal(keyed.status, 200, keyed.text);
    assert.ok(!keyed.text.includes(API_KEY_VALUE), 'the key never comes back');
    const active = await h.call('POST', `/api/v1/vendor/instances/${instance.id}/activate`, { as: staff() });
    assert.equal(active.status, 200, active.text);
    assert.equal(active.body.status, 'active');

    // The customer's embed sees it active, and its history says who did it.
    const mine = await h.call('GET', `/api/v1/instances/${instance.id}`);
    assert.equal(mine.body.status, 'active');
    const history = AuditList.parse((await h.call('GET', `/api/v1/instances/${instance.id}/audit`)).body);
    assert.deepEqual(
      history.events.map((e) => e.action),
      ['instance.activated', 'connection.set', 'instance.config_saved', 'instance.created'],
    );
    for (const event of history.events) assert.deepEqual(event.actor, { type: 'vendor', name: 'Acme support (jane@acme.test)' });
    assert.ok(!JSON.stringify(history).includes('jane-42'), "the staff member's sub stays the vendor's");
    const rows = await h.store.forCustomer((await h.store.vendor.findCustomer('acme'))!).listAudit({ target: `instance:${instance.id}` });
    assert.ok(rows.every((r) => r.actor === 'vendor:jane-42'));

    // Viewers may not act; support may delete.
    const viewer = await h.call('DELETE', `/api/v1/vendor/instances/${instance.id}`, { as: staff('viewer') });
    assert.equal(viewer.status, 403);
    assert.equal(viewer.body.requiredRole, 'support');
    assert.equal((await h.call('DELETE', `/api/v1/vendor/instances/${instance.id}`, { as: staff() })).status, 204);
    assert.equal((await h.call('GET', `/api/v1/instances/${instance.id}`)).status, 404);
  });

  test("the customer's plan holds for the vendor's staff too; unknown customers and instances are 404", async () => {
    const h = harness();
    await h.call('GET', '/api/v1/integrations', { as: { customer: 'globex', customer_name: 'Globex' } });
    const set = await h.call('PUT', '/api/v1/vendor/customers/globex/entitlements', { as: staff('admin'), body: { entitlements: ['chat'] } });
    assert.equal(set.status, 200, set.text);
    const refused = await h.call('POST', '/api/v1/vendor/customers/globex/instances', { as: staff(), body: { integrationKey: 'every-field' } });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.reason, 'notEntitled');
    assert.equal((await h.call('POST', '/api/v1/vendor/customers/nobody/instances', { as: staff(), body: { integrationKey: 'chat' } })).status, 404);
    assert.equal((await h.call('POST', '/api/v1/vendor/instances/nope/activate', { as: staff() })).status, 404);
  });

  test('support loads a config form’s picker with the customer’s connection, under the customer’s rules; a viewer may not', async () => {
    const h = harness();
    await h.call('GET', '/api/v1/integrations'); // acme is seen
    const deployed = await h.call('POST', '/api/v1/vendor/customers/acme/instances', { as: staff(), body: { integrationKey: 'every-field' } });
    const instance = VendorInstance.parse(deployed.body);
    const keyed = await h.call('PUT', `/api/v1/vendor/instances/${instance.id}/connections/api`, {
      as: staff(),
      body: { values: { apiKey: API_KEY_VALUE, account: 'acme-eu' } },
    });
    assert.equal(keyed.status, 200, keyed.text);
    const picked = await h.call('GET', `/api/v1/vendor/instances/${instance.id}/data-sources/channels?q=sal`, { as: staff() });
    assert.equal(picked.status, 200, picked.text);
    assert.deepEqual(picked.body.options, [{ value: 'sales', label: '#sales (acme-eu)' }]);
    const posted = await h.call('POST', `/api/v1/vendor/instances/${instance.id}/data-sources/channels`, { as: staff(), body: { q: 'gen', config: {} } });
    assert.equal(posted.status, 200, posted.text);
    assert.deepEqual(posted.body.options, [{ value: 'general', label: '#general (acme-eu)' }]);
    // The same rules as the customer's call: unsaved values only for fields the data source depends on.
    const unsaved = await h.call('POST', `/api/v1/vendor/instances/${instance.id}/data-sources/channels`, {
      as: staff(),
      body: { q: '', config: { mode: 'push' } },
    });
    assert.equal(unsaved.status, 422, unsaved.text);
    assert.deepEqual(
      unsaved.body.errors.map((e: { path: string }) => e.path),
      ['config.mode'],
    );
    const viewer = await h.call('GET', `/api/v1/vendor/instances/${instance.id}/data-sources/channels`, { as: staff('viewer') });
    assert.equal(viewer.status, 403);
    const tooLong = await h.call('GET', `/api/v1/vendor/instances/${instance.id}/data-sources/channels?q=${'x'.repeat(501)}`, { as: staff() });
    assert.equal(tooLong.status, 422);
    assert.deepEqual(
      tooLong.body.errors.map((e: { path: string }) => e.path),
      ['q'],
    );
  });
});
