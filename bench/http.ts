// HTTP throughput of the API (issues 2 and 10), interleaved in one run so the rows compare:
// a raw node:http hello-world (the ceiling), the same on bare Hono + @hono/node-server (the
// framework's own cost), GET /api/v1/integrations (50 integrations, valid JWT, SQLite store)
// as a browser asks for it (Chromium's Accept-Encoding, `gzip, deflate, br, zstd`, so the 8 KB
// JSON goes as ~0.5 KB of brotli), revalidated with If-None-Match (304), and without
// Accept-Encoding (the 8 KB identity body, which no browser asks for), then activation at 64 connections
// (each connection activates and pauses an instance of its own, 64 customers: each request is a status write + audit
// event in one transaction). Prints figures and the server's CPU per request; asserts nothing.
// The servers run in a child process (`bench/http.ts serve`), so autocannon does not share
// their event loop: on 2 cores, one for the load, one for the server under test.
// BENCH_SECONDS (default 5) per run, BENCH_ROUNDS (default 2) rounds of the read rows;
// BENCH_CPU_PROF=dir writes the server's CPU profile (node --cpu-prof) there; BENCH_ONLY=name
// (raw, hono, catalog, revalidated, identity, activation) runs that row alone, to profile it;
// PLUGBOARD_SQLITE_CHECKPOINT_MS is passed to the server (0: SQLite's checkpoints in the commits).
// BENCH_BASELINE=<another checkout> (e.g. a `git worktree` of main with node_modules) compares: its
// bench server runs as a second child, each row runs on both in turn (which goes first alternates
// by round) and the baseline's rows print after this tree's, marked `base` (BENCH_BASELINE_ENV="NAME=value ...":
// its server's environment also has these, e.g. this same tree with another setting); the activation row then
// runs BENCH_ACTIVATION_ROUNDS times (default 1, or 2 when comparing) on each, fresh instances each time,
// after an unmeasured second on each. Each tree's server runs with the node flags its Dockerfile's ENTRYPOINT gives
// `plugboard serve` (`--max-semi-space-size=32`), so a tree is measured as it ships.
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, get } from 'node:http';
import { constants as perf, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import autocannon from 'autocannon';
import { Hono } from 'hono';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { defineIntegration, field } from '../server/src/sdk/index.js';
import { generateEncryptionKey, loadConfig, startServer } from '../server/src/index.js';

const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const ONLY = process.env.BENCH_ONLY;
const runs = (row: string) => !ONLY || ONLY === row;
/** Activation runs so far: each makes customers and instances of its own. */
let activationRun = 0;

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** What the errors were: answers by status other than the row's, connection errors, timeouts. */
  errorKinds: string;
  /** Server CPU (user + system) per request, µs. */
  cpuUs: number;
  /** The system (kernel) part of it, µs. */
  sysUs: number;
  /** The server's event loop delay during the run (p99 and max), ms: how long it was blocked at a time. */
  loopP99: number;
  loopMax: number;
  /** The server's garbage collections during the run. */
  gc: GcFigures;
}

interface ServerSample {
  cpuUs: number;
  sysUs: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Garbage collections since the last sample: young (scavenges) and full (mark-compact), count and ms. */
  gc: GcFigures;
}

interface GcFigures {
  young: number;
  youngMs: number;
  youngMaxMs: number;
  full: number;
  fullMs: number;
  fullMaxMs: number;
}

const noGc = (): GcFigures => ({ young: 0, youngMs: 0, youngMaxMs: 0, full: 0, fullMs: 0, fullMaxMs: 0 });

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

interface Urls {
  raw: string;
  hono: string;
  api: string;
  engine: string;
}

