// Provider presets and the customer's own OAuth app (issue 13). Every preset is checked against the
// preset schema; each quirk kind a preset can declare (scope separator, client authentication,
// PKCE, refresh-token rotation, tokens that never expire, extra parameters, tenant URLs) runs end
// to end — authorize, code exchange, refresh, revoke — against the real oidc-provider on 127.0.0.1
// bent to behave that way (demo/oauth-server.ts `quirks`). A second client registered there stands
// in for a customer's own OAuth app.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { sql } from 'kysely';
import { consentOverHttp, startOAuthServer, type OAuthServer, type OAuthServerClient, type ProviderQuirks } from '../../demo/oauth-server.js';
import { oauth2, type OAuth2Connection } from '../../server/src/sdk/connections.js';
import { defineIntegration } from '../../server/src/sdk/integration.js';
import { providers, ProviderPresetSchema } from '../../server/src/sdk/providers.js';
import { capturedLogger } from './fixtures/captured-logger.js';
import { InvalidFieldsError } from '../../server/src/errors.js';
import { createOAuth, oauthMigrations, type OAuth } from '../../server/src/oauth/index.js';
import { createCipher, generateEncryptionKey } from '../../server/src/secrets.js';
import { openStore, type Customer, type Store } from '../../server/src/store/index.js';

const PG_URL = process.env.PLUGBOARD_TEST_DATABASE_URL;
const PUBLIC_URL = 'http://127.0.0.1:8787';
const APP_ORIGIN = 'http://127.0.0.1:5173';
const REDIRECT = `${PUBLIC_URL}/oauth/callback`;
const VENDOR_CLIENT = { clientId: 'vendor-app', clientSecret: 'vendor-app-secret-0123456789' };
const CUSTOMER_CLIENT = { clientId: 'customers-own-app', clientSecret: 'customers-own-secret-9876543210' };

