// Attacks on the surface of integration versions, the provider proxy and invocations (issues 10,
// 12, 13): what a hostile caller or a misbehaving integration can make the server answer, store
// or log. Each test names the hole it closes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { PROBLEM_CONTENT_TYPE, UpgradeJob } from '../../src/protocol/index.js';
import { loadIntegrations } from '../../server/src/integrations.js';
import { allMigrations } from '../../server/src/migrations.js';
import { apiKey, defineIntegration, field } from '../../server/src/sdk/index.js';
import { eventually } from './fixtures/eventually.js';
import { createHarness, type Harness } from './fixtures/harness.js';

const SECRET = 'tok_live_8c1f0e5a7b2d4963';
const vendor = (vendorRole = 'support') => ({ role: 'vendor', customer: undefined, customer_name: undefined, sub: 'backend-1', vendor_role: vendorRole });

const pages = (fields: Record<string, ReturnType<typeof field.text>>) => [{ title: 'Setup', fields }];
const v1 = defineIntegration({
  key: 'vault',
  name: 'Vault',
  description: 'Keeps a secret in its config.',
  category: 'test',
  version: '1.0.0',
  configPages: pages({ label: field.text({ label: 'Label' }), apiToken: field.secret({ label: 'API token' }) }),
});
// Each label makes version 2's migrate misbehave its own way, with the secret it was handed.
const v2 = defineIntegration({
  key: 'vault',
  name: 'Vault',
  description: 'Keeps a secret in its config.',
  category: 'test',
  version: '2.0.0',
  selfUpgrade: true,
  configPages: pages({ label: field.text({ label: 'Label' }), apiToken: field.secret({ label: 'API token' }) }),
  migrate: ({ config }) => {
    const token = String(config.apiToken);
    switch (config.label) {
      case 'throws':
        throw new Error(`the provider refused ${token}`);
      case 'getter':
        // A result whose property throws when read: the server reads it after migrate returned.
        return Object.defineProperty({ label: 'x' }, 'apiToken', {
          enumerable: true,
          get() {
            throw new Error(`lazy ${token}`);
          },
        });
      case 'proxy':
        return new Proxy(
          {},
          {
            ownKeys() {
              throw new Error(`keys of ${token}`);
            },
          },
        );
      case 'exposes':
        // The secret carried into a field version 2 stores in clear.
        return { label: `token was ${token}`, apiToken: token };
      case 'message':
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- the vendor's code may throw anything
        throw Object.defineProperty({}, 'message', {
          get() {
            throw new Error(`message of ${token}`);
          },
        });
      default:
        return config;
    }
  },
});

// Version 2 of an integration moves it from the starter plan to the pro plan.
const tiered = (version: string, labels: string[]) =>
  defineIntegration({ key: 'tiered', name: 'Tiered', description: 'Changes plan.', category: 'test', version, labels, selfUpgrade: true });