if (process.argv[2] === 'serve') {
  // The child: the three servers; their URLs go to the parent. The parent signs, the child verifies.
  const dir = mkdtempSync(join(tmpdir(), 'plugboard-bench-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `file:${join(dir, 'bench.db')}`,
    PLUGBOARD_ENCRYPTION_KEY: generateEncryptionKey(),
    PLUGBOARD_JWT_KEYS: process.env.BENCH_JWKS!,
    PLUGBOARD_JWT_ISSUER: ISSUER,
    PLUGBOARD_ALLOWED_ORIGINS: 'https://app.bench.test',
    LOG_LEVEL: 'silent',
    // The limiter still runs (its cost is part of the path), but never refuses: 64 connections of
    // one customer would otherwise measure 429s.
    PLUGBOARD_RATE_LIMIT_CUSTOMER: '1000000',
    // Passed through, to compare checkpoints on their thread (the default) with SQLite's own (0).
    PLUGBOARD_SQLITE_CHECKPOINT_MS: process.env.PLUGBOARD_SQLITE_CHECKPOINT_MS,
  });
  const raw = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"hello":"world"}');
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  const bare = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: new Hono().get('/', (c) => c.json({ hello: 'world' })).fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const server = await startServer({ config, integrations, runtime: false });
  const urls: Urls = {
    raw: `http://127.0.0.1:${(raw.address() as AddressInfo).port}/`,
    hono: `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`,
    api: server.url,
    engine: server.store.engine,
  };
  process.send!(urls);
  // The parent asks around each run for the CPU used so far and the event loop's delays since the last ask.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  let gc = noGc();
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === perf.NODE_PERFORMANCE_GC_MINOR) {
        gc.young++;
        gc.youngMs += entry.duration;
        gc.youngMaxMs = Math.max(gc.youngMaxMs, entry.duration);
      } else if (kind === perf.NODE_PERFORMANCE_GC_MAJOR) {
        gc.full++;
        gc.fullMs += entry.duration;
        gc.fullMaxMs = Math.max(gc.fullMaxMs, entry.duration);
      }
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('message', () => {
    const { user, system } = process.cpuUsage();
    const sample: ServerSample = {
      cpuUs: user + system,
      sysUs: system,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      loopDelayMaxMs: loopDelay.max / 1e6,
      gc,
    };
    process.send!(sample);
    loopDelay.reset();
    gc = noGc();
  });
  process.on('disconnect', () => {
    raw.close();
    bare.close();
    void server.close().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
} else {
  await measure();
}

function serverSample(child: ChildProcess): Promise<ServerSample> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as ServerSample));
    child.send('sample');
  });
}

async function cannon(child: ChildProcess, opts: autocannon.Options, okStatus = '2xx'): Promise<Figures> {
  const before = await serverSample(child);
  const r = await autocannon({ duration: DURATION, connections: 64, ...opts });
  const after = await serverSample(child);
  const cpu = after.cpuUs - before.cpuUs;
  const total = r['2xx'] + r['3xx'] + r['4xx'] + r['5xx'];
  const ok = okStatus === '3xx' ? r['3xx'] : r['2xx'];
  const kinds = Object.entries(r.statusCodeStats ?? {})
    .filter(([status]) => status[0] !== okStatus[0])
    .map(([status, { count }]) => `${count} × ${status}`);
  if (r.errors) kinds.push(`${r.errors} connection errors`);
  if (r.timeouts) kinds.push(`${r.timeouts} timeouts`);
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + total - ok,
    errorKinds: kinds.join(', '),
    cpuUs: total ? cpu / total : 0,
    sysUs: total && after.sysUs !== undefined ? (after.sysUs - before.sysUs) / total : Number.NaN,
    loopP99: after.loopDelayP99Ms,
    loopMax: after.loopDelayMaxMs,
    gc: after.gc,
  };
}

function show(label: string, f: Figures, raw?: Figures): void {
  console.log(
    `${label.padEnd(46)} ${f.rps.toFixed(0).padStart(7)} req/s` +
      (raw ? ` ${((f.rps / raw.rps) * 100).toFixed(1).padStart(5)} %` : '        ') +
      `   p50 ${f.p50.toFixed(0).padStart(3)} ms   p99 ${f.p99.toFixed(0).padStart(4)} ms   ${f.cpuUs.toFixed(0).padStart(5)} µs CPU/req (sys ${Number.isNaN(f.sysUs) ? '?' : f.sysUs.toFixed(0)})` +
      `   loop delay p99 ${f.loopP99.toFixed(1)} ms, max ${f.loopMax.toFixed(1)} ms` +
      `   GC young ${f.gc.young.toFixed(0)} × (${f.gc.youngMs.toFixed(0)} ms, max ${f.gc.youngMaxMs.toFixed(1)})` +
      `, full ${f.gc.full.toFixed(0)} × (${f.gc.fullMs.toFixed(0)} ms, max ${f.gc.fullMaxMs.toFixed(1)})` +
      (f.errors ? `   (${f.errors} other answers: ${f.errorKinds})` : ''),
  );
}

type NumericFigure = Exclude<keyof Figures, 'errorKinds' | 'gc'>;

