// The vendor API's provider proxy against a stand-in provider (node:http on 127.0.0.1, echoing what
// it received) and a real authorization server (oidc-provider) whose resource endpoint checks the
// access token: the credential is attached here and refreshed, the vendor's own token and cookies
// don't cross, the credential never comes back, the egress policy refuses what flows can't reach.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { consentOverHttp, startOAuthServer, type OAuthServer } from '../../demo/oauth-server.js';
import { AuditList, PROBLEM_CONTENT_TYPE, ProblemType } from '../../src/protocol/index.js';
import { allMigrations } from '../../server/src/migrations.js';
import { connectionLimitKey, createConnectionThrottle, NoTurnBeforeDeadlineError } from '../../server/src/runtime/connection-throttle.js';
import { apiKey, defineIntegration, field, oauth2, type Integration } from '../../server/src/sdk/index.js';
import { createHarness, PG_URL, type Harness } from './fixtures/harness.js';

const API_KEY = 'sk_live_proxy_test_0123456789';
const ORIGIN = 'https://app.acme.test';
const CLIENT = { clientId: 'acme-crm', clientSecret: 'acme-crm-test-secret' };
const PUBLIC_URL = 'http://localhost:8787';
const vendor = (vendorRole = 'support') => ({ role: 'vendor', customer: undefined, customer_name: undefined, sub: 'backend-1', vendor_role: vendorRole });