describe('attacks on integration versions', () => {
  let h: Harness;
  const cleanups: (() => unknown)[] = [];
  before(async () => {
    h = await createHarness({ after: (fn) => void cleanups.push(fn) }, { integrations: [v2, v1, tiered('2.0.0', ['pro']), tiered('1.0.0', ['starter'])] });
  });
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  /** An instance of customer `customer` on version 1 (loaded before version 2 is current: set by the store). */
  async function onVersion1(customer: string, label: string): Promise<string> {
    const as = { customer, customer_name: customer };
    const created = await h.call('POST', '/api/v1/instances', { body: { integrationKey: 'vault' }, as });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id as string;
    const saved = await h.call('PUT', `/api/v1/instances/${id}/config`, { body: { config: { label, apiToken: SECRET }, version: created.body.version }, as });
    assert.equal(saved.status, 200, saved.text);
    // Back to version 1, as an instance deployed before version 2 was loaded.
    const customerRow = (await h.store.vendor.listCustomers()).find((c) => c.externalId === customer)!;
    const instance = (await h.store.forCustomer(customerRow).getInstance(id))!;
    await h.store.forCustomer(customerRow).setRelease(id, {
      release: { integrationVersion: '1.0.0', config: instance.config, secrets: instance.secrets, secretNames: instance.secretNames },
      previous: null,
      expectedVersion: instance.version,
      audit: { actor: 'system', action: 'test.setup', target: `instance:${id}`, details: {} },
    });
    return id;
  }

  test('another customer’s instance can’t be upgraded, read or described through the version routes', async () => {
    const a = { customer: 'tenant-a', customer_name: 'A' };
    const b = { customer: 'tenant-b', customer_name: 'B' };
    const id = await onVersion1(a.customer, 'plain');
    // B's token on A's instance: 404, as if it did not exist; A's instance stays on version 1.
    const upgrade = await h.call('POST', `/api/v1/instances/${id}/upgrade`, { body: {}, as: b });
    assert.equal(upgrade.status, 404, upgrade.text);
    assert.equal(upgrade.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
    assert.equal((await h.call('GET', `/api/v1/instances/${id}`, { as: b })).status, 404);
    // The detail follows the caller's own instance: A reads version 1's, B (no instance) the current one.
    assert.equal((await h.call('GET', '/api/v1/integrations/vault', { as: a })).body.version, '1.0.0');
    const other = await h.call('GET', '/api/v1/integrations/vault', { as: b });
    assert.equal(other.body.version, '2.0.0');
    assert.ok(!other.text.includes(id), 'B reads nothing of A’s instance');
    // A member of A may not upgrade; A's admin may not pick a version the vendor did not offer.
    assert.equal((await h.call('POST', `/api/v1/instances/${id}/upgrade`, { body: {}, as: { ...a, role: 'member' } })).status, 403);
    assert.equal((await h.call('POST', `/api/v1/instances/${id}/upgrade`, { body: { to: '1.0.0' }, as: a })).status, 409);
    // A viewer of the vendor's staff reads, but neither upgrades, rolls back nor starts a bulk job.
    for (const [path, body] of [
      [`/api/v1/vendor/instances/${id}/upgrade`, {}],
      [`/api/v1/vendor/instances/${id}/rollback`, undefined],
      ['/api/v1/vendor/integrations/vault/upgrades', {}],
      ['/api/v1/vendor/integrations/reload', undefined],
    ] as const) {
      const res = await h.call('POST', path, { body, as: vendor('viewer') });
      assert.equal(res.status, 403, `${path}: ${res.text}`);
    }
    const detail = await h.call('GET', `/api/v1/vendor/instances/${id}`, { as: vendor('viewer') });
    assert.equal(detail.body.integrationVersion, '1.0.0');

    // A bulk upgrade of B's instances moves B's only: A's stays on version 1.
    const mine = await onVersion1(b.customer, 'plain');
    const job = await h.call('POST', '/api/v1/vendor/integrations/vault/upgrades', { body: { customer: b.customer }, as: vendor() });
    assert.equal(job.status, 202, job.text);
    const done = await eventually(async () => {
      const read = await h.call('GET', `/api/v1/vendor/upgrades/${job.body.id}`, { as: vendor('viewer') });
      return read.body.status === 'finished' && UpgradeJob.parse(read.body);
    });
    assert.deepEqual(
      done.outcomes.map((o) => [o.instanceId, o.status]),
      [[mine, 'upgraded']],
    );
    assert.equal((await h.call('GET', `/api/v1/vendor/instances/${id}`, { as: vendor('viewer') })).body.integrationVersion, '1.0.0');
  });

  test('an upgrade honours If-Match as the other writes do: a stale ETag is a 409 and nothing moves', async () => {
    const as = { customer: 'if-match', customer_name: 'If-Match' };
    const id = await onVersion1(as.customer, 'plain');
    const stale = await h.call('POST', `/api/v1/instances/${id}/upgrade`, { body: {}, headers: { 'if-match': '"1"' }, as });
    assert.equal(stale.status, 409, stale.text);
    const staff = await h.call('POST', `/api/v1/vendor/instances/${id}/upgrade`, { body: {}, headers: { 'if-match': '"1"' }, as: vendor() });
    assert.equal(staff.status, 409, staff.text);
    const bad = await h.call('POST', `/api/v1/instances/${id}/upgrade`, { body: {}, headers: { 'if-match': 'soon' }, as });
    assert.equal(bad.status, 422, bad.text);
    assert.equal(bad.body.errors[0].path, 'If-Match');
    assert.equal((await h.call('GET', `/api/v1/vendor/instances/${id}`, { as: vendor('viewer') })).body.integrationVersion, '1.0.0');
    const current = await h.call('GET', `/api/v1/instances/${id}`, { as });
    const fresh = await h.call('POST', `/api/v1/instances/${id}/upgrade`, { body: {}, headers: { 'if-match': current.headers.get('etag')! }, as });
    assert.equal(fresh.status, 200, fresh.text);
  });

  test('a customer can’t upgrade itself into a version outside its plan', async () => {
    const as = { customer: 'starter-plan', customer_name: 'Starter' };
    const created = await h.call('POST', '/api/v1/instances', { body: { integrationKey: 'tiered' }, as });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id as string;
    const customerRow = (await h.store.vendor.listCustomers()).find((c) => c.externalId === as.customer)!;
    const instance = (await h.store.forCustomer(customerRow).getInstance(id))!;
    await h.store.forCustomer(customerRow).setRelease(id, {
      release: { integrationVersion: '1.0.0', config: {}, secrets: null, secretNames: [] },
      previous: null,
      expectedVersion: instance.version,
      audit: { actor: 'system', action: 'test.setup', target: `instance:${id}`, details: {} },
    });
    // Its view offers no "Update" (the integration allows self-upgrades, the plan does not have version 2).
    const read = await h.call('GET', `/api/v1/instances/${id}`, { as: { ...as, entitlements: ['starter'] } });
    assert.deepEqual([read.body.update?.version, read.body.update?.selfUpgrade], ['2.0.0', false]);
    const refused = await h.call('POST', `/api/v1/instances/${id}/upgrade`, { body: {}, as: { ...as, entitlements: ['starter'] } });
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.body.reason, 'notEntitled');
    assert.equal((await h.call('GET', `/api/v1/vendor/instances/${id}`, { as: vendor('viewer') })).body.integrationVersion, '1.0.0');
    const allowed = await h.call('POST', `/api/v1/instances/${id}/upgrade`, { body: {}, as: { ...as, entitlements: ['starter', 'pro'] } });
    assert.equal(allowed.status, 200, allowed.text);
  });

  test('bad bodies on the version routes are 4xx problems naming the field, and change nothing', async () => {
    const id = await onVersion1('fuzz-versions', 'plain');
    const bodies: [string, string | undefined][] = [
      ['{"to": 2}', 'to'],
      ['{"to": ""}', 'to'],
      [JSON.stringify({ to: 'x'.repeat(100_000) }), 'to'],
      ['{"version": "1"}', 'version'],
      ['{"customer": {"id": "x"}}', 'customer'],
      ['[]', undefined],
      ['null', undefined],
      ['not json', undefined],
      ['{"to": "9.9.9"}', undefined],
    ];
    for (const path of [`/api/v1/instances/${id}/upgrade`, `/api/v1/vendor/instances/${id}/upgrade`, '/api/v1/vendor/integrations/vault/upgrades']) {
      const as = path.includes('/vendor/') ? vendor() : { customer: 'fuzz-versions', customer_name: 'Fuzz' };
      for (const [rawBody, field] of bodies) {
        if (field === 'customer' && !path.endsWith('/upgrades')) continue;
        if (field === 'version' && path.endsWith('/upgrades')) continue;
        const res = await h.call('POST', path, { rawBody, headers: { 'content-type': 'application/json' }, as });
        assert.ok(res.status >= 400 && res.status < 500, `${path} ${rawBody.slice(0, 40)}: ${res.status} ${res.text}`);
        assert.equal(res.headers.get('content-type'), PROBLEM_CONTENT_TYPE, `${path} ${rawBody.slice(0, 40)}`);
        if (field) assert.ok(JSON.stringify(res.body.errors ?? []).includes(`"${field}`), `${path} ${rawBody.slice(0, 40)} names ${field}: ${res.text}`);
      }
    }
    const jobs = await h.call('GET', '/api/v1/vendor/upgrades', { as: vendor('viewer') });
    assert.ok(!JSON.stringify(jobs.body).includes('fuzz-versions'), 'no job was started by a refused body');
    assert.equal((await h.call('GET', `/api/v1/vendor/instances/${id}`, { as: vendor('viewer') })).body.integrationVersion, '1.0.0');
  });

  for (const label of ['throws', 'getter', 'proxy', 'message', 'exposes']) {
    test(`a migrate that ${label === 'throws' ? 'throws with' : `misbehaves (${label}) around`} a secret: 422 naming the field, the secret nowhere`, async () => {
      const as = { customer: `mig-${label}`, customer_name: 'Mig' };
      const id = await onVersion1(as.customer, label);
      const seen = h.logs.length;
      const bodies = h.bodies.length;
      const mine = await h.call('POST', `/api/v1/instances/${id}/upgrade`, { body: {}, as });
      assert.equal(mine.status, 422, mine.text);
      assert.equal(mine.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
      assert.equal(mine.body.errors[0].path, label === 'exposes' ? 'config.label' : 'config');
      const staff = await h.call('POST', `/api/v1/vendor/instances/${id}/upgrade`, { body: {}, as: vendor() });
      assert.equal(staff.status, 422, staff.text);
      const job = await h.call('POST', '/api/v1/vendor/integrations/vault/upgrades', { body: { customer: as.customer }, as: vendor() });
      assert.equal(job.status, 202, job.text);
      const done = await eventually(async () => {
        const read = await h.call('GET', `/api/v1/vendor/upgrades/${job.body.id}`, { as: vendor('viewer') });
        return read.body.status === 'finished' && UpgradeJob.parse(read.body);
      });
      assert.equal(done.failed, 1);
      assert.equal(done.outcomes[0]!.status, 'failed');
      const audit = await h.call('GET', `/api/v1/vendor/instances/${id}/audit`, { as: vendor('viewer') });
      const detail = await h.call('GET', `/api/v1/vendor/instances/${id}`, { as: vendor('viewer') });
      assert.equal(detail.body.integrationVersion, '1.0.0');
      for (const text of [...h.bodies.slice(bodies), ...h.logs.slice(seen), audit.text]) assert.ok(!text.includes(SECRET), `the secret leaked: ${text}`);
    });
  }
});

const API_KEY = 'sk_live_attack_0123456789';
const REFUSED_BASES = {
  localName: 'http://localhost:8089/v1',
  ipv6Loopback: 'http://[::1]:8089/v1',
  mappedLoopback: 'http://[::ffff:127.0.0.1]:8089/v1',
  decimalLoopback: 'http://2130706433:8089/v1',
  privateNet: 'http://10.0.0.1:8089/v1',
  linkLocal: 'http://169.254.170.2/v1',
};

/** A stand-in provider on 127.0.0.1: echoes the path it got; /v1/reset answers half a body and drops the socket. */
async function startProvider(): Promise<{ server: Server; url: string; port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url!);
    if (req.url === '/v1/reset') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write(`{"partial":"${API_KEY}`);
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    const nullBody = /^\/v1\/status\/(204|205|304)$/.exec(req.url!);
    if (nullBody) {
      // Answers that have no body by definition (a DELETE's 204 above all).
      res.writeHead(Number(nullBody[1]), { etag: '"v1"' }).end();
      return;
    }
    if (req.url === '/v1/echo') {
      // A provider that echoes the request's headers back, in its body and in a header.
      res.writeHead(200, { 'content-type': 'application/json', 'x-echo': String(req.headers.authorization) });
      res.end(JSON.stringify({ headers: req.headers }));
      return;
    }
    if (req.url === '/v1/policies') {
      // A provider (or whoever answers for it) trying to set Plugboard's origin's policies.
      res.writeHead(200, {
        'content-type': 'text/html',
        'access-control-allow-origin': 'https://evil.example',
        'access-control-allow-credentials': 'true',
        'strict-transport-security': 'max-age=0',
        'clear-site-data': '"*"',
        'x-frame-options': 'ALLOWALL',
        'content-security-policy': "script-src 'unsafe-inline'",
        'cross-origin-resource-policy': 'cross-origin',
        'x-provider': 'kept',
      });
      res.end('<script>alert(1)</script>');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: req.url }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, port, seen };
}

