// Drain behind a balancer: `plugboard serve` as a real child process gets SIGTERM; /readyz answers
// 503 at once while /api requests are still served for PLUGBOARD_SHUTDOWN_DELAY_MS, then the
// process closes its listener, finishes what is in flight and exits 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { generateEncryptionKey } from '../../server/src/secrets.js';
import { eventually } from './fixtures/eventually.js';

const ISSUER = 'https://vendor.test';

test('SIGTERM: /readyz answers 503 while the API still serves during the delay, then the process exits 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-drain-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=plugboard-source', 'server/src/cli.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: join(dir, 'plugboard.db'),
      PLUGBOARD_ENCRYPTION_KEY: generateEncryptionKey(),
      PLUGBOARD_JWT_KEYS: JSON.stringify({ keys: [jwk] }),
      PLUGBOARD_JWT_ISSUER: ISSUER,
      PLUGBOARD_RUNNER: 'off',
      // Long enough to observe the draining state from here; the test waits on states, not on this.
      PLUGBOARD_SHUTDOWN_DELAY_MS: '4000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  const url = await eventually(
    () => {
      if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}: ${stderr}`);
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'plugboard listening' && entry.url) return entry.url;
      }
      return undefined;
    },
    60_000,
    'plugboard serve to listen',
  );

  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ customer: 'acme', role: 'admin' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(ISSUER)
    .setAudience('plugboard')
    .setSubject('user-1')
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(privateKey);
  const api = () => fetch(`${url}/api/v1/integrations`, { headers: { authorization: `Bearer ${token}` } });
  const readyz = () => fetch(`${url}/readyz`).then((res) => ({ status: res.status, type: res.headers.get('content-type') }));

  assert.equal((await readyz()).status, 200);
  assert.equal((await api()).status, 200);

  assert.ok(child.kill('SIGTERM'));
  // Before the change the listener closed at once: /readyz was refused, never 503.
  const draining = await eventually(
    () =>
      readyz().then(
        (r) => (r.status === 503 ? r : undefined),
        () => undefined,
      ),
    20_000,
    '/readyz to answer 503 after SIGTERM',
  );
  assert.match(draining.type ?? '', /application\/problem\+json/);
  // Still serving: liveness and the API answer while the balancer takes this replica out.
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  const during = await api();
  assert.equal(during.status, 200);
  assert.ok(Array.isArray(((await during.json()) as { integrations?: unknown }).integrations));
  assert.equal((await readyz()).status, 503);

  assert.equal(await exited, 0, stderr);
  assert.match(stdout, /"msg":"stopped"/);
});
