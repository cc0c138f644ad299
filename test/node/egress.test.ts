// The flows' egress policy: loopback, private, link-local and metadata addresses refused on the
// address a connection would really use (after DNS, at connect time), with PLUGBOARD_EGRESS_ALLOW
// for exceptions. End to end through real executors against real servers on loopback; no test
// sends a packet beyond loopback (the decisions on other ranges are taken without connecting).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../server/src/config.js';
import { egressAgent, EgressRefusedError, fetchThrough, type EgressLookup } from '../../server/src/runtime/executor/egress.js';
import { EgressAllowError, egressPolicy, parseEgressAllow, refusalOf } from '../../server/src/runtime/executor/egress-policy.js';
import { createExecutorPool, type ExecutionJob, type ExecutionOutcome, type ExecutorPool } from '../../server/src/runtime/executor/index.js';

const EGRESS_FLOWS = new URL('./fixtures/flows/egress.ts', import.meta.url).pathname;

/** A server on a loopback address that counts the TCP connections it accepted. */
interface Counted {
  server: Server;
  port: number;
  connections: number;
}

async function listen(host: string, port = 0, handler: RequestListener = (_req, res) => res.end('hello from loopback')): Promise<Counted> {
  const server = createServer(handler);
  const counted: Counted = { server, port: 0, connections: 0 };
  server.on('connection', () => counted.connections++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  counted.port = (server.address() as AddressInfo).port;
  return counted;
}

function close(c: Counted): Promise<void> {
  c.server.closeAllConnections();
  return new Promise((resolve) => c.server.close(() => resolve()));
}

function job(flow: string, url: string): ExecutionJob {
  const customerId = `cust_${randomUUID().slice(0, 8)}`;
  return {
    executionId: randomUUID(),
    customerId,
    customerExternalId: `ext-${customerId}`,
    instanceId: `inst-${customerId}`,
    integrationKey: 'egress',
    flow,
    attempt: 1,
    trigger: 'webhook',
    payload: { url },
    headers: {},
    config: {},
    connections: {},
    timeoutMs: 10_000,
  };
}

type Reach = { status: number; body: string } | { refused: { name: string; message: string } };

async function reach(pool: ExecutorPool, flow: string, url: string): Promise<Reach> {
  const outcome: ExecutionOutcome = await pool.run(job(flow, url), () => {});
  assert.equal(outcome.status, 'succeeded', outcome.error);
  return outcome.result as Reach;
}

function assertRefused(result: Reach, host: string, why: RegExp): void {
  assert.ok('refused' in result, `expected a refusal, the flow got ${JSON.stringify(result)}`);
  assert.equal(result.refused.name, 'EgressRefusedError');
  assert.ok(result.refused.message.startsWith(`Refused to connect to ${host}: `), result.refused.message);
  assert.match(result.refused.message, why);
  assert.match(result.refused.message, /PLUGBOARD_EGRESS_ALLOW/);
}

describe('a flow in an executor, by default', () => {
  let target: Counted;
  let pool: ExecutorPool;
  before(async () => {
    target = await listen('127.0.0.1');
    pool = createExecutorPool({ integrationsModule: EGRESS_FLOWS, spares: 0 });
  });
  after(async () => {
    await pool.close();
    await close(target);
  });

  test('ctx.fetch to 127.0.0.1 is refused with an error the flow catches, and the server sees no connection', async () => {
    assertRefused(await reach(pool, 'ctxFetch', `http://127.0.0.1:${target.port}/`), '127.0.0.1', /is a loopback address/);
    assert.equal(target.connections, 0);
  });

  test('ctx.fetch to localhost, a name that resolves to loopback, is refused on the resolved address', async () => {
    assertRefused(await reach(pool, 'ctxFetch', `http://localhost:${target.port}/`), 'localhost', /resolves to a loopback address/);
    assert.equal(target.connections, 0);
  });

  test('ctx.fetch to an IPv4-mapped IPv6 loopback literal is refused', async () => {
    assertRefused(await reach(pool, 'ctxFetch', `http://[::ffff:127.0.0.1]:${target.port}/`), '::ffff:7f00:1', /loopback/);
    assert.equal(target.connections, 0);
  });

  test('the global fetch is held to the same policy, even when the flow hands it a dispatcher of its own', async () => {
    assertRefused(await reach(pool, 'globalFetch', `http://127.0.0.1:${target.port}/`), '127.0.0.1', /loopback/);
    assertRefused(await reach(pool, 'ownDispatcher', `http://localhost:${target.port}/`), 'localhost', /loopback/);
    assert.equal(target.connections, 0);
  });

  test('node:http and node:https requests through the default agents (axios and most libraries) are held to it too', async () => {
    assertRefused(await reach(pool, 'httpGet', `http://127.0.0.1:${target.port}/`), '127.0.0.1', /is a loopback address/);
    assertRefused(await reach(pool, 'httpGet', `http://localhost:${target.port}/`), 'localhost', /resolves to a loopback address/);
    assertRefused(await reach(pool, 'httpsGet', `https://127.0.0.1:${target.port}/`), '127.0.0.1', /is a loopback address/);
    assert.equal(target.connections, 0);
  });
});

describe('a flow in an executor with PLUGBOARD_EGRESS_ALLOW', () => {
  let target: Counted;
  let other: Counted;
  let pool: ExecutorPool;
  before(async () => {
    target = await listen('127.0.0.1');
    other = await listen('127.0.0.1');
    // Only the target's port: the exception is as narrow as the operator writes it.
    pool = createExecutorPool({ integrationsModule: EGRESS_FLOWS, spares: 0, env: { PLUGBOARD_EGRESS_ALLOW: `127.0.0.1:${target.port}` } });
  });
  after(async () => {
    await pool.close();
    await Promise.all([close(target), close(other)]);
  });

  test('reaches the listed address and port, with ctx.fetch, the global fetch and node:http', async () => {
    assert.deepEqual(await reach(pool, 'ctxFetch', `http://127.0.0.1:${target.port}/`), { status: 200, body: 'hello from loopback' });
    assert.deepEqual(await reach(pool, 'globalFetch', `http://localhost:${target.port}/`), { status: 200, body: 'hello from loopback' });
    assert.deepEqual(await reach(pool, 'httpGet', `http://localhost:${target.port}/`), { status: 200, body: 'hello from loopback' });
    assert.ok(target.connections >= 1);
  });

  test('another port of the same address stays refused, and a flow can neither see nor widen the exceptions', async () => {
    const result = (await reach(pool, 'widen', `http://127.0.0.1:${other.port}/`)) as unknown as { seen: string | null; after: Reach };
    assert.equal(result.seen, null);
    assertRefused(result.after, '127.0.0.1', /loopback/);
    assertRefused(await reach(pool, 'ctxFetch', `http://127.0.0.1:${other.port}/`), '127.0.0.1', /loopback/);
    assert.equal(other.connections, 0);
  });
});

describe('the decision, on the resolved address, without connecting', () => {
  test('loopback, private, CGNAT, link-local, metadata, unspecified and multicast addresses are refused, each named', () => {
    const cases: [string, string | undefined][] = [
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['::1', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.0.10', 'private'],
      ['100.64.0.1', 'private'],
      ['100.127.255.255', 'private'],
      ['fd12:3456::1', 'private'],
      ['fc00::1', 'private'],
      ['169.254.1.1', 'link-local'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['169.254.169.254', 'metadata'],
      ['fd00:ec2::254', 'metadata'],
      ['100.100.100.200', 'metadata'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['224.0.0.251', 'multicast'],
      ['ff02::1', 'multicast'],
      ['255.255.255.255', 'reserved'],
      // Public addresses, including neighbours of the refused ranges.
      ['93.184.215.14', undefined],
      ['8.8.8.8', undefined],
      ['172.32.0.1', undefined],
      ['100.128.0.1', undefined],
      ['2606:4700:4700::1111', undefined],
      ['::ffff:8.8.8.8', undefined],
    ];
    for (const [address, expected] of cases) assert.equal(refusalOf(address), expected, address);
  });

  test('IPv4-mapped and NAT64 IPv6 forms of refused IPv4 addresses are refused as what they map to', () => {
    assert.equal(refusalOf('::ffff:127.0.0.1'), 'loopback');
    assert.equal(refusalOf('::ffff:7f00:1'), 'loopback');
    assert.equal(refusalOf('::ffff:169.254.169.254'), 'metadata');
    assert.equal(refusalOf('::ffff:a9fe:a9fe'), 'metadata');
    assert.equal(refusalOf('::ffff:10.0.0.1'), 'private');
    assert.equal(refusalOf('::ffff:100.64.0.1'), 'private');
    assert.equal(refusalOf('64:ff9b::10.0.0.1'), 'private');
    assert.equal(refusalOf('64:ff9b::a9fe:a9fe'), 'metadata');
    assert.equal(refusalOf('64:ff9b::8.8.8.8'), undefined);
  });

  test('a name is judged by what it resolves to: an allowed-looking name on a private address is refused', () => {
    const policy = egressPolicy();
    assert.equal(policy.decide({ host: 'api.example.com', address: '10.0.0.7', port: 443 }), 'private');
    assert.equal(policy.decide({ host: 'api.example.com', address: '::ffff:169.254.169.254', port: 80 }), 'metadata');
    assert.equal(policy.decide({ host: 'api.example.com', address: '93.184.215.14', port: 443 }), undefined);
  });

  test('exceptions: a host, host:port, an address, [IPv6]:port and a CIDR each allow exactly what they name', () => {
    const policy = egressPolicy(parseEgressAllow(' crm.internal , db.internal:5432,127.0.0.1:8080, [::1]:9000, 10.20.0.0/16,192.168.1.5 '));
    const decide = (host: string, address: string, port: number) => policy.decide({ host, address, port });
    assert.equal(decide('crm.internal', '10.9.9.9', 443), undefined);
    assert.equal(decide('CRM.internal.', '10.9.9.9', 80), undefined);
    assert.equal(decide('db.internal', '10.9.9.9', 5432), undefined);
    assert.equal(decide('db.internal', '10.9.9.9', 5433), 'private');
    assert.equal(decide('127.0.0.1', '127.0.0.1', 8080), undefined);
    assert.equal(decide('localhost', '127.0.0.1', 8080), undefined);
    assert.equal(decide('127.0.0.1', '127.0.0.1', 8081), 'loopback');
    assert.equal(decide('::1', '::1', 9000), undefined);
    assert.equal(decide('::1', '::1', 9001), 'loopback');
    assert.equal(decide('10.20.3.4', '10.20.3.4', 1), undefined);
    assert.equal(decide('10.21.3.4', '10.21.3.4', 1), 'private');
    assert.equal(decide('192.168.1.5', '192.168.1.5', 22), undefined);
    assert.equal(decide('192.168.1.6', '192.168.1.6', 22), 'private');
    assert.equal(decide('metadata.internal', '169.254.169.254', 80), 'metadata');
  });

  test('a malformed PLUGBOARD_EGRESS_ALLOW is refused at start-up, naming each bad entry', () => {
    assert.throws(
      () => parseEgressAllow('http://crm.internal,10.0.0.0/33,ok.internal,user@host,a b'),
      (err: unknown) => err instanceof EgressAllowError && err.problems.length === 4 && err.problems.every((p) => p.startsWith('PLUGBOARD_EGRESS_ALLOW: "')),
    );
    assert.throws(
      () => loadConfig({ PLUGBOARD_EGRESS_ALLOW: '10.0.0.0/99' }),
      (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.includes('"10.0.0.0/99"')),
    );
    assert.deepEqual(loadConfig({ PLUGBOARD_EGRESS_ALLOW: 'crm.internal, 127.0.0.1:4000' }).egressAllow, ['crm.internal', '127.0.0.1:4000']);
    assert.deepEqual(loadConfig({}).egressAllow, []);
  });
});

describe('the egress agent, at connect time', () => {
  // 127.0.0.2 stands for an allowed address, 127.0.0.1 for a forbidden one; both on one port.
  let allowed: Counted;
  let forbidden: Counted;
  /** What the test's DNS answers for rebind.test, in turn. */
  let answers: string[] = [];
  const lookups: string[] = [];
  const lookup: EgressLookup = (hostname, _options, callback) => {
    lookups.push(hostname);
    if (hostname !== 'rebind.test') return callback(Object.assign(new Error(`${hostname} not found`), { code: 'ENOTFOUND' }), []);
    const address = answers.shift() ?? '127.0.0.1';
    callback(null, [{ address, family: 4 } satisfies LookupAddress]);
  };
  let policedFetch: typeof fetch;

  before(async () => {
    allowed = await listen('127.0.0.2', 0, (req, res) => {
      // Each response closes its connection, so the next request connects (and resolves) anew.
      res.setHeader('connection', 'close');
      if (req.url?.startsWith('/redirect')) {
        res.writeHead(302, { location: new URL(req.url, 'http://x').searchParams.get('to')! }).end();
      } else res.end('allowed');
    });
    forbidden = await listen('127.0.0.1', allowed.port);
    policedFetch = fetchThrough(egressAgent(egressPolicy(['127.0.0.2']), { lookup }));
  });
  after(() => Promise.all([close(allowed), close(forbidden)]));

  test('DNS rebinding: a name that resolved to an allowed address, then to loopback, is refused on the second connection', async () => {
    answers = ['127.0.0.2', '127.0.0.1'];
    const first = await policedFetch(`http://rebind.test:${allowed.port}/`);
    assert.equal(await first.text(), 'allowed');
    await assert.rejects(policedFetch(`http://rebind.test:${allowed.port}/`), (err: unknown) => {
      assert.ok(err instanceof EgressRefusedError);
      assert.equal(
        err.message,
        `Refused to connect to rebind.test: it resolves to a loopback address, which flows may not reach (the operator can allow it with PLUGBOARD_EGRESS_ALLOW)`,
      );
      assert.equal(err.host, 'rebind.test');
      assert.equal(err.reason, 'loopback');
      return true;
    });
    assert.equal(lookups.filter((h) => h === 'rebind.test').length, 2, 'each connection resolved the name again');
    assert.equal(forbidden.connections, 0);
  });

  test('a redirect from an allowed server to loopback is refused: each hop connects through the policy', async () => {
    const to = encodeURIComponent(`http://127.0.0.1:${allowed.port}/`);
    await assert.rejects(policedFetch(`http://127.0.0.2:${allowed.port}/redirect?to=${to}`), EgressRefusedError);
    answers = ['127.0.0.1'];
    const viaName = encodeURIComponent(`http://rebind.test:${allowed.port}/`);
    await assert.rejects(policedFetch(`http://127.0.0.2:${allowed.port}/redirect?to=${viaName}`), /rebind\.test: it resolves to a loopback address/);
    assert.equal(forbidden.connections, 0);
    assert.ok(allowed.connections >= 2);
  });

  test('a name with refused and allowed answers connects only to an allowed one; with refused answers only, it is refused', async () => {
    const answering =
      (...addresses: string[]): EgressLookup =>
      (_hostname, _options, callback) =>
        callback(
          null,
          addresses.map((address) => ({ address, family: 4 })),
        );
    const mixed = fetchThrough(egressAgent(egressPolicy(['127.0.0.2']), { lookup: answering('127.0.0.1', '127.0.0.2') }));
    assert.equal(await (await mixed(`http://both.test:${allowed.port}/`)).text(), 'allowed');
    const refusedOnly = fetchThrough(egressAgent(egressPolicy(['127.0.0.2']), { lookup: answering('127.0.0.1', '127.0.0.3') }));
    await assert.rejects(refusedOnly(`http://both.test:${allowed.port}/`), /both\.test: it resolves to a loopback address/);
    assert.equal(forbidden.connections, 0);
  });
});
