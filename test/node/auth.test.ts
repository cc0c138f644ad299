// Vendor JWT verification as a caller sees it: real keys, real tokens, real app, real store;
// a real local HTTP server for the JWKS URL case. Plus the production start-up checks.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SignJWT, UnsecuredJWT, generateKeyPair } from 'jose';
import { CustomerList, PROBLEM_CONTENT_TYPE } from '../../src/protocol/index.js';
import { createTokenVerifier, KeyConfigError, parseVerificationKeys } from '../../server/src/auth.js';
import { ConfigError, loadConfig, missingForProduction } from '../../server/src/config.js';
import { AUDIENCE, createHarness, defaultClaims, ISSUER, makeKey, signToken, suiteHarness, type Harness } from './fixtures/harness.js';

const CUSTOMER_ROUTE = '/api/v1/integrations';
const VENDOR_ROUTE = '/api/v1/vendor/customers';
const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function customers(h: Harness): Promise<string[]> {
  const res = await h.call('GET', VENDOR_ROUTE, { as: { role: 'vendor', customer: undefined, customer_name: undefined } });
  return CustomerList.parse(res.body).customers.map((c) => c.externalId);
}

describe('vendor JWT: rejected', () => {
  // One harness: a rejected call writes nothing, and each case checks that right after its call.
  const harness = suiteHarness();
  const cases: { name: string; status: 401 | 403; path?: string; method?: string; token: (h: Harness) => Promise<string | null> | string | null }[] = [
    { name: 'no token', status: 401, token: () => null },
    {
      name: 'bad signature (another key, same kid)',
      status: 401,
      token: async (h) => signToken({ ...(await makeKey('ES256')), kid: h.keys[0]!.kid }),
    },
    {
      name: 'alg none',
      status: 401,
      token: (h) => new UnsecuredJWT(defaultClaims()).encode().replace(/^[^.]+/, b64({ alg: 'none', kid: h.keys[0]!.kid })),
    },
    {
      name: 'HS256 signed with the public key bytes',
      status: 401,
      token: async (h) => {
        const pub = h.keys[0]!.publicJwk;
        return new SignJWT(defaultClaims()).setProtectedHeader({ alg: 'HS256', kid: pub.kid }).sign(new TextEncoder().encode(JSON.stringify(pub)));
      },
    },
    {
      name: 'RS384: an RSA algorithm that is not allowed',
      status: 401,
      token: async (h) => {
        const { privateKey } = await generateKeyPair('RS384');
        return new SignJWT(defaultClaims()).setProtectedHeader({ alg: 'RS384', kid: h.keys[1]!.kid }).sign(privateKey);
      },
    },
    { name: 'unknown kid', status: 401, token: (h) => h.token({ header: { kid: 'not-a-known-kid' } }) },
    { name: 'expired', status: 401, token: (h) => h.token({ claims: { iat: now() - 900, exp: now() - 120 } }) },
    { name: 'not yet valid (nbf)', status: 401, token: (h) => h.token({ claims: { nbf: now() + 300 } }) },
    { name: 'lifetime over one hour', status: 401, token: (h) => h.token({ lifetimeS: 3601 }) },
    { name: 'no exp', status: 401, token: (h) => h.token({ claims: { exp: undefined } }) },
    { name: 'wrong iss', status: 401, token: (h) => h.token({ claims: { iss: 'https://attacker.example.test' } }) },
    { name: 'wrong aud', status: 401, token: (h) => h.token({ claims: { aud: 'someone-else' } }) },
    { name: 'missing sub', status: 401, token: (h) => h.token({ claims: { sub: undefined } }) },
    { name: 'bad role', status: 401, token: (h) => h.token({ claims: { role: 'owner' } }) },
    { name: 'missing customer on a customer route', status: 401, token: (h) => h.token({ claims: { customer: undefined } }) },
    { name: 'vendor token carrying a customer', status: 401, path: VENDOR_ROUTE, token: (h) => h.token({ claims: { role: 'vendor' } }) },
    { name: 'malformed token text', status: 401, token: () => 'not-a-jwt' },
    { name: 'malformed token segments', status: 401, token: () => 'eyJhbGciOiJFUzI1NiJ9.%%%.abc' },
    {
      name: 'member trying to write',
      status: 403,
      method: 'POST',
      path: '/api/v1/instances',
      token: (h) => h.token({ claims: { role: 'member' } }),
    },
    { name: 'vendor token on a customer route', status: 403, token: (h) => h.token({ claims: { role: 'vendor', customer: undefined } }) },
    { name: 'customer admin token on a vendor route', status: 403, path: VENDOR_ROUTE, token: (h) => h.token() },
  ];
  // The reason given, so each case fails for the reason it is named after.
  const reasons: Record<string, RegExp> = {
    'bad signature (another key, same kid)': /signature is invalid/,
    'HS256 signed with the public key bytes': /algorithm is not accepted/,
    'RS384: an RSA algorithm that is not allowed': /algorithm is not accepted/,
    'unknown kid': /No verification key/,
    expired: /expired/,
    'not yet valid (nbf)': /not valid yet/,
    'lifetime over one hour': /longer than 3600/,
    'no exp': /"exp"/,
    'wrong iss': /"iss"/,
    'wrong aud': /"aud"/,
    'missing sub': /"sub"/,
    'bad role': /"role"/,
    'missing customer on a customer route': /no "customer" claim/,
    'vendor token carrying a customer': /must not carry a "customer"/,
    'member trying to write': /Members may only read/,
    'vendor token on a customer route': /Vendor tokens may only call/,
    'customer admin token on a vendor route': /Only vendor tokens/,
  };

  for (const c of cases) {
    test(`${c.name} → ${c.status}`, async () => {
      const h = harness();
      const token = await c.token(h);
      const res = await h.call(c.method ?? 'GET', c.path ?? CUSTOMER_ROUTE, { token, body: c.method === 'POST' ? { integrationKey: 'chat' } : undefined });
      assert.equal(res.status, c.status, res.text);
      assert.equal(res.headers.get('content-type'), PROBLEM_CONTENT_TYPE);
      if (c.status === 401) assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="plugboard"/);
      assert.doesNotMatch(res.text, /at .*\.ts|stack/i);
      if (reasons[c.name]) assert.match(res.body.detail, reasons[c.name]!);
      // A rejected call creates nothing, not even the customer.
      assert.deepEqual(await customers(h), []);
    });
  }

  test('a Basic Authorization header is not a bearer token', async () => {
    const h = harness();
    const res = await h.app.request(CUSTOMER_ROUTE, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    assert.equal(res.status, 401);
    assert.deepEqual(await customers(h), []);
  });
});