function mean(rows: Figures[]): Figures {
  const avg = (k: NumericFigure) => rows.reduce((s, r) => s + r[k], 0) / rows.length;
  const max = (k: NumericFigure) => Math.max(...rows.map((r) => r[k]));
  return {
    rps: avg('rps'),
    p50: avg('p50'),
    p99: max('p99'),
    errors: avg('errors'),
    errorKinds: [...new Set(rows.map((r) => r.errorKinds).filter(Boolean))].join('; '),
    cpuUs: avg('cpuUs'),
    sysUs: avg('sysUs'),
    loopP99: max('loopP99'),
    loopMax: max('loopMax'),
    gc: {
      young: rows.reduce((s, r) => s + r.gc.young, 0) / rows.length,
      youngMs: rows.reduce((s, r) => s + r.gc.youngMs, 0) / rows.length,
      youngMaxMs: Math.max(...rows.map((r) => r.gc.youngMaxMs)),
      full: rows.reduce((s, r) => s + r.gc.full, 0) / rows.length,
      fullMs: rows.reduce((s, r) => s + r.gc.fullMs, 0) / rows.length,
      fullMaxMs: Math.max(...rows.map((r) => r.gc.fullMaxMs)),
    },
  };
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
  const profile = process.env.BENCH_CPU_PROF;
  const startChild = async (file: string, extraEnv: Record<string, string> = {}): Promise<Server> => {
    const child = fork(file, ['serve'], {
      execArgv: [
        ...imageNodeFlags(join(dirname(file), '..')),
        '--conditions=plugboard-source',
        '--import',
        'tsx',
        ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
      ],
      env: { ...process.env, ...extraEnv, BENCH_JWKS: JSON.stringify({ keys: [jwk] }) },
    });
    const urls = await new Promise<Urls>((resolve, reject) => {
      child.once('message', (m) => resolve(m as Urls));
      child.once('exit', (code) => reject(new Error(`bench server ${file} exited with ${code}`)));
    });
    return { child, urls, catalogUrl: `${urls.api}/api/v1/integrations` };
  };
  const baseline = process.env.BENCH_BASELINE;
  const servers: Server[] = [await startChild(fileURLToPath(import.meta.url))];
  // BENCH_BASELINE_ENV="NAME=value ...": the baseline's server runs with these too (the same tree with another setting).
  const baselineEnv = Object.fromEntries(
    (process.env.BENCH_BASELINE_ENV ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((kv) => kv.split(/=(.*)/s, 2) as [string, string]),
  );
  if (baseline) servers.push({ ...(await startChild(join(baseline, 'bench/http.ts'), baselineEnv)), label: 'base' });
  const activationRounds = Number(process.env.BENCH_ACTIVATION_ROUNDS ?? (baseline ? 2 : 1));
  const label = (server: Server, text: string) => (server.label ? `[${server.label}] ${text}` : text);
  try {
    console.log(
      `node ${process.version}, ${DURATION} s per run, ${ROUNDS} rounds of the read rows interleaved, 64 connections, ` +
        `autocannon in its own process, ${servers[0]!.urls.engine} store; load average ${(await import('node:os'))
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}` +
        (baseline ? `; baseline ${baseline} interleaved` : ''),
    );

    const plain = { authorization: `Bearer ${await token('acme')}`, origin: 'https://app.bench.test' };
    // What Chromium sends on every fetch (checked with /usr/bin/chromium 2026-12, http and https alike).
    const headers = { ...plain, 'accept-encoding': 'gzip, deflate, br, zstd' };
    for (const server of servers) {
      const check = await fetch(server.catalogUrl, { headers: plain });
      const body = (await check.json()) as { integrations: unknown[] };
      if (!check.ok || body.integrations.length !== 50) throw new Error(`catalog check failed: ${check.status}`);
      server.etag = check.headers.get('etag') ?? undefined;
      // node:http.get: no Accept-Encoding of its own and no decoding, so the size is what goes on the wire.
      const browser = await new Promise<{ encoding: string | undefined; bytes: number; headerBytes: number }>((resolve, reject) => {
        get(server.catalogUrl, { headers }, (res) => {
          let bytes = 0;
          const headerBytes = res.rawHeaders.reduce((n, h) => n + h.length + 2, 0);
          res.on('data', (chunk: Buffer) => (bytes += chunk.length));
          res.on('end', () => resolve({ encoding: res.headers['content-encoding'], bytes, headerBytes }));
        }).on('error', reject);
      });
      console.log(
        label(server, `catalog: ${JSON.stringify(body).length} B JSON, ETag ${server.etag ?? 'none'}, `) +
          `to a browser's Accept-Encoding: ${browser.encoding ?? 'identity'}, ${browser.bytes} B, ${browser.headerBytes} B of headers`,
      );
    }

    for (const server of servers) server.rows = { raw: [], hono: [], catalog: [], revalidated: [], identity: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      const each = async (row: string, run: (server: Server) => Promise<Figures> | undefined) => {
        if (!runs(row)) return;
        for (const server of order) {
          const figures = await run(server);
          if (figures) server.rows![row]!.push(figures);
        }
      };
      await each('raw', (s) => cannon(s.child, { url: s.urls.raw }));
      await each('hono', (s) => cannon(s.child, { url: s.urls.hono }));
      await each('catalog', (s) => cannon(s.child, { url: s.catalogUrl, headers }));
      await each('revalidated', (s) => (s.etag ? cannon(s.child, { url: s.catalogUrl, headers: { ...headers, 'if-none-match': s.etag } }, '3xx') : undefined));
      await each('identity', (s) => cannon(s.child, { url: s.catalogUrl, headers: plain }));
    }
    console.log('');
    const labels: Record<string, string> = {
      raw: 'raw node:http hello world',
      hono: 'bare Hono on @hono/node-server, hello world',
      catalog: 'GET /api/v1/integrations, 50 items, as a browser',
      revalidated: '  … with If-None-Match (304)',
      identity: '  … without Accept-Encoding (8 KB identity)',
    };
    for (const server of servers) {
      const raw = server.rows!.raw!.length ? mean(server.rows!.raw!) : undefined;
      for (const [row, figures] of Object.entries(server.rows!)) if (figures.length) show(label(server, labels[row]!), mean(figures), raw);
    }

    const activations = new Map<Server, Figures[]>(servers.map((s) => [s, []]));
    if (runs('activation')) {
      // Unmeasured, on each server: its write path's first seconds (JIT, SQLite's page cache) would
      // otherwise fall on whichever runs first.
      if (servers.length > 1) for (const server of servers) await activation(server, token, 1);
      for (let round = 0; round < activationRounds; round++) {
        for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
          const figures = await activation(server, token);
          activations.get(server)!.push(figures);
          show(label(server, `POST activate/pause toggle, run ${round + 1}`), figures);
        }
      }
    }

    console.log('');
    for (const server of servers) {
      const { raw, catalog } = server.rows!;
      if (raw!.length && catalog!.length) {
        const ratio = (mean(catalog!).rps / mean(raw!).rps) * 100;
        const cpu = (mean(raw!).cpuUs / mean(catalog!).cpuUs) * 100;
        console.log(label(server, `catalog / raw throughput: ${ratio.toFixed(1)} %, raw ÷ catalog CPU per request ${cpu.toFixed(1)} %  (goal ≥ 50 %)`));
      }
      for (const a of activations.get(server)!) {
        console.log(
          label(server, `activation: ${a.rps.toFixed(0)} req/s, p99 ${a.p99} ms, ${a.cpuUs.toFixed(0)} µs CPU per toggle  (goal ≥ 3,200 req/s, p99 ≤ 20 ms)`),
        );
      }
    }
  } finally {
    for (const server of servers) server.child.disconnect();
  }
}

