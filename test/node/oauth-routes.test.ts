// OAuth over HTTP: the real Plugboard app (real store, cipher, JWTs) with the real authorization
// server (oidc-provider on 127.0.0.1). Authorize, callback page, redirect mode, disconnect and
// delete revoking at the provider, the data-source route using (and refreshing) the token.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { sql } from 'kysely';
import { consentOverHttp, startOAuthServer, type OAuthServer } from '../../demo/oauth-server.js';
import { AuthorizeResponse, Instance, PROBLEM_CONTENT_TYPE, type OAuthCallbackMessage } from '../../src/protocol/index.js';
import { apiKey, oauth2, type OAuth2Connection } from '../../server/src/sdk/connections.js';
import { field } from '../../server/src/sdk/fields.js';
import { defineIntegration } from '../../server/src/sdk/integration.js';
import { createApp } from '../../server/src/app.js';
import { createServices } from '../../server/src/services.js';
import { createTokenVerifier } from '../../server/src/auth.js';
import { createLogger } from '../../server/src/logger.js';
import { connectionAad, oauthMigrations, type StoredTokens } from '../../server/src/oauth/index.js';
import { CALLBACK_SCRIPT } from '../../server/src/routes/oauth.js';
import { createCipher, generateEncryptionKey } from '../../server/src/secrets.js';
import { openStore, type Store } from '../../server/src/store/index.js';
import { AUDIENCE, ISSUER, makeKey, signToken } from './fixtures/harness.js';

const PG_URL = process.env.PLUGBOARD_TEST_DATABASE_URL;
const PUBLIC_URL = 'http://127.0.0.1:8787';
const ORIGIN = 'https://app.acme.test';
const CLIENT = { clientId: 'acme-crm', clientSecret: 'acme-crm-routes-secret' };

const tmpRoot = mkdtempSync(join(tmpdir(), 'plugboard-oauth-routes-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

interface Res {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

interface Fixture {
  server: OAuthServer;
  store: Store;
  logs: string[];
  bodies: string[];
  call(
    method: string,
    path: string,
    o?: { body?: unknown; origin?: string | null; claims?: Record<string, unknown>; token?: null; headers?: Record<string, string> },
  ): Promise<Res>;
  createInstance(claims?: Record<string, unknown>): Promise<Instance>;
  /** Every access/refresh token the store held when `noteTokens` ran. */
  seenTokens: string[];
  noteTokens(instanceId: string): Promise<void>;
}

async function fixture(
  t: TestContext,
  engine: 'sqlite' | 'postgres',
  serverOptions: { accessTokenTtl?: number } = {},
  /** Overrides of the chat connection (scopes, identify). */
  chatOptions: Partial<Pick<OAuth2Connection, 'scopes' | 'identify'>> = {},
): Promise<Fixture> {
  const server = await startOAuthServer({ clients: [{ ...CLIENT, redirectUris: [`${PUBLIC_URL}/oauth/callback`] }], ...serverOptions });
  const integration = defineIntegration({
    key: 'chat',
    name: 'Chat',
    description: 'Posts to chat',
    category: 'Communication',
    version: '1.0.0',
    connections: {
      chat: oauth2({ label: 'Chat workspace', issuer: server.issuer, scopes: ['channels:read'], ...CLIENT, ...chatOptions }),
      key: apiKey({ label: 'Backup key', fields: { apiKey: field.secret({ label: 'API key' }) } }),
    },
    dataSources: {
      async channels({ connections, fetch, signal }) {
        const chat = connections.chat;
        if (!chat || chat.kind === 'apiKey') throw new Error('not connected');
        const res = await fetch(server.channelsUrl, { headers: { authorization: `Bearer ${chat.accessToken}` }, signal });
        if (!res.ok) throw new Error(`channels answered ${res.status}`);
        const { channels } = (await res.json()) as { channels: { id: string; name: string }[] };
        return channels.map((c) => ({ value: c.id, label: c.name }));
      },
    },
  });
  const schema = `t_oauthr_${randomBytes(6).toString('hex')}`;
  const store =
    engine === 'postgres'
      ? await openStore({ databaseUrl: PG_URL, pgSchema: schema, migrations: oauthMigrations })
      : await openStore({ databaseUrl: join(tmpRoot, `${schema}.db`), migrations: oauthMigrations });
  t.after(async () => {
    if (engine === 'postgres') await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db);
    await store.close();
    await server.close();
  });
  const key = await makeKey('ES256');
  const logs: string[] = [];
  const bodies: string[] = [];
  const cipher = createCipher(generateEncryptionKey());
  const seenTokens: string[] = [];
  const services = await createServices({
    store,
    cipher,
    integrations: [integration],
    logger: createLogger({ level: 'debug', stream: { write: (line: string) => void logs.push(line) } }),
    allowedOrigins: [ORIGIN],
    publicUrl: PUBLIC_URL,
  });
  const app = createApp({ services, verifier: createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: JSON.stringify({ keys: [key.publicJwk] }) }) });
  const call: Fixture['call'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token !== null) headers.authorization = `Bearer ${await signToken(key, { claims: o.claims })}`;
    if (o.origin !== null) headers.origin = o.origin ?? ORIGIN;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await app.request(path, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) });
    const text = await res.text();
    bodies.push(text, JSON.stringify([...res.headers]));
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, headers: res.headers, text, body };
  };
  return {
    server,
    store,
    logs,
    bodies,
    call,
    seenTokens,
    async noteTokens(instanceId) {
      const row = await store.db.selectFrom('connections').selectAll().where('instance_id', '=', instanceId).where('name', '=', 'chat').executeTakeFirst();
      if (!row?.ciphertext) return;
      const tokens = cipher.decryptJson<StoredTokens>(row.ciphertext, connectionAad(instanceId, 'chat'));
      seenTokens.push(tokens.accessToken, ...(tokens.refreshToken ? [tokens.refreshToken] : []));
    },
    async createInstance(claims) {
      const res = await call('POST', '/api/v1/instances', { body: { integrationKey: 'chat' }, claims });
      assert.equal(res.status, 201, res.text);
      return Instance.parse(res.body);
    },
  };
}

