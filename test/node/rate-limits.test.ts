// API rate limits over the real app (real store, real JWTs): per customer and per vendor token,
// 429 problem+json with Retry-After and the IETF RateLimit fields; on PostgreSQL two app
// instances on one database share the counters.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { sql } from 'kysely';
import { PROBLEM_CONTENT_TYPE } from '../../src/protocol/index.js';
import { createApp } from '../../server/src/app.js';
import { createTokenVerifier } from '../../server/src/auth.js';
import { loadConfig } from '../../server/src/config.js';
import { allMigrations } from '../../server/src/migrations.js';
import type { RateLimitSettings } from '../../server/src/rate-limits.js';
import { createCipher, generateEncryptionKey } from '../../server/src/secrets.js';
import { createServices } from '../../server/src/services.js';
import { openStore, type Store } from '../../server/src/store/index.js';
import { AUDIENCE, ISSUER, makeKey, signToken, type SigningKey } from './fixtures/harness.js';

const PG_URL = process.env.PLUGBOARD_TEST_DATABASE_URL;
const tmpRoot = mkdtempSync(join(tmpdir(), 'plugboard-rate-limits-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

type Engine = 'sqlite' | 'postgres';

/** A database of its own: a SQLite file, or a PostgreSQL schema. `open()` opens another store on it (another replica). */
function database(t: TestContext, engine: Engine): { open(): Promise<Store> } {
  const name = `t_rl_${randomBytes(6).toString('hex')}`;
  const stores: Store[] = [];
  t.after(async () => {
    if (engine === 'postgres' && stores[0]) await sql`drop schema if exists ${sql.id(name)} cascade`.execute(stores[0].db);
    for (const s of stores) await s.close();
  });
  return {
    async open() {
      const store =
        engine === 'postgres'
          ? await openStore({ databaseUrl: PG_URL, pgSchema: name, migrations: allMigrations })
          : await openStore({ databaseUrl: join(tmpRoot, `${name}.db`), migrations: allMigrations });
      stores.push(store);
      return store;
    },
  };
}

let signingKey: Promise<SigningKey> | undefined;

/** One app instance (what one replica serves) with the given limits. */
async function instance(store: Store, rateLimits: Partial<RateLimitSettings>) {
  const key = await (signingKey ??= makeKey('ES256'));
  const services = await createServices({ store, cipher: createCipher(generateEncryptionKey()), integrations: [], rateLimits });
  const app = createApp({ services, verifier: createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: JSON.stringify({ keys: [key.publicJwk] }) }) });
  return async (path: string, claims: Record<string, unknown>) => {
    const res = await app.request(path, { headers: { authorization: `Bearer ${await signToken(key, { claims })}` } });
    const text = await res.text();
    const json = res.headers.get('content-type')?.includes('json');
    return { status: res.status, headers: res.headers, text, body: json ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };
}

const acme = { customer: 'acme', role: 'admin', sub: 'user-1' };
const acmeMember = { customer: 'acme', role: 'member', sub: 'user-2' };
const globex = { customer: 'globex', role: 'admin', sub: 'user-9' };
const vendorToken = { role: 'vendor', sub: 'acme-crm-backend', customer: undefined };

function assertRateLimited(res: { status: number; headers: Headers; body?: Record<string, unknown> }, policy: string, quota: number) {
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
  assert.equal(res.body?.status, 429);
  assert.match(String(res.body?.type), /rate/i);
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${res.headers.get('retry-after')}`);
  assert.equal(res.headers.get('ratelimit-policy'), `"${policy}";q=${quota};w=60`);
  assert.equal(res.headers.get('ratelimit'), `"${policy}";r=0;t=${retryAfter}`);
}

for (const engine of ['sqlite', 'postgres'] as const) {
  const skip = engine === 'postgres' && !PG_URL ? 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' : false;
  describe(`rate limits on ${engine}`, { skip }, () => {
    test('a customer over its limit gets 429 with Retry-After and RateLimit fields; another customer is unaffected', async (t) => {
      const call = await instance(await database(t, engine).open(), { customerPerMinute: 3 });
      const first = await call('/api/v1/integrations', acme);
      assert.equal(first.status, 200, first.text);
      assert.equal(first.headers.get('ratelimit-policy'), '"customer";q=3;w=60');
      assert.match(first.headers.get('ratelimit') ?? '', /^"customer";r=2;t=([1-9]|[1-5]\d|60)$/);
      // Users of one customer share its quota.
      assert.equal((await call('/api/v1/integrations', acmeMember)).headers.get('ratelimit')?.split(';')[1], 'r=1');
      assert.equal((await call('/api/v1/instances', acme)).status, 200);
      assertRateLimited(await call('/api/v1/integrations', acme), 'customer', 3);
      assertRateLimited(await call('/api/v1/instances', acmeMember), 'customer', 3);

      const other = await call('/api/v1/integrations', globex);
      assert.equal(other.status, 200, other.text);
      assert.match(other.headers.get('ratelimit') ?? '', /^"customer";r=2;/);
    });

    test('vendor tokens have their own limit; health, readiness and OAuth pages are not counted', async (t) => {
      const call = await instance(await database(t, engine).open(), { customerPerMinute: 2, vendorPerMinute: 2 });
      assert.equal((await call('/api/v1/vendor/customers', vendorToken)).status, 200);
      assert.equal((await call('/api/v1/vendor/customers', vendorToken)).status, 200);
      assertRateLimited(await call('/api/v1/vendor/customers', vendorToken), 'vendor', 2);
      // The customers' quota is another one.
      assert.equal((await call('/api/v1/integrations', acme)).status, 200);
      for (let i = 0; i < 5; i++) {
        const health = await call('/healthz', acme);
        assert.equal(health.status, 200);
        assert.equal(health.headers.get('ratelimit'), null);
        assert.equal((await call('/readyz', acme)).headers.get('ratelimit'), null);
        assert.equal((await call('/oauth/callback', acme)).status, 400);
      }
      assert.equal((await call('/api/v1/integrations', acme)).status, 200);
    });

    test('0 turns a limit off; the configuration reads the variables', async (t) => {
      const call = await instance(await database(t, engine).open(), { customerPerMinute: 0 });
      for (let i = 0; i < 5; i++) assert.equal((await call('/api/v1/integrations', acme)).status, 200);
      assert.deepEqual(loadConfig({}).rateLimits, { customerPerMinute: 600, vendorPerMinute: 1200 });
      assert.deepEqual(loadConfig({ PLUGBOARD_RATE_LIMIT_CUSTOMER: '50', PLUGBOARD_RATE_LIMIT_VENDOR: '0' }).rateLimits, {
        customerPerMinute: 50,
        vendorPerMinute: 0,
      });
      assert.throws(() => loadConfig({ PLUGBOARD_RATE_LIMIT_CUSTOMER: 'lots' }), /PLUGBOARD_RATE_LIMIT_CUSTOMER/);
    });
  });
}

describe('rate limits across replicas on PostgreSQL', { skip: PG_URL ? false : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped' }, () => {
  test('two app instances on one database share the counters', async (t) => {
    const db = database(t, 'postgres');
    const one = await instance(await db.open(), { customerPerMinute: 4, vendorPerMinute: 2 });
    const two = await instance(await db.open(), { customerPerMinute: 4, vendorPerMinute: 2 });
    assert.equal((await one('/api/v1/integrations', acme)).status, 200);
    assert.equal((await two('/api/v1/integrations', acme)).status, 200);
    assert.equal((await one('/api/v1/integrations', acme)).status, 200);
    const fourth = await two('/api/v1/integrations', acme);
    assert.equal(fourth.status, 200);
    assert.match(fourth.headers.get('ratelimit') ?? '', /^"customer";r=0;/);
    assertRateLimited(await one('/api/v1/integrations', acme), 'customer', 4);
    assertRateLimited(await two('/api/v1/integrations', acme), 'customer', 4);
    assert.equal((await two('/api/v1/vendor/customers', vendorToken)).status, 200);
    assert.equal((await one('/api/v1/vendor/customers', vendorToken)).status, 200);
    assertRateLimited(await two('/api/v1/vendor/customers', vendorToken), 'vendor', 2);
    // One shared table; its keys name no customer or token subject.
    const rows = await sql<{ key: string }>`select key from plugboard_rate_limits order by key`.execute((await db.open()).db);
    assert.deepEqual(rows.rows.map((r) => r.key.split(':')[0]).sort(), ['customer', 'vendor']);
    const everything = JSON.stringify(rows.rows);
    assert.ok(!/acme|user-1|acme-crm-backend|cus_/.test(everything), everything);
  });
});
