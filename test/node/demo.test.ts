// The demo as a newcomer meets it: the real server, the host page under a strict CSP, Acme's
// token endpoint, the demo integrations and their stand-in services, on a free port.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PortInUseError, startDemo, type RunningDemo } from '../../demo/main.js';
import { bundleStatus, packageRoot } from '../../demo/host-page.js';
import { eventually } from './fixtures/eventually.js';

let demo: RunningDemo;
let dataDir: string;

async function tokenFor(customer: string, role = 'admin'): Promise<string> {
  const res = await fetch(`${demo.url}/demo/token?customer=${customer}&role=${role}`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { token: string; expiresAt: string };
  return body.token;
}

async function api(path: string, token: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${demo.url}/api/v1${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
  });
}

describe('plugboard demo', () => {
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'plugboard-demo-'));
    demo = await startDemo({ port: 0, dataDir, logLevel: 'silent' });
  });
  after(async () => {
    await demo?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('serves the Acme CRM page and the theming page with a strict CSP and external scripts only', async () => {
    for (const path of ['/', '/theming.html']) {
      const res = await fetch(`${demo.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'(;|$)/, `${path}: ${csp}`);
      assert.match(csp, /style-src 'self'(;|$)/, `${path}: ${csp}`);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      const html = await res.text();
      assert.match(html, /<script type="module" src="\/plugboard\.js"><\/script>/);
      assert.match(html, /<plug-marketplace[^>]*api="\/api\/v1"/);
      // Every <script> has a src: the page would break under its own CSP otherwise.
      const scripts = html.match(/<script\b[^>]*>/g) ?? [];
      assert.ok(scripts.length >= 2);
      for (const tag of scripts) assert.match(tag, /\bsrc="/, tag);
      assert.doesNotMatch(html, /<style\b|\sstyle="|\son[a-z]+="/i, 'no inline style or handler attributes');
    }
    const js = await fetch(`${demo.url}/acme.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    const css = await fetch(`${demo.url}/acme.css`);
    assert.match(css.headers.get('content-type') ?? '', /text\/css/);
  });

  test('serves dist/plugboard.js at /plugboard.js, or says to build it', async () => {
    const res = await fetch(`${demo.url}/plugboard.js`);
    assert.match(res.headers.get('content-type') ?? '', /javascript/);
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const bundle = bundleStatus(packageRoot());
    const text = await res.text();
    if (bundle.present) {
      assert.equal(res.status, 200);
      assert.equal(Buffer.byteLength(text), bundle.bytes);
    } else {
      assert.equal(res.status, 404);
      assert.match(text, /npm run build/);
    }
  });

  test('a token from the demo vendor endpoint is accepted by the API and lists the demo integrations', async () => {
    const res = await fetch(`${demo.url}/demo/token?customer=globex`);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = (await res.json()) as { token: string; expiresAt: string; customer: { id: string }; user: { role: string } };
    assert.equal(body.customer.id, 'globex');
    assert.equal(body.user.role, 'admin');
    const lifetime = Date.parse(body.expiresAt) - Date.now();
    assert.ok(lifetime > 9 * 60_000 && lifetime <= 10 * 60_000, `expires in ${lifetime} ms`);

    const catalog = await api('/integrations', body.token);
    assert.equal(catalog.status, 200);
    const { integrations } = (await catalog.json()) as { integrations: { key: string; category: string; icon?: string; instance: unknown }[] };
    assert.deepEqual(integrations.map((i) => i.key).sort(), [
      'chatwave-notifier',
      'gridsheet-export',
      'ledgerly-billing-alerts',
      'northwind-crm-sync',
      'webhook-forwarder',
    ]);
    assert.deepEqual(new Set(integrations.map((i) => i.category)), new Set(['Communication', 'CRM', 'Developer tools', 'Data', 'Finance']));
    for (const i of integrations) assert.match(i.icon ?? '', /^data:image\/svg\+xml,/);
  });

  test('the API rejects a tampered demo token and a member token cannot write', async () => {
    const token = await tokenFor('initech');
    const tampered = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    assert.equal((await api('/integrations', tampered)).status, 401);

    const member = await tokenFor('initech', 'member');
    assert.equal((await api('/integrations', member)).status, 200);
    const create = await api('/instances', member, { method: 'POST', body: JSON.stringify({ integrationKey: 'webhook-forwarder' }) });
    assert.equal(create.status, 403);

    const unknown = await fetch(`${demo.url}/demo/token?customer=umbrella`);
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { detail: string }).detail, /globex or initech/);
  });

  test('a data source runs through the server against the demo Gridsheet service with the stored API key', async () => {
    const token = await tokenFor('globex');
    const created = await api('/instances', token, { method: 'POST', body: JSON.stringify({ integrationKey: 'gridsheet-export' }) });
    assert.equal(created.status, 201);
    const instance = (await created.json()) as { id: string };

    // Without credentials the data source can't run: the server says so without details.
    const early = await api(`/instances/${instance.id}/data-sources/workspaces?q=`, token);
    assert.equal(early.status, 502);
    assert.match(((await early.json()) as { detail: string }).detail, /check the connection/);

    const creds = await api(`/instances/${instance.id}/connections/gridsheet`, token, {
      method: 'PUT',
      body: JSON.stringify({ values: { apiKey: 'demo_9f3c2a1b' } }),
    });
    assert.equal(creds.status, 200, await creds.clone().text());
    assert.doesNotMatch(await creds.text(), /demo_9f3c2a1b/, 'the key is write-only');

    const ws = await api(`/instances/${instance.id}/data-sources/workspaces?q=fin`, token);
    assert.equal(ws.status, 200);
    assert.deepEqual(await ws.json(), { options: [{ value: 'ws-finance', label: 'Finance' }] });

    // The sheet picker depends on the workspace field: saved config feeds it.
    const saved = await api(`/instances/${instance.id}/config`, token, {
      method: 'PUT',
      body: JSON.stringify({ config: { workspace: 'ws-sales' }, version: 1 }),
    });
    assert.equal(saved.status, 200, await saved.clone().text());
    const sheets = await api(`/instances/${instance.id}/data-sources/sheets?q=won`, token);
    assert.equal(sheets.status, 200);
    assert.deepEqual(await sheets.json(), { options: [{ value: 'sh-won', label: 'Closed won' }] });

    // The other customer sees none of it.
    const other = await tokenFor('initech');
    assert.equal((await api(`/instances/${instance.id}`, other)).status, 404);
  });

  test('the inbox needs a demo token and shows each customer only its own messages', async () => {
    assert.equal((await fetch(`${demo.url}/demo/inbox`)).status, 401);
    const posted = await fetch(`${demo.url}/demo/inbox`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: 'globex', source: 'Test', title: 'Hello <b>Globex</b>', body: 'one' }),
    });
    assert.equal(posted.status, 201);
    const globex = (await (await fetch(`${demo.url}/demo/inbox`, { headers: { authorization: `Bearer ${await tokenFor('globex')}` } })).json()) as {
      messages: { title: string }[];
    };
    assert.ok(globex.messages.some((m) => m.title === 'Hello <b>Globex</b>'));
    const initech = (await (await fetch(`${demo.url}/demo/inbox`, { headers: { authorization: `Bearer ${await tokenFor('initech')}` } })).json()) as {
      messages: { title: string }[];
    };
    assert.ok(!initech.messages.some((m) => m.title.includes('Globex')));
  });

  test('an activated webhook forwarder runs for real: signed webhook → executor → forwarded into the inbox', async () => {
    const token = await tokenFor('initech');
    const created = await api('/instances', token, { method: 'POST', body: JSON.stringify({ integrationKey: 'webhook-forwarder' }) });
    assert.equal(created.status, 201);
    const instance = (await created.json()) as { id: string; version: number };
    const target = `http://127.0.0.1:${demo.port}/demo/inbox`;
    const saved = await api(`/instances/${instance.id}/config`, token, {
      method: 'PUT',
      body: JSON.stringify({ config: { targetUrl: target, signingSecret: 'whsec_initech_demo', retries: 1 }, version: instance.version }),
    });
    assert.equal(saved.status, 200, await saved.clone().text());
    const activated = await api(`/instances/${instance.id}/activate`, token, { method: 'POST' });
    assert.equal(activated.status, 200, await activated.clone().text());
    const { webhooks } = (await activated.json()) as { webhooks?: { flow: string; url: string; hmac: boolean }[] };
    assert.ok(webhooks, 'the activated instance lists its webhook URLs');
    const hook = webhooks.find((w) => w.flow === 'forward');
    assert.ok(hook?.hmac, 'the forward flow has a signed webhook URL');

    const secretRes = await api(`/instances/${instance.id}/webhooks/forward/secret`, token, { method: 'POST' });
    assert.equal(secretRes.status, 201);
    const { secret } = (await secretRes.json()) as { secret: string };
    const body = JSON.stringify({ type: 'contact.created', contact: { name: 'Peter Gibbons' } });
    const unsigned = await fetch(hook!.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(unsigned.status, 401, 'an unsigned call is refused');
    // Signed the Standard Webhooks way, as Acme CRM's backend would with the library.
    const { Webhook } = await import('standardwebhooks');
    const sentAt = new Date();
    const sentHeaders = {
      'webhook-id': 'msg_demo_1',
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign('msg_demo_1', sentAt, body),
    };
    const accepted = await fetch(hook!.url, { method: 'POST', headers: { 'content-type': 'application/json', ...sentHeaders }, body });
    assert.equal(accepted.status, 202);
    const { executionId } = (await accepted.json()) as { executionId: string };
    // The same delivery again (a sender's retry) is answered with the first run and runs nothing.
    const again = await fetch(hook!.url, { method: 'POST', headers: { 'content-type': 'application/json', ...sentHeaders }, body });
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { executionId });
    // Acme's "Try a flow" sends through its backend, which signs with the library.
    const tried = await fetch(`${demo.url}/demo/send-webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: hook!.url, body: JSON.stringify({ type: 'contact.updated' }), secret }),
    });
    assert.equal(((await tried.json()) as { status: number }).status, 202);

    // The flow forwards the body, signed with the customer's own secret, to the inbox.
    const forwarded = await eventually(
      async () => {
        const inbox = (await (await fetch(`${demo.url}/demo/inbox`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
          messages: { source: string; data: unknown; executionId?: string }[];
        };
        return inbox.messages.find((m) => m.executionId === executionId);
      },
      30_000,
      'the forwarded event to reach the inbox',
    );
    assert.equal(forwarded.source, 'Webhook forwarder (signed)');
    assert.deepEqual(forwarded.data, { type: 'contact.created', contact: { name: 'Peter Gibbons' } });

    const execution = await eventually(
      async () => {
        const res = await api(`/executions/${executionId}`, token);
        const detail = res.status === 200 ? ((await res.json()) as { status: string; logs: { message: string }[] }) : undefined;
        return detail && detail.status !== 'queued' && detail.status !== 'running' ? detail : undefined;
      },
      30_000,
      'the execution to end',
    );
    assert.equal(execution.status, 'succeeded');
    assert.ok(
      execution.logs.some((l) => /Forwarded \d+ bytes to 127\.0\.0\.1/.test(l.message)),
      JSON.stringify(execution.logs),
    );
    assert.doesNotMatch(JSON.stringify(execution), /whsec_initech_demo/, 'the signing secret is not in the execution record');
  });

  test('the demo OAuth server answers discovery with its issuer', async () => {
    assert.ok(demo.oauthIssuer, `demo OAuth server not running: ${demo.oauthProblem}`);
    const res = await fetch(`${demo.oauthIssuer}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { issuer: string }).issuer, demo.oauthIssuer);
  });

  test('a busy port gives a clear message', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(startDemo({ port, dataDir, logLevel: 'silent', withoutOAuth: true }), (err: unknown) => {
        assert.ok(err instanceof PortInUseError);
        assert.match(err.message, new RegExp(`Port ${port} is already in use.*PORT=`));
        return true;
      });
    } finally {
      blocker.close();
    }
  });
});
