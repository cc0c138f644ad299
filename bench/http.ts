// HTTP throughput of the API (issue 2): a raw node:http hello-world as the ceiling, then
// GET /api/v1/integrations (50 integrations, valid JWT, SQLite store), then activation at
// 64 connections (activate/pause toggling over 64 customers' instances: each request is a
// status write + audit event in one transaction). Prints figures; asserts nothing.
// The servers run in a child process (`bench/http.ts serve`), so autocannon does not share
// their event loop: on 2 cores, one for the load, one for the server under test.
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { defineIntegration, field } from '../server/src/sdk/index.js';
import { generateEncryptionKey, loadConfig, startServer } from '../server/src/index.js';

const DURATION = Number(process.env.BENCH_SECONDS ?? 5);

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function cannon(opts: autocannon.Options): Promise<Figures> {
  const r = await autocannon({ duration: DURATION, ...opts });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

function show(label: string, f: Figures): void {
  console.log(
    `${label.padEnd(44)} ${f.rps.toFixed(0).padStart(7)} req/s   p50 ${String(f.p50).padStart(3)} ms   p99 ${String(f.p99).padStart(3)} ms` +
      (f.errors ? `   (${f.errors} errors/non-2xx)` : ''),
  );
}

const integrations = Array.from({ length: 50 }, (_, i) =>
  defineIntegration({
    key: `bench-${i}`,
    name: `Bench integration ${i}`,
    description: 'An integration used by the HTTP benchmark.',
    category: ['CRM', 'Communication', 'Data', 'Finance', 'Developer tools'][i % 5]!,
    version: '1.0.0',
    configPages: [{ title: 'Settings', fields: { label: field.text({ label: 'Label', default: 'x' }) } }],
  }),
);

const ISSUER = 'https://vendor.example';

if (process.argv[2] === 'serve') {
  // The child: both servers; their URLs go to the parent. The parent signs, the child verifies.
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-bench-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `file:${join(dir, 'bench.db')}`,
    PLUGBOARD_ENCRYPTION_KEY: generateEncryptionKey(),
    PLUGBOARD_JWT_KEYS: process.env.BENCH_JWKS!,
    PLUGBOARD_JWT_ISSUER: ISSUER,
    LOG_LEVEL: 'silent',
  });
  const raw = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"hello":"world"}');
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  const server = await startServer({ config, integrations, runtime: false });
  process.send!({ raw: `http://127.0.0.1:${(raw.address() as AddressInfo).port}/`, api: server.url, engine: server.store.engine });
  process.on('disconnect', () => {
    raw.close();
    void server.close().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
} else {
  await measure();
}

async function measure(): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256' };
  const token = (customer: string) =>
    new SignJWT({ customer, role: 'admin' })
      .setProtectedHeader({ alg: 'ES256', kid: 'bench' })
      .setIssuer(ISSUER)
      .setAudience('plugboard')
      .setSubject(`user-${customer}`)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
  const child = fork(fileURLToPath(import.meta.url), ['serve'], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_JWKS: JSON.stringify({ keys: [jwk] }) },
  });
  const urls = await new Promise<{ raw: string; api: string; engine: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { raw: string; api: string; engine: string }));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  const server = { url: urls.api };
  const rawUrl = urls.raw;
  try {
    console.log(`node ${process.version}, ${DURATION} s per run, autocannon in its own process, ${urls.engine} store`);
    const rawFigures = await cannon({ url: rawUrl, connections: 64 });
    show('raw node:http hello world (64 conn)', rawFigures);

    // 2. the catalog read
    const customerToken = await token('acme');
    const headers = { authorization: `Bearer ${customerToken}` };
    const check = await fetch(`${server.url}/api/v1/integrations`, { headers });
    const body = (await check.json()) as { integrations: unknown[] };
    if (!check.ok || body.integrations.length !== 50) throw new Error(`catalog check failed: ${check.status}`);
    const catalog = await cannon({ url: `${server.url}/api/v1/integrations`, connections: 64, headers });
    show('GET /api/v1/integrations, 50 items (64 conn)', catalog);

    // 3. activation: 64 customers, one instance each, toggled active/paused
    const targets: { id: string; auth: string; active: boolean }[] = [];
    for (let i = 0; i < 64; i++) {
      const auth = `Bearer ${await token(`customer-${i}`)}`;
      const res = await fetch(`${server.url}/api/v1/instances`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ integrationKey: `bench-${i % 50}` }),
      });
      const instance = (await res.json()) as { id: string };
      if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(instance)}`);
      targets.push({ id: instance.id, auth, active: false });
    }
    let n = 0;
    const activation = await cannon({
      url: server.url,
      connections: 64,
      requests: [
        {
          method: 'POST',
          setupRequest: (req) => {
            const t = targets[n++ % targets.length]!;
            t.active = !t.active;
            return { ...req, path: `/api/v1/instances/${t.id}/${t.active ? 'activate' : 'pause'}`, headers: { authorization: t.auth } };
          },
        },
      ],
    });
    show('POST activate/pause toggle (64 conn)', activation);

    console.log(`\ncatalog / raw throughput: ${((catalog.rps / rawFigures.rps) * 100).toFixed(1)} %  (goal ≥ 50 %)`);
    console.log(`activation p99: ${activation.p99} ms  (goal ≤ 20 ms)`);
  } finally {
    child.disconnect();
  }
}