describe('vendor JWT: accepted', () => {
  const harness = suiteHarness();
  for (const index of [0, 1, 2]) {
    test(`signed with ${['ES256', 'RS256', 'EdDSA'][index]}`, async () => {
      const h = harness();
      const res = await h.call('GET', CUSTOMER_ROUTE, { token: await h.token({ key: h.keys[index] }) });
      assert.equal(res.status, 200, res.text);
    });
  }

  test('clock tolerance of 30 s for exp and nbf; members read; the customer is created on first sight with its name', async (t) => {
    const h = await createHarness(t);
    const late = await h.token({ claims: { iat: now() - 600, exp: now() - 10 } });
    assert.equal((await h.call('GET', CUSTOMER_ROUTE, { token: late })).status, 200);
    const early = await h.token({ claims: { nbf: now() + 10 } });
    assert.equal((await h.call('GET', CUSTOMER_ROUTE, { token: early })).status, 200);
    const member = await h.token({ claims: { role: 'member', customer: 'initech', customer_name: 'Initech' } });
    assert.equal((await h.call('GET', '/api/v1/instances', { token: member })).status, 200);
    const res = await h.call('GET', VENDOR_ROUTE, { as: { role: 'vendor', customer: undefined, customer_name: undefined } });
    assert.deepEqual(
      CustomerList.parse(res.body)
        .customers.map((c) => [c.externalId, c.name])
        .sort(),
      [
        ['acme', 'Acme Corp'],
        ['initech', 'Initech'],
      ],
    );
  });

  test('a token and customer already in memory are checked as on first sight: roles, and a new customer_name', async (t) => {
    const h = await createHarness(t);
    const member = await h.token({ claims: { role: 'member', customer: 'initech', customer_name: 'Initech' } });
    // Twice: the second read finds the token and its customer in memory (auth's path without a promise).
    for (let i = 0; i < 2; i++) assert.equal((await h.call('GET', '/api/v1/instances', { token: member })).status, 200);
    const write = await h.call('POST', '/api/v1/instances', { token: member, body: { integrationKey: 'anything' } });
    assert.equal(write.status, 403, write.text);
    assert.match(write.text, /Members may only read/);
    const renamed = await h.token({ claims: { role: 'member', customer: 'initech', customer_name: 'Initech Ltd' } });
    assert.equal((await h.call('GET', '/api/v1/instances', { token: renamed })).status, 200);
    const res = await h.call('GET', VENDOR_ROUTE, { as: { role: 'vendor', customer: undefined, customer_name: undefined } });
    const names = CustomerList.parse(res.body).customers.map((c) => [c.externalId, c.name]);
    assert.deepEqual(
      names.find(([id]) => id === 'initech'),
      ['initech', 'Initech Ltd'],
    );
  });

  test('PEM public keys (and a token kid the PEM cannot name) are accepted', async () => {
    const es = await makeKey('ES256');
    const ed = await makeKey('EdDSA');
    const publicPem = [es, ed]
      .map((k) => createPublicKey({ key: k.publicJwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string)
      .join('\n');
    const verifier = createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: publicPem });
    assert.equal((await verifier.verify(await signToken(es))).sub, 'user-1');
    assert.equal((await verifier.verify(await signToken(ed))).sub, 'user-1');
    await assert.rejects(verifier.verify(await signToken(await makeKey('ES256'))), /signature/);
  });

  test('key configuration that cannot be safe is refused at start-up', () => {
    assert.throws(() => parseVerificationKeys(JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] })), KeyConfigError);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    assert.throws(() => parseVerificationKeys(JSON.stringify({ keys: [privateKey.export({ format: 'jwk' })] })), /private key/);
    assert.throws(() => parseVerificationKeys('hello'), KeyConfigError);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    assert.throws(() => parseVerificationKeys(p384), /unsupported key/);
  });
});