describe('attacks on the provider proxy, over a real socket', () => {
  let h: Harness;
  let provider: Awaited<ReturnType<typeof startProvider>>;
  let api: ServerType;
  let apiPort: number;
  let id: string;
  const cleanups: (() => unknown)[] = [];
  before(async () => {
    provider = await startProvider();
    const keyed = defineIntegration({
      key: 'keyed',
      name: 'Keyed',
      description: 'An API-key provider',
      category: 'test',
      version: '1.0.0',
      connections: {
        api: apiKey({
          label: 'Keyed account',
          fields: { apiKey: field.secret({ label: 'API key' }) },
          proxy: { baseUrl: `${provider.url}/v1`, headers: (values) => ({ 'x-api-key': values.apiKey! }) },
        }),
        // The key sent as HTTP Basic: the provider sees (and may echo) it only in base64.
        basic: apiKey({
          label: 'Basic account',
          fields: { apiKey: field.secret({ label: 'API key' }) },
          proxy: { baseUrl: `${provider.url}/v1`, headers: (v) => ({ authorization: `Basic ${Buffer.from(`user:${v.apiKey!}`).toString('base64')}` }) },
        }),
        // Hosts the egress policy refuses, however they are written: a name that resolves to loopback,
        // IPv6 loopback, an IPv4-mapped loopback, a decimal IPv4, a private and a link-local address.
        ...Object.fromEntries(
          Object.entries(REFUSED_BASES).map(([name, baseUrl]) => [
            name,
            apiKey({ label: name, fields: { apiKey: field.secret({ label: 'API key' }) }, proxy: { baseUrl, headers: (v) => ({ 'x-api-key': v.apiKey! }) } }),
          ]),
        ),
      },
    });
    h = await createHarness(
      { after: (fn) => void cleanups.push(fn) },
      { integrations: [keyed], migrations: allMigrations, services: { egressAllow: [`127.0.0.1:${provider.port}`] } },
    );
    api = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((r) => api.once('listening', r));
    apiPort = (api.address() as AddressInfo).port;
    const as = { customer: 'proxy-attacks', customer_name: 'Proxy attacks' };
    const created = await h.call('POST', '/api/v1/instances', { body: { integrationKey: 'keyed' }, as });
    id = created.body.id as string;
    for (const name of ['api', 'basic', ...Object.keys(REFUSED_BASES)]) {
      assert.equal((await h.call('PUT', `/api/v1/instances/${id}/connections/${name}`, { body: { values: { apiKey: API_KEY } }, as })).status, 200);
    }
    assert.equal((await h.call('POST', `/api/v1/vendor/instances/${id}/activate`, { as: vendor() })).status, 200);
  });
  after(async () => {
    await new Promise((r) => api.close(r));
    provider.server.close();
    for (const fn of cleanups.reverse()) await fn();
  });

  /** The request line's path sent as written (no client-side URL normalization). */
  async function raw(method: string, path: string): Promise<{ status: number; contentType: string | undefined; text: string; headers: IncomingHttpHeaders }> {
    const bearer = await h.token({ claims: vendor() });
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: apiPort, method, path, headers: { authorization: `Bearer ${bearer}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, contentType: res.headers['content-type'], text: Buffer.concat(chunks).toString(), headers: res.headers }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }

  test('no path leaves the base URL: dot segments, encoded or not, backslashes, // and @ reach only /v1/… or nothing', async () => {
    const prefix = `/api/v1/vendor/instances/${id}/connections/api/proxy`;
    const attempts = [
      '/../admin',
      '/../../../../admin',
      '/%2e%2e/admin',
      '/%2E%2E/%2e%2e/admin',
      '/.%2e/admin',
      '/%252e%252e/admin',
      '/..%2fadmin',
      '/..%5cadmin',
      '/..\\admin',
      '/\\\\evil.example/admin',
      '//evil.example/admin',
      '/@evil.example/admin',
      '/http://evil.example/admin',
      '/%2f%2fevil.example/admin',
      '/%2e%2e%2fadmin',
      '/x/%2e%2e%5c%2e%2e%5cadmin',
      '/..%2fadmin%ZZ',
    ];
    for (const attempt of attempts) {
      const res = await raw('GET', `${prefix}${attempt}`);
      assert.ok(res.status < 500, `${attempt}: ${res.status} ${res.text}`);
      // Node's HTTP parser refuses a raw backslash itself (a bare 400) before the app sees the request.
      if (res.status >= 400 && !(res.status === 400 && res.contentType === undefined && attempt.includes('\\'))) {
        assert.equal(res.contentType, PROBLEM_CONTENT_TYPE, attempt);
      }
    }
    for (const url of provider.seen) {
      assert.ok(url.startsWith('/v1/'), `the provider was asked for ${url}`);
      // Nor a path that climbs out once the provider decodes it (once or twice): ..%2f, %2e%2e%5c, %252e%252e.
      const once = (text: string) => text.replace(/%[0-9a-f]{2}/gi, (e) => String.fromCharCode(parseInt(e.slice(1), 16)));
      const decoded = once(once(url.split('?')[0]!));
      assert.ok(!decoded.split(/[\\/]/).includes('..'), `the provider was asked for ${url}, ${decoded} once decoded`);
    }
  });

  test('a provider that drops the connection mid-answer is a 502 problem, without the key in the answer or the log', async () => {
    const seen = h.logs.length;
    const res = await raw('GET', `/api/v1/vendor/instances/${id}/connections/api/proxy/reset`);
    assert.equal(res.status, 502, res.text);
    assert.equal(res.contentType, PROBLEM_CONTENT_TYPE);
    assert.ok(!res.text.includes(API_KEY));
    for (const line of h.logs.slice(seen)) assert.ok(!line.includes(API_KEY), line);
  });

  test('a provider’s 204, 205 and 304 are answered as they are, without a body (not a 500)', async () => {
    for (const status of [204, 205, 304]) {
      for (const method of ['GET', 'DELETE', 'HEAD']) {
        const res = await raw(method, `/api/v1/vendor/instances/${id}/connections/api/proxy/status/${status}`);
        assert.equal(res.status, status, `${method} ${status}: ${res.text}`);
        assert.equal(res.text, '');
      }
    }
  });

  test('a credential the provider echoes back is blanked in the form it was sent too (an HTTP Basic header’s base64)', async () => {
    const encoded = Buffer.from(`user:${API_KEY}`).toString('base64');
    const res = await raw('GET', `/api/v1/vendor/instances/${id}/connections/basic/proxy/echo`);
    assert.equal(res.status, 200, res.text);
    assert.ok(provider.seen.includes('/v1/echo'), 'the provider was called');
    assert.ok(!res.text.includes(encoded) && !res.text.includes(API_KEY), res.text);
    assert.ok(!String(res.headers['x-echo']).includes(encoded), String(res.headers['x-echo']));
  });

  test('the provider can’t set this origin’s policies: CORS, HSTS, framing, CSP and Clear-Site-Data are Plugboard’s, and its page runs nothing', async () => {
    const res = await raw('GET', `/api/v1/vendor/instances/${id}/connections/api/proxy/policies`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['x-provider'], 'kept');
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
    assert.equal(res.headers['clear-site-data'], undefined);
    assert.match(String(res.headers['strict-transport-security']), /max-age=[1-9]/);
    assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
    assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin');
    assert.equal(res.headers['content-security-policy'], "default-src 'none'; sandbox");
  });

  test('egress: a base URL on loopback, a private or a link-local address, however written, is a 403 before connecting', async () => {
    for (const name of Object.keys(REFUSED_BASES)) {
      const res = await raw('GET', `/api/v1/vendor/instances/${id}/connections/${name}/proxy/x`);
      assert.equal(res.status, 403, `${name}: ${res.text}`);
      assert.equal(res.contentType, PROBLEM_CONTENT_TYPE);
      assert.ok(!res.text.includes(API_KEY));
    }
  });
});

describe('attacks on the reload of the integrations module', () => {
  test('a module file that is gone is a 409 problem saying so, not a 500; the versions loaded stay', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'plugboard-reload-attack-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const modulePath = join(dir, 'integrations.ts');
    writeFileSync(
      modulePath,
      `import { defineIntegration } from ${JSON.stringify(fileURLToPath(new URL('../../server/src/sdk/index.ts', import.meta.url)))};
export default [defineIntegration({ key: 'notes', name: 'Notes', description: 'Reloaded.', category: 'test', version: '1.0.0' })];
`,
    );
    const h = await createHarness(t, { integrations: await loadIntegrations(modulePath), services: { integrationsModule: modulePath } });
    rmSync(modulePath);
    const res = await h.call('POST', '/api/v1/vendor/integrations/reload', { as: vendor('admin') });
    assert.equal(res.status, 409, res.text);
    assert.equal(res.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
    assert.match(res.body.detail, /could not be read.*ENOENT/);
    const status = await h.call('GET', '/api/v1/vendor/integrations', { as: vendor('viewer') });
    assert.deepEqual(
      status.body.integrations.map((i: { key: string; version: string }) => `${i.key}@${i.version}`),
      ['notes@1.0.0'],
    );
  });
});
