// OAuth figures: (1) the server's cost per callback (GET /oauth/callback: state check, code
// exchange with the provider, encrypt, store, audit, page), with the authorization server in a
// child process so this process's CPU time is Plugboard's alone; (2) click → "Connected" in the
// local demo flow in Chromium, sign-in and consent automated. Prints figures; asserts nothing.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { consentOverHttp } from '../demo/oauth-server.js';
import { packageRoot } from '../demo/host-page.js';
import { startDemo } from '../demo/main.js';
import { AuthorizeResponse } from '../src/protocol/index.js';
import { oauth2 } from '../server/src/sdk/connections.js';
import { defineIntegration } from '../server/src/sdk/integration.js';
import { createApp } from '../server/src/app.js';
import { createServices } from '../server/src/services.js';
import { createTokenVerifier } from '../server/src/auth.js';
import { oauthMigrations } from '../server/src/oauth/index.js';
import { createCipher, generateEncryptionKey } from '../server/src/secrets.js';
import { openStore } from '../server/src/store/index.js';
import { ensureBundle } from '../test/e2e/bundle.js';
import { makeKey, signToken, ISSUER, AUDIENCE } from '../test/node/fixtures/harness.js';

const CALLBACKS = Number(process.env.BENCH_OAUTH_CALLBACKS ?? 60);
const CLICKS = Number(process.env.BENCH_OAUTH_CLICKS ?? 5);
const PUBLIC_URL = 'http://127.0.0.1:8787';
const ORIGIN = 'https://app.acme.test';

function stats(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return `mean ${mean.toFixed(1)} ms · p50 ${at(0.5).toFixed(1)} · p95 ${at(0.95).toFixed(1)} · max ${sorted.at(-1)!.toFixed(1)} (n=${values.length})`;
}

