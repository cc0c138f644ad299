// Executions under webhook load (issue 10, "completion rate during load ÷ after load"): a
// `plugboard serve`-like server (startServer with its runner, real HTTP, real executors) in a
// child process. BENCH_BACKLOG webhooks are first queued through the same server without a runner;
// then the server starts with its runner, which drains that backlog with no traffic for 3 s
// (after its executor's cold start), then while autocannon POSTs webhooks for BENCH_SECONDS (at a
// fixed rate, then as fast as a fixed number of connections get answers), then with no traffic
// until the queue is empty. The runner has work in every window, so each reads what it can
// complete, not what was sent to it: the goal is completions during the load ≥ 0.8 × the drain
// after it. Without a backlog (BENCH_BACKLOG=0) the runner keeps up with what the load sends, the
// during rate is the accept rate and the drain is read off a short tail; the bench says so.
// Also prints webhooks accepted/s and refused/s (429/503; with a backlog the queue limits are off
// unless PLUGBOARD_QUEUE_LIMIT* are given). Completion times are the executions' own `ended_at`,
// read from the database afterwards. Asserts nothing.
// Senders (BENCH_SENDERS, closed loop only): `closed` is autocannon, which sends again the moment an
// answer comes, 429 and 503 included; `retry` are senders as webhook providers are, which honour
// a 429/503's Retry-After (waiting that long, plus up to 20 % jitter, before sending that delivery
// again) and otherwise send the next one at once, against the server's own queue limits.
// Run: node --import tsx bench/load.ts   (or npm run bench -- load)
// Knobs: BENCH_SECONDS (10), BENCH_RATES (500,0: webhooks/s, 0 = closed loop), BENCH_SENDERS (closed,retry), BENCH_CONNECTIONS (32),
//        BENCH_BACKLOG (8000; enough for the runner to be busy until the load stops), BENCH_CUSTOMERS (1), BENCH_ENGINES
//        (sqlite,postgres), PLUGBOARD_TEST_DATABASE_URL, and any PLUGBOARD_* runtime variable
//        (e.g. PLUGBOARD_QUEUE_LIMIT_PER_CUSTOMER=0 to see the unbounded backlog); BENCH_CPU_PROF=<dir>
//        writes the server's CPU profile there.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { exportJWK, generateKeyPair } from 'jose';
import pg from 'pg';
import { writeTrivialIntegration } from './fixtures/trivial-integration.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
/** Webhooks sent per second (a steady load, whatever the answers); 0: each connection sends as soon as it is answered. */
const RATES = (process.env.BENCH_RATES ?? '500,0').split(',').map(Number);
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 1);
/** Who sends the closed loop: autocannon (`closed`), or senders that honour Retry-After (`retry`). */
const SENDERS = (process.env.BENCH_SENDERS ?? 'closed,retry').split(',').map((e) => e.trim()) as Senders[];
type Senders = 'closed' | 'retry';
/** Webhooks queued before the runner starts, to measure its drain rate on a real backlog with no traffic. */
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 8000);
/** With a backlog: the window before the load in which the runner drains it with no traffic. */
const QUIET_MS = 3000;
const ENGINES = (process.env.BENCH_ENGINES ?? 'sqlite,postgres').split(',').map((e) => e.trim());
const PG_URL = process.env.PLUGBOARD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

type FromChild = { hooks: string[]; url: string } | { url: string } | { ended: number[]; unfinished: number } | { cpuMs: number } | { error: string };

if (process.argv[2] === 'serve') await serve(process.argv[3]!, process.argv[4] === 'retry');
else await measure();

/**
 * The child: a server without a runner first (the backlog is queued through it), then, asked
 * `runner`, the same server with its runner on the same database; the customers' webhook paths to
 * the parent, `ended_at` times on request.
 */
