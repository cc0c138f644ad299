// Hostile input over EVERY route the app mounts (read from `app.routes`, so a new route is fuzzed
// without editing this file): path segments that name prototype keys or carry odd characters,
// hostile query strings, headers and bodies, as an admin, a member and the vendor, on SQLite and
// (with PLUGBOARD_TEST_DATABASE_URL) PostgreSQL. No answer may be a 5xx; every 4xx is problem+json.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { sql } from 'kysely';
import { createApp } from '../../server/src/app.js';
import { createTokenVerifier } from '../../server/src/auth.js';
import { createLogger } from '../../server/src/logger.js';
import { allMigrations } from '../../server/src/migrations.js';
import { runtimeSettings } from '../../server/src/runtime/index.js';
import { createCipher, generateEncryptionKey } from '../../server/src/secrets.js';
import { createServices } from '../../server/src/services.js';
import { openStore } from '../../server/src/store/index.js';
import type { Store } from '../../server/src/store/types.js';
import { PROBLEM_CONTENT_TYPE } from '../../src/protocol/index.js';
import { API_KEY_VALUE, completeConfig, testIntegrations } from './fixtures/integrations.js';
import { AUDIENCE, ISSUER, makeKey, PG_URL, signToken } from './fixtures/harness.js';
import { recorder } from './runtime.fixture.js';

const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', 'isPrototypeOf', '__defineGetter__'];

/** Path segments as they go on the wire (already percent-encoded where they are meant to be). */
const SEGMENTS = [
  ...PROTOTYPE_NAMES,
  '%5F%5Fproto%5F%5F',
  '%00',
  'a%00b',
  '%2e%2e',
  '..',
  '%2e',
  '%ZZ',
  '%',
  '%E0%A4%A',
  '%C0%AF',
  '%FF%FE',
  'a%2Fb',
  '%5C..%5C',
  '%20',
  '%0D%0AX-Injected:%201',
  encodeURIComponent('💥ünïcødé'),
  encodeURIComponent('<script>alert(1)</script>'),
  encodeURIComponent("' or 1=1 --"),
  'x'.repeat(8_000),
  '9'.repeat(400),
  '-1',
];

const QUERIES = [
  ...PROTOTYPE_NAMES.map((p) => `?q=${p}&status=${p}&customer=${p}&cursor=${p}&limit=${p}&state=${p}&config=${p}`),
  '?config=%7B%22__proto__%22%3A%7B%22x%22%3A1%7D%2C%22constructor%22%3A%22y%22%2C%22toString%22%3A%22z%22%7D',
  '?config=%ZZ&q=%ZZ&cursor=%ZZ&limit=%ZZ&status=%ZZ',
  '?limit=-1&cursor=%00',
  '?limit=1e400&cursor=' + 'c'.repeat(5_000),
  '?q=' + 'q'.repeat(5_000),
  '?config=' + encodeURIComponent('['.repeat(5_000)),
  '?code=x&state=__proto__&error=constructor',
];

const BODIES: (string | Uint8Array<ArrayBuffer>)[] = [
  '{',
  'null',
  '[]',
  '"text"',
  '1e400',
  '['.repeat(10_000),
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"config":{"__proto__":1,"constructor":"x","toString":"y","hasOwnProperty":"z"},"version":1}',
  '{"config":{"channel":"general","constructor":{"prototype":1}},"version":"1"}',
  '{"values":{"constructor":"x","__proto__":"y","toString":"z"}}',
  '{"values":{"apiKey":"sk_live_x","account":"ok","hasOwnProperty":"z"}}',
  '{"integrationKey":"__proto__"}',
  '{"integrationKey":"constructor"}',
  '{"integrationKey":"toString"}',
  '{"q":"__proto__","config":{"__proto__":"x","prototype":"y"}}',
  '{"returnTo":"constructor","origin":"__proto__","mode":"toString"}',
  // NUL: PostgreSQL stores no \u0000 in text or jsonb.
  '{"integrationKey":"every-field\\u0000"}',
  '{"config":{"name":"a\\u0000b","mapping":{"k\\u0000":"v"}},"version":1}',
  '{"values":{"apiKey":"sk_live_\\u0000","account":"acme\\u0000"}}',
  '{"event":"\\u0000","nested":{"\\u0000":["\\u0000"]}}',
  new Uint8Array([0xff, 0xfe, 0x00, 0x7b, 0xc0, 0xaf]),
];