/**
 * The node flags the tree's image starts `plugboard serve` with (its Dockerfile's ENTRYPOINT, e.g.
 * `--max-semi-space-size=32`), so each tree's server runs as it ships; none when it names none.
 */
function imageNodeFlags(tree: string): string[] {
  let dockerfile: string;
  try {
    dockerfile = readFileSync(join(tree, 'Dockerfile'), 'utf8');
  } catch {
    return [];
  }
  const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
  const args = entrypoint ? (JSON.parse(entrypoint) as string[]) : [];
  const node = args.indexOf('node');
  return node < 0 ? [] : args.slice(node + 1).filter((arg) => arg.startsWith('--'));
}

interface Server {
  child: ChildProcess;
  urls: Urls;
  catalogUrl: string;
  /** Set on the baseline's rows. */
  label?: string;
  etag?: string;
  rows?: Record<string, Figures[]>;
}

/** Activation: 64 customers, one instance each (made for this run), toggled active/paused. */
async function activation(server: Server, token: (customer: string) => Promise<string>, seconds = DURATION): Promise<Figures> {
  const runId = (activationRun++).toString(36);
  const targets: { id: string; auth: string }[] = [];
  for (let i = 0; i < 64; i++) {
    const auth = `Bearer ${await token(`customer-${runId}-${i}`)}`;
    const res = await fetch(`${server.urls.api}/api/v1/instances`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ integrationKey: `bench-${i % 50}` }),
    });
    const instance = (await res.json()) as { id: string };
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(instance)}`);
    targets.push({ id: instance.id, auth });
  }
  // Each connection toggles an instance of its own, activate then pause, so every request is a
  // transition (a write) and two never race on one instance. Handing the next of 64 shared
  // instances to whichever connection asked next let a pause overtake the activate before it
  // (409, a draft has nothing to pause: the "other status" of earlier runs) or find nothing to do.
  let n = 0;
  const problems = new Map<number, string>(); // the first problem's detail per status
  const figures = await cannon(server.child, {
    duration: seconds,
    url: server.urls.api,
    setupClient: (client) => {
      const t = targets[n++ % targets.length]!;
      const toggle = (verb: string): autocannon.Request => ({
        method: 'POST',
        path: `/api/v1/instances/${t.id}/${verb}`,
        headers: { authorization: t.auth },
        onResponse: (status, body) => {
          if (status >= 300 && !problems.has(status)) problems.set(status, body);
        },
      });
      client.setRequests([toggle('activate'), toggle('pause')]);
    },
  });
  for (const [status, body] of problems) console.log(`  ${status}: ${body.slice(0, 200)}`);
  return figures;
}
