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
