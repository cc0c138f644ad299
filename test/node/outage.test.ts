// A database outage answers 503 problem+json with Retry-After, never 500: a real TCP proxy
// between the server's store and PostgreSQL is cut (its sockets destroyed, new connections
// refused) and restored, and the API recovers on its own.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import pg from 'pg';
import { PROBLEM_CONTENT_TYPE } from '../../src/protocol/index.js';
import { loadConfig } from '../../server/src/config.js';
import { generateEncryptionKey } from '../../server/src/secrets.js';
import { startServer } from '../../server/src/server.js';
import { eventually } from './fixtures/eventually.js';
import { PG_URL } from './fixtures/harness.js';

const ISSUER = 'https://vendor.test';

/** A TCP proxy to PostgreSQL that can be cut (sockets destroyed, listener closed: connections refused) and restored on the same port. */
async function pgProxy(target: URL) {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect({ host: target.hostname, port: Number(target.port || 5432) });
    sockets.add(client).add(upstream);
    for (const s of [client, upstream]) {
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const port = await listen(0);
  return {
    port,
    cut: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
    restore: () => listen(port).then(() => undefined),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        if (server.listening) server.close(() => resolve());
        else resolve();
      }),
  };
}

test(
  'PostgreSQL outage: the API answers 503 problem+json with Retry-After, then works again once the database is back',
  {
    skip: PG_URL ? false : 'PLUGBOARD_TEST_DATABASE_URL not set: PostgreSQL skipped',
  },
  async (t) => {
    const target = new URL(PG_URL!);
    const proxy = await pgProxy(target);
    t.after(() => proxy.close());
    const viaProxy = new URL(PG_URL!);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const schema = `t_outage_${randomBytes(6).toString('hex')}`;
    t.after(async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`drop schema if exists "${schema}" cascade`);
      await client.end();
    });

    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: viaProxy.href,
      PLUGBOARD_ENCRYPTION_KEY: generateEncryptionKey(),
      PLUGBOARD_JWT_KEYS: JSON.stringify({ keys: [jwk] }),
      PLUGBOARD_JWT_ISSUER: ISSUER,
    });
    const running = await startServer({ config, runtime: false, storeOptions: { pgSchema: schema }, logStream: { write: () => {} } });
    t.after(() => running.close());

    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ role: 'vendor' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience('plugboard')
      .setSubject('ops-1')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(privateKey);
    // The vendor's customer list reads the store on every call.
    const call = async () => {
      const res = await fetch(`${running.url}/api/v1/vendor/customers`, { headers: { authorization: `Bearer ${token}` } });
      return {
        status: res.status,
        type: res.headers.get('content-type'),
        retryAfter: res.headers.get('retry-after'),
        body: (await res.json()) as Record<string, unknown>,
      };
    };

    assert.equal((await call()).status, 200);
    for (let round = 1; round <= 2; round++) {
      await proxy.cut();
      const down = await call();
      assert.equal(down.status, 503, `round ${round}: ${JSON.stringify(down.body)}`);
      assert.equal(down.type, PROBLEM_CONTENT_TYPE);
      assert.equal(down.retryAfter, '2');
      assert.equal(down.body.status, 503);
      assert.equal((await fetch(`${running.url}/readyz`)).status, 503);
      await proxy.restore();
      await eventually(async () => (await call()).status === 200, 20_000, `round ${round}: the API to answer 200 once the database is back`);
    }
  },
);
