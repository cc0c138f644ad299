// OpenTelemetry over OTLP/HTTP, received by a real in-process OTLP receiver (node:http, the JSON
// encoding): the server started with OTEL_EXPORTER_OTLP_ENDPOINT exports one trace per webhook
// (request span → execution span on the runner → one span per ctx.fetch call), its metrics and its
// log records (with the trace id), and nothing it exports carries a secret. /metrics shows the queue
// depth and the oldest runnable execution's wait, on both engines.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
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
import { startServer, type RunningServer } from '../../server/src/server.js';
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
  let running: RunningServer;
  let dir: string;
  let token: string;
  let apiPort: number;

  const bodies = (path: string) => received.filter((r) => r.path === path).map((r) => JSON.parse(r.text) as Record<string, unknown[]>);
  const spans = (): OtlpSpan[] =>
    bodies('/v1/traces').flatMap((b) => (b.resourceSpans as { scopeSpans: { spans: OtlpSpan[] }[] }[]).flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));

  before(async () => {
    const receiverPort = await listen(receiver);
    apiPort = await listen(api);
    // Read by the SDK from the environment, as in production; short intervals so the test is quick.
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiverPort}`,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_BLRP_SCHEDULE_DELAY: '100',
      OTEL_METRIC_EXPORT_INTERVAL: '300',
    });
    delete process.env.OTEL_SERVICE_NAME;
    dir = mkdtempSync(join(tmpdir(), 'plugboard-otel-'));
    chmodSync(dir, 0o755);
    const key = await makeKey('ES256');
    const env = {
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: join(dir, 'plugboard.db'),
      PLUGBOARD_ENCRYPTION_KEY: generateEncryptionKey(),
      PLUGBOARD_JWT_KEYS: JSON.stringify({ keys: [key.publicJwk] }),
      PLUGBOARD_JWT_ISSUER: ISSUER,
      PLUGBOARD_INTEGRATIONS: TRACED_FLOWS,
      PLUGBOARD_EGRESS_ALLOW: `127.0.0.1:${apiPort}`,
      PLUGBOARD_RUNNER_POLL_MS: '100',
      LOG_LEVEL: 'info',
    };
    running = await startServer({ config: loadConfig(env), runtime: { env }, logStream: { write: () => {} } });
    token = await signToken(key);
  });
  after(async () => {
    await running?.close();
    receiver.close();
    api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a webhook makes one trace: request → execution → ctx.fetch; metrics and logs arrive; no secret in any of it', async () => {
    const call = apiCaller(running.url, token);
    const draft = Instance.parse((await call('POST', '/instances', { integrationKey: 'traced' })).body);
    assert.equal((await call('PUT', `/instances/${draft.id}/config`, { config: { apiKey: API_KEY }, version: draft.version })).status, 200);
    const instance = Instance.parse((await call('POST', `/instances/${draft.id}/activate`)).body);
    const hookPath = new URL(instance.webhooks!.find((w) => w.flow === 'call')!.url).pathname;
    const hookToken = hookPath.split('/').pop()!;

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
      20_000,
      () =>
        `the three spans (seen: ${spans()
          .map((s) => s.name)
          .join(', ')})`,
    );
    assert.equal(chain.request.name, 'POST /hooks/:token');
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

    // Metrics: the execution counted by status, the queue figures; from service plugboard-server.
    await eventually(
      () =>
        bodies('/v1/metrics').some((b) => {
          const text = JSON.stringify(b);
          if (!text.includes('"plugboard-server"') || !text.includes('plugboard.queue.oldest_age') || !text.includes('plugboard.queue.depth')) return false;
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
    assert.ok(calls.some((c) => c.url.includes(API_KEY) && c.authorization === `Bearer ${API_KEY}`));
    const everything = received.map((r) => r.text).join('\n');
    for (const secret of [API_KEY, token, hookToken, 'query-secret-1', 'api_key', '/v2/orders']) {
      assert.ok(!everything.includes(secret), `${secret.slice(0, 12)}… must not be exported`);
    }
    assert.ok(!/authorization/i.test(everything), 'no Authorization header is exported');
  });
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
