// Response headers without a web `Headers` object. Every API response carries about twenty
// (security, CORS, request id, rate limit, ETag...); set one by one on Hono's context they go into
// a `Headers` (undici validates, lower-cases and sorts each, and @hono/node-server copies them out
// again), which cost more CPU than the rest of a cached catalog read. When @hono/node-server
// serves the request over node:http they go straight onto its ServerResponse instead: node keeps
// them in a plain object and `writeHead` merges the Response's own headers over them, so whatever
// Response a route or the error handler returns carries them, and a route's own value wins (as
// with hono/secure-headers' `overwrite: false`). Under `app.request()` (tests, no socket) and
// HTTP/2 they go through `c.header` as before.
import { ServerResponse } from 'node:http';
import type { Context } from 'hono';

/** node:http's response for this request while its headers can still change; undefined when there is none. */
export function socketResponse(c: Context): ServerResponse | undefined {
  const outgoing = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
  return outgoing instanceof ServerResponse && !outgoing.headersSent ? outgoing : undefined;
}

/** Sets a header of this request's response, whatever Response the route ends up returning. */
export function setResponseHeader(c: Context, name: string, value: string): void {
  const outgoing = socketResponse(c);
  if (outgoing) outgoing.setHeader(name, value);
  else c.header(name, value);
}

/**
 * Adds `token` to this request's Vary. On node:http's response a Response's own Vary would take
 * the shared one's place when written: keepVaryOnWrite merges the two instead.
 */
export function addVary(c: Context, token: string): void {
  const outgoing = socketResponse(c);
  if (!outgoing) return c.header('vary', token, { append: true });
  const shared = outgoing.getHeader('vary');
  outgoing.setHeader('vary', shared === undefined ? token : `${String(shared)}, ${token}`);
  keepVaryOnWrite(outgoing);
}

type WriteHead = ServerResponse['writeHead'];
type HeaderRecord = Record<string, string | number | readonly string[] | undefined>;
const nodeWriteHead: WriteHead = ServerResponse.prototype.writeHead;

// A Response's own Vary (a plain record from the adapter; its name as the route spelled it) is
// added to the shared one instead of replacing it, as hono/cors appends its Origin to a route's.
function writeHeadKeepingVary(this: ServerResponse, status: number, ...rest: unknown[]): ServerResponse {
  const last = rest.length - 1;
  const own = rest[last];
  const shared = this.getHeader('vary');
  if (shared !== undefined && own !== null && typeof own === 'object' && !Array.isArray(own)) {
    for (const name in own as HeaderRecord) {
      if (name.length !== 4 || name.toLowerCase() !== 'vary') continue;
      const theirs = (own as HeaderRecord)[name];
      if (theirs !== undefined) rest[last] = { ...(own as HeaderRecord), [name]: `${String(theirs)}, ${String(shared)}` };
      break;
    }
  }
  return (nodeWriteHead as (this: ServerResponse, status: number, ...rest: unknown[]) => ServerResponse).call(this, status, ...rest);
}

/** node:http's writeHead on this response, but a Response's own Vary is merged with the one set here. */
export function keepVaryOnWrite(outgoing: ServerResponse): void {
  if (outgoing.writeHead !== writeHeadKeepingVary) outgoing.writeHead = writeHeadKeepingVary as WriteHead;
}
