// The security headers of every response: exactly hono/secure-headers' defaults (read from the
// middleware itself once, so the list can't drift from it), but set before the handler builds its
// Response, as `c.header` does, so @hono/node-server keeps its fast path (nothing rewritten after).
// A route keeps a header it sets on purpose (its value replaces the default: the OAuth callback
// page keeps its opener with Cross-Origin-Opener-Policy unsafe-none), as with `overwrite: false`.
import { Hono, type Context, type MiddlewareHandler, type Next } from 'hono';
import { secureHeaders as honoSecureHeaders } from 'hono/secure-headers';
import { setSharedHeaders, socketResponse } from './response-headers.js';

async function honoDefaults(): Promise<[string, string][]> {
  const probe = new Hono().use(honoSecureHeaders()).get('/', (c) => c.body(null, 204));
  const res = await probe.request('/');
  return [...res.headers];
}

const DEFAULTS = honoDefaults();
let defaults: [string, string][] | undefined;
let flat: string[] | undefined;
// One of the defaults that no route sets itself: its absence after the handler means the
// Response was not built by `c` (a route's own Response) and still needs the headers.
const SENTINEL = 'x-dns-prefetch-control';

export function secureHeaders(): MiddlewareHandler {
  // Not async once the defaults are read and the response is node:http's, where it only sets them
  // and passes the request on: next()'s promise as it is, where an async function would wrap it in
  // another (two more microtask turns and their allocations per request).
  return function secureHeadersFirst(c, next) {
    const outgoing = defaults && socketResponse(c);
    if (!outgoing) return secureHeadersAround(c, next);
    // On node:http's response: every Response sent for this request carries them (response-headers.ts).
    setSharedHeaders(outgoing, (flat ??= defaults!.flat()));
    return next();
  };
}

async function secureHeadersAround(c: Context, next: Next): Promise<void> {
  const headers = (defaults ??= await DEFAULTS);
  const outgoing = socketResponse(c);
  if (outgoing) {
    setSharedHeaders(outgoing, (flat ??= headers.flat()));
    return next();
  }
  for (const [name, value] of headers) c.header(name, value);
  await next();
  const sent = c.res.headers;
  if (!sent.has(SENTINEL)) {
    for (const [name, value] of headers) if (!sent.has(name)) sent.set(name, value);
    sent.delete('x-powered-by');
  }
}
