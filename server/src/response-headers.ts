// Response headers without a web `Headers` object. Every API response carries about twenty
// (security, CORS, request id, rate limit, ETag...); set one by one on Hono's context they go into
// a `Headers` (undici validates, lower-cases and sorts each, and @hono/node-server copies them out
// again), which cost more CPU than the rest of a cached catalog read. When @hono/node-server
// serves the request over node:http they are kept with its ServerResponse instead, in a flat list
// (not node's own setHeader, whose per-response dictionary and double pass cost as much again),
// and written with the Response's own headers in one `writeHead`, where node validates each: so
// whatever Response a route or the error handler returns carries them, and a route's own value
// wins (as with hono/secure-headers' `overwrite: false`), except Vary, whose values are merged.
// Under `app.request()` (tests, no socket) and HTTP/2 they go through `c.header` as before.
import { ServerResponse } from 'node:http';
import type { Context } from 'hono';

/** node:http's response for this request while its headers can still change; undefined when there is none. */
export function socketResponse(c: Context): ServerResponse | undefined {
  const outgoing = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
  return outgoing instanceof ServerResponse && !outgoing.headersSent ? outgoing : undefined;
}

/** Sets a header (its name in lower case) of this request's response, whatever Response the route ends up returning. */
export function setResponseHeader(c: Context, name: string, value: string): void {
  const outgoing = socketResponse(c);
  if (outgoing) setShared(outgoing, name, value);
  else c.header(name, value);
}

/** Adds `token` to this request's Vary (a Response's own Vary is added to it when written, not put in its place). */
export function addVary(c: Context, token: string): void {
  const outgoing = socketResponse(c);
  if (!outgoing) return c.header('vary', token, { append: true });
  const shared = sharedOf(outgoing);
  const at = indexOf(shared, 'vary');
  if (at < 0) shared.push('vary', token);
  else shared[at + 1] = `${shared[at + 1]!}, ${token}`;
}

/** Sets several headers (names in lower case, `[name, value, name, value...]`) on node:http's response at once. */
export function setSharedHeaders(outgoing: ServerResponse, flat: readonly string[]): void {
  const shared = sharedOf(outgoing);
  if (shared.length === 0) shared.push(...flat);
  else for (let i = 0; i < flat.length; i += 2) setShared(outgoing, flat[i]!, flat[i + 1]!);
}

const SHARED = Symbol('plugboard.sharedHeaders');
type WithShared = ServerResponse & { [SHARED]?: string[] };
type HeaderValue = string | number | readonly string[];
const nodeWriteHead = ServerResponse.prototype.writeHead as (this: ServerResponse, status: number, ...rest: unknown[]) => ServerResponse;

function sharedOf(outgoing: WithShared): string[] {
  let shared = outgoing[SHARED];
  if (!shared) {
    shared = outgoing[SHARED] = [];
    outgoing.writeHead = writeHeadWithShared as ServerResponse['writeHead'];
  }
  return shared;
}

function indexOf(flat: readonly string[], name: string): number {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return i;
  return -1;
}

function setShared(outgoing: ServerResponse, name: string, value: string): void {
  const shared = sharedOf(outgoing);
  const at = indexOf(shared, name);
  if (at < 0) shared.push(name, value);
  else shared[at + 1] = value;
}

// node:http's writeHead with the shared headers first and the Response's own (a record from the
// adapter, its names as the route spelled them) after, each name once: the route's value wins,
// Vary gets both. A flat list goes to node as it is, validated there, without its dictionary.
function writeHeadWithShared(this: WithShared, status: number, ...rest: unknown[]): ServerResponse {
  const shared = this[SHARED];
  const last = rest.length - 1;
  const own = rest[last];
  if (!shared || shared.length === 0) return nodeWriteHead.call(this, status, ...rest);
  const out = shared.slice();
  if (own !== null && typeof own === 'object' && !Array.isArray(own)) {
    for (const name in own) {
      const value = (own as Record<string, HeaderValue | undefined>)[name];
      if (value === undefined) continue;
      const lower = name.toLowerCase();
      const at = indexOf(out, lower);
      if (at < 0) out.push(name, value as string);
      else out[at + 1] = lower === 'vary' ? `${String(value)}, ${out[at + 1]!}` : (value as string);
    }
    rest[last] = out;
  } else if (own === undefined || typeof own === 'string') {
    rest.push(out);
  } else {
    // A list of its own (not what the adapter passes): node merges it over the shared ones.
    for (let i = 0; i < out.length; i += 2) this.setHeader(out[i]!, out[i + 1]!);
  }
  return nodeWriteHead.call(this, status, ...rest);
}
