// OpenTelemetry over OTLP/HTTP, received by a real in-process OTLP receiver (node:http, the JSON
// encoding): the server started with OTEL_EXPORTER_OTLP_ENDPOINT exports one trace per webhook
// (request span → execution span on the runner → one span per ctx.fetch call), its metrics and its
// log records (with the trace id), and nothing it exports carries a secret. /metrics shows the queue
// depth and the oldest runnable execution's wait, on both engines.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { Instance } from '../../src/protocol/index.js';
import { loadConfig } from '../../server/src/config.js';
import { createPgBossQueue } from '../../server/src/runtime/pgboss-queue.js';
import { generateEncryptionKey } from '../../server/src/secrets.js';
import { startServer } from '../../server/src/server.js';
import { apiCaller, ISSUER, makeKey, signToken } from './fixtures/harness.js';
import { createHarness, eventually, newSchema, PG_URL } from './runtime.harness.js';

const TRACED_FLOWS = fileURLToPath(new URL('./fixtures/flows/traced.ts', import.meta.url));
const API_KEY = 'sk_live_telemetry_4f9a1c';

type Attr = { key: string; value: Record<string, unknown> };
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: Attr[];
}
const attr = (attrs: Attr[] | undefined, key: string): unknown => {
  const v = attrs?.find((a) => a.key === key)?.value;
  return v && (v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue);
};

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const RUNNER_CLI = fileURLToPath(new URL('../../server/src/runtime/runner-main.ts', import.meta.url));

