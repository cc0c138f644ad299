// The fast HTTP path (issue 10): every response of the API is one @hono/node-server writes at once
// (a Response from a string or bytes, no web streams) and no request without a body has it read;
// CORS and the security headers are on those responses; the catalog has an ETag answered by 304
// and is compressed when the client accepts it; the body limit holds for POSTs with and without
// Content-Length and never reads a GET's body. On a real socket where the adapter matters.
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { cors } from '../../server/src/cors.js';
import { requestId } from '../../server/src/request-id.js';
import { secureHeaders } from '../../server/src/secure-headers.js';
import { defineIntegration, field } from '../../server/src/sdk/index.js';
import { suiteHarness } from './fixtures/harness.js';

const ORIGIN = 'https://app.acme.test';
const LIMIT = 2048;

// Enough integrations for a catalog worth compressing (over 1 KiB).
const integrations = Array.from({ length: 12 }, (_, i) =>
  defineIntegration({
    key: `fast-${i}`,
    name: `Fast integration ${i}`,
    description: 'An integration of the HTTP path tests, with a description long enough to matter.',
    category: 'Testing',
    version: '1.0.0',
    configPages: [{ title: 'Settings', fields: { label: field.text({ label: 'Label', default: 'x' }) } }],
  }),
);

// hono/secure-headers' defaults: each response of the API carries all of them.
const SECURITY_HEADERS: Record<string, string> = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=15552000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

function assertSecurityHeaders(headers: Headers | IncomingHttpHeaders, what: string): void {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : (headers[name] as string | undefined));
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(get(name), value, `${what}: ${name}`);
}

const varyOf = (value: string | null | undefined) => (value ?? '').split(',').map((v) => v.trim().toLowerCase());

/**
 * @hono/node-server keeps a Response on its fast path while it still holds the body it was built
 * from (its own `cache` slot); one read as a web stream has lost it. A request has been turned into
 * a real web Request (body stream, AbortSignal) once its `requestCache` slot is filled.
 */
function slot(target: object, name: string): unknown {
  const symbol = Object.getOwnPropertySymbols(target).find((s) => s.description === name);
  return symbol === undefined ? undefined : (target as Record<symbol, unknown>)[symbol];
}

interface Seen {
  method: string;
  path: string;
  fastResponse: boolean;
  /** The security headers were in the Response's own headers (a web Headers object validating and sorting each), not on node:http's response. */
  sharedInResponse: boolean;
  /** The Response's own headers were a web Headers object (undici validates, lower-cases and sorts each; the adapter copies them out again), not a plain record. */
  headersObject: boolean;
  /** Headers were set one by one on node:http's response (its per-response dictionary, each validated twice), not written with the Response's at once. */
  nodeDictionary: boolean;
  requestMaterialized: boolean;
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

describe('the fast HTTP path', () => {
  const harness = suiteHarness({ integrations, deps: { bodyLimitBytes: LIMIT } });
  let base = '';
  const seen: Seen[] = [];
  let close: () => Promise<void> = async () => {};

  before(async () => {
    const { app } = harness();
    // The real adapter, with a look at what it was given back: the request after the app, the Response as returned.
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve(
        {
          fetch: async (req: Request, env: unknown) => {
            const res = await app.fetch(req, env as object);
            const url = new URL(req.url);
            seen.push({
              method: req.method,
              path: url.pathname,
              fastResponse: slot(res, 'cache') !== undefined,
              sharedInResponse: new Headers((slot(res, 'cache') as [number, unknown, HeadersInit?] | undefined)?.[2]).has('x-frame-options'),
              requestMaterialized: slot(req, 'requestCache') !== undefined,
              headersObject: (slot(res, 'cache') as [number, unknown, unknown] | undefined)?.[2] instanceof Headers,
              nodeDictionary: (env as { outgoing: ServerResponse }).outgoing.getHeaderNames().length > 0,
            });
            return res;
          },
          port: 0,
          hostname: '127.0.0.1',
        },
        () => resolve(s),
      );
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });
  after(() => close());

  /** A request over node:http (no fetch: GET with a body, chunked bodies, bytes as sent). */
  function raw(method: string, path: string, options: { headers?: Record<string, string>; body?: Buffer[]; chunked?: boolean } = {}): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${base}${path}`, { method, headers: options.headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (options.chunked) req.setHeader('transfer-encoding', 'chunked');
      for (const chunk of options.body ?? []) req.write(chunk);
      req.end();
    });
  }

  async function auth(): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await harness().token()}` };
  }

