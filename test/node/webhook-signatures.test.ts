// Webhooks signed the Standard Webhooks way (issue 9, point 3), on SQLite and PostgreSQL, with flows
// running in real executor processes: a signature made with the `standardwebhooks` library is
// accepted; an unsigned, wrongly signed, old or future-dated delivery is refused; a redelivered
// `webhook-id` runs once; an integration's own verifier (GitHub's scheme) is honoured; alerts to
// the vendor verify with the library.
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { ExecutionList, Problem } from '../../src/protocol/index.js';
import { createAlertSender, type AlertEvent } from '../../server/src/runtime/alerts.js';
import { runtimeSettings } from '../../server/src/runtime/index.js';
import { runtimeDb } from '../../server/src/runtime/schema.js';
import { createHarness, eventually, newSchema, PG_URL, type Harness } from './runtime.harness.js';
import fixture, { hooks } from './webhook-signatures.fixture.js';

const FIXTURE_MODULE = new URL('./webhook-signatures.fixture.ts', import.meta.url).pathname;
const MINUTE = 60_000;

interface Hook {
  instanceId: string;
  customer: string;
  path: string;
  secret: string;
}

async function activeHook(h: Harness, customer: string, flow: string, withSecret = true): Promise<Hook> {
  const record = await h.store.ensureCustomer(customer);
  const tenant = h.store.forCustomer(record);
  const audit = { actor: 'user:test', action: 'instance.created', target: '', details: {} };
  const { instance } = await tenant.createInstance({ integrationKey: 'hooks', audit });
  const active = await tenant.setStatus(instance.id, { status: 'active', audit: { ...audit, action: 'instance.activated' } });
  const endpoints = await h.runtime.webhooks.list(active!, hooks);
  const path = new URL(endpoints.find((e) => e.flow === flow)!.url).pathname;
  if (!withSecret) return { instanceId: instance.id, customer, path, secret: '' };
  const res = await h.app.request(`/api/v1/instances/${instance.id}/webhooks/${flow}/secret`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await h.token(customer)}` },
  });
  assert.equal(res.status, 201);
  const { secret } = (await res.json()) as { secret: string };
  return { instanceId: instance.id, customer, path, secret };
}

/** The three Standard Webhooks headers, made by the library, for `body` sent at `at`. */
function signed(secret: string, body: string, options: { id?: string; at?: Date } = {}): Record<string, string> {
  const id = options.id ?? `msg_${randomUUID()}`;
  const at = options.at ?? new Date();
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, at, body) };
}

const send = async (h: Harness, path: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
  h.app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

async function executions(h: Harness, hook: Hook): Promise<ExecutionList['executions']> {
  const res = await h.app.request(`/api/v1/instances/${hook.instanceId}/executions`, { headers: { authorization: `Bearer ${await h.token(hook.customer)}` } });
  assert.equal(res.status, 200);
  return ((await res.json()) as ExecutionList).executions;
}

/** Waits until the flow ran for each execution id, then says which ran (in any order). */
async function ran(h: Harness, hook: Hook, flow: string, count: number): Promise<string[]> {
  return eventually(() => {
    const ids = h.sideEffects(hook.instanceId, flow);
    return ids.length >= count ? ids : undefined;
  });
}

async function refused(res: Response, status: number, path: string): Promise<Problem> {
  assert.equal(res.status, status);
  assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
  const problem = (await res.json()) as Problem & { errors?: { path: string }[] };
  assert.ok(
    problem.errors?.some((e) => e.path === path),
    `names ${path}: ${JSON.stringify(problem)}`,
  );
  return problem;
}

function suite(name: string, options: { pg: boolean; skip: string | false }) {
  describe(name, { skip: options.skip }, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ ...(options.pg ? { pgSchema: newSchema('whs') } : {}), integrations: { module: FIXTURE_MODULE, list: fixture } });
    });
    after(async () => {
      await h?.close();
    });

    test('a delivery signed with the library runs; unsigned, another secret or a changed body answers 401', async () => {
      const hook = await activeHook(h, 'signer', 'signed');
      assert.match(hook.secret, /^whsec_[A-Za-z0-9+/]+={0,2}$/, 'a Standard Webhooks secret');
      const body = JSON.stringify({ order: 42 });
      await refused(await send(h, hook.path, body), 401, 'headers.webhook-signature');
      const other = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
      const wrong = await refused(await send(h, hook.path, body, signed(other, body)), 401, 'headers.webhook-signature');
      assert.ok(!JSON.stringify(wrong).includes(hook.secret));
      await refused(await send(h, hook.path, JSON.stringify({ order: 43 }), signed(hook.secret, body)), 401, 'headers.webhook-signature');

      const ok = await send(h, hook.path, body, signed(hook.secret, body, { id: 'msg_first' }));
      assert.equal(ok.status, 202);
      const { executionId } = (await ok.json()) as { executionId: string };
      assert.deepEqual(await ran(h, hook, 'signed', 1), [executionId]);
      // The outcome's summary can land a moment after the flow is seen to have run (the runner's own thread).
      let [execution] = await executions(h, hook);
      for (let i = 0; i < 100 && !execution?.resultSummary; i++) {
        await new Promise((r) => setTimeout(r, 100));
        [execution] = await executions(h, hook);
      }
      assert.equal(execution?.id, executionId);
      // The flow sees the delivery's id, never its signature.
      assert.match(execution?.resultSummary ?? '', /"webhook-id":"msg_first"/);
      assert.doesNotMatch(execution?.resultSummary ?? '', /webhook-signature/);
    });

    test('a delivery more than five minutes old, or dated more than five minutes ahead, answers 401 naming webhook-timestamp and runs nothing', async () => {
      const hook = await activeHook(h, 'clock', 'signed');
      const body = JSON.stringify({ at: 'then' });
      const old = await refused(
        await send(h, hook.path, body, signed(hook.secret, body, { at: new Date(Date.now() - 6 * MINUTE) })),
        401,
        'headers.webhook-timestamp',
      );
      assert.match(old.detail ?? '', /too old/);
      const future = await refused(
        await send(h, hook.path, body, signed(hook.secret, body, { at: new Date(Date.now() + 6 * MINUTE) })),
        401,
        'headers.webhook-timestamp',
      );
      assert.match(future.detail ?? '', /future/);
      await refused(await send(h, hook.path, body, { ...signed(hook.secret, body), 'webhook-timestamp': 'yesterday' }), 400, 'headers.webhook-timestamp');
      // Inside the window, either way, it runs.
      assert.equal((await send(h, hook.path, body, signed(hook.secret, body, { at: new Date(Date.now() - 4 * MINUTE) }))).status, 202);
      assert.equal((await send(h, hook.path, body, signed(hook.secret, body, { at: new Date(Date.now() + 4 * MINUTE) }))).status, 202);
      await ran(h, hook, 'signed', 2);
      assert.equal((await executions(h, hook)).length, 2);
    });

    test('a replayed or redelivered webhook-id answers 200 with the first execution id and runs once, also when the copies arrive together', async () => {
      const hook = await activeHook(h, 'replay', 'signed');
      const body = JSON.stringify({ invoice: 'in_1' });
      const headers = signed(hook.secret, body, { id: 'msg_redelivered' });
      const first = await send(h, hook.path, body, headers);
      assert.equal(first.status, 202);
      const { executionId } = (await first.json()) as { executionId: string };
      const again = await send(h, hook.path, body, headers);
      assert.equal(again.status, 200);
      assert.deepEqual(await again.json(), { executionId });
      // A redelivery re-signed later (same id, new timestamp) is the same delivery.
      const resigned = await send(h, hook.path, body, signed(hook.secret, body, { id: 'msg_redelivered', at: new Date(Date.now() + 1000) }));
      assert.equal(resigned.status, 200);

      // Ten copies of a new delivery at once: one runs, nine are told it did.
      const burst = signed(hook.secret, body, { id: 'msg_burst' });
      const answers = await Promise.all(Array.from({ length: 10 }, () => send(h, hook.path, body, burst)));
      assert.deepEqual(answers.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
      const ids = new Set(await Promise.all(answers.map(async (r) => ((await r.json()) as { executionId: string }).executionId)));
      assert.equal(ids.size, 1, 'every copy names the one execution');

      const done = await ran(h, hook, 'signed', 2);
      assert.deepEqual(done.sort(), [executionId, ...ids].sort());
      assert.equal((await executions(h, hook)).length, 2);
    });

    test('the same id on another flow is another delivery; seen ids are pruned once past the tolerance window', async () => {
      const a = await activeHook(h, 'prune-a', 'signed');
      const b = await activeHook(h, 'prune-b', 'signed');
      const body = '{}';
      assert.equal((await send(h, a.path, body, signed(a.secret, body, { id: 'msg_shared' }))).status, 202);
      assert.equal((await send(h, b.path, body, signed(b.secret, body, { id: 'msg_shared' }))).status, 202);
      assert.equal((await send(h, a.path, body, signed(a.secret, body, { id: 'msg_older', at: new Date(Date.now() - 4 * MINUTE) }))).status, 202);
      const db = runtimeDb(h.store.db);
      const seen = async () =>
        (await db.selectFrom('webhook_deliveries').select('delivery_id').where('instance_id', 'in', [a.instanceId, b.instanceId]).execute())
          .map((r) => r.delivery_id)
          .sort();
      assert.deepEqual(await seen(), ['msg_older', 'msg_shared', 'msg_shared']);
      // Two minutes on, msg_older's timestamp is past the window: its row goes (a replay would be refused as too old).
      await h.runtime.webhooks.pruneDeliveries(Date.now() + 2 * MINUTE, true);
      assert.deepEqual(await seen(), ['msg_shared', 'msg_shared']);
      await ran(h, a, 'signed', 2);
      await ran(h, b, 'signed', 1);
    });

    test('webhook({ hmac: true }), the old name, is the same Standard Webhooks scheme; an unsigned flow still takes plain POSTs', async () => {
      const legacy = await activeHook(h, 'legacy', 'legacy');
      const body = JSON.stringify({ old: true });
      await refused(
        await send(h, legacy.path, body, { 'x-plugboard-signature': `sha256=${createHmac('sha256', legacy.secret).update(body).digest('hex')}` }),
        401,
        'headers.webhook-id',
      );
      assert.equal((await send(h, legacy.path, body, signed(legacy.secret, body))).status, 202);

      const open = await activeHook(h, 'open', 'open', false);
      assert.equal((await send(h, open.path, body)).status, 202);
      await ran(h, legacy, 'legacy', 1);
      await ran(h, open, 'open', 1);
    });

    test('a signed flow without a generated secret refuses everything with 401', async () => {
      const hook = await activeHook(h, 'nosecret', 'signed', false);
      const fake = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
      await refused(await send(h, hook.path, '{}', signed(fake, '{}')), 401, '(secret)');
      assert.equal((await executions(h, hook)).length, 0);
    });

    test("an integration's own verifier (GitHub's X-Hub-Signature-256) accepts its signature, refuses others, and runs a redelivered X-GitHub-Delivery once", async () => {
      const hook = await activeHook(h, 'github', 'github');
      const body = JSON.stringify({ action: 'opened', number: 7 });
      const github = (secret: string, delivery: string, payload = body) => ({
        'x-github-event': 'pull_request',
        'x-github-delivery': delivery,
        'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`,
      });
      await refused(await send(h, hook.path, body), 401, '(signature)');
      await refused(await send(h, hook.path, body, github('not-the-secret', 'd-0')), 401, '(signature)');
      // A Standard Webhooks signature is not what this flow takes.
      await refused(await send(h, hook.path, body, signed(hook.secret, body)), 401, '(signature)');

      const ok = await send(h, hook.path, body, github(hook.secret, 'd-1'));
      assert.equal(ok.status, 202);
      const { executionId } = (await ok.json()) as { executionId: string };
      const again = await send(h, hook.path, body, github(hook.secret, 'd-1'));
      assert.equal(again.status, 200);
      assert.deepEqual(await again.json(), { executionId });
      assert.equal((await send(h, hook.path, body, github(hook.secret, 'd-2'))).status, 202);
      assert.equal((await ran(h, hook, 'github', 2)).length, 2);
      const list = await executions(h, hook);
      assert.equal(list.length, 2);
      assert.match(list.find((e) => e.id === executionId)?.resultSummary ?? '', /"x-github-event":"pull_request"/);
    });

    test('a verifier that throws refuses with 401 and runs nothing; an async verifier is awaited', async () => {
      const broken = await activeHook(h, 'broken', 'broken');
      const problem = await refused(await send(h, broken.path, '{}'), 401, '(signature)');
      assert.doesNotMatch(JSON.stringify(problem), /the verifier failed/, 'the verifier’s own error stays in the server');
      assert.equal((await executions(h, broken)).length, 0);

      const later = await activeHook(h, 'async', 'async');
      await refused(await send(h, later.path, '{}', { 'x-ok': 'no' }), 401, '(signature)');
      assert.equal((await send(h, later.path, '{}', { 'x-ok': 'yes' })).status, 202);
      await ran(h, later, 'async', 1);
    });
  });
}

