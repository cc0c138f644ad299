// createVendorClient (exported by @plugboard/server) over a real socket to a real server with the
// flow runtime: typed answers, invoke's result and its failure as VendorApiError, the proxy's
// answer handed through, a fresh token asked for on every call.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { serve } from '@hono/node-server';
import { createVendorClient, VendorApiError } from '../../server/src/index.js';
import { ProblemType } from '../../src/protocol/index.js';
import { createHarness, type Harness } from './runtime.harness.js';

describe('vendor client', () => {
  let h: Harness;
  let server: Server;
  let baseUrl: string;
  before(async () => {
    h = await createHarness();
    server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await new Promise<void>((r) => server.once('listening', () => r()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await h.close();
  });

  test('lists, reads and pauses with typed answers, and invokes a flow', async () => {
    const { instance, customer } = await h.activeInstance('client-co');
    let tokensAsked = 0;
    const client = createVendorClient({
      baseUrl,
      token: async () => {
        tokensAsked++;
        return h.vendorToken('support');
      },
    });

    const customers = await client.listCustomers();
    assert.ok(customers.customers.some((c) => c.id === customer.id && c.externalId === 'client-co'));
    const listed = await client.listInstances({ customer: 'client-co' });
    assert.deepEqual(
      listed.instances.map((i) => [i.id, i.status, i.customer.externalId]),
      [[instance.id, 'active', 'client-co']],
    );
    assert.equal((await client.getInstance(instance.id)).integrationKey, 'recorder');

    // A generous limit: the first run starts the customer's executor, slow on a busy machine.
    const ran = await client.invoke(instance.id, 'signed', { payload: { email: 'ada@example.test' }, timeoutMs: 60_000 });
    assert.equal(ran.status, 'succeeded');
    assert.deepEqual(ran.result, { received: { email: 'ada@example.test' } });

    const failed = await client.invoke(instance.id, 'record', { payload: { fail: 'fatal' } }).then(
      () => assert.fail('a failed flow rejects'),
      (e: unknown) => e,
    );
    assert.ok(failed instanceof VendorApiError);
    assert.equal(failed.status, 422);
    assert.equal(failed.problem.type, ProblemType.flowFailed);
    assert.equal(failed.message, 'the flow failed on purpose');
    assert.equal(typeof failed.problem.executionId, 'string');

    // The proxy hands the answer through as a Response: here Plugboard's own 404 (recorder declares no connection).
    const proxied = await client.proxy(instance.id, 'none', '/contacts?limit=1');
    assert.equal(proxied.status, 404);
    assert.equal(((await proxied.json()) as { type: string }).type, ProblemType.notFound);

    const paused = await client.pauseInstance(instance.id, { reason: 'Billing hold' });
    assert.equal(paused.status, 'paused');
    assert.equal(paused.statusReason, 'Billing hold');
    assert.equal(tokensAsked, 7, 'a token per request');
  });

  test('a refusal is a VendorApiError with the problem', async () => {
    const viewer = createVendorClient({ baseUrl, token: await h.vendorToken('viewer') });
    const { instance } = await h.activeInstance('client-viewer');
    await assert.rejects(viewer.pauseInstance(instance.id), (e: unknown) => {
      assert.ok(e instanceof VendorApiError);
      assert.equal(e.status, 403);
      assert.equal(e.problem.requiredRole, 'support');
      return true;
    });
    await assert.rejects(viewer.getInstance('no-such-instance'), (e: unknown) => e instanceof VendorApiError && e.status === 404);
  });
});