describe('vendor JWT: JWKS URL', () => {
  test('fetched from a real server, cached, refetched on an unknown kid (rotation); 503 when unreachable', async (t) => {
    const first = await makeKey('ES256', 'key-2024');
    const second = await makeKey('RS256', 'key-2025');
    let served = [first.publicJwk];
    let fetches = 0;
    const server: Server = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    const h = await createHarness(t, {
      // verifiedCacheMs: 0, so the retired key is refused at once rather than after the cache window.
      deps: { verifier: createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUrl: url, jwksCooldownMs: 0, verifiedCacheMs: 0 }) },
    });

    const tokenA = await signToken(first);
    assert.equal((await h.call('GET', CUSTOMER_ROUTE, { token: tokenA })).status, 200);
    assert.equal((await h.call('GET', CUSTOMER_ROUTE, { token: tokenA })).status, 200);
    assert.equal(fetches, 1, 'the JWKS is cached');

    served = [second.publicJwk]; // the vendor rotates its key
    const tokenB = await signToken(second);
    assert.equal((await h.call('GET', CUSTOMER_ROUTE, { token: tokenB })).status, 200);
    assert.equal(fetches, 2, 'an unknown kid triggered one refetch');
    assert.equal((await h.call('GET', CUSTOMER_ROUTE, { token: tokenA })).status, 401, 'the retired key no longer verifies');

    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    const down = await h.call('GET', CUSTOMER_ROUTE, { token: await signToken(await makeKey('ES256', 'key-2026')) });
    assert.equal(down.status, 503, down.text);
  });
});

