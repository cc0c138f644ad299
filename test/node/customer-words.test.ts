// The words a customer reads about flows, triggers and webhooks come from the SDK, never from
// internal keys; only webhooks the integration marks customer-facing are the customer's to see;
// a schedule may follow the interval the customer configured.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineIntegration, field, schedule, webhook } from '../../server/src/sdk/index.js';
import { instanceView } from '../../server/src/instance-view.js';
import { intervalTick } from '../../server/src/runtime/scheduler.js';
import demoIntegrations from '../../server/src/examples/integrations.js';
import type { InstanceRecord } from '../../server/src/store/types.js';

const integration = defineIntegration({
  key: 'billing',
  name: 'Billing',
  description: 'd',
  category: 'Finance',
  version: '1',
  configPages: [{ title: 'Sync', fields: { every: field.number({ label: 'Every (minutes)', integer: true, min: 15, default: 15 }) } }],
  flows: {
    paymentEvent: {
      label: 'Billing alerts',
      description: 'Payment events become alerts.',
      trigger: webhook({ signed: true, customerFacing: true, label: 'Payment events', description: 'Give this URL to your billing tool.', verify: () => true }),
      run: () => 'ok',
    },
    crm_events: { trigger: webhook(), run: () => null },
    syncContacts: { trigger: schedule('*/15 * * * *', { intervalField: 'every', label: 'Regularly' }), run: () => null },
  },
});

test('describe() gives each flow a label (its own, else its key in words) and the trigger’s words, never its verifier', () => {
  const flows = integration.describe().flows;
  assert.deepEqual(flows, [
    {
      name: 'paymentEvent',
      label: 'Billing alerts',
      description: 'Payment events become alerts.',
      trigger: { type: 'webhook', hmac: true, customerFacing: true, label: 'Payment events', description: 'Give this URL to your billing tool.' },
    },
    { name: 'crm_events', label: 'Crm events', description: undefined, trigger: { type: 'webhook', hmac: false } },
    {
      name: 'syncContacts',
      label: 'Sync contacts',
      description: undefined,
      trigger: { type: 'schedule', cron: '*/15 * * * *', timezone: 'UTC', intervalField: 'every', label: 'Regularly' },
    },
  ]);
});

test('a schedule taking its interval from a field that does not exist is refused at start-up', () => {
  assert.throws(
    () =>
      defineIntegration({
        key: 'broken',
        name: 'Broken',
        description: 'd',
        category: 'c',
        version: '1',
        flows: { sync: { trigger: schedule('* * * * *', { intervalField: 'nope' }), run: () => null } },
      }),
    /flow "sync" takes its interval from unknown field "nope"/,
  );
});

test('an instance’s webhook URLs carry the trigger’s words and whether the customer may see them', () => {
  const now = new Date().toISOString();
  const record: InstanceRecord = {
    id: 'i1',
    customerId: 'c1',
    integrationKey: 'billing',
    status: 'active',
    config: {},
    secrets: null,
    secretNames: [],
    version: 1,
    statusReason: null,
    createdAt: now,
    updatedAt: now,
    activatedAt: now,
    integrationVersion: '1.0.0',
    previousRelease: null,
  } as InstanceRecord;
  const view = instanceView(
    integration,
    record,
    [],
    [
      { flow: 'paymentEvent', url: 'https://p.test/hooks/a', hmac: true },
      { flow: 'crm_events', url: 'https://p.test/hooks/b', hmac: false },
    ],
  );
  assert.deepEqual(view.webhooks, [
    {
      flow: 'paymentEvent',
      url: 'https://p.test/hooks/a',
      hmac: true,
      label: 'Payment events',
      description: 'Give this URL to your billing tool.',
      customerFacing: true,
    },
    { flow: 'crm_events', url: 'https://p.test/hooks/b', hmac: false, label: 'Crm events', customerFacing: false },
  ]);
});

test('a configured interval replaces the cron: ticks every that many minutes; none configured, the cron applies', () => {
  const now = new Date('2026-01-05T10:47:12Z');
  assert.equal(intervalTick('every', { every: 30 }, now)?.toISOString(), '2026-01-05T10:30:00.000Z');
  assert.equal(intervalTick('every', { every: 15 }, now)?.toISOString(), '2026-01-05T10:45:00.000Z');
  assert.equal(intervalTick('every', {}, now), undefined);
  assert.equal(intervalTick('every', { every: 'soon' }, now), undefined);
  assert.equal(intervalTick(undefined, { every: 30 }, now), undefined);
});

test('the demo’s flows all have labels; only Ledgerly’s webhook is the customer’s; the contact sync follows its interval', () => {
  for (const i of demoIntegrations) {
    for (const [name, flow] of Object.entries(i.flows)) assert.ok(flow.label, `${i.key}/${name} has no label`);
  }
  const facing = demoIntegrations.flatMap((i) =>
    Object.entries(i.flows)
      .filter(([, f]) => f.trigger.type === 'webhook' && f.trigger.customerFacing)
      .map(([name]) => `${i.key}/${name}`),
  );
  assert.deepEqual(facing, ['ledgerly-billing-alerts/paymentEvent']);
  const sync = demoIntegrations.find((i) => i.key === 'northwind-crm-sync')!.flows.syncContacts!;
  assert.equal(sync.trigger.type === 'schedule' && sync.trigger.intervalField, 'intervalMinutes');
});
