// OAuth core (flow + token service) against a real authorization server (oidc-provider on
// 127.0.0.1) and a real store: SQLite files, and PostgreSQL when PLUGBOARD_TEST_DATABASE_URL is set.
// No app here: the routes have their own test (oauth-routes.test.ts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test, type TestContext } from 'node:test';
import { sql } from 'kysely';
import * as oauth from 'oauth4webapi';
import { consentOverHttp, startOAuthServer, type OAuthServer } from '../../demo/oauth-server.js';
import { clientCredentials, oauth2 } from '../../server/src/sdk/connections.js';
import { defineIntegration, type Integration } from '../../server/src/sdk/integration.js';
import { capturedLogger } from './fixtures/captured-logger.js';
import { eventually } from './fixtures/eventually.js';
import {
  CallbackRejected,
  ConnectionUnavailableError,
  StartRejected,
  createOAuth,
  oauthMigrations,
  type OAuth,
  type OAuthOptions,
} from '../../server/src/oauth/index.js';
import { problemFor } from '../../server/src/problem.js';
import { createCipher, generateEncryptionKey } from '../../server/src/secrets.js';
import { openStore, type Customer, type Store } from '../../server/src/store/index.js';
import type { OAuthTables } from '../../server/src/oauth/schema.js';

const PG_URL = process.env.PLUGBOARD_TEST_DATABASE_URL;
const PUBLIC_URL = 'http://127.0.0.1:8787';
const APP_ORIGIN = 'http://127.0.0.1:5173';
const CLIENT = { clientId: 'acme-crm', clientSecret: 'acme-crm-test-secret' };

