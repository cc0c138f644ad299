// The vendor API's provider proxy: a request to …/connections/:name/proxy/<path> goes to the
// connection's declared base URL + <path>, with the customer's credential attached here (an OAuth
// access token from the token service, refreshed near expiry; an API key's headers as the SDK
// declaration makes them), so the vendor's backend never holds a customer's token. The connection
// goes through the egress policy flows have (a refused address is a 403), redirects are handed
// back rather than followed (a key header must not follow one to another host), hop-by-hop and
// credential headers don't cross in either direction, and any credential the provider echoes back
// is blanked out of the answer. Each request takes a turn of the connection's rate limit first, from the
// counters ctx.fetch uses, and a provider's 429 pauses the connection for the flows too.
import { connectionLimitKey, NoTurnBeforeDeadlineError, type ConnectionThrottle } from './runtime/connection-throttle.js';
import { pauseAfter429 } from './runtime/executor/retry-after.js';
import { egressAgent, EgressRefusedError, fetchThrough } from './runtime/executor/egress.js';
import { egressPolicy } from './runtime/executor/egress-policy.js';
import { openApiKey } from './credentials.js';
import { ConflictError, NotFoundError } from './errors.js';
import type { IntegrationIndex } from './integrations.js';
import type { Logger } from './logger.js';
import type { OAuth } from './oauth/index.js';
import { readSetting, type Integration } from './sdk/index.js';
import type { Cipher } from './secrets.js';
import type { Customer, InstanceRecord, Store } from './store/types.js';

/** Answers larger than this are refused (502): the proxy holds one in memory to blank credentials out of it. */
export const PROXY_RESPONSE_LIMIT_BYTES = 10 * 1024 * 1024;
/** How long the provider gets to answer. */
export const PROXY_TIMEOUT_MS = 30_000;

// RFC 9110 §7.6.1 hop-by-hop headers, and what is this hop's own: the vendor's token, its cookies, framing.
const REQUEST_DROPPED = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'authorization',
  'cookie',
  'content-length',
  'accept-encoding',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  'x-request-id',
]);
// fetch has already decoded the body (content-encoding, length); the provider's cookies are not the vendor's. Nor are its
// policies: the answer is served from Plugboard's origin, so the provider must not set that origin's CORS, framing, HSTS,
// CSP or stored data (its Clear-Site-Data would sign the console out).
const RESPONSE_DROPPED = new Set([
  ...REQUEST_DROPPED,
  'content-encoding',
  'content-length',
  'set-cookie',
  'set-cookie2',
  'www-authenticate',
  'alt-svc',
  'clear-site-data',
  'content-security-policy',
  'content-security-policy-report-only',
  'cross-origin-embedder-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'nel',
  'origin-agent-cluster',
  'permissions-policy',
  'referrer-policy',
  'refresh',
  'report-to',
  'reporting-endpoints',
  'strict-transport-security',
  'timing-allow-origin',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
]);
const RESPONSE_DROPPED_PREFIX = 'access-control-';
/** The provider's body is its own, not a page of this origin: a browser that opened it runs nothing and loads nothing. */
const ANSWER_CSP = "default-src 'none'; sandbox";

/** What the caller gets back: the provider's answer, cleaned. */
export interface ProxiedResponse {
  status: number;
  headers: Headers;
  body: Uint8Array<ArrayBuffer> | null;
}

