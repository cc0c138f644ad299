// startServer on a real socket: configuration from the environment, the vendor's integrations
// module, a route of the embedding program, and graceful shutdown (stop accepting, finish in-flight, close store).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { Catalog, Instance } from '../../src/protocol/index.js';
import { loadConfig } from '../../server/src/config.js';
import { generateEncryptionKey } from '../../server/src/secrets.js';
import { startServer } from '../../server/src/server.js';
import { ISSUER, makeKey, signToken } from './fixtures/harness.js';

test('startServer serves the API on a real socket and shuts down gracefully', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-server-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const key = await makeKey('ES256');
  const logs: string[] = [];
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: join(dir, `${randomBytes(4).toString('hex')}.db`),
    PLUGBOARD_ENCRYPTION_KEY: generateEncryptionKey(),
    PLUGBOARD_JWT_KEYS: JSON.stringify({ keys: [key.publicJwk] }),
    PLUGBOARD_JWT_ISSUER: ISSUER,
    PLUGBOARD_INTEGRATIONS: fileURLToPath(new URL('./fixtures/integrations-module.ts', import.meta.url)),
    PLUGBOARD_ALLOWED_ORIGINS: 'https://app.acme.test',
  });

  let arrived!: () => void;
  const slowArrived = new Promise<void>((resolve) => (arrived = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const running = await startServer({
    config,
    logStream: { write: (line: string) => void logs.push(line) },
    routes: new Hono().get('/test/slow', async (c) => {
      arrived();
      await released;
      return c.json({ finished: true });
    }),
  });
  t.after(() => running.close());

  assert.match(running.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const authorization = `Bearer ${await signToken(key)}`;
  const catalog = await fetch(`${running.url}/api/v1/integrations`, { headers: { authorization } });
  assert.equal(catalog.status, 200);
  assert.deepEqual(
    Catalog.parse(await catalog.json()).integrations.map((i) => i.key),
    ['every-field', 'chat'],
  );
  const created = await fetch(`${running.url}/api/v1/instances`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ integrationKey: 'chat' }),
  });
  assert.equal(created.status, 201);
  Instance.parse(await created.json());
  assert.equal((await fetch(`${running.url}/readyz`)).status, 200);

  // A request in flight when shutdown starts still gets its answer; new connections are refused.
  const inFlight = fetch(`${running.url}/test/slow`, { headers: { connection: 'close' } });
  await slowArrived;
  const closing = running.close();
  await assert.rejects(fetch(`${running.url}/healthz`, { headers: { connection: 'close' } }));
  release();
  const res = await inFlight;
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { finished: true });
  await closing;
  assert.equal(await running.store.ping().catch(() => false), false, 'the store is closed');
  assert.ok(logs.some((l) => l.includes('plugboard listening')));
  assert.ok(logs.some((l) => l.includes('"msg":"stopped"')));
  assert.ok(!logs.join('\n').includes(authorization.slice(7)), 'tokens are not logged');
});

test('the integrations module must export unique integrations, and says what is wrong', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-integrations-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { indexIntegrations, loadIntegrations, IntegrationsError } = await import('../../server/src/integrations.js');
  const { testIntegrations } = await import('./fixtures/integrations.js');
  const list = await loadIntegrations(fileURLToPath(new URL('./fixtures/integrations-module.ts', import.meta.url)));
  assert.deepEqual(
    list.map((i) => i.key),
    ['every-field', 'chat'],
  );
  assert.throws(() => indexIntegrations([...testIntegrations, testIntegrations[0]!]), /"every-field" is defined twice/);
  assert.throws(() => indexIntegrations([{ key: 'x' } as never]), /defineIntegration/);
  writeFileSync(join(dir, 'wrong.mjs'), 'export const something = 1;');
  await assert.rejects(
    loadIntegrations(join(dir, 'wrong.mjs')),
    (err: unknown) => err instanceof IntegrationsError && /must export an array/.test(err.message),
  );
  await assert.rejects(loadIntegrations(join(dir, 'missing.mjs')), /could not import/);
});
