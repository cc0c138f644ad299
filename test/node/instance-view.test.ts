// What blocks activation, as the customer reads it in `blockers` and in the 409 of activate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiKey, clientCredentials, defineIntegration, field } from '../../server/src/sdk/index.js';
import { activationBlockers, connectionStates } from '../../server/src/instance-view.js';
import type { ConnectionRecord } from '../../server/src/store/types.js';

const integration = defineIntegration({
  key: 'erp',
  name: 'ERP',
  description: 'd',
  category: 'Finance',
  version: '1',
  connections: {
    account: apiKey({ label: 'ERP account', fields: { key: field.secret({ label: 'API key' }) } }),
    service: clientCredentials({ label: 'Vendor service', tokenUrl: 'https://auth.example/token', clientId: 'id', clientSecret: 's', scopes: [] }),
  },
  configPages: [{ title: 'Settings', fields: { company: field.text({ label: 'Company' }), token: field.secret({ label: 'Token' }) } }],
});

test('a fresh instance is blocked by each missing field and the customer-side connection, not by client credentials', () => {
  const blockers = activationBlockers(integration, { config: {}, secretNames: [] }, []);
  assert.deepEqual(blockers.map((b) => b.path).sort(), ['config.company', 'config.token', 'connections.account']);
  assert.equal(connectionStates(integration, []).find((c) => c.name === 'service')?.status, 'connected');
});

/** A stored, connected API key of the `account` connection. */
function connectedKey(now: string): ConnectionRecord {
  return {
    instanceId: 'i',
    customerId: 'c',
    name: 'account',
    kind: 'apiKey',
    status: 'connected',
    ciphertext: 'x',
    expiresAt: null,
    error: null,
    accountName: null,
    updatedAt: now,
  };
}

test('stored secrets count as present, and a complete instance has no blockers', () => {
  const now = new Date().toISOString();
  const blockers = activationBlockers(integration, { config: { company: 'Acme' }, secretNames: ['token'] }, [connectedKey(now)]);
  assert.deepEqual(blockers, []);
});

test('a client-credentials connection whose token failed is a blocker with the reason', () => {
  const now = new Date().toISOString();
  const blockers = activationBlockers(integration, { config: { company: 'Acme' }, secretNames: ['token'] }, [
    connectedKey(now),
    {
      instanceId: 'i',
      customerId: 'c',
      name: 'service',
      kind: 'clientCredentials',
      status: 'needs_attention',
      ciphertext: null,
      expiresAt: null,
      error: 'invalid_client',
      accountName: null,
      updatedAt: now,
    },
  ]);
  assert.deepEqual(blockers, [{ path: 'connections.service', message: 'Vendor service needs attention: invalid_client' }]);
});