const HEADERS: Record<string, string>[] = [
  { 'if-match': 'garbage' },
  { 'if-match': '"99999999999999999999"' },
  { 'if-match': 'W/"1", "2"' },
  { 'if-match': '*' },
  { 'idempotency-key': 'k'.repeat(20_000) },
  { 'idempotency-key': '__proto__' },
  { 'content-type': 'text/plain' },
  { 'content-type': 'application/json; charset=utf-16' },
  { 'content-type': 'multipart/form-data; boundary=x' },
  { 'content-type': 'application/x-www-form-urlencoded' },
  { origin: 'null' },
  { cookie: '__proto__=1; constructor=2; __Host-plugboard-oauth=%ZZ' },
  { 'webhook-id': '__proto__', 'webhook-timestamp': 'constructor', 'webhook-signature': 'v1,%%%' },
  { 'x-plugboard-signature': 'sha256=zz' },
  { 'content-length': '99999999999' },
];

const engines = [
  { name: 'sqlite' as const, skip: false as const },
  { name: 'postgres' as const, skip: PG_URL ? (false as const) : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' },
];

const tmpRoot = mkdtempSync(join(tmpdir(), 'plugboard-fuzz-'));
process.once('exit', () => rmSync(tmpRoot, { recursive: true, force: true }));

/** The store, and the runtime's settings for it (on PostgreSQL, pg-boss in a schema of its own). */
async function storeFor(t: TestContext, engine: 'sqlite' | 'postgres'): Promise<{ store: Store; runtimeEnv: Record<string, string> }> {
  if (engine === 'sqlite') {
    const store = await openStore({ databaseUrl: join(tmpRoot, `${randomBytes(6).toString('hex')}.db`), migrations: allMigrations });
    t.after(() => store.close());
    return { store, runtimeEnv: {} };
  }
  const schema = `t_fuzz_${randomBytes(6).toString('hex')}`;
  const store = await openStore({ databaseUrl: PG_URL, pgSchema: schema, poolSize: 10, migrations: allMigrations });
  t.after(async () => {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db);
    await sql`drop schema if exists ${sql.id(`${schema}_boss`)} cascade`.execute(store.db);
    await store.close();
  });
  return { store, runtimeEnv: { PLUGBOARD_PGBOSS_SCHEMA: `${schema}_boss` } };
}

interface Finding {
  /** Method and route pattern: findings are grouped by it. */
  route: string;
  request: string;
  status: number;
  contentType: string | null;
}

async function fuzzApp(t: TestContext, engine: 'sqlite' | 'postgres') {
  const key = await makeKey('ES256');
  const { store, runtimeEnv } = await storeFor(t, engine);
  const services = await createServices({
    store,
    cipher: createCipher(generateEncryptionKey()),
    integrations: [...testIntegrations, recorder],
    logger: createLogger({ level: 'silent' }),
    allowedOrigins: ['https://app.acme.test'],
    dataSourceTimeoutMs: 300,
    // Every route is mounted (webhooks, executions, metrics); no runner, so nothing executes.
    runtime: { settings: runtimeSettings(runtimeEnv), databaseUrl: PG_URL, runner: false },
    // Off: thousands of requests must reach the handlers, not stop at the limiter's 429.
    rateLimits: { customerPerMinute: 0, vendorPerMinute: 0 },
  });
  t.after(() => services.stop());
  const app = createApp({
    services,
    verifier: createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: JSON.stringify({ keys: [key.publicJwk] }) }),
  });
  const tokens = {
    admin: await signToken(key),
    member: await signToken(key, { claims: { role: 'member', sub: 'member-1' } }),
    vendor: await signToken(key, { claims: { role: 'vendor', customer: undefined, customer_name: undefined, sub: 'support-1' } }),
  };
  return { app, tokens };
}