describe('configuration', () => {
  test('defaults, JWT keys from a file path, and malformed values named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plugboard-config-'));
    try {
      const config = loadConfig({}, { cwd: dir });
      assert.equal(config.port, 8787);
      assert.equal(config.publicUrl, 'http://localhost:8787');
      assert.equal(config.jwt.audience, 'plugboard');
      assert.deepEqual(config.allowedOrigins, []);
      assert.deepEqual(
        missingForProduction(config).map((l) => l.split(' ')[0]),
        ['PLUGBOARD_ENCRYPTION_KEY', 'PLUGBOARD_JWT_KEYS', 'PLUGBOARD_JWT_ISSUER'],
      );

      writeFileSync(join(dir, 'jwks.json'), '{"keys":[]}');
      const fromFile = loadConfig(
        { PLUGBOARD_JWT_KEYS: 'jwks.json', PLUGBOARD_ALLOWED_ORIGINS: 'https://a.test, https://b.test:8443', PORT: '9000' },
        { cwd: dir },
      );
      assert.equal(fromFile.jwt.keys, '{"keys":[]}');
      assert.deepEqual(fromFile.allowedOrigins, ['https://a.test', 'https://b.test:8443']);
      assert.equal(fromFile.publicUrl, 'http://localhost:9000');

      assert.throws(
        () =>
          loadConfig({ PORT: 'eighty', PLUGBOARD_ALLOWED_ORIGINS: 'https://a.test/path', LOG_LEVEL: 'loud', PLUGBOARD_JWT_KEYS: 'missing.pem' }, { cwd: dir }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.deepEqual(
            err.problems.map((p) => p.split(/[ :]/)[0]),
            ['PORT', 'LOG_LEVEL', 'PLUGBOARD_ALLOWED_ORIGINS', 'PLUGBOARD_JWT_KEYS'],
          );
          return true;
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('`plugboard serve` refuses to start without its keys and says which variable is missing', async () => {
    // Both start-ups at once: each is a cold tsx start of the CLI.
    const run = (env: Record<string, string>) =>
      new Promise<{ status: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=plugboard-source', 'server/src/cli.ts'], {
          env: { PATH: process.env.PATH ?? '', ...env },
          stdio: ['ignore', 'ignore', 'pipe'],
          timeout: 60_000,
        });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.once('error', reject);
        child.once('close', (status) => resolve({ status, stderr }));
      });
    const [missing, symmetric] = await Promise.all([
      run({}),
      run({ PLUGBOARD_ENCRYPTION_KEY: 'too-short', PLUGBOARD_JWT_KEYS: '{"keys":[{"kty":"oct","k":"eA"}]}', PLUGBOARD_JWT_ISSUER: ISSUER }),
    ]);
    assert.equal(missing.status, 1);
    const lines = missing.stderr.trim().split('\n');
    assert.equal(lines.length, 3, missing.stderr);
    assert.match(lines[0]!, /^plugboard serve: PLUGBOARD_ENCRYPTION_KEY is not set/);
    assert.match(lines[1]!, /^plugboard serve: PLUGBOARD_JWT_KEYS \(or PLUGBOARD_JWKS_URL\) is not set/);
    assert.match(lines[2]!, /^plugboard serve: PLUGBOARD_JWT_ISSUER is not set/);

    assert.equal(symmetric.status, 1);
    assert.match(symmetric.stderr, /^plugboard serve: PLUGBOARD_JWT_KEYS: symmetric \(oct\) keys are not accepted/);
    assert.equal(symmetric.stderr.trim().split('\n').length, 1);
  });
});
