// Issue 12: an instance deployed on version 1 is answered by version 1 everywhere after version 2 is
// loaded (its data sources, flows, webhooks, connections and proxy, the vendor's views and the
// detail the customer's dialog edits config with), and once its version is loaded nowhere it gets
// a 409 instead of another version's code, while it can still be read and paused.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DataSourceResult, IntegrationDetail, InvokeResult, VendorInstance, VendorInstanceList } from '../../src/protocol/index.js';
import { APP_ORIGIN, createHarness, newSchema, PG_URL, type Harness } from './runtime.harness.js';
import { crmV1, crmV2 } from './versions-own.fixture.js';

const MODULE = fileURLToPath(new URL('./versions-own.fixture.ts', import.meta.url));

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`an instance on an older version (${engine})`, { skip: engine === 'postgres' && !PG_URL ? 'set PLUGBOARD_TEST_DATABASE_URL' : false }, () => {
    let h: Harness;
    let provider: Server;

    before(async () => {
      // The provider behind both versions' proxied connections: answers which key reached it.
      provider = createServer((req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ path: req.url, keyed: req.headers['x-key'] === 'k-legacy-key' }));
      });
      await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
      process.env.VERSIONS_PROVIDER_URL = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
      // Started with version 1 alone; the executors' module holds both versions.
      h = await createHarness({ ...(engine === 'postgres' ? { pgSchema: newSchema('own') } : {}), integrations: { module: MODULE, list: [crmV1] } });
    });
    after(async () => {
      await h?.close();
      provider?.close();
    });

    async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: unknown }> {
      const res = await h.app.request(path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
    }

    test('is answered by its own version after a newer one is loaded, and by a 409 once its version is loaded nowhere', async () => {
      const support = await h.vendorToken('support');
      await h.store.ensureCustomer('own-a');
      const created = await call('POST', '/api/v1/vendor/customers/own-a/instances', support, { integrationKey: 'crm' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = VendorInstance.parse(created.body).id;
      assert.equal((await call('PUT', `/api/v1/vendor/instances/${id}/config`, support, { config: { label: 'alpha' }, version: 1 })).status, 200);
      const keyed = await call('PUT', `/api/v1/vendor/instances/${id}/connections/legacy`, support, { values: { key: 'k-legacy-key' } });
      assert.equal(keyed.status, 200, JSON.stringify(keyed.body));
      assert.equal((await call('POST', `/api/v1/vendor/instances/${id}/activate`, support)).status, 200);

      // Version 2 loaded as a reload loads it: current for new instances, version 1 kept for this one.
      h.services.integrations.addGeneration([crmV2, crmV1]);
      const customer = await h.token('own-a');

      // The dialog's detail is version 1's (its pages, connections, data sources, flows); the list shows the current version.
      const detail = await call('GET', '/api/v1/integrations/crm', customer);
      assert.equal(detail.status, 200, JSON.stringify(detail.body));
      const own = IntegrationDetail.parse(detail.body);
      assert.equal(own.version, '1.0.0');
      assert.deepEqual(
        own.configPages.map((p) => p.title),
        ['Setup'],
      );
      assert.deepEqual(
        own.connections.map((c) => c.name),
        ['legacy'],
      );
      assert.deepEqual(own.dataSources, ['lists']);
      assert.deepEqual(own.flows.map((f) => f.name).sort(), ['legacy', 'which']);
      const staffSees = IntegrationDetail.parse((await call('GET', '/api/v1/vendor/customers/own-a/integrations/crm', support)).body);
      assert.deepEqual(
        staffSees.configPages.map((p) => p.title),
        ['Setup'],
      );
      await h.store.ensureCustomer('own-new');
      const fresh = IntegrationDetail.parse((await call('GET', '/api/v1/integrations/crm', await h.token('own-new'))).body);
      assert.deepEqual(
        [fresh.version, fresh.configPages.map((p) => p.title)],
        ['2.0.0', ['Account']],
        'a customer without an instance sees the current version',
      );

      // The vendor's views: version 1's connections and (empty) blockers, with the update on offer.
      const viewed = VendorInstance.parse((await call('GET', `/api/v1/vendor/instances/${id}`, support)).body);
      assert.deepEqual(
        viewed.connections.map((c) => c.name),
        ['legacy'],
      );
      assert.deepEqual(viewed.blockers, []);
      assert.equal(viewed.update?.version, '2.0.0');
      const listed = VendorInstanceList.parse((await call('GET', '/api/v1/vendor/customers/own-a/instances', support)).body);
      assert.deepEqual(
        listed.instances[0]!.connections.map((c) => c.name),
        ['legacy'],
      );
      assert.deepEqual(listed.instances[0]!.blockers, []);

      // Data sources run version 1's code.
      const options = await call('GET', `/api/v1/instances/${id}/data-sources/lists`, customer);
      assert.equal(options.status, 200, JSON.stringify(options.body));
      assert.deepEqual(
        DataSourceResult.parse(options.body).options.map((o) => o.value),
        ['v1-list'],
      );
      assert.equal((await call('GET', `/api/v1/instances/${id}/data-sources/folders`, customer)).status, 404);

      // Invoke: version 1's flow runs, version 2's is not there.
      const invoked = await call('POST', `/api/v1/vendor/instances/${id}/flows/legacy/invoke`, support, { timeoutMs: 60_000 });
      assert.equal(invoked.status, 200, JSON.stringify(invoked.body));
      assert.deepEqual(InvokeResult.parse(invoked.body).result, { code: '1.0.0', flow: 'legacy' });
      assert.equal((await call('POST', `/api/v1/vendor/instances/${id}/flows/fresh/invoke`, support, { timeoutMs: 60_000 })).status, 404);

      // Webhooks: a URL made for version 2's flow (as one is while an instance runs it, before a rollback) takes nothing.
      const record = (await h.store.vendor.getInstance(id))!;
      const endpoints = await h.runtime.webhooks.list(record, crmV2);
      const freshHook = new URL(endpoints.find((e) => e.flow === 'fresh')!.url).pathname;
      assert.equal((await h.app.request(freshHook, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status, 404);
      assert.equal((await call('POST', `/api/v1/instances/${id}/webhooks/fresh/secret`, customer)).status, 404);

      // The proxy: version 1's connection works with its key, version 2's does not exist.
      const proxied = await call('GET', `/api/v1/vendor/instances/${id}/connections/legacy/proxy/items`, support);
      assert.equal(proxied.status, 200, JSON.stringify(proxied.body));
      assert.deepEqual(proxied.body, { path: '/items', keyed: true });
      assert.equal((await call('GET', `/api/v1/vendor/instances/${id}/connections/modern/proxy/items`, support)).status, 404);
      // Nor can version 2's OAuth connection be started for it.
      const sso = await h.app.request(`/api/v1/instances/${id}/connections/sso/authorize`, {
        method: 'POST',
        headers: { authorization: `Bearer ${customer}`, origin: APP_ORIGIN, 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(sso.status, 404, await sso.text());

      // Version 1 loaded nowhere: 409 to what would run its code; it can still be read and paused.
      assert.ok(h.services.integrations.forget('crm', '1.0.0'));
      for (const [method, path, token] of [
        ['GET', `/api/v1/instances/${id}/data-sources/lists`, customer],
        ['POST', `/api/v1/vendor/instances/${id}/flows/legacy/invoke`, support],
        ['GET', `/api/v1/vendor/instances/${id}/connections/legacy/proxy/items`, support],
      ] as const) {
        const refused = await call(method, path, token, method === 'POST' ? {} : undefined);
        assert.equal(refused.status, 409, `${method} ${path}: ${JSON.stringify(refused.body)}`);
        assert.match(JSON.stringify(refused.body), /Version 1\.0\.0 of this integration is not loaded here/);
      }
      assert.equal((await call('GET', `/api/v1/vendor/instances/${id}`, support)).status, 200);
      assert.equal((await call('GET', '/api/v1/integrations/crm', customer)).status, 200);
      assert.equal((await call('POST', `/api/v1/vendor/instances/${id}/pause`, support)).status, 200);
    });
  });
}