/** The callback page's result, as its script would read it from `data-result`. */
function pageResult(html: string): { targetOrigin: string; message: OAuthCallbackMessage } {
  const attr = /data-result="([^"]*)"/.exec(html)?.[1];
  assert.ok(attr, 'the page carries its result');
  const decoded = attr.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
  return JSON.parse(decoded) as { targetOrigin: string; message: OAuthCallbackMessage };
}

function callbackPath(url: URL): string {
  return `/oauth/callback${url.search}`;
}

/**
 * What a browser does with the start page the app opened (its Referer is the app's page): keeps the
 * cookie it sets and follows its refresh to the provider.
 */
async function openStart(f: Fixture, authorizationUrl: string, referer: string | null = `${ORIGIN}/settings/integrations`) {
  const url = new URL(authorizationUrl);
  assert.equal(url.origin + url.pathname, `${PUBLIC_URL}/oauth/start`);
  const page = await f.call('GET', url.pathname + url.search, { token: null, origin: null, headers: referer ? { referer } : {} });
  const cookie = page.headers.get('set-cookie')?.split(';')[0];
  const refresh = /<meta http-equiv="refresh" content="0;url=([^"]*)">/.exec(page.text)?.[1]?.replaceAll('&amp;', '&');
  return { page, cookie, providerUrl: refresh };
}

async function connect(f: Fixture, instanceId: string, body: unknown = {}) {
  const start = await f.call('POST', `/api/v1/instances/${instanceId}/connections/chat/authorize`, { body });
  assert.equal(start.status, 200, start.text);
  const authorize = AuthorizeResponse.parse(start.body);
  const opened = await openStart(f, authorize.authorizationUrl);
  assert.equal(opened.page.status, 200, opened.page.text);
  const providerRedirect = await consentOverHttp(opened.providerUrl!);
  const page = await f.call('GET', callbackPath(providerRedirect), { token: null, origin: null, headers: { cookie: opened.cookie! } });
  return { authorize, opened, providerRedirect, page };
}