async function serve(engine: string, limited: boolean): Promise<void> {
  const { loadConfig, startServer, generateEncryptionKey } = await import('../server/src/index.js');
  const { runtimeDb } = await import('../server/src/runtime/schema.js');
  const { dir, module } = writeTrivialIntegration('load');
  const postgres = engine === 'postgres';
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const bossSchema = `benchboss_${randomBytes(5).toString('hex')}`;
  const { publicKey } = await generateKeyPair('ES256');
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: postgres ? PG_URL : `file:${join(dir, 'load.db')}`,
    PLUGBOARD_ENCRYPTION_KEY: generateEncryptionKey(),
    PLUGBOARD_JWT_KEYS: JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg: 'ES256' }] }),
    PLUGBOARD_JWT_ISSUER: 'https://vendor.bench',
    PLUGBOARD_INTEGRATIONS: module,
    LOG_LEVEL: 'warn',
  });
  const env = { ...process.env, PLUGBOARD_PGBOSS_SCHEMA: bossSchema };
  // The backlog is the bench's to size; with one, the load's webhooks are accepted on top of it (the
  // queue limits would answer them all 429) unless PLUGBOARD_QUEUE_LIMIT* say otherwise. Senders that
  // honour Retry-After meet the server's limits (the defaults unless PLUGBOARD_QUEUE_LIMIT* are given).
  const unlimited = BACKLOG > 0 ? { PLUGBOARD_QUEUE_LIMIT_PER_CUSTOMER: '0', PLUGBOARD_QUEUE_LIMIT: '0' } : {};
  const start = (runner: boolean) =>
    startServer({
      config,
      storeOptions: postgres ? { pgSchema: schema } : {},
      runtime: { env: runner ? (limited ? env : { ...unlimited, ...env }) : { ...env, ...unlimited, PLUGBOARD_RUNNER: 'off' } },
    });
  let server = await start(false);
  const { store, services } = server;
  const integration = services.integrations.get('load')!;
  const hooks: string[] = [];
  for (let c = 0; c < CUSTOMERS; c++) {
    const customer = await store.ensureCustomer(`load-${c}`);
    const tenant = store.forCustomer(customer);
    const audit = { actor: 'user:bench', action: 'instance.created', target: '', details: {} };
    const { instance } = await tenant.createInstance({ integrationKey: 'load', audit });
    const active = await tenant.setStatus(instance.id, { status: 'active', audit: { ...audit, action: 'instance.activated' } });
    const [endpoint] = await services.runtime!.webhooks.list(active!, integration);
    hooks.push(new URL(endpoint!.url).pathname);
  }
  let db = runtimeDb(store.db);
  process.send!({ hooks, url: server.url } satisfies FromChild);
  process.on('message', (message: string) => {
    if (message === 'runner') {
      void (async () => {
        await server.close();
        server = await start(true);
        db = runtimeDb(server.store.db);
        process.send!({ url: server.url } satisfies FromChild);
      })().catch((error: unknown) => process.send!({ error: String(error) } satisfies FromChild));
    }
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send!({ cpuMs: (user + system) / 1000 } satisfies FromChild);
    }
    if (message === 'ended') {
      void Promise.all([
        db.selectFrom('executions').select('ended_at').where('status', 'in', ['succeeded', 'failed', 'timed_out']).execute(),
        db.selectFrom('executions').select('id').where('status', 'in', ['queued', 'running']).execute(),
      ]).then(
        ([ended, unfinished]) => process.send!({ ended: ended.map((r) => Date.parse(r.ended_at!)), unfinished: unfinished.length } satisfies FromChild),
        (error: unknown) => process.send!({ error: String(error) } satisfies FromChild),
      );
    }
  });
  process.on('disconnect', () => {
    void (async () => {
      await server.close();
      if (postgres) {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`drop schema if exists ${schema} cascade; drop schema if exists ${bossSchema} cascade`);
        await client.end();
      }
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    })();
  });
}

/** CPU time of every `postgres` process on this host so far (ms; other work on the host included), from /proc. */
function postgresCpuMs(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // gone meanwhile
    }
  }
  return ticks * 10; // 100 ticks a second
}

/** Answers from the child, in order. */
function replies(child: ChildProcess): (message?: string) => Promise<FromChild> {
  const waiting: { resolve: (m: FromChild) => void; reject: (e: Error) => void }[] = [];
  child.on('message', (m: FromChild) => {
    const next = waiting.shift();
    if ('error' in m) next?.reject(new Error(m.error));
    else next?.resolve(m);
  });
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`the server exited with ${code}`));
  });
  return (message) =>
    new Promise((resolve, reject) => {
      waiting.push({ resolve, reject });
      if (message) child.send(message);
    });
}

/**
 * Senders as webhook providers are: each of `connections` sends a delivery, and on 202 the next at
 * once; on 429 or 503 it waits the answer's Retry-After (plus up to 20 % jitter) and sends that
 * delivery again. Stops at `until` (a delivery still waiting then is left unsent).
 */