const tmpRoot = mkdtempSync(join(tmpdir(), 'plugboard-oauth-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

function chatIntegration(issuer: string): Integration {
  return defineIntegration({
    key: 'chat',
    name: 'Chat',
    description: 'Posts to chat',
    category: 'Communication',
    version: '1.0.0',
    connections: {
      chat: oauth2({ label: 'Chat workspace', issuer, scopes: ['channels:read'], ...CLIENT }),
      service: clientCredentials({ label: 'Chat service', issuer, scopes: ['channels:read'], ...CLIENT }),
    },
  });
}

interface Fixture {
  server: OAuthServer;
  store: Store;
  oauth: OAuth;
  customer: Customer;
  instanceId: string;
  /** Everything logged so far. */
  logs: string[];
  /** Shifts this fixture's clock (the OAuth service's idea of now). */
  advance(ms: number): void;
  /** A second server process on the same database (PostgreSQL), with its own in-process state. */
  replica(): Promise<OAuth>;
  createInstance(customer?: Customer): Promise<string>;
  /** What another process needs to open the same database and decrypt the same rows. */
  shared: { schema: string; encryptionKey: string; offsetMs(): number };
}

type Engine = { name: 'sqlite' | 'postgres'; skip: string | false };
const engines: Engine[] = [
  { name: 'sqlite', skip: false },
  { name: 'postgres', skip: PG_URL ? false : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' },
];

async function fixture(
  t: TestContext,
  engine: Engine['name'],
  serverOptions: { accessTokenTtl?: number; refreshedAccessTokenTtl?: number } = {},
  oauthOptions: Partial<OAuthOptions> = {},
): Promise<Fixture> {
  const server = await startOAuthServer({ clients: [{ ...CLIENT, redirectUris: [`${PUBLIC_URL}/oauth/callback`] }], ...serverOptions });
  const schema = `t_oauth_${randomBytes(6).toString('hex')}`;
  const openOne = () =>
    engine === 'postgres'
      ? openStore({ databaseUrl: PG_URL, pgSchema: schema, migrations: oauthMigrations, poolSize: 4 })
      : openStore({ databaseUrl: join(tmpRoot, `${schema}.db`), migrations: oauthMigrations });
  const stores: Store[] = [await openOne()];
  const store = stores[0]!;
  const { logger, logs } = capturedLogger();
  let offset = 0;
  const encryptionKey = generateEncryptionKey();
  const cipher = createCipher(encryptionKey);
  const integrations = [chatIntegration(server.issuer)];
  const make = (s: Store) =>
    createOAuth({
      store: s,
      cipher,
      integrations,
      publicUrl: PUBLIC_URL,
      allowedOrigins: [APP_ORIGIN],
      logger,
      clock: () => Date.now() + offset,
      ...oauthOptions,
    });
  const customer = await store.ensureCustomer(`cust-${randomBytes(4).toString('hex')}`);
  const createInstance = async (c: Customer = customer) =>
    (await store.forCustomer(c).createInstance({ integrationKey: 'chat', audit: { actor: 'user:u1', action: 'instance.created', target: '', details: {} } }))
      .instance.id;
  const instanceId = await createInstance();
  t.after(async () => {
    if (engine === 'postgres') await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db);
    for (const s of stores) await s.close();
    await server.close();
  });
  return {
    server,
    store,
    oauth: make(store),
    customer,
    instanceId,
    logs,
    advance: (ms) => {
      offset += ms;
    },
    replica: async () => {
      const s = await openOne();
      stores.push(s);
      return make(s);
    },
    createInstance,
    shared: { schema, encryptionKey, offsetMs: () => offset },
  };
}

/**
 * A Plugboard server process of its own (a child node process) on the same PostgreSQL schema:
 * on "go" it asks for the token `callers` times at once and prints hashes of what it got.
 */
function replicaProcess(f: Fixture, callers: number) {
  const url = (p: string) => JSON.stringify(new URL(p, import.meta.url).href);
  const code = `
    const { createHash } = await import('node:crypto');
    const { openStore } = await import(${url('../../server/src/store/index.ts')});
    const { createOAuth, oauthMigrations } = await import(${url('../../server/src/oauth/index.ts')});
    const { createCipher } = await import(${url('../../server/src/secrets.ts')});
    const { oauth2 } = await import(${url('../../server/src/sdk/connections.ts')});
    const { defineIntegration } = await import(${url('../../server/src/sdk/integration.ts')});
    const env = JSON.parse(process.env.REPLICA);
    const store = await openStore({ databaseUrl: env.pgUrl, pgSchema: env.schema, migrations: oauthMigrations, poolSize: 4 });
    const integration = defineIntegration({ key: 'chat', name: 'Chat', description: 'd', category: 'c', version: '1.0.0',
      connections: { chat: oauth2({ label: 'Chat', issuer: env.issuer, scopes: ['channels:read'], clientId: env.clientId, clientSecret: env.clientSecret }) } });
    const oauth = createOAuth({ store, cipher: createCipher(env.key), integrations: [integration], publicUrl: env.publicUrl, allowedOrigins: [], clock: () => Date.now() + env.offset });
    process.stdout.write('ready\\n');
    process.stdin.once('data', async () => {
      const got = await Promise.all(Array.from({ length: env.callers }, () => oauth.getAccessToken(env.ref)));
      process.stdout.write(JSON.stringify({ hashes: got.map((c) => createHash('sha256').update(c.accessToken).digest('hex')), refreshes: oauth.tokens.refreshCount }) + '\\n');
      await store.close();
    });
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      REPLICA: JSON.stringify({
        pgUrl: PG_URL,
        schema: f.shared.schema,
        key: f.shared.encryptionKey,
        offset: f.shared.offsetMs(),
        issuer: f.server.issuer,
        publicUrl: PUBLIC_URL,
        callers,
        ref: ref(f),
        ...CLIENT,
      }),
    },
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('replica exited early');
    return value as string;
  };
  return {
    ready: async () => assert.equal(await next(), 'ready'),
    go: () => child.stdin!.end('go\n'),
    result: async () => JSON.parse(await next()) as { hashes: string[]; refreshes: number },
    exited: once(child, 'exit'),
  };
}

async function connect(f: Fixture, options: { instanceId?: string; customer?: Customer } = {}) {
  const start = await f.oauth.flow.authorize({
    customer: options.customer ?? f.customer,
    actor: 'user:u1',
    instanceId: options.instanceId ?? f.instanceId,
    connection: 'chat',
    origin: APP_ORIGIN,
  });
  const opened = await openStart(f.oauth, start);
  const callbackUrl = await consentOverHttp(opened.providerUrl);
  return { start, opened, callbackUrl, outcome: await f.oauth.flow.callback(callbackUrl, opened.key) };
}

/** What the start page does for the browser the app opened it in: the provider URL and the cookie value it keeps. */
async function openStart(o: OAuth, start: { state: string }, referrer = `${APP_ORIGIN}/settings/integrations`) {
  const outcome = await o.flow.start(start.state, referrer);
  return { providerUrl: outcome.providerUrl, key: outcome.cookie.value, outcome };
}

async function channelsStatus(f: Fixture, accessToken: string): Promise<number> {
  const res = await fetch(f.server.channelsUrl, { headers: { authorization: `Bearer ${accessToken}` } });
  await res.body?.cancel();
  return res.status;
}

const ref = (f: Fixture, connection = 'chat') => ({ customerId: f.customer.id, instanceId: f.instanceId, connection });

for (const engine of engines) {
  describe(`OAuth core on ${engine.name}`, { skip: engine.skip }, () => {
    test('authorization code + PKCE: connects, stores the tokens encrypted, and the token works at the API', async (t) => {
      const f = await fixture(t, engine.name);
      const { start, opened, callbackUrl, outcome } = await connect(f);

      assert.equal(start.authorizationUrl, `${PUBLIC_URL}/oauth/start?state=${start.state}`);
      const authUrl = new URL(opened.providerUrl);
      assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(authUrl.searchParams.get('redirect_uri'), `${PUBLIC_URL}/oauth/callback`);
      assert.equal(authUrl.searchParams.get('state'), start.state);
      assert.equal(Buffer.from(start.state, 'base64url').length, 32);
      assert.ok(Date.parse(start.expiresAt) - Date.now() <= 10 * 60_000);
      assert.ok(callbackUrl.searchParams.get('code'));

      assert.deepEqual(outcome.message, { type: 'plugboard:oauth', state: start.state, instanceId: f.instanceId, connection: 'chat', ok: true });
      assert.equal(outcome.origin, APP_ORIGIN);

      const row = await f.store.forCustomer(f.customer).getConnection(f.instanceId, 'chat');
      assert.equal(row?.status, 'connected');
      assert.equal(row?.kind, 'oauth2');
      assert.ok(row?.expiresAt);
      const credentials = await f.oauth.getAccessToken(ref(f));
      assert.equal(credentials.tokenType.toLowerCase(), 'bearer');
      assert.deepEqual(credentials.scopes, ['channels:read']);
      assert.ok(!row!.ciphertext!.includes(credentials.accessToken), 'the token is stored encrypted');
      assert.equal(await channelsStatus(f, credentials.accessToken), 200);

      // The verifier is stored encrypted too.
      const session = await f.store.db
        .withTables<{ oauth_sessions: { state: string; verifier: string; used_at: string | null } }>()
        .selectFrom('oauth_sessions')
        .selectAll()
        .where('state', '=', start.state)
        .executeTakeFirstOrThrow();
      assert.match(session.verifier, /^v1\./);
      assert.ok(session.used_at);

      const audit = await f.store.forCustomer(f.customer).listAudit();
      assert.ok(audit.some((e) => e.action === 'connection.connected' && e.details.connection === 'chat'));
      const everything = JSON.stringify({ audit, outcome, logs: f.logs, row: { ...row, ciphertext: null } });
      assert.ok(!everything.includes(credentials.accessToken), 'no access token in audit, logs or the callback outcome');
      assert.deepEqual(
        f.server.tokenRequests.map((r) => r.grantType),
        ['authorization_code'],
      );
    });

    test('a replayed state is refused and nothing more is exchanged', async (t) => {
      const f = await fixture(t, engine.name);
      const { callbackUrl, opened, outcome } = await connect(f);
      assert.equal(outcome.message.ok, true);
      await assert.rejects(f.oauth.flow.callback(callbackUrl, opened.key), (e: unknown) => e instanceof CallbackRejected && e.reason === 'used_state');
      assert.equal(f.server.tokenRequests.length, 1);
    });

    test('concurrent callbacks with one state: exactly one wins', async (t) => {
      const f = await fixture(t, engine.name);
      const start = await f.oauth.flow.authorize({ customer: f.customer, actor: 'user:u1', instanceId: f.instanceId, connection: 'chat', origin: APP_ORIGIN });
      const opened = await openStart(f.oauth, start);
      const callbackUrl = await consentOverHttp(opened.providerUrl);
      const results = await Promise.allSettled([1, 2, 3, 4].map(() => f.oauth.flow.callback(callbackUrl, opened.key)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.ok(results.every((r) => r.status === 'fulfilled' || (r.reason instanceof CallbackRejected && r.reason.reason === 'used_state')));
      assert.equal(f.server.tokenRequests.length, 1);
    });

    test('bound to the browser: the start page opens only from the recorded origin, and only once', async (t) => {
      const f = await fixture(t, engine.name);
      const start = await f.oauth.flow.authorize({ customer: f.customer, actor: 'user:u1', instanceId: f.instanceId, connection: 'chat', origin: APP_ORIGIN });
      // A link handed to someone else: opened from a mail (no referrer) or from another site.
      for (const referrer of [undefined, 'https://evil.example/phish', 'not a url']) {
        await assert.rejects(f.oauth.flow.start(start.state, referrer), (e: unknown) => e instanceof StartRejected && e.reason === 'wrong_origin');
      }
      const opened = await openStart(f.oauth, start);
      assert.equal(new URL(opened.providerUrl).origin, f.server.issuer);
      assert.equal(opened.outcome.providerLabel, 'Chat workspace');
      assert.match(opened.outcome.cookie.name, /^plugboard_oauth_[0-9a-f]{16}$/);
      assert.ok(opened.outcome.cookie.maxAgeSeconds > 0 && opened.outcome.cookie.maxAgeSeconds <= 600);
      // The stored row holds a hash, never the cookie's value.
      const stored = JSON.stringify(await f.store.db.withTables<OAuthTables>().selectFrom('oauth_sessions').selectAll().execute());
      assert.ok(!stored.includes(opened.key));
      await assert.rejects(openStart(f.oauth, start), (e: unknown) => e instanceof StartRejected && e.reason === 'used_state');
      await assert.rejects(
        f.oauth.flow.start(oauth.generateRandomState(), APP_ORIGIN),
        (e: unknown) => e instanceof StartRejected && e.reason === 'unknown_state',
      );
    });

    test('bound to the browser: the cookie is __Host- (Secure) on https and loopback http, plain on other http hosts', async (t) => {
      const f = await fixture(t, engine.name);
      const secure = (publicUrl: string) =>
        createOAuth({ store: f.store, cipher: createCipher(generateEncryptionKey()), integrations: [], publicUrl, allowedOrigins: [] }).flow.secureCookie;
      assert.deepEqual(
        ['https://plugboard.acme.test', 'http://127.0.0.1:8787', 'http://localhost:3000', 'http://[::1]:3000', 'http://plugboard.internal'].map(secure),
        [true, true, true, true, false],
      );
    });

    test("bound to the browser: a callback without the start cookie, or with another browser's, is refused and audited; nothing is exchanged or stored", async (t) => {
      const f = await fixture(t, engine.name);
      // The admin starts a flow and hands the provider's URL to someone else, who consents.
      const admin = await f.oauth.flow.authorize({ customer: f.customer, actor: 'user:u1', instanceId: f.instanceId, connection: 'chat', origin: APP_ORIGIN });
      const adminBrowser = await openStart(f.oauth, admin);
      const victimCallback = await consentOverHttp(adminBrowser.providerUrl, { login: 'victim' });
      await assert.rejects(f.oauth.flow.callback(victimCallback, undefined), (e: unknown) => e instanceof CallbackRejected && e.reason === 'other_browser');
      // Another browser's cookie (its own flow's) does not fit this flow either.
      const second = await f.oauth.flow.authorize({ customer: f.customer, actor: 'user:u1', instanceId: f.instanceId, connection: 'chat', origin: APP_ORIGIN });
      const secondBrowser = await openStart(f.oauth, second);
      const otherCallback = await consentOverHttp(secondBrowser.providerUrl, { login: 'victim' });
      const third = await openStart(
        f.oauth,
        await f.oauth.flow.authorize({ customer: f.customer, actor: 'user:u1', instanceId: f.instanceId, connection: 'chat', origin: APP_ORIGIN }),
      );
      await assert.rejects(f.oauth.flow.callback(otherCallback, third.key), (e: unknown) => e instanceof CallbackRejected && e.reason === 'other_browser');
      // A refused callback spends the state: the right cookie afterwards doesn't revive it.
      await assert.rejects(f.oauth.flow.callback(otherCallback, secondBrowser.key), (e: unknown) => e instanceof CallbackRejected && e.reason === 'used_state');

      assert.equal(await f.store.forCustomer(f.customer).getConnection(f.instanceId, 'chat'), undefined);
      assert.equal(f.server.tokenRequests.length, 0);
      const refused = (await f.store.forCustomer(f.customer).listAudit()).filter((e) => e.action === 'connection.oauth_refused');
      assert.deepEqual(refused.map((e) => e.details.reason).sort(), ['no_start_cookie', 'other_browser']);
      assert.equal(f.logs.filter((l) => l.includes('oauth callback refused')).length, 2);
      assert.ok(!f.logs.join('').includes(third.key), 'the cookie value is never logged');
    });

    test('an expired or unknown state is refused; nothing is stored', async (t) => {
      const f = await fixture(t, engine.name);
      const start = await f.oauth.flow.authorize({ customer: f.customer, actor: 'user:u1', instanceId: f.instanceId, connection: 'chat', origin: APP_ORIGIN });
      const opened = await openStart(f.oauth, start);
      const callbackUrl = await consentOverHttp(opened.providerUrl);
      f.advance(10 * 60_000 + 1000);
      await assert.rejects(f.oauth.flow.callback(callbackUrl, opened.key), (e: unknown) => e instanceof CallbackRejected && e.reason === 'expired_state');
      const forged = new URL(callbackUrl);
      forged.searchParams.set('state', oauth.generateRandomState());
      await assert.rejects(f.oauth.flow.callback(forged, opened.key), (e: unknown) => e instanceof CallbackRejected && e.reason === 'unknown_state');
      forged.searchParams.delete('state');
      await assert.rejects(f.oauth.flow.callback(forged, opened.key), (e: unknown) => e instanceof CallbackRejected && e.reason === 'missing_state');
      assert.equal(await f.store.forCustomer(f.customer).getConnection(f.instanceId, 'chat'), undefined);
      assert.equal(f.server.tokenRequests.length, 0);
    });

    test("a customer can't start a flow for another customer's instance, and the state binds the instance", async (t) => {
      const f = await fixture(t, engine.name);
      const other = await f.store.ensureCustomer(`other-${randomBytes(3).toString('hex')}`);
      const othersInstance = await f.createInstance(other);
      await assert.rejects(
        f.oauth.flow.authorize({ customer: f.customer, actor: 'user:u1', instanceId: othersInstance, connection: 'chat', origin: APP_ORIGIN }),
        (e: unknown) => problemFor(e)?.status === 404,
      );
      // A flow started for the other customer's instance lands there, whatever the callback says.
      const { outcome } = await connect(f, { customer: other, instanceId: othersInstance });
      assert.equal(outcome.message.instanceId, othersInstance);
      assert.equal(await f.store.forCustomer(f.customer).getConnection(f.instanceId, 'chat'), undefined);
      assert.equal((await f.store.forCustomer(other).getConnection(othersInstance, 'chat'))?.status, 'connected');
      await assert.rejects(
        f.oauth.getAccessToken({ customerId: f.customer.id, instanceId: othersInstance, connection: 'chat' }),
        (e: unknown) => e instanceof ConnectionUnavailableError && e.reason === 'not_found',
      );
    });

    test('a code swapped in from another session is stopped by PKCE', async (t) => {
      const f = await fixture(t, engine.name);
      // The attacker completes a flow of their own and injects its code into the victim's callback.
      const attacker = await f.oauth.flow.authorize({
        customer: f.customer,
        actor: 'user:evil',
        instanceId: f.instanceId,
        connection: 'chat',
        origin: APP_ORIGIN,
      });
      const attackerCallback = await consentOverHttp((await openStart(f.oauth, attacker)).providerUrl, { login: 'mallory' });
      const victim = await f.oauth.flow.authorize({ customer: f.customer, actor: 'user:u1', instanceId: f.instanceId, connection: 'chat', origin: APP_ORIGIN });
      const victimBrowser = await openStart(f.oauth, victim);
      const swapped = new URL(attackerCallback);
      swapped.searchParams.set('state', victim.state);
      const outcome = await f.oauth.flow.callback(swapped, victimBrowser.key);
      assert.equal(outcome.message.ok, false);
      assert.match(outcome.message.error ?? '', /invalid_grant/);
      assert.equal(await f.store.forCustomer(f.customer).getConnection(f.instanceId, 'chat'), undefined);
      assert.deepEqual(
        f.server.tokenRequests.map((r) => [r.grantType, r.ok]),
        [['authorization_code', false]],
      );
    });

    test('callback without a code, and a denied consent, end as ok:false with a message', async (t) => {
      const f = await fixture(t, engine.name);
      const start = await f.oauth.flow.authorize({ customer: f.customer, actor: 'user:u1', instanceId: f.instanceId, connection: 'chat', origin: APP_ORIGIN });
      const noCode = new URL(`${PUBLIC_URL}/oauth/callback`);
      noCode.searchParams.set('state', start.state);
      noCode.searchParams.set('iss', f.server.issuer);
      const first = await f.oauth.flow.callback(noCode, (await openStart(f.oauth, start)).key);
      assert.equal(first.message.ok, false);
      assert.ok(first.message.error);

      const denied = await f.oauth.flow.authorize({ customer: f.customer, actor: 'user:u1', instanceId: f.instanceId, connection: 'chat', origin: APP_ORIGIN });
      const deniedBrowser = await openStart(f.oauth, denied);
      const deniedUrl = await consentOverHttp(deniedBrowser.providerUrl, { decision: 'deny' });
      assert.equal(deniedUrl.searchParams.get('error'), 'access_denied');
      const second = await f.oauth.flow.callback(deniedUrl, deniedBrowser.key);
      assert.deepEqual({ ok: second.message.ok, error: second.message.error }, { ok: false, error: 'Access was denied at the provider.' });
      assert.equal(await f.store.forCustomer(f.customer).getConnection(f.instanceId, 'chat'), undefined);
      assert.equal(f.server.tokenRequests.length, 0);
    });

    test('origin not allowed, and a redirect URI the provider does not know, are refused', async (t) => {
      const f = await fixture(t, engine.name);
      await assert.rejects(
        f.oauth.flow.authorize({ customer: f.customer, actor: 'user:u1', instanceId: f.instanceId, connection: 'chat', origin: 'https://evil.example' }),
        (e: unknown) => problemFor(e)?.status === 403 && /evil\.example/.test((e as Error).message),
      );
      await assert.rejects(
        f.oauth.flow.authorize({ customer: f.customer, actor: 'user:u1', instanceId: f.instanceId, connection: 'chat', origin: undefined }),
        (e: unknown) => problemFor(e)?.status === 403,
      );
      await assert.rejects(
        f.oauth.flow.authorize({
          customer: f.customer,
          actor: 'user:u1',
          instanceId: f.instanceId,
          connection: 'chat',
          origin: APP_ORIGIN,
          mode: 'redirect',
          returnUrl: 'https://evil.example/back',
        }),
        (e: unknown) => problemFor(e)?.status === 422 && problemFor(e)?.errors?.[0]?.path === 'returnUrl',
      );
      // A server whose PUBLIC_URL differs from the registered redirect URI: the provider stops the flow.
      const misconfigured = createOAuth({
        store: f.store,
        cipher: createCipher(generateEncryptionKey()),
        integrations: [chatIntegration(f.server.issuer)],
        publicUrl: 'http://127.0.0.1:9999',
        allowedOrigins: [APP_ORIGIN],
      });
      const start = await misconfigured.flow.authorize({
        customer: f.customer,
        actor: 'user:u1',
        instanceId: f.instanceId,
        connection: 'chat',
        origin: APP_ORIGIN,
      });
      await assert.rejects(consentOverHttp((await openStart(misconfigured, start)).providerUrl), /redirect_uri/);
    });

    test('refresh after expiry: a short-lived token is renewed, and the new one works', async (t) => {
      // 4 s: the provider counts whole seconds, so a 1 s token could expire before its first use on a loaded machine.
      const f = await fixture(t, engine.name, { accessTokenTtl: 4, refreshedAccessTokenTtl: 3600 }, { refreshMarginMs: 0 });
      await connect(f);
      const first = await f.oauth.getAccessToken(ref(f));
      assert.equal(await channelsStatus(f, first.accessToken), 200);
      // The provider expires it for real; then, once past its expiry by our clock too, it is renewed.
      await eventually(async () => (await channelsStatus(f, first.accessToken)) === 401, 20_000, 'the provider to refuse the expired token');
      const second = await eventually(async () => {
        const credentials = await f.oauth.getAccessToken(ref(f));
        return credentials.accessToken !== first.accessToken ? credentials : undefined;
      }, 20_000);
      assert.notEqual(second.accessToken, first.accessToken);
      assert.equal(await channelsStatus(f, second.accessToken), 200);
      assert.deepEqual(
        f.server.tokenRequests.map((r) => r.grantType),
        ['authorization_code', 'refresh_token'],
      );
      assert.ok(!f.logs.join('').includes(second.accessToken));
    });

    test('refreshes within the 5-minute margin, not before', async (t) => {
      const f = await fixture(t, engine.name);
      await connect(f);
      const first = await f.oauth.getAccessToken(ref(f));
      assert.equal((await f.oauth.getAccessToken(ref(f))).accessToken, first.accessToken);
      f.advance(3600_000 - 4 * 60_000); // expires in 4 minutes
      const second = await f.oauth.getAccessToken(ref(f));
      assert.notEqual(second.accessToken, first.accessToken);
      assert.equal(f.server.tokenRequests.filter((r) => r.grantType === 'refresh_token').length, 1);
    });

    test('a refused refresh marks the connection needs_attention with the reason', async (t) => {
      const f = await fixture(t, engine.name);
      await connect(f);
      const tenant = f.store.forCustomer(f.customer);
      // What the instance's view lists (kept in memory) must show it too.
      assert.equal((await tenant.listConnections(f.instanceId)).find((c) => c.name === 'chat')?.status, 'connected');
      await f.oauth.revokeConnection(ref(f)); // the grant is gone at the provider; the row stays
      f.advance(2 * 3600_000);
      await assert.rejects(f.oauth.getAccessToken(ref(f)), (e: unknown) => e instanceof ConnectionUnavailableError && e.reason === 'needs_attention');
      const row = await tenant.getConnection(f.instanceId, 'chat');
      assert.equal(row?.status, 'needs_attention');
      assert.match(row?.error ?? '', /invalid_grant/);
      assert.equal((await tenant.listConnections(f.instanceId)).find((c) => c.name === 'chat')?.status, 'needs_attention');
      // No second attempt at the provider while it needs attention.
      await assert.rejects(f.oauth.getAccessToken(ref(f)), (e: unknown) => e instanceof ConnectionUnavailableError && e.reason === 'needs_attention');
      assert.equal(f.server.tokenRequests.filter((r) => r.grantType === 'refresh_token').length, 1);
    });

    test('revocation: the provider revokes the grant and the old token stops working', async (t) => {
      const f = await fixture(t, engine.name);
      await connect(f);
      const { accessToken } = await f.oauth.getAccessToken(ref(f));
      const result = await f.oauth.revokeConnection(ref(f));
      assert.deepEqual(result, { revoked: true });
      assert.ok(f.server.revocationRequests >= 1);
      assert.ok(f.server.grantsRevoked >= 1);
      assert.equal(await channelsStatus(f, accessToken), 401);
      assert.ok(!f.logs.join('').includes(accessToken));
    });

    test('client credentials: fetched on first use, cached, renewed near expiry', async (t) => {
      const f = await fixture(t, engine.name);
      const a = await f.oauth.getAccessToken(ref(f, 'service'));
      assert.equal(a.kind, 'clientCredentials');
      assert.equal(await channelsStatus(f, a.accessToken), 200);
      const b = await f.oauth.getAccessToken(ref(f, 'service'));
      assert.equal(b.accessToken, a.accessToken);
      assert.equal((await f.store.forCustomer(f.customer).getConnection(f.instanceId, 'service'))?.status, 'connected');
      f.advance(3600_000);
      const c = await f.oauth.getAccessToken(ref(f, 'service'));
      assert.notEqual(c.accessToken, a.accessToken);
      assert.deepEqual(
        f.server.tokenRequests.map((r) => r.grantType),
        ['client_credentials', 'client_credentials'],
      );
    });

    test('an unconnected connection is reported, not refreshed', async (t) => {
      const f = await fixture(t, engine.name);
      await assert.rejects(f.oauth.getAccessToken(ref(f)), (e: unknown) => e instanceof ConnectionUnavailableError && e.reason === 'missing');
      await assert.rejects(f.oauth.getAccessToken(ref(f, 'nope')), (e: unknown) => e instanceof ConnectionUnavailableError && e.reason === 'not_found');
    });
  });
}

describe('OAuth refresh race on PostgreSQL', { skip: PG_URL ? false : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' }, () => {
  test('two server processes refreshing the same token at once: one refresh at the provider', async (t) => {
    const f = await fixture(t, 'postgres');
    await connect(f);
    const before = await f.oauth.getAccessToken(ref(f));
    const replicaA = f.oauth;
    const replicaB = await f.replica();
    f.advance(2 * 3600_000); // both replicas share the clock: the token is due
    const results = await Promise.all([...[1, 2, 3].map(() => replicaA.getAccessToken(ref(f))), ...[1, 2, 3].map(() => replicaB.getAccessToken(ref(f)))]);
    const refreshes = f.server.tokenRequests.filter((r) => r.grantType === 'refresh_token');
    assert.equal(refreshes.length, 1, `refreshes at the provider: ${JSON.stringify(refreshes)}`);
    assert.equal(new Set(results.map((r) => r.accessToken)).size, 1, 'every caller got the one new token');
    assert.notEqual(results[0]!.accessToken, before.accessToken);
    assert.equal(await channelsStatus(f, results[0]!.accessToken), 200);
    assert.equal(replicaA.tokens.refreshCount + replicaB.tokens.refreshCount, 1);
  });

  test('two real server processes racing to refresh: one refresh at the provider, one token for all', async (t) => {
    const f = await fixture(t, 'postgres');
    await connect(f);
    const before = await f.oauth.getAccessToken(ref(f));
    f.advance(2 * 3600_000);
    const replicas = [replicaProcess(f, 3), replicaProcess(f, 3)];
    await Promise.all(replicas.map((r) => r.ready()));
    for (const r of replicas) r.go();
    const results = await Promise.all(replicas.map((r) => r.result()));
    await Promise.all(replicas.map((r) => r.exited));
    const refreshes = f.server.tokenRequests.filter((r) => r.grantType === 'refresh_token');
    assert.equal(refreshes.length, 1, `refreshes at the provider: ${JSON.stringify(refreshes)}`);
    assert.equal(results[0]!.refreshes + results[1]!.refreshes, 1);
    const hashes = new Set(results.flatMap((r) => r.hashes));
    assert.equal(hashes.size, 1, 'every caller in both processes got the one new token');
    const after = await f.oauth.getAccessToken(ref(f));
    assert.notEqual(after.accessToken, before.accessToken);
    assert.equal(await channelsStatus(f, after.accessToken), 200);
  });
});