suite('webhook signatures on SQLite', { pg: false, skip: false });
suite('webhook signatures on PostgreSQL', { pg: true, skip: PG_URL ? false : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' });

describe('alerts to the vendor', () => {
  test('each alert carries Standard Webhooks headers that the library verifies, with a webhook-id of its own', async () => {
    const secret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    const received: { body: string; headers: Record<string, string> }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ body, headers: req.headers as Record<string, string> });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const sender = createAlertSender({ url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`, secret, baseDelayMs: 10 });
    try {
      sender.send('instance.error', { instance: { id: 'i1' } });
      sender.send('instance.error', { instance: { id: 'i1' } });
      await sender.flush();
      assert.equal(received.length, 2);
      const events = received.map(({ body, headers }) => new Webhook(secret).verify(body, headers) as AlertEvent);
      assert.deepEqual(
        events.map((e) => e.type),
        ['instance.error', 'instance.error'],
      );
      assert.equal(received[0]!.headers['webhook-id'], events[0]!.id);
      assert.notEqual(received[0]!.headers['webhook-id'], received[1]!.headers['webhook-id']);
      const other = `whsec_${Buffer.alloc(32, 8).toString('base64')}`;
      assert.throws(() => new Webhook(other).verify(received[0]!.body, received[0]!.headers));
    } finally {
      sender.close();
      await new Promise((r) => receiver.close(r));
    }
  });

  test('PLUGBOARD_ALERT_SECRET must be a Standard Webhooks secret', () => {
    const url = 'https://vendor.test/alerts';
    assert.throws(
      () => runtimeSettings({ PLUGBOARD_ALERT_WEBHOOK_URL: url, PLUGBOARD_ALERT_SECRET: 'a plain password' }),
      /PLUGBOARD_ALERT_SECRET must be a Standard Webhooks secret/,
    );
    const secret = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
    assert.equal(runtimeSettings({ PLUGBOARD_ALERT_WEBHOOK_URL: url, PLUGBOARD_ALERT_SECRET: secret }).alertSecret, secret);
  });
});