export class ProxyRefusedError extends Error {
  override name = 'ProxyRefusedError';
  constructor(
    readonly status: 400 | 403 | 429 | 502 | 504,
    message: string,
    /** A 429's Retry-After, in seconds. */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

export interface ProxyRequest {
  instance: InstanceRecord & { customer: Customer };
  connection: string;
  method: string;
  /** The path below `/proxy`, still percent-encoded, starting with `/` (or empty). */
  path: string;
  /** `?…` or empty. */
  search: string;
  headers: Headers;
  body: ArrayBuffer | null;
  signal?: AbortSignal;
}

export interface ConnectionProxy {
  /** Sends the request; throws NotFoundError, ConflictError, ConnectionUnavailableError or ProxyRefusedError (all answered by problemFor). */
  forward(request: ProxyRequest): Promise<ProxiedResponse>;
}

function hopByHop(headers: Headers, dropped: ReadonlySet<string>): Headers {
  // Headers a `Connection` header names are this hop's too.
  const named = new Set(
    (headers.get('connection') ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  const out = new Headers();
  for (const [name, value] of headers) if (!dropped.has(name) && !named.has(name) && !name.startsWith(RESPONSE_DROPPED_PREFIX)) out.append(name, value);
  return out;
}

/** `path` with its percent escapes decoded twice, as a provider (or a proxy in front of it) may decode it; a bad escape stays as it is. */
const decodedTwice = (path: string): string => {
  const once = (text: string) => text.replace(/%[0-9a-f]{2}/gi, (escape) => String.fromCharCode(parseInt(escape.slice(1), 16)));
  return once(once(path));
};

/** The target URL, which must stay below the base URL (a `..` in the path can't climb out of it). */
function targetUrl(baseUrl: string, path: string, search: string): URL {
  // A dot segment the URL parser leaves encoded (`..%2f`, `%2e%2e%5c`, `%252e%252e`) climbs out on a provider that decodes
  // before it resolves; no API path needs one.
  if (
    decodedTwice(path)
      .split(/[\\/]/)
      .some((segment) => segment === '..')
  ) {
    throw new ProxyRefusedError(400, 'The path holds an encoded ".." segment, which could leave the connection’s base URL');
  }
  const base = new URL(baseUrl);
  const prefix = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  const target = new URL(`${prefix.slice(0, -1)}${path}${search}`, base.origin);
  if (target.origin !== base.origin || !(target.pathname === base.pathname || target.pathname.startsWith(prefix))) {
    throw new ProxyRefusedError(400, 'The path leaves the connection’s base URL');
  }
  return target;
}

/** Reads at most `limit` bytes of the body; more is a 502. */
async function readCapped(response: Response, limit: number): Promise<Buffer<ArrayBuffer>> {
  const reader = response.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new ProxyRefusedError(502, `The provider’s answer is larger than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Every occurrence of each credential replaced by "[redacted]" (credentials are ASCII; the body may be anything). */
function blankOut(body: Buffer<ArrayBuffer>, secrets: readonly string[]): Buffer<ArrayBuffer> {
  let buffer = body;
  for (const secret of secrets) {
    const needle = Buffer.from(secret);
    if (buffer.indexOf(needle) === -1) continue;
    const parts: Buffer[] = [];
    let from = 0;
    for (let at = buffer.indexOf(needle); at !== -1; at = buffer.indexOf(needle, from)) {
      parts.push(buffer.subarray(from, at), Buffer.from('[redacted]'));
      from = at + needle.length;
    }
    parts.push(buffer.subarray(from));
    buffer = Buffer.concat(parts);
  }
  return buffer;
}

export function createConnectionProxy(options: {
  store: Store;
  cipher: Cipher;
  oauth: OAuth;
  integrations: IntegrationIndex;
  /** PLUGBOARD_EGRESS_ALLOW's exceptions: the same policy flows run under. */
  egressAllow?: readonly string[];
  logger: Logger;
  /** Default PROXY_TIMEOUT_MS. */
  timeoutMs?: number;
  /** The connections' rate limits, shared with the flows' ctx.fetch (absent: none taken). */
  throttle?: ConnectionThrottle;
}): ConnectionProxy {
  const { store, cipher, oauth, integrations, logger, throttle } = options;
  const send = fetchThrough(egressAgent(egressPolicy(options.egressAllow ?? [])));
  const timeoutMs = options.timeoutMs ?? PROXY_TIMEOUT_MS;

  /** The headers that carry the credential, and the credential's values to keep out of the answer. */
  async function credentialHeaders(
    instance: InstanceRecord,
    integration: Integration,
    name: string,
  ): Promise<{ baseUrl: string; headers: Record<string, string>; secrets: string[] }> {
    const spec = Object.hasOwn(integration.connections, name) ? integration.connections[name] : undefined;
    if (!spec) throw new NotFoundError(`Connection "${name}"`);
    if (!spec.proxy) throw new NotFoundError(`A proxy for connection "${name}" (the integration declares no proxy base URL for it)`);
    const baseUrl = readSetting(spec.proxy.baseUrl);
    if (!baseUrl) throw new ProxyRefusedError(502, `The proxy base URL of connection "${name}" is not set`);
    if (spec.kind === 'apiKey') {
      const record = (await store.vendor.listConnections([instance.id])).find((r) => r.name === name);
      if (record?.status !== 'connected' || !record.ciphertext) throw new ConflictError(`${spec.label} is not connected`, { connection: name });
      const values = openApiKey(cipher, instance.id, name, record.ciphertext);
      const headers = spec.proxy.headers(values);
      // The headers as sent are secrets too: a Basic header's base64 holds the key in another form, and so may a signed one.
      const sent = Object.values(headers).flatMap((v) => [v, ...v.split(/\s+/)]);
      return { baseUrl, headers, secrets: [...Object.values(values), ...sent].filter((v) => typeof v === 'string' && v.length >= 8) };
    }
    const token = await oauth.getAccessToken({ customerId: instance.customerId, instanceId: instance.id, connection: name });
    return { baseUrl, headers: { authorization: `Bearer ${token.accessToken}` }, secrets: [token.accessToken] };
  }

  return {
    async forward(request) {
      const { instance, connection } = request;
      if (instance.status !== 'active' && instance.status !== 'error') {
        throw new ConflictError(`The instance is ${instance.status}; only an active instance's connections can be proxied`, { status: instance.status });
      }
      // The instance's own version decides which connections exist and how they are limited.
      const integration = integrations.offered(instance);
      const credential = await credentialHeaders(instance, integration, connection);
      const url = targetUrl(credential.baseUrl, request.path, request.search);
      const headers = hopByHop(request.headers, REQUEST_DROPPED);
      for (const [name, value] of Object.entries(credential.headers)) headers.set(name, value);
      const signal = request.signal ? AbortSignal.any([request.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
      const limitKey = connectionLimitKey(instance.id, connection);
      if (throttle) {
        const limits = Object.hasOwn(integration.rateLimits, connection) ? integration.rateLimits[connection]! : [];
        try {
          // The vendor's backend waits for a turn as a flow would, within the proxy's own time limit.
          await throttle.take(limitKey, limits, Date.now() + timeoutMs);
        } catch (error) {
          if (!(error instanceof NoTurnBeforeDeadlineError)) throw error;
          const retryAfterS = Math.max(1, Math.ceil((error.nextAt - Date.now()) / 1000));
          throw new ProxyRefusedError(
            429,
            `Connection "${connection}"'s rate limit leaves no turn within ${timeoutMs} ms; try again in ${retryAfterS} s`,
            retryAfterS,
          );
        }
      }
      let response: Response;
      try {
        response = await send(url, {
          method: request.method,
          headers,
          body: request.body && request.body.byteLength > 0 ? request.body : undefined,
          redirect: 'manual',
          signal,
        });
      } catch (error) {
        if (error instanceof EgressRefusedError) throw new ProxyRefusedError(403, error.message);
        if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
          throw new ProxyRefusedError(504, `The provider did not answer within ${timeoutMs} ms`);
        }
        logger.warn({ err: error, host: url.host, instanceId: instance.id, connection }, 'proxied request failed');
        throw new ProxyRefusedError(502, `The provider at ${url.host} could not be reached`);
      }
      if (response.status === 429 && throttle) {
        // Everyone on this connection waits the provider's pause out, the flows included; the caller gets the 429 itself.
        await throttle.pause(limitKey, pauseAfter429(response.headers, 0)).catch((err: unknown) => {
          logger.warn({ err, instanceId: instance.id, connection }, 'could not pause the connection after a 429');
        });
      }
      let body: Buffer<ArrayBuffer> | null = null;
      if (request.method !== 'HEAD') {
        try {
          body = blankOut(await readCapped(response, PROXY_RESPONSE_LIMIT_BYTES), credential.secrets);
        } catch (error) {
          // The answer can fail after its headers as the request can before them: the same refusals.
          if (error instanceof ProxyRefusedError) throw error;
          if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
            throw new ProxyRefusedError(504, `The provider did not finish its answer within ${timeoutMs} ms`);
          }
          logger.warn({ err: error, host: url.host, instanceId: instance.id, connection }, 'proxied answer broke off');
          throw new ProxyRefusedError(502, `The provider at ${url.host} broke off its answer`);
        }
      }
      const out = hopByHop(response.headers, RESPONSE_DROPPED);
      for (const [name, value] of out) {
        if (credential.secrets.some((s) => value.includes(s))) out.set(name, '[redacted]');
      }
      out.set('content-security-policy', ANSWER_CSP);
      return { status: response.status, headers: out, body };
    },
  };
}
