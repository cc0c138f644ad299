// The runtime with OAuth connections against a real authorization server (oidc-provider on
// 127.0.0.1): what a flow receives for a connection is resolved by the control plane before the run.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startOAuthServer } from '../../demo/oauth-server.js';
import type { ExecutionDetail, WebhookAccepted } from '../../src/protocol/index.js';
import type { Integration } from '../../server/src/sdk/index.js';
import type { CustomerStore } from '../../server/src/store/index.js';
import { CC_CLIENT, serviceIntegration } from './fixtures/flows/client-credentials.js';
import { createHarness, eventually, type Harness } from './runtime.harness.js';

const CC_MODULE = fileURLToPath(new URL('./fixtures/flows/client-credentials.ts', import.meta.url));

/** An active instance of `integration` for a new customer (nothing stored for its connections), run once through its webhook URL. */
async function runOnce(h: Harness, integration: Integration, payload: unknown): Promise<{ run: ExecutionDetail; instanceId: string; tenant: CustomerStore }> {
  const customer = await h.store.ensureCustomer('globex');
  const tenant = h.store.forCustomer(customer);
  const audit = { actor: 'user:test', action: 'instance.created', target: '', details: {} };
  const { instance } = await tenant.createInstance({ integrationKey: integration.key, audit });
  const active = await tenant.setStatus(instance.id, { status: 'active', audit: { ...audit, action: 'instance.activated' } });
  assert.deepEqual(await tenant.listConnections(instance.id), [], 'the customer never connects a client-credentials connection');

  const [endpoint] = await h.runtime.webhooks.list(active!, integration);
  const res = await h.app.request(new URL(endpoint!.url).pathname, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  assert.equal(res.status, 202);
  const { executionId } = (await res.json()) as WebhookAccepted;
  const token = await h.token('globex');
  const run = await eventually(async () => {
    const r = await h.app.request(`/api/v1/executions/${executionId}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await r.json()) as ExecutionDetail;
    return body.status === 'queued' || body.status === 'running' ? undefined : body;
  });
  return { run, instanceId: instance.id, tenant };
}

// One authorization server for the file: each test counts only its own token requests.
let server: Awaited<ReturnType<typeof startOAuthServer>>;
before(async () => {
  server = await startOAuthServer({ clients: [{ ...CC_CLIENT, grantTypes: ['client_credentials'] }] });
});
after(() => server?.close());

test('a flow whose only connection is client credentials gets its token on its first run', async (t) => {
  const earlier = server.tokenRequests.length;
  const integration = serviceIntegration(server.issuer);
  const h = await createHarness({ integrations: { module: CC_MODULE, list: [integration], env: { CC_ISSUER: server.issuer } } });
  t.after(() => h.close());

  const { run, instanceId, tenant } = await runOnce(h, integration, { channelsUrl: server.channelsUrl });
  assert.equal(run.error, null, 'the first run has its token');
  assert.equal(run.status, 'succeeded');
  assert.deepEqual(JSON.parse(run.resultSummary!), { channels: 3 });
  assert.equal(server.tokenRequests.slice(earlier).filter((r) => r.grantType === 'client_credentials' && r.ok).length, 1);
  const [row] = await tenant.listConnections(instanceId);
  assert.equal(row?.status, 'connected', 'the fetched token is kept for the next run');
});

test('a client-credentials token the provider refuses fails the run with the reason, before the flow runs', async (t) => {
  const integration = serviceIntegration(server.issuer, { ...CC_CLIENT, clientSecret: 'not-the-secret' });
  const h = await createHarness({ integrations: { module: CC_MODULE, list: [integration], env: { CC_ISSUER: server.issuer } } });
  t.after(() => h.close());

  const { run } = await runOnce(h, integration, { channelsUrl: server.channelsUrl });
  assert.equal(run.status, 'failed');
  assert.match(run.error ?? '', /^The execution could not be prepared: Service account: Could not renew the access/);
  assert.ok(!run.logs.some((l) => /channels/.test(l.message)), 'the flow did not run without its token');
  assert.ok(!(run.error ?? '').includes('not-the-secret'));
});