describe('OpenTelemetry export (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  /** Every request the receiver got: its path and raw (decompressed) body. */
  const received: { path: string; text: string }[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      received.push({ path: req.url ?? '', text: (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  /** The API the flow calls: what it was sent (proves the secrets were really used). */
  const calls: { url: string; authorization?: string }[] = [];
  const api = createServer((req, res) => {
    calls.push({ url: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  let otelEnv: Record<string, string>;
  let apiPort: number;
  const dirs: string[] = [];

  const bodies = (path: string) => received.filter((r) => r.path === path).map((r) => JSON.parse(r.text) as Record<string, unknown[]>);
  /** Every span received, with the service.name of the process that sent it. */
  const spans = (): (OtlpSpan & { service: unknown })[] =>
    bodies('/v1/traces').flatMap((b) =>
      (b.resourceSpans as { resource: { attributes: Attr[] }; scopeSpans: { spans: OtlpSpan[] }[] }[]).flatMap((r) =>
        r.scopeSpans.flatMap((s) => s.spans.map((span) => ({ ...span, service: attr(r.resource.attributes, 'service.name') }))),
      ),
    );

  before(async () => {
    const receiverPort = await listen(receiver);
    apiPort = await listen(api);
    // Read by the SDK from the environment, as in production; short intervals so the test is quick.
    otelEnv = {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiverPort}`,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_BLRP_SCHEDULE_DELAY: '100',
      OTEL_METRIC_EXPORT_INTERVAL: '300',
    };
    Object.assign(process.env, otelEnv);
    delete process.env.OTEL_SERVICE_NAME;
  });
  after(() => {
    receiver.close();
    api.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Starts a server (with an in-process runner on SQLite; on PostgreSQL a `plugboard runner` process
   * beside it), runs one webhook through the traced flow and checks the trace, metrics and logs.
   */
  async function webhookTrace(engine: 'sqlite' | 'postgres') {
    const dir = mkdtempSync(join(tmpdir(), 'plugboard-otel-'));
    dirs.push(dir);
    chmodSync(dir, 0o755);
    const key = await makeKey('ES256');
    const pgSchema = newSchema('otel');
    const bossSchema = newSchema('boss');
    const shared = {
      DATABASE_URL: engine === 'postgres' ? PG_URL! : join(dir, 'plugboard.db'),
      PLUGBOARD_ENCRYPTION_KEY: generateEncryptionKey(),
      PLUGBOARD_INTEGRATIONS: TRACED_FLOWS,
      PLUGBOARD_EGRESS_ALLOW: `127.0.0.1:${apiPort}`,
      PLUGBOARD_RUNNER_POLL_MS: '100',
      PLUGBOARD_PG_SCHEMA: pgSchema,
      PLUGBOARD_PGBOSS_SCHEMA: bossSchema,
      LOG_LEVEL: 'info',
    };
    const env = {
      ...shared,
      PORT: '0',
      HOST: '127.0.0.1',
      PLUGBOARD_JWT_KEYS: JSON.stringify({ keys: [key.publicJwk] }),
      PLUGBOARD_JWT_ISSUER: ISSUER,
      PLUGBOARD_RUNNER: engine === 'postgres' ? 'off' : 'on',
    };
    const running = await startServer({
      config: loadConfig(env),
      runtime: { env },
      storeOptions: engine === 'postgres' ? { pgSchema } : {},
      logStream: { write: () => {} },
    });
    // On PostgreSQL the execution runs in another process: the trace context must travel with it.
    const runner =
      engine === 'postgres'
        ? spawn(process.execPath, ['--import', 'tsx', '--conditions=plugboard-source', RUNNER_CLI], {
            env: { PATH: process.env.PATH, ...shared, ...otelEnv },
            stdio: ['ignore', 'pipe', 'pipe'],
          })
        : undefined;
    let runnerOutput = '';
    runner?.stdout!.on('data', (c: Buffer) => (runnerOutput += c.toString()));
    runner?.stderr!.on('data', (c: Buffer) => (runnerOutput += c.toString()));
    try {
      const token = await signToken(key);
      const call = apiCaller(running.url, token);
      const apiKey = `${API_KEY}_${engine}`;
      const draft = Instance.parse((await call('POST', '/instances', { integrationKey: 'traced' })).body);
      assert.equal((await call('PUT', `/instances/${draft.id}/config`, { config: { apiKey }, version: draft.version })).status, 200);
      const instance = Instance.parse((await call('POST', `/instances/${draft.id}/activate`)).body);
      const hookPath = new URL(instance.webhooks!.find((w) => w.flow === 'call')!.url).pathname;

      const accepted = await fetch(`${running.url}${hookPath}?sig=query-secret-1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: `http://127.0.0.1:${apiPort}/v2/orders` }),
      });
      assert.equal(accepted.status, 202);
      const { executionId } = (await accepted.json()) as { executionId: string };

      // The trace: the webhook's server span, the execution's span under it, the fetch's span under that.
      const chain = await eventually(
        () => {
          const all = spans();
          const execution = all.find((s) => attr(s.attributes, 'plugboard.execution.id') === executionId);
          const request = execution && all.find((s) => s.spanId === execution.parentSpanId);
          const outbound = execution && all.find((s) => s.parentSpanId === execution.spanId);
          return request && outbound ? { request, execution: execution!, outbound } : undefined;
        },
        30_000,
        () =>
          `the three spans (seen: ${spans()
            .map((s) => s.name)
            .join(', ')}; runner: ${runnerOutput.slice(-1500)})`,
      );
      assert.equal(chain.request.name, 'POST /hooks/:token');
      assert.equal(chain.request.service, 'plugboard-server');
      assert.equal(chain.execution.service, engine === 'postgres' ? 'plugboard-runner' : 'plugboard-server');
      assert.equal(attr(chain.request.attributes, 'http.route'), '/hooks/:token');
      assert.equal(Number(attr(chain.request.attributes, 'http.response.status_code')), 202);
      assert.equal(chain.execution.traceId, chain.request.traceId);
      assert.equal(chain.outbound.traceId, chain.request.traceId);
      assert.equal(attr(chain.execution.attributes, 'plugboard.flow'), 'call');
      assert.equal(attr(chain.execution.attributes, 'plugboard.instance.id'), instance.id);
      assert.equal(typeof attr(chain.execution.attributes, 'plugboard.customer.id'), 'string');
      assert.equal(attr(chain.outbound.attributes, 'http.request.method'), 'POST');
      assert.equal(attr(chain.outbound.attributes, 'server.address'), '127.0.0.1');
      assert.equal(Number(attr(chain.outbound.attributes, 'http.response.status_code')), 200);
      assert.equal(Number(attr(chain.outbound.attributes, 'server.port')), apiPort);

      // Metrics: the execution counted by status (by the process that ran it), the queue figures.
      const runnerService = engine === 'postgres' ? 'plugboard-runner' : 'plugboard-server';
      await eventually(
        () =>
          bodies('/v1/metrics').some((b) => {
            const text = JSON.stringify(b);
            if (!text.includes(`"${runnerService}"`) || !text.includes('plugboard.queue.oldest_age') || !text.includes('plugboard.queue.depth')) return false;
            const metrics = (
              b.resourceMetrics as {
                scopeMetrics: { metrics: { name: string; sum?: { dataPoints: { attributes: Attr[]; asInt?: number | string; asDouble?: number }[] } }[] }[];
              }[]
            ).flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
            const executions = metrics.find((m) => m.name === 'plugboard.executions');
            return executions?.sum?.dataPoints.some((p) => attr(p.attributes, 'status') === 'succeeded' && Number(p.asInt ?? p.asDouble) >= 1) ?? false;
          }),
        20_000,
        () =>
          `a metrics export counting the succeeded execution (last: ${received
            .filter((r) => r.path === '/v1/metrics')
            .pop()
            ?.text.slice(0, 3000)})`,
      );

      // Logs: the webhook request's log line, in its trace.
      await eventually(
        () =>
          bodies('/v1/logs').some((b) =>
            (b.resourceLogs as { scopeLogs: { logRecords: { traceId?: string; body?: { stringValue?: string } }[] }[] }[]).some((r) =>
              r.scopeLogs.some((s) => s.logRecords.some((l) => l.traceId === chain.request.traceId && l.body?.stringValue === 'request')),
            ),
          ),
        20_000,
        'a log record carrying the trace id',
      );

      // The secrets were really used (the API got them), and none was exported.
      assert.ok(calls.some((c) => c.url.includes(apiKey) && c.authorization === `Bearer ${apiKey}`));
      const everything = received.map((r) => r.text).join('\n');
      for (const secret of [API_KEY, token, hookPath.split('/').pop()!, 'query-secret-1', 'api_key', '/v2/orders']) {
        assert.ok(!everything.includes(secret), `${secret.slice(0, 12)}… must not be exported`);
      }
      assert.ok(!/authorization/i.test(everything), 'no Authorization header is exported');
    } finally {
      if (runner && runner.exitCode === null) {
        const exited = new Promise((resolve) => runner.once('exit', resolve));
        runner.kill('SIGTERM');
        await exited;
      }
      await running.close();
      if (engine === 'postgres') {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`drop schema if exists ${pgSchema} cascade`);
        await client.query(`drop schema if exists ${bossSchema} cascade`);
        await client.end();
      }
    }
  }

  test('a webhook makes one trace: request → execution → ctx.fetch; metrics and logs arrive; no secret in any of it (SQLite, runner in-process)', () =>
    webhookTrace('sqlite'));
  test(
    'the trace goes on in a `plugboard runner` process (PostgreSQL): the traceparent travels with the execution',
    { skip: PG_URL ? false : 'PLUGBOARD_TEST_DATABASE_URL is not set' },
    () => webhookTrace('postgres'),
  );
});

describe('/metrics: queue depth and the oldest runnable execution’s wait', () => {
  for (const engine of ['sqlite', 'postgres'] as const) {
    test(engine, { skip: engine === 'postgres' && !PG_URL ? 'PLUGBOARD_TEST_DATABASE_URL is not set' : false }, async () => {
      const pgSchema = engine === 'postgres' ? newSchema('otel') : undefined;
      const bossSchema = newSchema('boss');
      // No runner: what is queued stays queued.
      const h = await createHarness({
        pgSchema,
        runner: false,
        ...(engine === 'postgres' ? { queue: () => createPgBossQueue({ connectionString: PG_URL!, bossSchema, supervise: false }) } : {}),
      });
      try {
        const scrape = async () => {
          const text = await (await h.app.request('/metrics')).text();
          const figure = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
          return { depth: figure('plugboard_queue_depth'), age: figure('plugboard_queue_oldest_age_seconds'), text };
        };
        const empty = await scrape();
        assert.match(empty.text, /# TYPE plugboard_queue_oldest_age_seconds gauge/);
        assert.deepEqual([empty.depth, empty.age], [0, 0]);

        const { hookUrl } = await h.activeInstance('acme');
        const path = await hookUrl('record');
        for (let i = 0; i < 3; i++) {
          const res = await h.app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
          assert.equal(res.status, 202);
        }
        // The wait grows while nothing takes the work.
        const seen = await eventually(
          async () => {
            const s = await scrape();
            return s.depth === 3 && s.age > 0.2 ? s : undefined;
          },
          10_000,
          'depth 3 and a growing wait',
        );
        assert.ok(seen.age < 600, `the wait is in seconds (${seen.age})`);
      } finally {
        await h.close();
        if (engine === 'postgres') {
          const client = new pg.Client({ connectionString: PG_URL });
          await client.connect();
          await client.query(`drop schema if exists ${bossSchema} cascade`);
          await client.end();
        }
      }
    });
  }
});
