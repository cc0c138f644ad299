// The demo integrations on their own, against the demo's stand-in services on a real socket:
// what their data sources return for a query, what their flows post, and which failures
// they mark as retryable.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { serve } from '@hono/node-server';
import integrations from '../../server/src/examples/integrations.js';
import { DemoInbox, demoServices } from '../../demo/services.js';
import { createDemoVendor } from '../../demo/vendor.js';
import { RetryableError, type ConnectionCredentials, type FlowContext, type Integration } from '../../server/src/sdk/index.js';

let server: Server;
let inbox: DemoInbox;
let base: string;

function integration(key: string): Integration {
  const found = integrations.find((i) => i.key === key);
  assert.ok(found, key);
  return found;
}

function apiKeyCredentials(values: Record<string, string>): Record<string, ConnectionCredentials> {
  return { [Object.keys(values)[0] === 'accountId' ? 'northwind' : 'gridsheet']: { kind: 'apiKey', values } };
}

/** ctx.state kept in a Map, as the executor keeps it for one execution. */
function memoryState(entries = new Map<string, string>()): FlowContext['state'] {
  return {
    get: async (key) => (entries.has(key) ? JSON.parse(entries.get(key)!) : undefined),
    set: async (key, value) => void entries.set(key, JSON.stringify(value)),
    delete: async (key) => void entries.delete(key),
    keys: async () => [...entries.keys()],
  };
}

function context<C>(config: C, extra: Partial<FlowContext<C>> = {}): FlowContext<C> & { lines: string[] } {
  const lines: string[] = [];
  return {
    executionId: 'exe_test',
    instanceId: 'ins_test',
    customer: { id: 'cus_1', externalId: 'globex' },
    flow: 'test',
    attempt: 1,
    trigger: 'webhook',
    payload: null,
    headers: {},
    config,
    connections: {},
    log: { info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) },
    fetch,
    state: memoryState(),
    signal: AbortSignal.timeout(10_000),
    lines,
    ...extra,
  };
}