  test("the app's routes fit Hono's RegExpRouter (its TrieRouter fallback costs every request)", async () => {
    const { app } = harness();
    assert.equal((await raw('GET', '/healthz')).status, 200);
    // SmartRouter settles on the first of its routers that takes every route.
    assert.equal((app.router as unknown as { activeRouter: { name: string } }).activeRouter.name, 'RegExpRouter');
  });

  test('the probe tells a streamed Response from one written at once', async () => {
    const streamed = new Response(new ReadableStream({ start: (c) => c.close() }));
    await streamed.arrayBuffer();
    assert.equal(slot(streamed, 'cache'), undefined);
    // Served once, the adapter's Response class is the global one: a plain body keeps its slot.
    assert.notEqual(slot(new Response('{}', { headers: { 'content-type': 'application/json' } }), 'cache'), undefined);
  });

  test('API responses stay on the adapter fast path, and no bodiless request is read', async () => {
    const headers = { ...(await auth()), origin: ORIGIN };
    seen.length = 0;
    const catalog = await raw('GET', '/api/v1/integrations', { headers });
    assert.equal(catalog.status, 200);
    const etag = catalog.headers.etag ?? 'W/"none"';
    assert.ok([200, 304].includes((await raw('GET', '/api/v1/integrations', { headers: { ...headers, 'if-none-match': etag } })).status));
    assert.equal((await raw('GET', '/api/v1/integrations', { headers: { ...headers, 'accept-encoding': 'gzip' } })).status, 200);
    assert.equal((await raw('GET', '/api/v1/integrations/fast-1', { headers })).status, 200);
    assert.equal((await raw('GET', '/healthz', { headers: { origin: ORIGIN } })).status, 200);
    assert.equal((await raw('OPTIONS', '/api/v1/instances', { headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } })).status, 204);
    assert.equal((await raw('GET', '/api/v1/nope', { headers })).status, 404);
    const body = Buffer.from(JSON.stringify({ integrationKey: 'fast-2' }));
    const created = await raw('POST', '/api/v1/instances', {
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(body.length) },
      body: [body],
    });
    assert.equal(created.status, 201, created.body.toString());
    const id = (JSON.parse(created.body.toString()) as { id: string }).id;
    // A POST without a body (its settings have defaults: ready to activate).
    assert.equal((await raw('POST', `/api/v1/instances/${id}/activate`, { headers })).status, 200);
    assert.equal((await raw('DELETE', `/api/v1/instances/${id}`, { headers })).status, 204);