interface Echo {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Answers every request with what it received; /redirect redirects elsewhere. */
async function startProvider(): Promise<{ server: Server; url: string; port: number; seen: Echo[]; arrivals: { url: string; at: number }[] }> {
  const seen: Echo[] = [];
  const arrivals: { url: string; at: number }[] = [];
  const server = createServer((req, res) => {
    const arrivedAt = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const echo: Echo = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(echo);
      arrivals.push({ url: req.url!, at: arrivedAt });
      if (req.url?.endsWith('/busy')) {
        res.writeHead(429, { 'retry-after': '2', 'content-type': 'text/plain' }).end('slow down');
        return;
      }
      if (req.url?.endsWith('/redirect')) {
        res.writeHead(302, { location: 'https://elsewhere.example.test/' }).end();
        return;
      }
      res.writeHead(201, {
        'content-type': 'application/json',
        'x-provider': 'stand-in',
        'set-cookie': 'session=provider-cookie',
        connection: 'keep-alive, x-hop',
        'x-hop': 'this hop only',
      });
      res.end(JSON.stringify(echo));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, port, seen, arrivals };
}

function integrations(providerUrl: string, issuer: string): Integration[] {
  return [
    defineIntegration({
      key: 'keyed',
      name: 'Keyed',
      description: 'An API-key provider',
      category: 'test',
      version: '1.0.0',
      connections: {
        api: apiKey({
          label: 'Keyed account',
          fields: { apiKey: field.secret({ label: 'API key' }) },
          proxy: { baseUrl: `${providerUrl}/v1`, headers: (values) => ({ 'x-api-key': values.apiKey! }) },
        }),
        // Two requests a second, shared with the flows: the proxy waits its turn too.
        limited: apiKey({
          label: 'Limited account',
          fields: { apiKey: field.secret({ label: 'API key' }) },
          proxy: { baseUrl: `${providerUrl}/limited`, headers: (values) => ({ 'x-api-key': values.apiKey! }) },
          rateLimit: [{ requests: 2, per: '1s' }],
        }),
        // Declared without a proxy: can't be proxied.
        plain: apiKey({ label: 'Plain', fields: { apiKey: field.secret({ label: 'API key' }) } }),
        // A base URL at the cloud metadata address and one on a loopback port nobody allowed.
        metadata: apiKey({
          label: 'Metadata',
          fields: { apiKey: field.secret({ label: 'API key' }) },
          proxy: { baseUrl: 'http://169.254.169.254/latest', headers: (v) => ({ 'x-api-key': v.apiKey! }) },
        }),
      },
    }),
    defineIntegration({
      key: 'chat',
      name: 'Chat',
      description: 'An OAuth provider',
      category: 'test',
      version: '1.0.0',
      connections: { chat: oauth2({ label: 'Chat workspace', issuer, scopes: ['channels:read'], ...CLIENT, proxy: { baseUrl: `${issuer}/api` } }) },
    }),
  ];
}

const ENGINES = [
  { name: 'sqlite' as const, skip: false as const },
  { name: 'postgres' as const, skip: PG_URL ? (false as const) : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' },
];

for (const engine of ENGINES)
  describe(`provider proxy on ${engine.name}`, { skip: engine.skip }, () => {
    let provider: Awaited<ReturnType<typeof startProvider>>;
    let oauthServer: OAuthServer;
    let h: Harness;
    const cleanups: (() => unknown)[] = [];
    before(async () => {
      provider = await startProvider();
      // Access tokens live 2 s: the second call after a pause needs a refresh.
      oauthServer = await startOAuthServer({ clients: [{ ...CLIENT, redirectUris: [`${PUBLIC_URL}/oauth/callback`] }], accessTokenTtl: 2 });
      const oauthPort = new URL(oauthServer.issuer).port;
      h = await createHarness(
        { after: (fn) => void cleanups.push(fn) },
        {
          engine: engine.name,
          integrations: integrations(provider.url, oauthServer.issuer),
          // The runtime's too: the proxy takes turns from the connection rate-limit counters the flows use.
          migrations: allMigrations,
          services: { publicUrl: PUBLIC_URL, egressAllow: [`127.0.0.1:${provider.port}`, `127.0.0.1:${oauthPort}`], oauth: { refreshMarginMs: 500 } },
        },
      );
    });
    after(async () => {
      for (const fn of cleanups.reverse()) await fn();
      provider.server.close();
      await oauthServer.close();
    });

    async function activeKeyed(customer: string, keys: Record<string, string>): Promise<string> {
      const as = { customer, customer_name: customer };
      const created = await h.call('POST', '/api/v1/instances', { body: { integrationKey: 'keyed' }, as });
      assert.equal(created.status, 201, created.text);
      for (const [name, value] of Object.entries(keys)) {
        const put = await h.call('PUT', `/api/v1/instances/${created.body.id}/connections/${name}`, { body: { values: { apiKey: value } }, as });
        assert.equal(put.status, 200, put.text);
      }
      const customerRow = (await h.store.vendor.listCustomers()).find((c) => c.externalId === customer)!;
      await h.store.forCustomer(customerRow).setStatus(created.body.id, {
        status: 'active',
        audit: { actor: 'user:test', action: 'instance.activated', target: `instance:${created.body.id}`, details: {} },
      });
      return created.body.id as string;
    }

    test('forwards with the API key attached, without the vendor’s token, cookies or hop-by-hop headers, and blanks the key out of the answer', async () => {
      const id = await activeKeyed('proxy-keyed', { api: API_KEY });
      const vendorToken = await h.token({ claims: vendor() });
      const res = await h.app.request(`/api/v1/vendor/instances/${id}/connections/api/proxy/contacts/search?limit=2&q=ada`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${vendorToken}`,
          'content-type': 'application/json',
          cookie: 'vendor-session=1',
          connection: 'x-drop-me',
          'x-drop-me': 'hop',
          'x-api-key': 'the vendor tried its own',
          'x-custom': 'kept',
        },
        body: JSON.stringify({ name: 'Ada' }),
      });
      const text = await res.text();
      assert.equal(res.status, 201, text);
      const received = provider.seen.at(-1)!;
      assert.equal(received.method, 'POST');
      assert.equal(received.url, '/v1/contacts/search?limit=2&q=ada');
      assert.equal(received.body, '{"name":"Ada"}');
      assert.equal(received.headers['x-api-key'], API_KEY, 'the declared header carries the customer’s key');
      assert.equal(received.headers['x-custom'], 'kept');
      assert.equal(received.headers['content-type'], 'application/json');
      for (const dropped of ['authorization', 'cookie', 'x-drop-me']) assert.equal(received.headers[dropped], undefined, dropped);

      // The provider echoed the key: the vendor gets "[redacted]" in its place, and no provider cookie or hop header.
      assert.ok(!text.includes(API_KEY));
      assert.equal((JSON.parse(text) as Echo).headers['x-api-key'], '[redacted]');
      assert.equal(res.headers.get('x-provider'), 'stand-in');
      assert.equal(res.headers.get('set-cookie'), null);
      assert.equal(res.headers.get('x-hop'), null);
      assert.ok(!h.logs.join('\n').includes(API_KEY), 'never logged');

      // Redirects are handed back, not followed with the key.
      const redirect = await h.call('GET', `/api/v1/vendor/instances/${id}/connections/api/proxy/redirect`, { as: vendor() });
      assert.equal(redirect.status, 302);
      assert.equal(redirect.headers.get('location'), 'https://elsewhere.example.test/');

      // Audited for the customer: who, which connection, method and status; never the path's values or the key.
      const audit = await h.call('GET', `/api/v1/instances/${id}/audit`, { as: { customer: 'proxy-keyed', customer_name: 'proxy-keyed' } });
      const proxied = AuditList.parse(audit.body).events.filter((e) => e.action === 'connection.proxied');
      assert.deepEqual(
        proxied.map((e) => [e.actor.type, e.details]),
        [
          ['vendor', { connection: 'api', method: 'GET', status: 302, by: 'vendor' }],
          ['vendor', { connection: 'api', method: 'POST', status: 201, by: 'vendor' }],
        ],
      );
    });

    test('proxied requests take the connection’s rate-limit turns, and a provider’s 429 pauses the connection for the flows too', async () => {
      const id = await activeKeyed(`proxy-limited-${engine.name}`, { limited: API_KEY });
      const since = Date.now();
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) => h.call('GET', `/api/v1/vendor/instances/${id}/connections/limited/proxy/item/${i}`, { as: vendor() })),
      );
      assert.deepEqual(
        answers.map((a) => a.status),
        [201, 201, 201, 201, 201, 201],
        'none refused: each waited for its turn',
      );
      const perSecond = new Map<number, number>();
      for (const at of provider.arrivals.filter((a) => a.at >= since && a.url.startsWith('/limited/item/')).map((a) => a.at)) {
        perSecond.set(Math.floor(at / 1000), (perSecond.get(Math.floor(at / 1000)) ?? 0) + 1);
      }
      assert.equal(
        [...perSecond.values()].reduce((a, b) => a + b, 0),
        6,
      );
      assert.ok(Math.max(...perSecond.values()) <= 2, `at most 2 in any clock second at the provider; saw ${[...perSecond.values()].join(', ')}`);

      // The provider says 429, Retry-After: 2: the caller gets the 429, and the connection's counters
      // (the ones every flow's ctx.fetch takes turns from) hold every turn back for the pause.
      const busy = await h.call('GET', `/api/v1/vendor/instances/${id}/connections/limited/proxy/busy`, { as: vendor() });
      assert.equal(busy.status, 429);
      assert.equal(busy.headers.get('retry-after'), '2');
      const flows = createConnectionThrottle(h.store);
      await assert.rejects(
        flows.take(connectionLimitKey(id, 'limited'), [], Date.now() + 500),
        NoTurnBeforeDeadlineError,
        'a flow gets no turn during the pause',
      );
    });

    test('an OAuth connection gets its access token, refreshed through the token service when it is due', async () => {
      const customer = await h.store.ensureCustomer('proxy-oauth');
      const tenant = h.store.forCustomer(customer);
      const audit = { actor: 'user:test', action: 'instance.created', target: '', details: {} };
      const { instance } = await tenant.createInstance({ integrationKey: 'chat', audit });
      await tenant.setStatus(instance.id, { status: 'active', audit: { ...audit, action: 'instance.activated' } });
      // Connected the real way: authorization code + PKCE at the real authorization server.
      const start = await h.services.oauth.flow.authorize({ customer, actor: 'user:test', instanceId: instance.id, connection: 'chat', origin: ORIGIN });
      const opened = await h.services.oauth.flow.start(start.state, `${ORIGIN}/settings`);
      const callbackUrl = await consentOverHttp(opened.providerUrl);
      await h.services.oauth.flow.callback(callbackUrl, opened.cookie.value);
      const grants = () => oauthServer.tokenRequests.map((r) => r.grantType);
      assert.deepEqual(grants(), ['authorization_code']);

      const channels = async () => h.call('GET', `/api/v1/vendor/instances/${instance.id}/connections/chat/proxy/channels`, { as: vendor() });
      const first = await channels();
      assert.equal(first.status, 200, first.text);
      assert.ok(Array.isArray(first.body.channels), 'the provider accepted the token');
      assert.deepEqual(grants(), ['authorization_code'], 'a fresh token is used as it is');

      await new Promise((r) => setTimeout(r, 2200)); // the provider's 2 s token has expired
      const second = await channels();
      assert.equal(second.status, 200, second.text);
      assert.deepEqual(grants(), ['authorization_code', 'refresh_token'], 'refreshed before the call');
      assert.ok(!h.logs.join('\n').match(/"access_?token"\s*:\s*"[^"]/i), 'no token in the logs');
    });

    test('refuses an address the egress policy refuses with 403, before connecting', async () => {
      const id = await activeKeyed('proxy-egress', { metadata: API_KEY });
      const res = await h.call('GET', `/api/v1/vendor/instances/${id}/connections/metadata/proxy/meta-data/iam`, { as: vendor() });
      assert.equal(res.status, 403, res.text);
      assert.equal(res.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
      assert.equal(res.body.type, ProblemType.forbidden);
      assert.match(res.body.detail, /Refused to connect to 169\.254\.169\.254: it is a cloud metadata service's address/);
      assert.ok(!res.text.includes(API_KEY));
    });

    test('refuses what it can’t proxy: no proxy declared, not connected, a paused instance, a viewer', async () => {
      const id = await activeKeyed('proxy-refused', { plain: API_KEY });
      const plain = await h.call('GET', `/api/v1/vendor/instances/${id}/connections/plain/proxy/x`, { as: vendor() });
      assert.equal(plain.status, 404, plain.text);
      const unknown = await h.call('GET', `/api/v1/vendor/instances/${id}/connections/nope/proxy/x`, { as: vendor() });
      assert.equal(unknown.status, 404, unknown.text);
      const missing = await h.call('GET', `/api/v1/vendor/instances/${id}/connections/api/proxy/x`, { as: vendor() });
      assert.equal(missing.status, 409, missing.text);
      assert.equal(missing.body.detail, 'Keyed account is not connected');
      const viewer = await h.call('GET', `/api/v1/vendor/instances/${id}/connections/api/proxy/x`, { as: vendor('viewer') });
      assert.equal(viewer.status, 403);
      assert.equal(viewer.body.requiredRole, 'support');
      const before = provider.seen.length;
      assert.equal((await h.call('POST', `/api/v1/vendor/instances/${id}/pause`, { as: vendor() })).status, 200);
      const paused = await h.call('GET', `/api/v1/vendor/instances/${id}/connections/plain/proxy/x`, { as: vendor() });
      assert.equal(paused.status, 409, paused.text);
      assert.equal(provider.seen.length, before, 'nothing reached the provider');
    });
  });
