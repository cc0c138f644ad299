// The marketplace's catalog is checked without zod (src/protocol/catalog.ts), so the script-tag
// bundle's eager core carries no zod. That check must answer as the `Catalog` schema does: the
// same verdict, and on success the same value (unknown keys dropped), for every case below.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Catalog, InstanceStatus, IntegrationSummary } from '../../src/protocol/api.js';
import { INSTANCE_STATUSES, catalogOf } from '../../src/protocol/catalog.js';

const summary = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  key: 'slack',
  name: 'Slack',
  description: 'Messages to a channel',
  category: 'Messaging',
  icon: 'data:image/svg+xml,%3Csvg/%3E',
  version: '1.2.0',
  labels: ['pro', 'crm'],
  entitled: true,
  instance: { id: 'inst-1', status: 'active', updatedAt: '2026-01-01T00:00:00Z' },
  ...over,
});

/** Each field of a summary (and of its instance) missing (undefined), null, or of every other JSON type. */
function cases(): { name: string; body: unknown }[] {
  const wrong: unknown[] = [undefined, null, 1, true, 'text', [], {}];
  const out: { name: string; body: unknown }[] = [
    { name: 'a full catalog', body: { integrations: [summary(), summary({ key: 'b', instance: null }), summary({ icon: undefined })] } },
    { name: 'an empty catalog', body: { integrations: [] } },
    { name: 'labels with a number', body: { integrations: [summary({ labels: ['pro', 2] })] } },
    { name: 'no labels, not entitled', body: { integrations: [summary({ labels: [], entitled: false })] } },
    {
      name: 'unknown keys everywhere',
      body: { extra: 1, integrations: [summary({ extra: 'x', instance: { id: 'i', status: 'draft', updatedAt: 'd', extra: [] } })] },
    },
    { name: 'no body', body: undefined },
    { name: 'null', body: null },
    { name: 'an array', body: [summary()] },
    { name: 'integrations not an array', body: { integrations: summary() } },
    { name: 'an integration that is null', body: { integrations: [summary(), null] } },
    { name: 'an integration that is an array', body: { integrations: [[]] } },
  ];
  for (const field of ['key', 'name', 'description', 'category', 'icon', 'version', 'labels', 'entitled', 'instance']) {
    for (const value of wrong) out.push({ name: `${field}: ${JSON.stringify(value)}`, body: { integrations: [summary({ [field]: value })] } });
  }
  for (const field of ['id', 'status', 'updatedAt']) {
    for (const value of wrong) {
      const instance = { id: 'inst-1', status: 'paused', updatedAt: 'd', [field]: value };
      out.push({ name: `instance.${field}: ${JSON.stringify(value)}`, body: { integrations: [summary({ instance })] } });
    }
  }
  for (const status of [...INSTANCE_STATUSES, 'deleted', 'Active', '']) {
    out.push({ name: `instance.status "${status}"`, body: { integrations: [summary({ instance: { id: 'i', status, updatedAt: 'd' } })] } });
  }
  return out;
}

test('the catalog check agrees with the Catalog schema, verdict and value', () => {
  const all = cases();
  assert.ok(all.length > 70);
  let accepted = 0;
  for (const { name, body: raw } of all) {
    // As it comes off the wire: a key whose value is undefined is no key at all.
    const body: unknown = raw === undefined ? undefined : JSON.parse(JSON.stringify(raw));
    const zod = Catalog.safeParse(body);
    const ours = catalogOf(body);
    assert.equal(ours !== undefined, zod.success, `${name}: zod says ${zod.success ? 'valid' : 'invalid'}`);
    if (zod.success) {
      accepted++;
      assert.deepEqual(ours, zod.data, name);
    }
  }
  assert.ok(accepted >= 8, 'valid cases are among them');
});

test("the check's instance statuses are InstanceStatus's", () => {
  assert.deepEqual([...INSTANCE_STATUSES].sort(), [...InstanceStatus.options].sort());
});

test('every field of IntegrationSummary is one the check knows (a new one must be added to src/protocol/catalog.ts and here)', () => {
  assert.deepEqual(Object.keys(IntegrationSummary.shape).sort(), Object.keys(summary()).sort());
});