    assert.equal(seen.length, 10);
    for (const s of seen) {
      assert.ok(s.fastResponse, `${s.method} ${s.path}: the Response was turned into a stream`);
      assert.ok(!s.sharedInResponse, `${s.method} ${s.path}: the security headers went through a Headers object, not node:http's response`);
      // Reads and preflights, the most frequent: no Vary or CORS field of their own in a web Headers.
      if (s.method === 'GET' || s.method === 'OPTIONS') assert.ok(!s.headersObject, `${s.method} ${s.path}: the Response's headers were a web Headers object`);
      assert.ok(!s.nodeDictionary, `${s.method} ${s.path}: the shared headers were set one by one on node:http's response`);
      // The POST with a JSON body reads it through the adapter's direct path, not a web Request.
      assert.ok(!s.requestMaterialized, `${s.method} ${s.path}: a web Request (body stream, AbortSignal) was built`);
    }
  });

  test('CORS and security headers on API responses, errors and preflights', async () => {
    const headers = await auth();
    const allowed = await raw('GET', '/api/v1/integrations', { headers: { ...headers, origin: ORIGIN } });
    assert.equal(allowed.headers['access-control-allow-origin'], ORIGIN);
    assert.match(allowed.headers['access-control-expose-headers'] ?? '', /ETag/);
    assert.ok(varyOf(allowed.headers.vary).includes('origin'));
    assert.ok(varyOf(allowed.headers.vary).includes('accept-encoding'));
    assert.ok(allowed.headers['x-request-id']);
    assertSecurityHeaders(allowed.headers, 'catalog');

    const denied = await raw('GET', '/api/v1/integrations', { headers: { ...headers, origin: 'https://evil.test' } });
    assert.equal(denied.status, 200);
    assert.equal(denied.headers['access-control-allow-origin'], undefined);
    assert.ok(varyOf(denied.headers.vary).includes('origin'));

    const problem = await raw('GET', '/api/v1/integrations/nope', { headers: { ...headers, origin: ORIGIN } });
    assert.equal(problem.status, 404);
    assert.equal(problem.headers['content-type'], 'application/problem+json');
    assert.equal(problem.headers['access-control-allow-origin'], ORIGIN);
    assertSecurityHeaders(problem.headers, '404 problem');

    const unauthenticated = await raw('GET', '/api/v1/integrations', { headers: { origin: ORIGIN } });
    assert.equal(unauthenticated.status, 401);
    assert.equal(unauthenticated.headers['access-control-allow-origin'], ORIGIN);
    assert.match(unauthenticated.headers['www-authenticate'] ?? '', /Bearer/);
    assertSecurityHeaders(unauthenticated.headers, '401 problem');

    const preflight = await raw('OPTIONS', '/api/v1/instances/x', {
      headers: { origin: ORIGIN, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization,if-match' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], ORIGIN);
    assert.equal(preflight.headers['access-control-allow-methods'], 'GET,POST,PUT,DELETE,OPTIONS');
    assert.match(preflight.headers['access-control-allow-headers'] ?? '', /If-Match/);
    assert.match(preflight.headers['access-control-allow-headers'] ?? '', /If-None-Match/);
    assert.equal(preflight.headers['access-control-max-age'], '600');
    assert.deepEqual(varyOf(preflight.headers.vary), ['origin', 'access-control-request-headers']);
    assert.equal(preflight.body.length, 0);
    assertSecurityHeaders(preflight.headers, 'preflight');
    const deniedPreflight = await raw('OPTIONS', '/api/v1/instances', { headers: { origin: 'https://evil.test', 'access-control-request-method': 'GET' } });
    assert.equal(deniedPreflight.headers['access-control-allow-origin'], undefined);
  });

  test('the catalog has an ETag answered 304, which changes with the customer’s instances', async () => {
    const h = harness();
    const as = { customer: 'etag-co' };
    const first = await h.call('GET', '/api/v1/integrations', { as });
    assert.equal(first.status, 200);
    const etag = first.headers.get('etag')!;
    assert.match(etag, /^W\/"[^"]+"$/);
    assert.equal(first.headers.get('cache-control'), 'private, no-cache');

    const again = await h.call('GET', '/api/v1/integrations', { as, headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.text, '');
    assert.equal(again.headers.get('etag'), etag);
    assert.equal(again.headers.get('cache-control'), 'private, no-cache');
    assert.ok(varyOf(again.headers.get('vary')).includes('accept-encoding'));
    // Any of a list matches; a reload (Cache-Control: no-cache) or another tag gets the body.
    assert.equal((await h.call('GET', '/api/v1/integrations', { as, headers: { 'if-none-match': `W/"other", ${etag}` } })).status, 304);
    assert.equal((await h.call('GET', '/api/v1/integrations', { as, headers: { 'if-none-match': etag, 'cache-control': 'no-cache' } })).status, 200);
    assert.equal((await h.call('GET', '/api/v1/integrations', { as, headers: { 'if-none-match': 'W/"other"' } })).status, 200);
    // Another customer with no instances has the same catalog, so the same tag.
    assert.equal((await h.call('GET', '/api/v1/integrations', { as: { customer: 'etag-other' } })).headers.get('etag'), etag);

    const created = await h.call('POST', '/api/v1/instances', { as, body: { integrationKey: 'fast-3' } });
    assert.equal(created.status, 201);
    const changed = await h.call('GET', '/api/v1/integrations', { as, headers: { 'if-none-match': etag } });
    assert.equal(changed.status, 200);
    const item = (changed.body as { integrations: { key: string; instance: { id: string; status: string } | null }[] }).integrations.find(
      (i) => i.key === 'fast-3',
    );
    assert.equal(item?.instance?.id, created.body.id);
    const afterCreate = changed.headers.get('etag')!;
    assert.notEqual(afterCreate, etag);

    // The detail too, with its own tag.
    const detail = await h.call('GET', '/api/v1/integrations/fast-3', { as });
    assert.equal(detail.body.instance.id, created.body.id);
    assert.equal(detail.body.configPages.length, 1);
    const detailTag = detail.headers.get('etag')!;
    assert.notEqual(detailTag, afterCreate);
    assert.equal((await h.call('GET', '/api/v1/integrations/fast-3', { as, headers: { 'if-none-match': detailTag } })).status, 304);

    assert.equal((await h.call('DELETE', `/api/v1/instances/${created.body.id}`, { as })).status, 204);
    const deleted = await h.call('GET', '/api/v1/integrations', { as, headers: { 'if-none-match': afterCreate } });
    assert.equal(deleted.status, 200, 'the instance gone changes the tag back');
    assert.equal(deleted.headers.get('etag'), etag);
    assert.equal((await h.call('GET', '/api/v1/integrations/fast-3', { as, headers: { 'if-none-match': detailTag } })).status, 200);
  });

  test('the catalog goes gzip or br when accepted, the same JSON once decompressed', async () => {
    const h = harness();
    const as = { customer: 'zip-co' };
    await h.call('POST', '/api/v1/instances', { as, body: { integrationKey: 'fast-5' } });
    const plain = await h.call('GET', '/api/v1/integrations', { as });
    assert.equal(plain.headers.get('content-encoding'), null);
    assert.ok(plain.text.length > 1024);
    for (const [accept, encoding, decompress] of [
      ['gzip, deflate', 'gzip', gunzipSync],
      ['br;q=1, gzip;q=0.5', 'br', brotliDecompressSync],
    ] as const) {
      const res = await h.app.request('/api/v1/integrations', {
        headers: { authorization: `Bearer ${await h.token({ claims: as })}`, 'accept-encoding': accept },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-encoding'), encoding);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.equal(res.headers.get('etag'), plain.headers.get('etag'));
      assert.ok(varyOf(res.headers.get('vary')).includes('accept-encoding'));
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.ok(bytes.length < plain.text.length / 3, `${encoding} is smaller`);
      assert.equal(decompress(bytes).toString(), plain.text);
    }
    // Not accepted (q=0, or unknown codings only): identity.
    const refused = await h.app.request('/api/v1/integrations', {
      headers: { authorization: `Bearer ${await h.token({ claims: as })}`, 'accept-encoding': 'gzip;q=0, zstd' },
    });
    assert.equal(refused.headers.get('content-encoding'), null);
    assert.equal(await refused.text(), plain.text);
    // The wire JSON is the protocol's shape, as JSON.stringify of the objects would write it.
    const parsed = plain.body as { integrations: { key: string; instance: unknown }[] };
    assert.equal(JSON.stringify(parsed), plain.text);
    assert.deepEqual(
      parsed.integrations.map((i) => i.key),
      integrations.map((i) => i.key),
    );
  });

  test('the body limit: 413 with and without Content-Length; a GET body is not read', async () => {
    const headers = { ...(await auth()), 'content-type': 'application/json' };
    const big = Buffer.from(JSON.stringify({ integrationKey: 'x'.repeat(LIMIT * 2) }));
    const declared = await raw('POST', '/api/v1/instances', { headers: { ...headers, 'content-length': String(big.length) }, body: [big] });
    assert.equal(declared.status, 413);
    assert.equal(declared.headers['content-type'], 'application/problem+json');
    assert.match(JSON.parse(declared.body.toString()).detail, new RegExp(`larger than ${LIMIT} bytes`));

    const chunks = Array.from({ length: 8 }, (_, i) => big.subarray((i * big.length) / 8, ((i + 1) * big.length) / 8));
    const chunked = await raw('POST', '/api/v1/instances', { headers, body: chunks, chunked: true });
    assert.equal(chunked.status, 413);
    assert.equal(chunked.headers['content-type'], 'application/problem+json');

    // Under the limit, chunked: read and handled.
    const small = Buffer.from(JSON.stringify({ integrationKey: 'fast-7' }));
    assert.equal((await raw('POST', '/api/v1/instances', { headers, body: [small], chunked: true })).status, 201);

    seen.length = 0;
    const get = await raw('GET', '/api/v1/integrations', { headers: { ...headers, 'content-length': String(big.length) }, body: [big] });
    assert.equal(get.status, 200, 'a GET with a large body is answered, not refused');
    assert.equal(seen.at(-1)?.requestMaterialized, false);
  });

  test('a preflight and a 413, answered by the middleware themselves, are logged and counted with their own status', async () => {
    const { logs } = harness();
    const statusOf = (path: string) =>
      logs
        .map((line) => JSON.parse(line) as { msg?: string; path?: string; status?: number })
        .filter((l) => l.msg === 'request' && l.path === path)
        .at(-1)?.status;
    const preflight = await raw('OPTIONS', '/api/v1/instances/pre', { headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.equal(statusOf('/api/v1/instances/pre'), 204);
    const big = Buffer.alloc(LIMIT * 2, 'x');
    const refused = await raw('POST', '/api/v1/instances/big', { headers: { ...(await auth()), 'content-length': String(big.length) }, body: [big] });
    assert.equal(refused.status, 413);
    assert.equal(statusOf('/api/v1/instances/big'), 413);
    assertSecurityHeaders(refused.headers, 'the 413');
  });

  test("a route's own Response and its own header values: on a socket too, the shared headers are there and the route's value wins", async () => {
    // The middleware alone, on the real adapter: a route that returns a Response it built itself,
    // and one that keeps its opener (Cross-Origin-Opener-Policy unsafe-none, as the OAuth callback page).
    const app = new Hono()
      .use(requestId())
      .use(secureHeaders())
      .use(cors({ origins: [ORIGIN], allowMethods: ['GET'], allowHeaders: [], exposeHeaders: ['ETag'], maxAge: 60 }))
      .get('/own', () => new Response('own', { headers: { 'content-type': 'text/plain', vary: 'Accept-Language' } }))
      .get('/opener', (c) => c.html('<p>page</p>', 200, { 'cross-origin-opener-policy': 'unsafe-none' }));
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const get = (path: string, headers: Record<string, string>) =>
      new Promise<IncomingHttpHeaders>((resolve, reject) => {
        httpRequest(`${url}${path}`, { headers, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.headers));
        })
          .on('error', reject)
          .end();
      });

    const own = await get('/own', { origin: ORIGIN, 'x-request-id': 'from-the-caller-1' });
    assertSecurityHeaders(own, "a route's own Response");
    assert.equal(own['access-control-allow-origin'], ORIGIN);
    assert.equal(own['x-request-id'], 'from-the-caller-1', "a caller's request id is kept");
    assert.equal(own['content-type'], 'text/plain');
    // CORS's Origin is added to the route's own Vary, not lost.
    assert.deepEqual(varyOf(own.vary).sort(), ['accept-language', 'origin']);

    const opener = await get('/opener', { origin: ORIGIN, 'x-request-id': 'not a valid id!' });
    assert.equal(opener['cross-origin-opener-policy'], 'unsafe-none', "the route's value wins over the default");
    assert.equal(opener['x-frame-options'], 'SAMEORIGIN');
    assert.match(String(opener['x-request-id']), /^[0-9a-f-]{36}$/, 'an invalid request id is replaced');
    assert.deepEqual(varyOf(opener.vary), ['origin']);
  });
});