for (const engine of [
  { name: 'sqlite' as const, skip: false as const },
  { name: 'postgres' as const, skip: PG_URL ? (false as const) : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' },
]) {
  describe(`OAuth routes on ${engine.name}`, { skip: engine.skip }, () => {
    test('connect in a popup: authorize, consent, callback page posts to the recorded origin only, instance shows connected', async (t) => {
      const f = await fixture(t, engine.name);
      const instance = await f.createInstance();
      const { authorize, opened, page, providerRedirect } = await connect(f, instance.id);
      const code = providerRedirect.searchParams.get('code')!;
      assert.ok(!f.logs.join('').includes(code), 'the authorization code is not logged');
      assert.match(opened.providerUrl!, new RegExp(`^${f.server.issuer}/`));
      // The start page: says where it goes, sets a __Host- (Secure, Path=/, no Domain), HttpOnly, Lax cookie (http on loopback counts as secure).
      assert.match(opened.page.text, /<h1>Connecting to Chat workspace…<\/h1>/);
      assert.doesNotMatch(opened.page.text, /<script/);
      assert.match(
        opened.page.headers.get('set-cookie') ?? '',
        /^__Host-plugboard_oauth_[0-9a-f]{16}=[\w-]{43}; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
      );
      // The callback spends the cookie.
      assert.match(page.headers.get('set-cookie') ?? '', /^__Host-plugboard_oauth_[0-9a-f]{16}=; Max-Age=0; Path=\/; Secure/);
      assert.equal(page.status, 200);
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(page.headers.get('cross-origin-opener-policy'), 'unsafe-none');
      assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(page.headers.get('cache-control'), 'no-store');
      // The only script is the external one: no inline code for a strict CSP to block.
      assert.deepEqual(
        [...page.text.matchAll(/<script[^>]*>/g)].map((m) => m[0]),
        ['<script src="/oauth/callback.js">'],
      );
      const result = pageResult(page.text);
      assert.equal(result.targetOrigin, ORIGIN);
      assert.deepEqual(result.message, { type: 'plugboard:oauth', state: authorize.state, instanceId: instance.id, connection: 'chat', ok: true });

      const script = await f.call('GET', '/oauth/callback.js', { token: null, origin: null });
      assert.equal(script.status, 200);
      assert.match(script.headers.get('content-type') ?? '', /javascript/);
      assert.equal(script.text, CALLBACK_SCRIPT);
      assert.match(script.text, /postMessage\(message, targetOrigin\)/);

      const read = await f.call('GET', `/api/v1/instances/${instance.id}`);
      const chat = Instance.parse(read.body).connections.find((c) => c.name === 'chat');
      assert.equal(chat?.status, 'connected');
      assert.ok(!Instance.parse(read.body).blockers.some((b) => b.path === 'connections.chat'));

      const options = await f.call('GET', `/api/v1/instances/${instance.id}/data-sources/channels`);
      assert.equal(options.status, 200, options.text);
      assert.deepEqual(options.body, {
        options: [
          { value: 'C001', label: 'general' },
          { value: 'C002', label: 'sales' },
          { value: 'C003', label: 'support' },
        ],
      });
    });

    test('identify names the account from the provider’s userinfo: on the instance and in the catalog; failing, it still connects, unnamed', async (t) => {
      const userinfo: OAuth2Connection['identify'] = async ({ credentials, fetch, signal }) => {
        const res = await fetch(`${f.server.issuer}/me`, { headers: { authorization: `Bearer ${credentials.accessToken}` }, signal });
        if (!res.ok) throw new Error(`userinfo answered ${res.status} to ${credentials.accessToken}`);
        return ((await res.json()) as { name?: string }).name;
      };
      const f = await fixture(t, engine.name, {}, { scopes: ['openid', 'profile', 'channels:read'], identify: (input) => userinfo(input) });
      const instance = await f.createInstance();
      const { page } = await connect(f, instance.id);
      assert.equal(pageResult(page.text).message.ok, true);
      const chat = Instance.parse((await f.call('GET', `/api/v1/instances/${instance.id}`)).body).connections.find((c) => c.name === 'chat');
      assert.equal(chat?.status, 'connected');
      assert.equal(chat?.accountName, 'Demo User', 'the userinfo `name` of the demo-user login');
      const catalog = await f.call('GET', '/api/v1/integrations');
      assert.deepEqual(catalog.body.integrations[0].instance.accountNames, ['Demo User']);

      // Without `openid` the userinfo endpoint refuses the token: identify throws, which must not fail the connection.
      const g = await fixture(t, engine.name, {}, { scopes: ['channels:read'], identify: (input) => userinfo(input) });
      const other = await g.createInstance();
      const second = await connect(g, other.id);
      assert.equal(pageResult(second.page.text).message.ok, true, 'connected although identify failed');
      await g.noteTokens(other.id);
      const unnamed = Instance.parse((await g.call('GET', `/api/v1/instances/${other.id}`)).body).connections.find((c) => c.name === 'chat');
      assert.equal(unnamed?.status, 'connected');
      assert.equal(unnamed?.accountName, null);
      const logs = g.logs.join('\n');
      assert.match(logs, /connection identify failed/);
      for (const token of g.seenTokens) assert.ok(!logs.includes(token), 'no token in the log line of the failure');
    });

    test('the callback page is single use: a replay gets an error page without script, and nothing changes', async (t) => {
      const f = await fixture(t, engine.name);
      const instance = await f.createInstance();
      const { providerRedirect } = await connect(f, instance.id);
      const replay = await f.call('GET', callbackPath(providerRedirect), { token: null, origin: null });
      assert.equal(replay.status, 400);
      assert.match(replay.text, /already completed/);
      assert.doesNotMatch(replay.text, /<script/);
      assert.match(replay.headers.get('content-security-policy') ?? '', /script-src 'none'/);
      const unknown = await f.call('GET', '/oauth/callback?code=abc&state=not-a-state', { token: null, origin: null });
      assert.equal(unknown.status, 400);
      assert.match(unknown.text, /not known/);
      assert.equal(f.server.tokenRequests.length, 1);
    });

    test("bound to the browser: the start link refuses another site or a bare link; a callback without the start cookie or with another browser's gets a page saying so, and nothing is stored", async (t) => {
      const f = await fixture(t, engine.name);
      const instance = await f.createInstance();
      const authorize = async () => AuthorizeResponse.parse((await f.call('POST', `/api/v1/instances/${instance.id}/connections/chat/authorize`)).body);
      const refusedPage = (res: Res, pattern: RegExp) => {
        assert.equal(res.status, 400);
        assert.match(res.headers.get('content-type') ?? '', /text\/html/);
        assert.match(res.text, pattern);
        assert.doesNotMatch(res.text, /<script|http-equiv/);
      };
      // The admin hands the start link to someone else: opened from a mail or from another site.
      const handed = await authorize();
      for (const referer of [null, 'https://evil.example/']) {
        const refused = await openStart(f, handed.authorizationUrl, referer);
        refusedPage(refused.page, /only be started from the app/);
        assert.equal(refused.cookie, undefined, 'no binding cookie for a refused start');
      }

      // The admin opens it, then hands on the provider's URL: the other browser's callback has no start cookie.
      const admin = await authorize();
      const adminBrowser = await openStart(f, admin.authorizationUrl);
      assert.ok(adminBrowser.cookie);
      const victimRedirect = await consentOverHttp(adminBrowser.providerUrl!, { login: 'victim' });
      const noCookie = await f.call('GET', callbackPath(victimRedirect), { token: null, origin: null });
      refusedPage(noCookie, /not started in this browser/);

      // A browser with a start cookie of its own flow (same name scheme, other value) is refused too.
      const other = await authorize();
      const otherBrowser = await openStart(f, other.authorizationUrl);
      const third = await openStart(f, (await authorize()).authorizationUrl);
      const otherRedirect = await consentOverHttp(otherBrowser.providerUrl!, { login: 'victim' });
      const [name] = otherBrowser.cookie!.split('=');
      const wrongValue = await f.call('GET', callbackPath(otherRedirect), {
        token: null,
        origin: null,
        headers: { cookie: `${name}=${third.cookie!.split('=')[1]}; ${third.cookie}` },
      });
      refusedPage(wrongValue, /not started in this browser/);

      assert.equal(f.server.tokenRequests.length, 0);
      const read = await f.call('GET', `/api/v1/instances/${instance.id}`);
      assert.equal(Instance.parse(read.body).connections.find((c) => c.name === 'chat')?.status, 'missing');
      assert.equal(f.logs.filter((l) => l.includes('oauth start refused')).length, 2);
      assert.equal(f.logs.filter((l) => l.includes('oauth callback refused')).length, 2);
      const audit = await f.store.db.selectFrom('audit_events').selectAll().where('action', '=', 'connection.oauth_refused').execute();
      assert.equal(audit.length, 2);
    });

    test('authorize: origin must be allowed, admins only, own instances only, OAuth connections only', async (t) => {
      const f = await fixture(t, engine.name);
      const instance = await f.createInstance();
      const path = `/api/v1/instances/${instance.id}/connections/chat/authorize`;
      const problem = (res: Res, status: number) => {
        assert.equal(res.status, status, res.text);
        assert.equal(res.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
        return res.body as { detail?: string; errors?: { path: string }[] };
      };
      assert.match(problem(await f.call('POST', path, { origin: 'https://evil.example' }), 403).detail ?? '', /evil\.example/);
      problem(await f.call('POST', path, { origin: null }), 403);
      problem(await f.call('POST', path, { claims: { role: 'member' } }), 403);
      const other = await f.createInstance({ customer: 'globex' });
      problem(await f.call('POST', `/api/v1/instances/${other.id}/connections/chat/authorize`), 404);
      problem(await f.call('POST', `/api/v1/instances/${instance.id}/connections/nope/authorize`), 404);
      problem(await f.call('POST', `/api/v1/instances/${instance.id}/connections/key/authorize`), 409);
      assert.deepEqual(
        problem(await f.call('POST', path, { body: { mode: 'sideways' } }), 422).errors?.map((e) => e.path),
        ['mode'],
      );
      assert.deepEqual(
        problem(await f.call('POST', path, { body: { mode: 'redirect', returnUrl: 'https://evil.example/x' } }), 422).errors?.map((e) => e.path),
        ['returnUrl'],
      );
      problem(await f.call('POST', path, { token: null }), 401);
      const count = await f.store.db
        .withTables<{ oauth_sessions: { state: string } }>()
        .selectFrom('oauth_sessions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 0, 'no session was recorded for a refused call');
    });

    test('redirect mode sends the browser back to the recorded return URL', async (t) => {
      const f = await fixture(t, engine.name);
      const instance = await f.createInstance();
      const { authorize, page } = await connect(f, instance.id, { mode: 'redirect', returnUrl: `${ORIGIN}/settings/integrations?tab=chat` });
      assert.equal(page.status, 303);
      const back = new URL(page.headers.get('location')!);
      assert.equal(back.origin + back.pathname, `${ORIGIN}/settings/integrations`);
      assert.equal(back.searchParams.get('tab'), 'chat');
      assert.equal(back.searchParams.get('plugboard_oauth'), 'ok');
      assert.equal(back.searchParams.get('state'), authorize.state);
      assert.ok(!back.searchParams.has('code'), 'the code never travels on');
    });

    test('a denied consent shows why and stores nothing', async (t) => {
      const f = await fixture(t, engine.name);
      const instance = await f.createInstance();
      const start = await f.call('POST', `/api/v1/instances/${instance.id}/connections/chat/authorize`);
      const opened = await openStart(f, AuthorizeResponse.parse(start.body).authorizationUrl);
      const denied = await consentOverHttp(opened.providerUrl!, { decision: 'deny' });
      const page = await f.call('GET', callbackPath(denied), { token: null, origin: null, headers: { cookie: opened.cookie! } });
      assert.equal(page.status, 200);
      const result = pageResult(page.text);
      assert.equal(result.message.ok, false);
      assert.equal(result.message.error, 'Access was denied at the provider.');
      assert.equal(result.targetOrigin, ORIGIN);
      const read = await f.call('GET', `/api/v1/instances/${instance.id}`);
      assert.equal(Instance.parse(read.body).connections.find((c) => c.name === 'chat')?.status, 'missing');
    });

    test('disconnect and instance delete revoke at the provider, then drop the tokens; no token in any response or log', async (t) => {
      // A 60 s lifetime is inside the 5-minute refresh margin, so every call refreshes first; a 1 s one
      // could expire between the refresh and the provider call on a loaded machine (CI saw a 502 so).
      const f = await fixture(t, engine.name, { accessTokenTtl: 60 });
      const instance = await f.createInstance();
      await connect(f, instance.id);
      await f.noteTokens(instance.id);
      // Each data-source call sees a token within the 5-minute margin: refreshed first.
      for (let i = 0; i < 2; i++) {
        assert.equal((await f.call('GET', `/api/v1/instances/${instance.id}/data-sources/channels`)).status, 200);
        await f.noteTokens(instance.id);
      }
      assert.deepEqual(
        f.server.tokenRequests.map((r) => r.grantType),
        ['authorization_code', 'refresh_token', 'refresh_token'],
      );

      const del = await f.call('DELETE', `/api/v1/instances/${instance.id}/connections/chat`);
      assert.equal(del.status, 200, del.text);
      assert.ok(f.server.revocationRequests >= 1);
      assert.equal(f.server.grantsRevoked >= 1, true);
      assert.equal(Instance.parse(del.body).connections.find((c) => c.name === 'chat')?.status, 'missing');

      await connect(f, instance.id);
      await f.noteTokens(instance.id);
      const revocationsBefore = f.server.revocationRequests;
      assert.equal((await f.call('DELETE', `/api/v1/instances/${instance.id}`)).status, 204);
      assert.ok(f.server.revocationRequests > revocationsBefore);

      // Scan everything the app said for every token it held.
      const everything = [...f.bodies, ...f.logs].join('\n');
      assert.ok(f.seenTokens.length >= 4);
      for (const token of f.seenTokens) assert.ok(!everything.includes(token), 'a token leaked into a response or log line');
    });
  });
}
