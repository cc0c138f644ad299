// The runtime wired into the real server (startServer, what `plugboard serve` runs): an instance set
// up and activated through the API carries its webhook URL; a POST to it runs the flow in a real
// executor; the executions API and /metrics (which counts every route) show it; close() drains.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { ExecutionDetail, Instance } from '../../src/protocol/index.js';
import { loadConfig } from '../../server/src/config.js';
import { generateEncryptionKey } from '../../server/src/secrets.js';
import { startServer } from '../../server/src/server.js';
import { apiCaller } from './fixtures/harness.js';
import { eventually, FIXTURE_MODULE } from './runtime.harness.js';

const ISSUER = 'https://vendor.test';

test('startServer runs the runtime: activate through the API, POST the webhook URL, the flow runs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-serve-'));
  const outDir = join(dir, 'out');
  mkdirSync(outDir);
  chmodSync(dir, 0o755);
  chmodSync(outDir, 0o777); // executors may run under their own uid
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
  const env = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: join(dir, 'plugboard.db'),
    PLUGBOARD_ENCRYPTION_KEY: generateEncryptionKey(),
    PLUGBOARD_JWT_KEYS: JSON.stringify({ keys: [jwk] }),
    PLUGBOARD_JWT_ISSUER: ISSUER,
    PLUGBOARD_INTEGRATIONS: FIXTURE_MODULE,
    PLUGBOARD_EXECUTOR_ENV_RUNTIME_TEST_OUT: outDir,
    PLUGBOARD_RUNNER_POLL_MS: '100',
    PLUGBOARD_DRAIN_GRACE_MS: '5000',
  };
  const running = await startServer({ config: loadConfig(env), runtime: { env }, logStream: { write: () => {} } });
  let closed = false;
  t.after(() => (closed ? undefined : running.close()));
  assert.ok(running.services.runner, 'serve runs a runner in-process on SQLite');

  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ customer: 'acme', role: 'admin' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience('plugboard')
    .setSubject('user-1')
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(privateKey);
  const call = apiCaller(running.url, token);

  const created = await call('POST', '/instances', { integrationKey: 'recorder' });
  assert.equal(created.status, 201);
  const draft = Instance.parse(created.body);
  assert.equal((await call('PUT', `/instances/${draft.id}/config`, { config: { label: 'x', token: 'sk_live_abc' }, version: draft.version })).status, 200);
  const activated = await call('POST', `/instances/${draft.id}/activate`);
  assert.equal(activated.status, 200);
  const instance = Instance.parse(activated.body);
  assert.equal(instance.status, 'active');
  const hook = instance.webhooks?.find((w) => w.flow === 'record');
  assert.ok(hook, 'the instance response carries its webhook URLs');
  assert.deepEqual(
    instance.webhooks?.map((w) => [w.flow, w.hmac]),
    [
      ['record', false],
      ['signed', true],
    ],
  );
  // The URL is stable: the list shows the same one.
  const listed = (await call('GET', '/instances')).body as { instances: Instance[] };
  assert.equal(listed.instances[0]?.webhooks?.find((w) => w.flow === 'record')?.url, hook.url);

  // PUBLIC_URL is the default http://localhost:8787 here: send to the same path on the real socket.
  const accepted = await fetch(`${running.url}${new URL(hook.url).pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ hello: 'world' }),
  });
  assert.equal(accepted.status, 202);
  const { executionId } = (await accepted.json()) as { executionId: string };
  const detail = await eventually(
    async () => {
      const { status, body } = await call('GET', `/executions/${executionId}`);
      const d = status === 200 ? ExecutionDetail.parse(body) : undefined;
      return d && d.status !== 'queued' && d.status !== 'running' ? d : undefined;
    },
    60_000,
    'the webhook execution to finish',
  );
  assert.equal(detail.status, 'succeeded');
  assert.equal(detail.logs[0]?.message, 'attempt 1 of record');
  assert.deepEqual(JSON.parse(detail.resultSummary!), { ok: true, tokenLength: 'sk_live_abc'.length });
  const page = (await call('GET', `/instances/${instance.id}/executions`)).body as { executions: { id: string }[] };
  assert.deepEqual(
    page.executions.map((e) => e.id).filter((id) => id === executionId),
    [executionId],
  );

  // /metrics counts routes mounted before the runtime's (the instances API) as well as its own.
  // The runner counts an execution once its settle has returned, a turn after the row reads succeeded.
  const metrics = await eventually(
    async () => {
      const text = await (await fetch(`${running.url}/metrics`)).text();
      return /plugboard_executions_total\{status="succeeded"\} 1/.test(text) ? text : undefined;
    },
    10_000,
    'the execution counted in /metrics',
  );
  assert.match(metrics, /plugboard_http_requests_total\{method="POST",route="\/api\/v1\/instances",status="201"\} 1/);
  assert.match(metrics, /plugboard_http_requests_total\{method="POST",route="\/hooks\/:token",status="202"\} 1/);
  assert.match(metrics, /plugboard_executions_total\{status="succeeded"\} 1/);

  await running.close();
  closed = true;
  assert.equal(await running.store.ping().catch(() => false), false, 'the store is closed after the runtime stopped');
  assert.equal(running.services.runner?.inFlight, 0);
});