const tmpRoot = mkdtempSync(join(tmpdir(), 'plugboard-presets-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

describe('provider presets', () => {
  test('at least 25 presets, the widely used providers among them, each valid against the preset schema', () => {
    const names = Object.keys(providers);
    assert.ok(names.length >= 25, `only ${names.length} presets`);
    for (const name of ['google', 'microsoft', 'slack', 'github', 'salesforce', 'hubspot', 'atlassian', 'zoom', 'shopify', 'xero', 'quickbooks']) {
      assert.ok(names.includes(name), `${name} is missing`);
    }
    for (const name of [
      'notion',
      'airtable',
      'dropbox',
      'box',
      'linear',
      'asana',
      'intercom',
      'zendesk',
      'stripe',
      'docusign',
      'pipedrive',
      'mailchimp',
      'gitlab',
      'discord',
    ]) {
      assert.ok(names.includes(name), `${name} is missing`);
    }
    for (const [name, preset] of Object.entries(providers)) {
      const parsed = ProviderPresetSchema.safeParse(preset);
      assert.ok(parsed.success, `${name}: ${parsed.success ? '' : JSON.stringify(parsed.error.issues)}`);
      // Each one makes a connection; tenant URLs ask the customer for their part.
      const connection = oauth2(preset, { scopes: ['read'], clientId: 'id', clientSecret: 'secret' });
      assert.equal(connection.provider, preset.name);
      assert.equal(connection.pkce, preset.pkce ? 'S256' : 'none');
    }
  });

  test('the schema refuses a preset that is wrong: plain http, an unknown placeholder, an unanchored pattern', () => {
    const bad = [
      { ...providers.hubspot, tokenUrl: 'http://api.hubapi.com/oauth/v1/token' },
      { ...providers.hubspot, authorizationUrl: 'https://{portal}.hubspot.com/oauth/authorize' },
      { ...providers.shopify, tenant: { shop: { label: 'Shop', pattern: '[a-z]+' } } },
      { ...providers.zendesk, tenant: { subdomain: { label: 'Subdomain', pattern: '^[a-z]+$', default: 'Not Valid' } } },
      { ...providers.github, scopeSeparator: ';' },
      // A browser would silently skip this pattern (the v flag wants "-" escaped in a class).
      { ...providers.shopify, tenant: { shop: { label: 'Shop', pattern: '^[a-z0-9-]+$' } } },
    ];
    for (const preset of bad) assert.equal(ProviderPresetSchema.safeParse(preset).success, false, JSON.stringify(preset).slice(0, 120));
  });

  test('a tenant preset describes its fields to the browser; one without tenant or override shows none', () => {
    const shop = defineIntegration({
      key: 'shop',
      name: 'Shop',
      description: 'd',
      category: 'c',
      version: '1.0.0',
      connections: {
        store: oauth2(providers.shopify, { scopes: ['read_orders'], clientId: 'id', clientSecret: 's' }),
        code: oauth2(providers.github, { scopes: ['repo'], clientId: 'id', clientSecret: 's' }),
      },
    });
    const [store, code] = shop.describe().connections;
    const schema = store!.schema as { properties: Record<string, { title: string; pattern?: string }>; required?: string[] };
    assert.equal(schema.properties.shop?.title, 'Shop name');
    assert.deepEqual(schema.required, ['shop']);
    assert.equal(code!.schema, undefined);
  });
});

interface Fixture {
  server: OAuthServer;
  store: Store;
  oauth: OAuth;
  customer: Customer;
  instanceId: string;
  logs: string[];
  advance(ms: number): void;
}

async function fixture(
  t: TestContext,
  connection: (issuer: string) => OAuth2Connection,
  server: { quirks?: ProviderQuirks; rotateRefreshTokens?: boolean; clients?: OAuthServerClient[] } = {},
  engine: 'sqlite' | 'postgres' = 'sqlite',
): Promise<Fixture> {
  const oauthServer = await startOAuthServer({
    clients: server.clients ?? [{ ...VENDOR_CLIENT, redirectUris: [REDIRECT] }],
    quirks: server.quirks ?? {},
    rotateRefreshTokens: server.rotateRefreshTokens,
    accessTokenTtl: 3600,
  });
  const schema = `t_presets_${randomBytes(6).toString('hex')}`;
  const store =
    engine === 'postgres'
      ? await openStore({ databaseUrl: PG_URL, pgSchema: schema, migrations: oauthMigrations, poolSize: 4 })
      : await openStore({ databaseUrl: join(tmpRoot, `${schema}.db`), migrations: oauthMigrations });
  const { logger, logs } = capturedLogger();
  let offset = 0;
  const integration = defineIntegration({
    key: 'crm',
    name: 'CRM',
    description: 'd',
    category: 'c',
    version: '1.0.0',
    connections: { crm: connection(oauthServer.issuer) },
  });
  const oauth = createOAuth({
    store,
    cipher: createCipher(generateEncryptionKey()),
    integrations: [integration],
    publicUrl: PUBLIC_URL,
    allowedOrigins: [APP_ORIGIN],
    logger,
    clock: () => Date.now() + offset,
  });
  const customer = await store.ensureCustomer(`cust-${randomBytes(4).toString('hex')}`);
  const { instance } = await store
    .forCustomer(customer)
    .createInstance({ integrationKey: 'crm', audit: { actor: 'user:u1', action: 'instance.created', target: '', details: {} } });
  t.after(async () => {
    if (engine === 'postgres') await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db);
    await store.close();
    await oauthServer.close();
  });
  return { server: oauthServer, store, oauth, customer, instanceId: instance.id, logs, advance: (ms) => (offset += ms) };
}

/** The whole sign-in: authorize (with the connection's fields), the start page, consent at the provider, the callback. */
async function connect(f: Fixture, fields?: Record<string, string>) {
  const start = await f.oauth.flow.authorize({
    customer: f.customer,
    actor: 'user:u1',
    instanceId: f.instanceId,
    connection: 'crm',
    origin: APP_ORIGIN,
    ...(fields ? { fields } : {}),
  });
  const opened = await f.oauth.flow.start(start.state, `${APP_ORIGIN}/settings`);
  const callbackUrl = await consentOverHttp(opened.providerUrl);
  const outcome = await f.oauth.flow.callback(callbackUrl, opened.cookie.value);
  assert.equal(outcome.message.ok, true, outcome.message.error);
  return { start, providerUrl: new URL(opened.providerUrl), outcome };
}

/** Starts a sign-in with these connection fields (tests that expect a refusal). */
const authorizeWith = (f: Fixture, fields: Readonly<Record<string, unknown>>) =>
  f.oauth.flow.authorize({ customer: f.customer, actor: 'user:u1', instanceId: f.instanceId, connection: 'crm', origin: APP_ORIGIN, fields });

const ref = (f: Fixture) => ({ customerId: f.customer.id, instanceId: f.instanceId, connection: 'crm' });
const HOUR = 3600_000;
const at = (f: Fixture, endpoint: 'authorization' | 'token' | 'revocation') => f.server.endpointRequests.filter((r) => r.endpoint === endpoint);

/** Forces a refresh by moving the clock past the token's expiry; returns the token endpoint's record of it. */
async function refresh(f: Fixture) {
  const before = at(f, 'token').length;
  f.advance(2 * HOUR);
  const credentials = await f.oauth.getAccessToken(ref(f));
  const sent = at(f, 'token').slice(before);
  assert.equal(sent.length, 1, 'one refresh at the provider');
  assert.equal(sent[0]!.params.get('grant_type'), 'refresh_token');
  return { credentials, request: sent[0]! };
}

describe('quirk kinds, end to end against oidc-provider', () => {
  test('comma-separated scopes: the authorization request joins them with commas, and a comma-separated answer is read back', async (t) => {
    const f = await fixture(t, (issuer) => oauth2({ label: 'CRM', issuer, scopes: ['channels:read', 'chat:write'], scopeSeparator: ',', ...VENDOR_CLIENT }), {
      quirks: { scopeSeparator: ',' },
    });
    const { providerUrl } = await connect(f);
    assert.equal(providerUrl.searchParams.get('scope'), 'channels:read,chat:write');
    const credentials = await f.oauth.getAccessToken(ref(f));
    assert.deepEqual([...credentials.scopes].sort(), ['channels:read', 'chat:write']);
  });

  test('the same provider refuses space-separated scopes: the separator is what makes it work', async (t) => {
    const f = await fixture(t, (issuer) => oauth2({ label: 'CRM', issuer, scopes: ['channels:read', 'chat:write'], ...VENDOR_CLIENT }), {
      quirks: { scopeSeparator: ',' },
    });
    await assert.rejects(connect(f), /invalid_scope/);
  });

  for (const method of ['client_secret_post', 'client_secret_basic'] as const) {
    test(`client authentication ${method}: code exchange and refresh authenticate that way`, async (t) => {
      const f = await fixture(t, (issuer) => oauth2({ label: 'CRM', issuer, scopes: ['channels:read'], tokenAuthMethod: method, ...VENDOR_CLIENT }), {
        clients: [{ ...VENDOR_CLIENT, redirectUris: [REDIRECT], tokenEndpointAuthMethod: method }],
      });
      await connect(f);
      await refresh(f);
      for (const request of at(f, 'token')) {
        if (method === 'client_secret_post') {
          assert.equal(request.params.get('client_secret'), VENDOR_CLIENT.clientSecret);
          assert.equal(request.authScheme, undefined);
        } else {
          assert.equal(request.params.get('client_secret'), null);
          assert.equal(request.authScheme, 'Basic');
        }
      }
      assert.ok(f.server.tokenRequests.every((r) => r.ok));
    });
  }

  test('PKCE off: no code challenge and no verifier are sent, and the connection works', async (t) => {
    const f = await fixture(t, (issuer) => oauth2({ label: 'CRM', issuer, scopes: ['channels:read'], pkce: 'none', ...VENDOR_CLIENT }), {
      quirks: { pkce: false },
    });
    const { providerUrl } = await connect(f);
    assert.equal(providerUrl.searchParams.get('code_challenge'), null);
    assert.equal(at(f, 'token')[0]!.params.get('code_verifier'), null);
    assert.equal((await f.oauth.getAccessToken(ref(f))).kind, 'oauth2');
  });

  test('PKCE on (the default): a challenge is sent and the verifier follows it', async (t) => {
    const f = await fixture(t, (issuer) => oauth2({ label: 'CRM', issuer, scopes: ['channels:read'], ...VENDOR_CLIENT }));
    const { providerUrl } = await connect(f);
    assert.equal(providerUrl.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(at(f, 'token')[0]!.params.get('code_verifier'));
  });

  for (const rotate of [true, false]) {
    test(`refresh-token rotation ${rotate ? 'on' : 'off'}: refreshes keep working, each with the refresh token the provider gave last`, async (t) => {
      const f = await fixture(t, (issuer) => oauth2({ label: 'CRM', issuer, scopes: ['channels:read'], ...VENDOR_CLIENT }), { rotateRefreshTokens: rotate });
      await connect(f);
      const first = await refresh(f);
      const second = await refresh(f);
      const third = await refresh(f);
      assert.ok(
        f.server.tokenRequests.every((r) => r.ok),
        JSON.stringify(f.server.tokenRequests),
      );
      const sent = [first, second, third].map((r) => r.request.params.get('refresh_token'));
      if (rotate) assert.equal(new Set(sent).size, 3, 'a new refresh token each time');
      else assert.equal(new Set(sent).size, 1, 'the same refresh token each time');
      assert.notEqual(first.credentials.accessToken, third.credentials.accessToken);
    });
  }

  test('tokens that never expire: no expires_in means no expiry and no refresh, even years later', async (t) => {
    const f = await fixture(t, (issuer) => oauth2({ label: 'CRM', issuer, scopes: ['channels:read'], ...VENDOR_CLIENT }), { quirks: { omitExpiresIn: true } });
    await connect(f);
    const first = await f.oauth.getAccessToken(ref(f));
    assert.equal(first.expiresAt, null);
    f.advance(5 * 365 * 24 * HOUR);
    const later = await f.oauth.getAccessToken(ref(f));
    assert.equal(later.accessToken, first.accessToken);
    assert.equal(at(f, 'token').length, 1, 'only the code exchange');
  });

  test('extra authorization and token parameters arrive at the provider, on the exchange and on every refresh', async (t) => {
    const f = await fixture(t, (issuer) =>
      oauth2({
        label: 'CRM',
        issuer,
        scopes: ['channels:read'],
        extraAuthorizationParams: { access_type: 'offline', audience: 'api.example', client_id: 'not-overridden' },
        extraTokenParams: { resource_hint: 'crm-eu' },
        ...VENDOR_CLIENT,
      }),
    );
    const { providerUrl } = await connect(f);
    assert.equal(providerUrl.searchParams.get('access_type'), 'offline');
    assert.equal(providerUrl.searchParams.get('audience'), 'api.example');
    assert.equal(providerUrl.searchParams.get('client_id'), VENDOR_CLIENT.clientId);
    await refresh(f);
    const tokenRequests = at(f, 'token');
    assert.deepEqual(
      tokenRequests.map((r) => [r.params.get('grant_type'), r.params.get('resource_hint')]),
      [
        ['authorization_code', 'crm-eu'],
        ['refresh_token', 'crm-eu'],
      ],
    );
  });

  test("tenant URLs: the customer's shop fills the endpoints for authorize, exchange, refresh and revoke, and reaches the flow", async (t) => {
    const f = await fixture(
      t,
      (issuer) =>
        oauth2({
          label: 'Shop',
          authorizationUrl: `${issuer}/t/{shop}/auth`,
          tokenUrl: `${issuer}/t/{shop}/token`,
          revocationUrl: `${issuer}/t/{shop}/token/revocation`,
          tenant: { shop: { label: 'Shop name', pattern: '^[a-z0-9][a-z0-9\\-]*$' } },
          scopes: ['channels:read'],
          ...VENDOR_CLIENT,
        }),
      { quirks: { tenantPaths: true } },
    );
    // Refused before anything is stored: missing, and a value that would change the URL's shape.
    for (const fields of [{}, { shop: '../evil' }, { shop: 'acme.example.com/x' }]) {
      await assert.rejects(authorizeWith(f, fields), (e: unknown) => e instanceof InvalidFieldsError && e.errors.some((x) => x.path === 'fields.shop'));
    }
    const { providerUrl } = await connect(f, { shop: 'acme-store' });
    assert.equal(providerUrl.pathname, '/t/acme-store/auth');
    const credentials = (await refresh(f)).credentials;
    assert.deepEqual(credentials.tenant, { shop: 'acme-store' });
    assert.deepEqual(await f.oauth.tokens.revokeConnection(ref(f)), { revoked: true });
    const seen = f.server.endpointRequests.map((r) => `${r.endpoint}:${r.tenant}`);
    assert.ok(seen.includes('authorization:acme-store'));
    assert.ok(seen.includes('revocation:acme-store'));
    assert.deepEqual(
      at(f, 'token').map((r) => r.tenant),
      ['acme-store', 'acme-store'],
    );
  });

  test('a tenant field with a default may be left empty (Microsoft "common")', async (t) => {
    const f = await fixture(
      t,
      (issuer) =>
        oauth2({
          label: 'Directory',
          authorizationUrl: `${issuer}/t/{tenant}/auth`,
          tokenUrl: `${issuer}/t/{tenant}/token`,
          tenant: { tenant: { label: 'Directory', pattern: '^[a-z0-9.\\-]+$', default: 'common' } },
          scopes: ['channels:read'],
          ...VENDOR_CLIENT,
        }),
      { quirks: { tenantPaths: true } },
    );
    const { providerUrl } = await connect(f, { tenant: '' });
    assert.equal(providerUrl.pathname, '/t/common/auth');
  });
});

const engines = [
  { name: 'sqlite' as const, skip: false },
  { name: 'postgres' as const, skip: PG_URL ? false : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' },
];

for (const engine of engines) {
  describe(`the customer's own OAuth app on ${engine.name}`, { skip: engine.skip }, () => {
    const bothClients: OAuthServerClient[] = [
      { ...VENDOR_CLIENT, redirectUris: [REDIRECT] },
      { ...CUSTOMER_CLIENT, redirectUris: [REDIRECT] },
    ];
    const overridable = (issuer: string) => oauth2({ label: 'CRM', issuer, scopes: ['channels:read'], clientOverride: true, ...VENDOR_CLIENT });

    test('authorize, refresh and revoke use the customer’s client; its secret is never in a response, a log, an event or a row in clear', async (t) => {
      const f = await fixture(t, overridable, { clients: bothClients }, engine.name);
      const { start, providerUrl, outcome } = await connect(f, CUSTOMER_CLIENT);
      assert.equal(providerUrl.searchParams.get('client_id'), CUSTOMER_CLIENT.clientId);
      await refresh(f);
      assert.deepEqual(
        f.server.tokenRequests.map((r) => [r.grantType, r.clientId, r.ok]),
        [
          ['authorization_code', CUSTOMER_CLIENT.clientId, true],
          ['refresh_token', CUSTOMER_CLIENT.clientId, true],
        ],
      );
      // oidc-provider lets a client revoke only its own tokens: a revocation by the vendor's client would not end the grant.
      assert.deepEqual(await f.oauth.tokens.revokeConnection(ref(f)), { revoked: true });
      assert.ok(f.server.grantsRevoked >= 1);

      const secret = CUSTOMER_CLIENT.clientSecret;
      assert.ok(!JSON.stringify(start).includes(secret) && !JSON.stringify(outcome).includes(secret));
      assert.ok(!f.logs.join('\n').includes(secret), 'not in a log line');
      const audit = await sql<{ details: unknown }>`select details from audit_events`.execute(f.store.db).catch(() => ({ rows: [] }));
      assert.ok(!JSON.stringify(audit.rows).includes(secret), 'not in an audit event');
      for (const table of ['oauth_sessions', 'connections']) {
        const rows = await sql`select * from ${sql.table(table)}`.execute(f.store.db);
        assert.ok(!JSON.stringify(rows.rows).includes(secret), `not in ${table} in clear`);
      }
    });

    test('left empty, the vendor’s app is used; a client id without its secret is refused naming the field', async (t) => {
      const f = await fixture(t, overridable, { clients: bothClients }, engine.name);
      await assert.rejects(
        authorizeWith(f, { clientId: CUSTOMER_CLIENT.clientId }),
        (e: unknown) => e instanceof InvalidFieldsError && e.errors.some((x) => x.path === 'fields.clientSecret'),
      );
      const { providerUrl } = await connect(f, { clientId: '', clientSecret: '' });
      assert.equal(providerUrl.searchParams.get('client_id'), VENDOR_CLIENT.clientId);
      assert.deepEqual(
        f.server.tokenRequests.map((r) => r.clientId),
        [VENDOR_CLIENT.clientId],
      );
    });

    test('a connection without clientOverride ignores nothing silently: client fields are refused', async (t) => {
      const f = await fixture(
        t,
        (issuer) => oauth2({ label: 'CRM', issuer, scopes: ['channels:read'], ...VENDOR_CLIENT }),
        { clients: bothClients },
        engine.name,
      );
      await assert.rejects(authorizeWith(f, CUSTOMER_CLIENT), (e: unknown) => e instanceof InvalidFieldsError);
    });
  });
}
