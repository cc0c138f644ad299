// @plugboard/server/testing as a vendor's integration engineer uses it: node:test, the harness
// imported by its package name, a flow run in a real executor against a stand-in API on 127.0.0.1.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createFlowHarness, type FlowHarness } from '@plugboard/server/testing';

const MODULE = new URL('./fixtures/flows/harnessed.ts', import.meta.url);
const API_KEY = 'crm-key-0123456789abcdef';

/** The stand-in CRM: answers POST /contacts with an id, lists `contacts` two a page on GET, and remembers what it was sent. */
async function standInCrm() {
  const received: { url: string; authorization?: string; body: unknown }[] = [];
  const contacts: { id: string; email: string; updatedAt: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => answer(req, res, text));
  });
  function answer(req: IncomingMessage, res: ServerResponse, text: string): void {
    received.push({ url: req.url ?? '', authorization: req.headers.authorization, body: text ? JSON.parse(text) : null });
    const ok = req.headers.authorization === `Bearer ${API_KEY}`;
    if (ok && req.method === 'GET') {
      const from = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('cursor') ?? 0);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ records: contacts.slice(from, from + 2), next: from + 2 < contacts.length ? String(from + 2) : null }));
      return;
    }
    res.writeHead(ok ? 201 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok ? { id: `c-${received.length}` } : { error: 'unauthorized' }));
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, received, contacts, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('@plugboard/server/testing', () => {
  let harness: FlowHarness;
  let strict: FlowHarness;
  let crm: Awaited<ReturnType<typeof standInCrm>>;
  before(async () => {
    crm = await standInCrm();
    harness = createFlowHarness({ integrations: MODULE, egressAllow: '127.0.0.1' });
    strict = createFlowHarness({ integrations: MODULE });
  });
  after(async () => {
    await harness.close();
    await strict.close();
    await crm.close();
  });

  test('runs a flow with the given config, connection and payload, and returns its result, logs and requests', async () => {
    const run = await harness.run({
      integration: 'crm-sync',
      flow: 'push',
      config: { list: 'newsletter' },
      connections: { crm: { kind: 'apiKey', values: { apiKey: API_KEY } } },
      payload: { url: crm.url, email: 'ada@example.com' },
    });
    assert.equal(run.status, 'succeeded', run.error);
    assert.deepEqual(run.result, { summary: 'Created contact c-1', id: 'c-1' });
    assert.deepEqual(
      run.logs.map((l) => [l.level, l.message]),
      [['info', 'pushing ada@example.com to list newsletter']],
    );
    assert.deepEqual(
      run.requests.map((r) => [r.method, r.host, r.port, r.status]),
      [['POST', '127.0.0.1', crm.port, 201]],
    );
    // What the stand-in got is what the flow sent; what the test sees never carries the key.
    assert.deepEqual(crm.received.at(-1), { url: '/contacts?list=newsletter', authorization: `Bearer ${API_KEY}`, body: { email: 'ada@example.com' } });
    assert.ok(!JSON.stringify(run.requests).includes(API_KEY));
  });

  test('a thrown error is a failed run with its message; RetryableError says it would be retried', async () => {
    const refused = await harness.run({ integration: 'crm-sync', flow: 'refuse' });
    assert.equal(refused.status, 'failed');
    assert.equal(refused.error, 'The CRM said no');
    assert.equal(refused.retryable, false);
    const later = await harness.run({ integration: 'crm-sync', flow: 'later' });
    assert.equal(later.status, 'failed');
    assert.equal(later.retryable, true);
  });

  test('a wrong key at the stand-in fails the flow the way production would', async () => {
    const run = await harness.run({
      integration: 'crm-sync',
      flow: 'push',
      config: { list: 'x' },
      connections: { crm: { kind: 'apiKey', values: { apiKey: 'wrong' } } },
      payload: { url: crm.url, email: 'bob@example.com' },
    });
    assert.equal(run.status, 'failed');
    assert.equal(run.error, 'The CRM refused the contact (401)');
  });

  test('the time limit holds: a flow that never ends is timed out', async () => {
    const run = await harness.run({ integration: 'crm-sync', flow: 'forever', timeoutMs: 300 });
    assert.equal(run.status, 'timed_out');
  });

  test('the egress policy is production’s: without an exception, loopback is refused', async () => {
    const run = await strict.run({
      integration: 'crm-sync',
      flow: 'push',
      config: { list: 'x' },
      connections: { crm: { kind: 'apiKey', values: { apiKey: API_KEY } } },
      payload: { url: crm.url, email: 'eve@example.com' },
    });
    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', /PLUGBOARD_EGRESS_ALLOW/);
    assert.ok(!crm.received.some((r) => (r.body as { email?: string } | null)?.email === 'eve@example.com'), 'nothing reached the stand-in');
  });

  test('state goes in, and a succeeded run’s changes come out; the next run reads them', async () => {
    const first = await harness.run({ integration: 'crm-sync', flow: 'count', state: { count: 41, stale: true, other: { keep: [1, 2] } } });
    assert.equal(first.status, 'succeeded', first.error);
    assert.deepEqual(first.result, { count: 42 });
    assert.deepEqual(first.stateChanges, { set: { count: 42 }, deleted: ['stale'] });
    assert.deepEqual(first.state, { count: 42, other: { keep: [1, 2] } });
    const second = await harness.run({ integration: 'crm-sync', flow: 'count', state: first.state });
    assert.deepEqual(second.result, { count: 43 });
    const fresh = await harness.run({ integration: 'crm-sync', flow: 'count' });
    assert.deepEqual(fresh.result, { count: 1 }, 'no state given: an instance that never stored any');
  });

  test('a failed run’s state changes are dropped, as production drops them', async () => {
    const run = await harness.run({ integration: 'crm-sync', flow: 'count', payload: { fail: true }, state: { count: 7, stale: 'x' } });
    assert.equal(run.status, 'failed');
    assert.equal(run.error, 'failed after counting to 8', 'the flow did write before it threw');
    assert.deepEqual(run.stateChanges, { set: {}, deleted: [] });
    assert.deepEqual(run.state, { count: 7, stale: 'x' });
  });

  test('a sync run through the harness hands only what changed since the state it is given', async () => {
    crm.contacts.splice(0, crm.contacts.length, ...['a', 'b', 'c'].map((id) => ({ id, email: `${id}@example.com`, updatedAt: '1' })));
    const input = {
      integration: 'crm-sync',
      flow: 'contacts',
      trigger: 'schedule' as const,
      config: { url: crm.url },
      connections: { crm: { kind: 'apiKey' as const, values: { apiKey: API_KEY } } },
    };
    const first = await harness.run(input);
    assert.equal(first.status, 'succeeded', first.error);
    assert.deepEqual(first.result, { created: ['a', 'b', 'c'], updated: [], deleted: [] });
    assert.equal(first.requests.length, 2, 'two pages of two');
    crm.contacts.splice(1, 1); // b deleted
    crm.contacts[0]!.updatedAt = '2'; // a updated
    crm.contacts.push({ id: 'd', email: 'd@example.com', updatedAt: '1' });
    const second = await harness.run({ ...input, state: first.state });
    assert.deepEqual(second.result, { created: ['d'], updated: ['a'], deleted: ['b'] });
    const third = await harness.run({ ...input, state: second.state });
    assert.deepEqual(third.result, { summary: 'No changes (3 records listed)' });
    assert.deepEqual(Object.keys(third.state), ['sync:contacts']);
  });

  test('an unknown flow fails with a message naming it', async () => {
    const run = await harness.run({ integration: 'crm-sync', flow: 'nope' });
    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', /nope/);
  });
});