for (const engine of engines) {
  describe(`route fuzz on ${engine.name}`, { skip: engine.skip }, () => {
    test('a prototype key names nothing: 404 for a connection, flow, data source or integration, 422 for a config or key field', async (t) => {
      const { app, tokens } = await fuzzApp(t, engine.name);
      const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
        const res = await app.request(path, {
          method,
          headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json', ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        assert.equal(res.headers.get('content-type'), PROBLEM_CONTENT_TYPE, `${method} ${path}`);
        return { status: res.status, body: (await res.json()) as { errors?: { path: string }[] } };
      };
      const make = async (integrationKey: string) => {
        const res = await app.request('/api/v1/instances', {
          method: 'POST',
          headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' },
          body: JSON.stringify({ integrationKey }),
        });
        return ((await res.json()) as { id: string }).id;
      };
      const id = await make('every-field');
      const recorderId = await make('recorder');
      for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__']) {
        const seen = [
          await call('PUT', `/api/v1/instances/${id}/connections/${name}`, { values: { apiKey: 'sk_live_x' } }),
          await call('DELETE', `/api/v1/instances/${id}/connections/${name}`),
          await call('POST', `/api/v1/instances/${id}/connections/${name}/authorize`, {}, { origin: 'https://app.acme.test' }),
          await call('POST', `/api/v1/instances/${recorderId}/webhooks/${name}/secret`, {}),
          await call('GET', `/api/v1/instances/${id}/data-sources/${name}`),
          await call('GET', `/api/v1/integrations/${name}`),
        ].map((r) => r.status);
        assert.deepEqual(seen, [404, 404, 404, 404, 404, 404], name);
        const created = await call('POST', '/api/v1/instances', { integrationKey: name });
        assert.deepEqual([created.status, created.body.errors?.map((e) => e.path)], [422, ['integrationKey']], name);
      }
      const config = await call('PUT', `/api/v1/instances/${id}/config`, { config: { constructor: 'x', toString: 'y' } }, { 'if-match': '"1"' });
      assert.deepEqual([config.status, config.body.errors?.map((e) => e.path).sort()], [422, ['config.constructor', 'config.toString']]);
      const key = await call('PUT', `/api/v1/instances/${id}/connections/api`, { values: { apiKey: 'sk_live_x', account: 'acme', hasOwnProperty: 'z' } });
      assert.deepEqual([key.status, key.body.errors?.map((e) => e.path)], [422, ['values.hasOwnProperty']]);
    });

    test('no route answers 5xx to hostile paths, queries, headers or bodies; every 4xx is problem+json', async (t) => {
      const { app, tokens } = await fuzzApp(t, engine.name);
      const admin = { authorization: `Bearer ${tokens.admin}` };
      const send = (path: string, init: RequestInit = {}) => app.request(path, init);

      // Real objects for the segments that are not being fuzzed, so hostile values reach deep handlers.
      const created = await (
        await send('/api/v1/instances', { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: '{"integrationKey":"every-field"}' })
      ).json();
      const instanceId = (created as { id: string }).id;
      assert.ok(instanceId);
      await send(`/api/v1/instances/${instanceId}/config`, {
        method: 'PUT',
        headers: { ...admin, 'content-type': 'application/json', 'if-match': '"1"' },
        body: JSON.stringify({ config: completeConfig }),
      });
      await send(`/api/v1/instances/${instanceId}/connections/api`, {
        method: 'PUT',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify({ values: { apiKey: API_KEY_VALUE, account: 'acme-eu' } }),
      });
      const recorderCreated = await (
        await send('/api/v1/instances', { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: '{"integrationKey":"recorder"}' })
      ).json();
      const recorderId = (recorderCreated as { id: string }).id;
      const valid: Record<string, string> = { id: instanceId, key: 'every-field', name: 'api', flow: 'record', token: 'not-a-real-token' };
      const validFor = (path: string, param: string): string => {
        if (param === 'name' && path.includes('data-sources')) return 'channels';
        if (param === 'id' && path.includes('/webhooks/')) return recorderId;
        return valid[param] ?? 'x';
      };

      const routes = [...new Map(app.routes.filter((r) => r.method !== 'ALL').map((r) => [`${r.method} ${r.path}`, r])).values()];
      assert.ok(routes.length >= 25, `the app mounts its routes (found ${routes.length})`);
      // Deleting the seeded instance goes last, so every other route sees it.
      routes.sort(
        (a, b) => Number(a.method === 'DELETE' && a.path === '/api/v1/instances/:id') - Number(b.method === 'DELETE' && b.path === '/api/v1/instances/:id'),
      );

      const findings: Finding[] = [];
      let requests = 0;
      const statuses = new Map<number, number>();
      const check = async (
        route: string,
        label: string,
        method: string,
        path: string,
        headers: Record<string, string>,
        body?: string | Uint8Array<ArrayBuffer>,
      ) => {
        requests++;
        let res: Response;
        try {
          res = await send(path, { method, headers, body: method === 'GET' || method === 'HEAD' ? undefined : body });
        } catch (error) {
          findings.push({ route, request: `${label} ${method} ${path.slice(0, 200)} threw ${String(error)}`, status: 0, contentType: null });
          return;
        }
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const contentType = res.headers.get('content-type');
        await res.arrayBuffer();
        const problem = contentType === PROBLEM_CONTENT_TYPE;
        // The OAuth pages answer a browser (popup or redirect), not an API client: HTML is their error shape.
        const browserPage = /^\/oauth\//.test(new URL(path, 'http://x').pathname) && contentType?.startsWith('text/html');
        if (res.status >= 500 || (res.status >= 400 && !problem && !browserPage)) {
          findings.push({
            route,
            request: `${label} ${method} ${path.slice(0, 200)}${body ? ` body=${String(body).slice(0, 80)}` : ''}`,
            status: res.status,
            contentType,
          });
        }
      };

      for (const route of routes) {
        const params = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
        const fill = (hostile?: { param: string; value: string }) =>
          route.path.replace(/:(\w+)/g, (_, p: string) => (hostile?.param === p ? hostile.value : encodeURIComponent(validFor(route.path, p))));
        for (const [who, token] of Object.entries(tokens)) {
          const auth = { authorization: `Bearer ${token}` };
          const json = { ...auth, 'content-type': 'application/json' };
          const body = route.method === 'GET' ? undefined : '{}';
          for (const param of params) {
            for (const value of SEGMENTS) await check(`${route.method} ${route.path}`, who, route.method, fill({ param, value }), json, body);
          }
          for (const query of QUERIES) await check(`${route.method} ${route.path}`, who, route.method, fill() + query, json, body);
          for (const extra of HEADERS) await check(`${route.method} ${route.path}`, who, route.method, fill(), { ...json, ...extra }, body);
          if (route.method !== 'GET') {
            for (const raw of BODIES) await check(`${route.method} ${route.path}`, who, route.method, fill(), json, raw);
            await check(
              `${route.method} ${route.path}`,
              who,
              route.method,
              fill(),
              { ...auth, 'content-type': 'text/plain' },
              '{"integrationKey":"every-field"}',
            );
          }
        }
        // Odd credentials on every route.
        for (const authorization of ['Bearer', 'Basic __proto__', `Bearer ${'a'.repeat(10_000)}`, 'Bearer constructor.toString.__proto__']) {
          await check(`${route.method} ${route.path}`, 'odd-auth', route.method, fill(), { authorization });
        }
      }
      // Paths no route matches.
      for (const value of SEGMENTS) {
        await check('unrouted', 'unrouted', 'GET', `/api/v1/${value}`, admin);
        await check('unrouted', 'unrouted', 'POST', `/api/v1/vendor/${value}/${value}`, { authorization: `Bearer ${tokens.vendor}` }, '{}');
        await check('unrouted', 'unrouted', 'PATCH', `/${value}`, admin, '{}');
      }

      assert.ok(requests > 2_000, `sent ${requests} requests`);
      // Proof the input reached the handlers: no request stopped at a rate limit, and many succeeded.
      assert.equal(statuses.get(429), undefined, 'no request was rate limited');
      assert.ok((statuses.get(200) ?? 0) > 200, `answers by status: ${JSON.stringify([...statuses])}`);
      // One example per route and status, so a failure names every broken route at once.
      const byRoute = new Map<string, Finding>();
      for (const f of findings) if (!byRoute.has(`${f.route} ${f.status}`)) byRoute.set(`${f.route} ${f.status}`, f);
      assert.deepEqual([...byRoute.values()], [], `${findings.length} of ${requests} requests answered 5xx or a non-problem 4xx`);
    });
  });
}