async function providerInChild(): Promise<{ issuer: string; stop(): Promise<void> }> {
  const code = `
    const { startOAuthServer } = await import(${JSON.stringify(new URL('../demo/oauth-server.ts', import.meta.url).href)});
    const s = await startOAuthServer({ clients: [{ clientId: 'bench', clientSecret: 'bench-secret', redirectUris: ['${PUBLIC_URL}/oauth/callback'] }] });
    console.log(JSON.stringify({ issuer: s.issuer }));
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'ignore'] });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if (line.startsWith('{')) {
      const { issuer } = JSON.parse(line) as { issuer: string };
      return {
        issuer,
        stop: async () => {
          child.kill();
          await once(child, 'exit');
        },
      };
    }
  }
  throw new Error('the provider child exited without an issuer');
}

async function serverCostPerCallback(): Promise<void> {
  const provider = await providerInChild();
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-bench-oauth-'));
  const store = await openStore({ databaseUrl: join(dir, 'bench.db'), migrations: oauthMigrations });
  try {
    const integration = defineIntegration({
      key: 'chat',
      name: 'Chat',
      description: 'bench',
      category: 'Bench',
      version: '1.0.0',
      connections: { chat: oauth2({ label: 'Chat', issuer: provider.issuer, scopes: ['channels:read'], clientId: 'bench', clientSecret: 'bench-secret' }) },
    });
    const key = await makeKey('ES256');
    const services = await createServices({
      store,
      cipher: createCipher(generateEncryptionKey()),
      integrations: [integration],
      allowedOrigins: [ORIGIN],
      publicUrl: PUBLIC_URL,
    });
    const app = createApp({ services, verifier: createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: JSON.stringify({ keys: [key.publicJwk] }) }) });
    const token = await signToken(key, { claims: { exp: Math.floor(Date.now() / 1000) + 3600 } });
    const headers = { authorization: `Bearer ${token}`, origin: ORIGIN, 'content-type': 'application/json' };
    const created = await app.request('/api/v1/instances', { method: 'POST', headers, body: JSON.stringify({ integrationKey: 'chat' }) });
    const { id } = (await created.json()) as { id: string };

    const authorizeMs: number[] = [];
    const callbackMs: number[] = [];
    const callbackCpuMs: number[] = [];
    for (let i = 0; i < CALLBACKS + 5; i++) {
      let t0 = performance.now();
      const res = await app.request(`/api/v1/instances/${id}/connections/chat/authorize`, { method: 'POST', headers });
      const { authorizationUrl } = AuthorizeResponse.parse(await res.json());
      const authorizeTime = performance.now() - t0;
      // The start page, as the element's browser opens it: it sets the binding cookie and refreshes to the provider.
      const started = await app.request(new URL(authorizationUrl).pathname + new URL(authorizationUrl).search, { headers: { referer: `${ORIGIN}/` } });
      const cookie = started.headers.get('set-cookie')!.split(';')[0]!;
      const providerUrl = /content="0;url=([^"]*)"/.exec(await started.text())![1]!.replaceAll('&amp;', '&');
      const redirect = await consentOverHttp(providerUrl);
      const cpu0 = process.cpuUsage();
      t0 = performance.now();
      const page = await app.request(`/oauth/callback${redirect.search}`, { headers: { cookie } });
      await page.text();
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      if (page.status !== 200) throw new Error(`callback answered ${page.status}`);
      if (i < 5) continue; // warm-up
      authorizeMs.push(authorizeTime);
      callbackMs.push(wall);
      callbackCpuMs.push((cpu.user + cpu.system) / 1000);
    }
    console.log(`server, authorize (POST …/authorize, SQLite):        ${stats(authorizeMs)}`);
    console.log(`server, callback wall time incl. code exchange:       ${stats(callbackMs)}`);
    console.log(`server, callback CPU in the Plugboard process:        ${stats(callbackCpuMs)}`);
  } finally {
    await store.close();
    await provider.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function clickToConnected(): Promise<void> {
  const bundle = ensureBundle(packageRoot());
  if (bundle.skip) {
    console.log(`click → connected: skipped (${bundle.skip})`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-bench-oauth-demo-'));
  const demo = await startDemo({ port: 0, dataDir: dir, logLevel: 'silent', bundlePath: bundle.path });
  const browser = await chromium.launch({
    executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'],
  });
  try {
    if (!demo.oauthIssuer) throw new Error(`demo OAuth server not running: ${demo.oauthProblem}`);
    const page = await browser.newPage();
    await page.goto(`${demo.url}/?customer=globex`);
    await page.getByRole('button', { name: 'Chatwave notifications', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Chatwave notifications' });
    await dialog.getByRole('button', { name: 'Set up' }).click();
    const connect = dialog.getByRole('button', { name: 'Connect Chatwave workspace', exact: true });
    const connected = dialog.getByRole('group', { name: 'Chatwave workspace' }).getByText('Connected', { exact: true });
    const total: number[] = [];
    const afterAllow: number[] = [];
    for (let i = 0; i < CLICKS + 1; i++) {
      await connect.waitFor({ state: 'visible' });
      const popupPromise = page.waitForEvent('popup');
      const t0 = performance.now();
      await connect.click();
      const popup = await popupPromise;
      // The first flow signs in; later ones reuse the provider session and only consent.
      const signIn = popup.getByRole('button', { name: 'Sign in' });
      const allow = popup.getByRole('button', { name: 'Allow' });
      await signIn.or(allow).first().waitFor({ state: 'visible' });
      if (await signIn.isVisible()) await signIn.click();
      await allow.waitFor({ state: 'visible' });
      const t1 = performance.now();
      await allow.click();
      await connected.waitFor({ state: 'visible' });
      const t2 = performance.now();
      if (i > 0) {
        total.push(t2 - t0);
        afterAllow.push(t2 - t1);
      }
      await dialog.getByRole('button', { name: 'Disconnect Chatwave workspace', exact: true }).click();
    }
    console.log(`browser, click Connect → "Connected" (consent automated): ${stats(total)}`);
    console.log(`browser, click Allow → "Connected" (redirect, callback, message): ${stats(afterAllow)}`);
  } finally {
    await browser.close();
    await demo.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await serverCostPerCallback();
await clickToConnected();