describe('demo integrations', () => {
  before(async () => {
    inbox = new DemoInbox();
    const app = demoServices({ vendor: await createDemoVendor(), inbox, oauthIssuer: () => undefined });
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await new Promise<void>((r) => server.once('listening', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.env.PLUGBOARD_DEMO_URL = base;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test('five integrations in five categories, each with an icon, overview and at least one flow', () => {
    assert.equal(integrations.length, 5);
    assert.equal(new Set(integrations.map((i) => i.category)).size, 5);
    for (const i of integrations) {
      const d = i.describe();
      assert.match(d.icon ?? '', /^data:image\/svg\+xml,/, i.key);
      assert.ok((d.overview ?? '').length > 80, `${i.key} has an overview`);
      assert.ok(d.flows.length >= 1, `${i.key} has a flow`);
    }
  });

  test('the Gridsheet pickers filter by the query, and the sheet picker follows the workspace', async () => {
    const g = integration('gridsheet-export');
    const connections = apiKeyCredentials({ apiKey: 'demo_12345678' });
    const input = { connections, signal: AbortSignal.timeout(5000), fetch };
    assert.deepEqual(await g.dataSources.workspaces!({ ...input, config: {}, query: 'mark' }), [{ value: 'ws-marketing', label: 'Marketing' }]);
    assert.equal((await g.dataSources.workspaces!({ ...input, config: {}, query: '' })).length, 3);
    assert.deepEqual(await g.dataSources.sheets!({ ...input, config: {}, query: '' }), [], 'no workspace yet: no sheets');
    assert.deepEqual(
      (await g.dataSources.sheets!({ ...input, config: { workspace: 'ws-finance' }, query: 'invoice' })).map((o) => o.label),
      ['Open invoices'],
    );
    await assert.rejects(
      g.dataSources.workspaces!({ ...input, connections: apiKeyCredentials({ apiKey: 'sk_live_wrong' }), config: {}, query: '' }),
      (err: unknown) => err instanceof Error && !(err instanceof RetryableError) && /401/.test(err.message),
    );
  });

  test("the Northwind mapping: Acme CRM fields to fill, the account's own Northwind fields to read (with its API key)", async () => {
    const n = integration('northwind-crm-sync');
    const input = { config: {}, query: '', signal: AbortSignal.timeout(5000), fetch };
    const connections = apiKeyCredentials({ accountId: 'nw-204815', apiKey: 'demo_abcdef12' });
    assert.deepEqual(
      (await n.dataSources.crmFields!({ ...input, connections: {} })).map((o) => o.value),
      ['email', 'firstName', 'lastName', 'company', 'phone', 'title'],
    );
    const sources = await n.dataSources.contactFields!({ ...input, connections });
    assert.deepEqual(
      sources.find((o) => o.value === 'account_name'),
      { value: 'account_name', label: 'Account name' },
    );
    assert.equal(sources.length, 6);
    await assert.rejects(
      n.dataSources.contactFields!({ ...input, connections: apiKeyCredentials({ accountId: 'nw-204815', apiKey: 'sk_live_wrong' }) }),
      (err: unknown) => err instanceof Error && /401/.test(err.message),
    );
    // The page is titled "Field mapping"; its one mapping field says what it maps, not the same words again.
    const page = n.describe().configPages.find((p) => p.title === 'Field mapping')!;
    const property = (page.schema.properties as Record<string, Record<string, unknown>>).fieldMapping!;
    assert.equal(property['x-plug-kind'], 'mapping');
    assert.equal(property.title, 'Contact fields');
    assert.equal(property['x-plug-targets'], 'crmFields');
    assert.equal(property['x-plug-sources'], 'contactFields');
  });

  test('the Northwind sync applies the field mapping and reports to the inbox', async () => {
    const flow = integration('northwind-crm-sync').flows.syncContacts!;
    const fieldMapping = [
      { target: 'email', source: 'email' },
      { target: 'lastName', source: 'last_name' },
      { target: 'title', source: 'job_title' },
    ];
    const ctx = context(
      { direction: 'import', fieldMapping, intervalMinutes: 15, includeArchived: false },
      { connections: apiKeyCredentials({ accountId: 'nw-204815', apiKey: 'demo_abcdef12' }), trigger: 'schedule' },
    );
    assert.deepEqual(await flow.run(ctx), { synced: 3, summary: 'Synced 3 contacts' });
    const [message] = inbox.list('globex');
    assert.equal(message?.title, 'Synced 3 contacts');
    assert.deepEqual((message?.data as unknown[])[0], { email: 'ada@analytical.example', lastName: 'Lovelace', title: 'Analyst' });
    assert.match(ctx.lines.join('\n'), /Fetched 3 contacts from nw-204815 \(import\): 3 new, 0 changed/);
    assert.match(ctx.lines.join('\n'), /sync: 3 records listed; 3 created/, 'two pages of the paged listing');

    // The next run, with the state the first one kept: nothing changed, nothing posted.
    assert.deepEqual(await flow.run(ctx), { summary: 'No changes (3 records listed)' });
    assert.equal(inbox.list('globex').length, 1);
    // With archived contacts included, only the one not seen before is handed on.
    assert.deepEqual(await flow.run({ ...ctx, config: { ...ctx.config, includeArchived: true } }), { synced: 1, summary: 'Synced 1 contact' });
    assert.deepEqual((inbox.list('globex')[0]?.data as unknown[])[0], { email: 'katherine@orbit.example', lastName: 'Johnson', title: 'Mathematician' });
  });

  test('the Ledgerly alert ignores small amounts and alerts on large ones', async () => {
    const flow = integration('ledgerly-billing-alerts').flows.paymentEvent!;
    const config = { minimumAmount: 500, currency: 'EUR', events: ['payment.failed'], recipients: 'billing@globex.example' };
    assert.deepEqual(await flow.run(context(config, { payload: { type: 'payment.failed', amount: 20 } })), {
      alerted: false,
      summary: 'Ignored: below your minimum of 500 EUR',
    });
    assert.deepEqual(await flow.run(context(config, { payload: { type: 'invoice.paid', amount: 9000 } })), {
      alerted: false,
      summary: 'Ignored: Invoice paid is not in "Alert on"',
    });
    assert.deepEqual(await flow.run(context(config, { payload: { type: 'payment.failed', amount: 1800, customerName: 'Initrode' } })), {
      alerted: true,
      summary: 'Alerted billing@globex.example: Payment failed, €1,800.00',
    });
    assert.match(inbox.list('globex')[0]!.title, /payment\.failed: €1,800\.00 \(Initrode\)/);
  });

  test('the webhook forwarder signs what it forwards, and retries 5xx but not 4xx', async () => {
    const forward = integration('webhook-forwarder').flows.forward!;
    const flow = { run: async (ctx: FlowContext) => forward.run(ctx) };
    const seen: { status: number; signature?: string; body: string }[] = [];
    let answer = 503;
    const target = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ status: answer, signature: req.headers['x-acme-signature'] as string | undefined, body });
        res.writeHead(answer).end();
      });
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
    const targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/hook`;
    try {
      const config = { targetUrl, signingSecret: 'whsec_test', retries: 2 };
      const payload = { type: 'deal.won', id: 42 };
      await assert.rejects(flow.run(context(config, { payload })), RetryableError);
      await assert.rejects(
        flow.run(context(config, { payload, attempt: 3 })),
        (e: unknown) => !(e instanceof RetryableError) && /after 3 attempts/.test(String(e)),
      );
      answer = 404;
      await assert.rejects(flow.run(context(config, { payload })), (e: unknown) => !(e instanceof RetryableError) && /404/.test(String(e)));
      answer = 200;
      assert.deepEqual(await flow.run(context(config, { payload })), { status: 200, summary: `Forwarded to ${new URL(targetUrl).host}` });
      const { createHmac } = await import('node:crypto');
      const last = seen.at(-1)!;
      assert.equal(last.body, JSON.stringify(payload));
      assert.equal(last.signature, `sha256=${createHmac('sha256', 'whsec_test').update(last.body).digest('hex')}`);
    } finally {
      await new Promise<void>((r) => target.close(() => r()));
    }
  });

  test('Chatwave skips events it was not asked to announce', async () => {
    const flow = integration('chatwave-notifier').flows.announce!;
    const ctx = context(
      { channel: 'C002', template: '{{title}}', notifyOn: ['deal.won'], mentionOwner: false },
      { payload: { event: 'ticket.opened', title: 'Printer on fire' } },
    );
    assert.deepEqual(await flow.run(ctx), { posted: false, reason: 'filtered', summary: 'Skipped: Support ticket opened is not in "Notify on"' });
    assert.match(ctx.lines[0]!, /Skipped ticket\.opened/);
  });
});