async function retryingSenders(
  url: string,
  requests: { path: string; body: string }[],
  connections: number,
  until: number,
): Promise<{ statusCodeStats: Record<string, { count: number }>; errors: number; waitedS: number }> {
  // Idle sockets closed before the server's 5 s keep-alive timeout does (a sender waiting Retry-After would reuse a closed one).
  const agent = new Agent({ keepAlive: true, maxSockets: connections, timeout: 4000 });
  const { hostname, port } = new URL(url);
  const codes: Record<string, { count: number }> = {};
  let errors = 0;
  let waitedS = 0;
  const post = (path: string, body: string) =>
    new Promise<{ status: number; retryAfter: number }>((resolve, reject) => {
      const req = request(
        { agent, hostname, port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: Number(res.headers['retry-after'] ?? 1) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      const { path, body } = requests[c % requests.length]!;
      while (Date.now() < until) {
        try {
          const { status, retryAfter } = await post(path, body);
          (codes[String(status)] ??= { count: 0 }).count++;
          if (status !== 429 && status !== 503) continue;
          const waitMs = Math.min(retryAfter * 1000 * (1 + Math.random() * 0.2), until - Date.now());
          if (waitMs <= 0) break;
          waitedS += waitMs / 1000;
          await new Promise((r) => setTimeout(r, waitMs));
        } catch {
          errors++;
        }
      }
    }),
  );
  agent.destroy();
  return { statusCodeStats: codes, errors, waitedS };
}

async function benchEngine(engine: string, rate: number, senders: Senders): Promise<void> {
  if (engine === 'postgres') {
    const probe = new pg.Client({ connectionString: PG_URL });
    try {
      await probe.connect();
      await probe.end();
    } catch (error) {
      console.log(`\n[postgres] skipped: cannot connect to ${PG_URL} (${(error as Error).message})`);
      return;
    }
  }
  const child = fork(fileURLToPath(import.meta.url), ['serve', engine, senders], {
    // The server resolves plugboard/protocol to its sources, as `npm run bench` does.
    execArgv: [
      '--conditions=plugboard-source',
      '--import',
      'tsx',
      ...(process.env.BENCH_CPU_PROF ? [`--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`, '--cpu-prof'] : []),
    ],
    stdio: 'inherit',
  });
  const ask = replies(child);
  try {
    const { hooks, url: queueingUrl } = (await ask()) as { hooks: string[]; url: string };
    const requests = hooks.map((path, n) => ({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) }));
    const ended = async () => (await ask('ended')) as { ended: number[]; unfinished: number };
    const settled = async (limitMs: number) => {
      let state = await ended();
      for (const deadline = Date.now() + limitMs; state.unfinished > 0 && Date.now() < deadline; state = await ended())
        await new Promise((r) => setTimeout(r, 200));
      return state;
    };
    // The backlog, queued with no runner anywhere: the runner has work all along, before, during and
    // after the load, so each window reads what it completes, not what was sent to it.
    if (BACKLOG > 0) {
      // Accepts alone (no runner): their rate and CPU per webhook, the server's and PostgreSQL's.
      const cpuBefore = ((await ask('cpu')) as { cpuMs: number }).cpuMs;
      const pgBefore = postgresCpuMs();
      const from = Date.now();
      const queued = await autocannon({ url: queueingUrl, connections: CONNECTIONS, amount: BACKLOG, requests });
      const seconds = (Date.now() - from) / 1000;
      const accepted = queued.statusCodeStats?.['202']?.count ?? 0;
      const serverMs = ((await ask('cpu')) as { cpuMs: number }).cpuMs - cpuBefore;
      const pgMs = postgresCpuMs() - pgBefore;
      if (accepted !== BACKLOG) console.log(`  (the backlog: ${accepted} of ${BACKLOG} webhooks accepted)`);
      console.log(
        `  [${engine}] backlog queued with no runner: ${(accepted / seconds).toFixed(0)} webhooks/s; CPU per webhook: server ${((serverMs / accepted) * 1000).toFixed(0)} µs${engine === 'postgres' ? `, PostgreSQL ${((pgMs / accepted) * 1000).toFixed(0)} µs (every postgres process on the host)` : ''}`,
      );
    }
    const { url } = (await ask('runner')) as { url: string };
    let quiet: { from: number; to: number } | undefined;
    if (BACKLOG > 0) {
      // Its executor's cold start is over at the first completion; then a window with no traffic.
      let first = await ended();
      for (const deadline = Date.now() + 120_000; first.ended.length === 0 && Date.now() < deadline; first = await ended())
        await new Promise((r) => setTimeout(r, 100));
      const from = Math.max(Date.now(), Math.min(...first.ended) + 1000);
      quiet = { from, to: from + QUIET_MS };
      await new Promise((r) => setTimeout(r, quiet!.to - Date.now()));
    } else {
      // Warm: every customer's executor is up before the clock starts.
      for (const hook of hooks) await fetch(url + hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      await settled(10_000);
    }

    const cpu0 = ((await ask('cpu')) as { cpuMs: number }).cpuMs;
    const t0 = Date.now();
    const result =
      senders === 'retry'
        ? await retryingSenders(url, requests, CONNECTIONS, t0 + SECONDS * 1000)
        : await autocannon({
            url,
            connections: CONNECTIONS,
            duration: SECONDS,
            ...(rate > 0 ? { overallRate: rate } : {}),
            requests,
          });
    const t1 = Date.now();
    const serverCpu = (((await ask('cpu')) as { cpuMs: number }).cpuMs - cpu0) / (t1 - t0);
    const leftAtEnd = (await ended()).unfinished;
    const state = await settled(300_000);
    const between = (from: number, to: number) => state.ended.filter((t) => t > from && t <= to).length;
    const during = between(t0, t1);
    const after = state.ended.filter((t) => t > t1);
    const drainEnd = Math.max(t1, ...after);
    const codes = result.statusCodeStats ?? {};
    const count = (code: string) => codes[code]?.count ?? 0;
    const loadS = (t1 - t0) / 1000;
    const drainS = (drainEnd - t1) / 1000;
    const duringRate = during / loadS;
    const afterRate = after.length > 0 && drainS > 0 ? after.length / drainS : NaN;
    const quietRate = quiet ? between(quiet.from, quiet.to) / (QUIET_MS / 1000) : NaN;
    // Executions queued and not yet ended when the load stopped: none, and the runner was idle part of
    // the time (the during rate is then what was sent, not what the runner can do).
    const f = (n: number) => (Number.isNaN(n) ? '   n/a' : n.toFixed(0).padStart(6));
    const ratio = (a: number, b: number) => (Number.isNaN(a / b) ? '   n/a' : (a / b).toFixed(2).padStart(6));
    console.log(
      `\n[${engine}] ${rate > 0 ? `${rate} webhooks/s` : senders === 'retry' ? 'senders honouring Retry-After' : 'closed loop'} on ${CONNECTIONS} connections for ${SECONDS} s, ${CUSTOMERS} customer(s), ${BACKLOG} queued before; load average ${loadavg()[0]!.toFixed(1)}`,
    );
    console.log(`  webhooks accepted (202)            ${f(count('202') / loadS)}/s   (${count('202')})`);
    console.log(`  webhooks refused 429 / 503         ${f(count('429') / loadS)}/s ${f(count('503') / loadS)}/s   (${count('429')} / ${count('503')})`);
    const other = Object.entries(codes).filter(([code]) => !['202', '429', '503'].includes(code));
    if ('waitedS' in result) console.log(`  senders waiting for Retry-After      ${f((result.waitedS / loadS / CONNECTIONS) * 100)} % of their time`);
    if (other.length > 0 || result.errors > 0) console.log(`  other answers: ${JSON.stringify(Object.fromEntries(other))}, errors ${result.errors}`);
    console.log(`  server process CPU during load     ${f(serverCpu * 100)} % of a core (HTTP + runner; executors not counted)`);
    if (quiet) console.log(`  completed before the load          ${f(quietRate)}/s   (backlog, no traffic, ${QUIET_MS / 1000} s)`);
    console.log(`  executions completed during load   ${f(duringRate)}/s   (${during} in ${loadS.toFixed(1)} s)`);
    console.log(`  completed after it (drain)         ${f(afterRate)}/s   (${after.length} in ${drainS.toFixed(1)} s)`);
    console.log(`  during ÷ after                     ${Number.isNaN(afterRate) ? '   n/a (nothing left to drain)' : ratio(duringRate, afterRate)}`);
    if (quiet) console.log(`  during ÷ before                    ${ratio(duringRate, quietRate)}`);
    console.log(`  completed ÷ accepted during load   ${count('202') > 0 ? ratio(during, count('202')) : '   n/a'}`);
    // Without a backlog left at the end, the runner waited for work part of the load, and a drain read
    // off what little was left is no measure of its rate: raise BENCH_BACKLOG.
    if (leftAtEnd < afterRate)
      console.log(`  (only ${leftAtEnd} executions were left when the load stopped: the runner was not kept busy; the ratio is not the goal's)`);
    if (state.unfinished > 0) console.log(`  (${state.unfinished} executions still unfinished after 300 s)`);
  } finally {
    if (child.connected) {
      child.disconnect();
      await new Promise((r) => child.once('exit', r));
    }
  }
}

async function measure(): Promise<void> {
  console.log(`# webhook load vs execution throughput; node ${process.version}, ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at start`);
  for (const engine of ENGINES)
    for (const rate of RATES) for (const senders of rate > 0 ? (['closed'] as const) : SENDERS) await benchEngine(engine, rate, senders);
  console.log(`# load average ${loadavg()[0]!.toFixed(1)} at end`);
}
