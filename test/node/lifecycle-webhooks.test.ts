// Lifecycle webhooks to the vendor, against a real HTTP receiver that checks each signature with the
// `standardwebhooks` library: every event type, in order, with its customer, instance and
// integration and never a secret; redelivered with the same webhook-id after a restart; and sent
// once when two processes relay at the same time. On SQLite and PostgreSQL (the cursor and lease).
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { createLifecycleWebhooks, type LifecycleEvent, type LifecycleWebhooksOptions } from '../../server/src/runtime/lifecycle-webhooks.js';
import { runtimeSettings } from '../../server/src/runtime/index.js';
import { createHarness, eventually, newSchema, PG_URL, type Harness } from './runtime.harness.js';

const SECRET = `whsec_${Buffer.from('lifecycle-test-secret-32-bytes!!').toString('base64')}`;

interface Delivery {
  id: string;
  event: LifecycleEvent;
  raw: string;
}

/** A receiver that verifies like a vendor would; `failNext` answers 500 to that many requests first. */
async function receiver(): Promise<{ url: string; deliveries: Delivery[]; failures: string[]; failNext: number; close(): Promise<void> }> {
  const state = { deliveries: [] as Delivery[], failures: [] as string[], failNext: 0 };
  const wh = new Webhook(SECRET);
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const headers = req.headers as IncomingHttpHeaders & Record<string, string>;
      if (state.failNext > 0) {
        state.failNext--;
        state.failures.push(headers['webhook-id']!);
        res.writeHead(500).end();
        return;
      }
      // Throws on a bad signature or an old timestamp: then the test sees a 400 and no delivery.
      try {
        const event = wh.verify(raw, headers) as LifecycleEvent;
        state.deliveries.push({ id: headers['webhook-id']!, event, raw });
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/plugboard-events`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}

const ENGINES = [
  { name: 'sqlite', skip: false as const },
  { name: 'postgres', skip: PG_URL ? (false as const) : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' },
] as const;

for (const engine of ENGINES) {
  describe(`lifecycle webhooks on ${engine.name}`, { skip: engine.skip }, () => {
    let h: Harness;
    let rx: Awaited<ReturnType<typeof receiver>>;
    let support: string;
    before(async () => {
      h = await createHarness({ runner: false, ...(engine.name === 'postgres' ? { pgSchema: newSchema('lwh') } : {}) });
      rx = await receiver();
      support = await h.vendorToken('support', 'Jane (Acme support)');
    });
    after(async () => {
      await rx?.close();
      await h?.close();
    });

    const relayer = (options: Partial<LifecycleWebhooksOptions> = {}) =>
      createLifecycleWebhooks({ store: h.store, url: rx.url, secret: SECRET, baseDelayMs: 20, ...options });

    async function vendor(method: string, path: string, body?: unknown) {
      const res = await h.app.request(`/api/v1/vendor${path}`, {
        method,
        headers: { authorization: `Bearer ${support}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
      return res.status === 204 ? undefined : ((await res.json()) as { id: string });
    }

    test('every event type, signed, in order, with customer, instance and integration, and never a secret', async () => {
      const relay = relayer();
      await relay.relay(); // the first start delivers from now on
      rx.deliveries.length = 0;

      const customer = await h.store.ensureCustomer(`lc-${engine.name}`);
      const deployed = await vendor('POST', `/customers/${customer.externalId}/instances`, { integrationKey: 'recorder' });
      const instanceId = deployed!.id;
      const target = `instance:${instanceId}`;
      // What the connection code and the version upgrade audit (oauth/tokens.ts, oauth/flow.ts, instances.ts; integration versions).
      const audit = (actor: string, action: string, details: Record<string, unknown>) =>
        h.store.vendor.recordAudit({ customerId: customer.id, actor, action, target, details });
      await audit('user:ada', 'connection.set', { connection: 'crm', kind: 'apiKey', fields: ['apiKey'] });
      await audit('system', 'connection.needs_attention', { connection: 'crm', reason: 'invalid_grant' });
      await audit('user:ada', 'connection.connected', { connection: 'crm', kind: 'oauth2', scopes: ['contacts'] });
      await audit('vendor:staff', 'instance.upgraded', { from: '1.0.0', version: '2.0.0' });
      await audit('vendor:staff', 'instance.rolled_back', { from: '2.0.0', version: '1.0.0' });
      await vendor('POST', `/instances/${instanceId}/pause`);
      await vendor('DELETE', `/instances/${instanceId}`);
      const active = await h.activeInstance(`lc-active-${engine.name}`);

      assert.equal(await relay.relay(), 10);
      const mine = rx.deliveries.filter((d) => d.event.data.instance.id === instanceId);
      assert.deepEqual(
        mine.map((d) => d.event.type),
        [
          'instance.deployed',
          'connection.connected',
          'connection.needs_attention',
          'connection.recovered',
          'instance.upgraded',
          'instance.rolled_back',
          'instance.paused',
          'instance.deleted',
        ],
      );
      for (const d of mine) {
        assert.match(d.id, /^evt_aud_/);
        assert.deepEqual(d.event.data.customer, { id: customer.id, externalId: customer.externalId });
        // The integration is named even after the instance is gone.
        assert.deepEqual(d.event.data.instance, { id: instanceId, integrationKey: 'recorder' });
        assert.ok(!Number.isNaN(Date.parse(d.event.timestamp)));
        assert.doesNotMatch(d.raw, /whsec_|sk_test_secret_value|ciphertext/);
      }
      assert.equal(new Set(rx.deliveries.map((d) => d.id)).size, rx.deliveries.length, 'one webhook-id per event');
      const [deploy, connected, attention, recovered, upgraded, rolledBack, paused] = mine;
      assert.deepEqual(deploy!.event.data.actor, { type: 'vendor', name: 'Jane (Acme support)' });
      assert.deepEqual(connected!.event.data.connection, { name: 'crm' });
      assert.deepEqual(connected!.event.data.details, { connection: 'crm', kind: 'apiKey', fields: ['apiKey'] });
      assert.deepEqual(attention!.event.data.actor, { type: 'system' });
      assert.equal(recovered!.event.data.details.kind, 'oauth2');
      assert.deepEqual(upgraded!.event.data.details, { from: '1.0.0', version: '2.0.0' });
      assert.deepEqual(rolledBack!.event.data.details, { from: '2.0.0', version: '1.0.0' });
      assert.equal(paused!.event.data.details.by, 'vendor');

      // Another customer's activation: its own customer and instance.
      const activated = rx.deliveries.filter((d) => d.event.data.instance.id === active.instance.id).map((d) => d.event.type);
      assert.deepEqual(activated, ['instance.deployed', 'instance.activated']);
      await relay.stop();
    });

    test('a delivery cut by a restart is delivered after it, with the same webhook-id', async () => {
      const first = relayer({ baseDelayMs: 200, maxAttempts: 20 });
      await first.relay();
      rx.deliveries.length = 0;
      rx.failures.length = 0;
      rx.failNext = 1000; // down until the restart
      const customer = await h.store.ensureCustomer(`lc-restart-${engine.name}`);
      const deployed = await vendor('POST', `/customers/${customer.externalId}/instances`, { integrationKey: 'recorder' });
      first.start(50);
      await eventually(() => rx.failures.length >= 2, 20_000, 'two refused attempts');
      await first.stop();
      const refusedId = rx.failures[0]!;
      assert.ok(
        rx.failures.every((id) => id === refusedId),
        'every attempt of one event has one webhook-id',
      );
      assert.equal(rx.deliveries.length, 0);

      rx.failNext = 0;
      const second = relayer();
      assert.equal(await second.relay(), 1);
      assert.deepEqual(
        rx.deliveries.map((d) => [d.id, d.event.type, d.event.data.instance.id]),
        [[refusedId, 'instance.deployed', deployed!.id]],
      );
      assert.equal(await second.relay(), 0, 'delivered once');
      await second.stop();
    });

    test('two processes relaying at once send each event once (one holds the lease)', async () => {
      const a = relayer();
      const b = relayer();
      await a.relay();
      await a.stop(); // hands the lease on
      rx.deliveries.length = 0;
      for (const n of [1, 2]) {
        const customer = await h.store.ensureCustomer(`lc-twice-${n}-${engine.name}`);
        await vendor('POST', `/customers/${customer.externalId}/instances`, { integrationKey: 'recorder' });
      }
      const c = relayer();
      const counts = await Promise.all([b.relay(), c.relay()]);
      assert.equal(counts[0]! + counts[1]!, 2);
      assert.equal(rx.deliveries.length, 2);
      assert.equal(new Set(rx.deliveries.map((d) => d.id)).size, 2);
      await b.stop();
      await c.stop();
    });
  });
}

test('PLUGBOARD_LIFECYCLE_WEBHOOK_URL needs a Standard Webhooks secret beside it', () => {
  assert.throws(
    () => runtimeSettings({ PLUGBOARD_LIFECYCLE_WEBHOOK_URL: 'https://crm.example/hooks' }),
    /PLUGBOARD_LIFECYCLE_WEBHOOK_SECRET is needed with PLUGBOARD_LIFECYCLE_WEBHOOK_URL/,
  );
  assert.throws(
    () => runtimeSettings({ PLUGBOARD_LIFECYCLE_WEBHOOK_URL: 'https://crm.example/hooks', PLUGBOARD_LIFECYCLE_WEBHOOK_SECRET: 'a plain password' }),
    /PLUGBOARD_LIFECYCLE_WEBHOOK_SECRET must be a Standard Webhooks secret/,
  );
  const settings = runtimeSettings({ PLUGBOARD_LIFECYCLE_WEBHOOK_URL: 'https://crm.example/hooks', PLUGBOARD_LIFECYCLE_WEBHOOK_SECRET: SECRET });
  assert.equal(settings.lifecycleUrl, 'https://crm.example/hooks');
});
