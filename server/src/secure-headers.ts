// The security headers of every response: exactly hono/secure-headers' defaults (read from the
// middleware itself once, so the list can't drift from it), but set before the handler builds its
// Response, as `c.header` does, so @hono/node-server keeps its fast path (nothing rewritten after).
// A route keeps a header it sets on purpose (its value replaces the default: the OAuth callback
// page keeps its opener with Cross-Origin-Opener-Policy unsafe-none), as with `overwrite: false`.
import { Hono, type MiddlewareHandler } from 'hono';
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
  return async function secureHeadersFirst(c, next) {
    const headers = (defaults ??= await DEFAULTS);
    const outgoing = socketResponse(c);
    if (outgoing) {
      // On node:http's response: every Response sent for this request carries them (response-headers.ts).
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
  };
}
