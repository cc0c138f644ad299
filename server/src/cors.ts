// CORS for the API, with hono/cors's behaviour (allowed origins only, methods, headers, exposed
// headers, max-age, Vary), but the headers go in before the handler builds its Response:
// hono/cors reads `c.res` first and appends Vary after, which makes @hono/node-server turn every
// response into a real web Response read as a stream (its slow path). Preflights are answered here,
// without reaching the routes.
import type { Context, MiddlewareHandler, Next } from 'hono';
import { addVary, setSharedHeaders, socketResponse } from './response-headers.js';

export interface CorsOptions {
  /** Origins that may call the API from a browser; any other gets no Access-Control-Allow-Origin. */
  origins: Iterable<string>;
  allowMethods: readonly string[];
  allowHeaders: readonly string[];
  exposeHeaders: readonly string[];
  /** Seconds a browser may cache a preflight's answer. */
  maxAge: number;
}

export function cors(options: CorsOptions): MiddlewareHandler {
  const origins = new Set(options.origins);
  const expose = options.exposeHeaders.join(',');
  const preflight: Record<string, string> = {
    'access-control-expose-headers': expose,
    'access-control-max-age': String(options.maxAge),
    'access-control-allow-methods': options.allowMethods.join(','),
    'access-control-allow-headers': options.allowHeaders.join(','),
    vary: 'Origin, Access-Control-Request-Headers',
  };

  // Not async on node:http's response, where it only sets headers and passes the request on: next()'s
  // promise as it is (an async function would wrap it in another, two more microtask turns).
  return function corsHeaders(c, next) {
    const origin = c.req.header('origin');
    const allowed = origin !== undefined && origins.has(origin) ? origin : undefined;
    if (c.req.method === 'OPTIONS') {
      // A Response of its own: c.body would copy a record of several headers into a web Headers.
      return Promise.resolve(new Response(null, { status: 204, headers: allowed ? { ...preflight, 'access-control-allow-origin': allowed } : preflight }));
    }
    const outgoing = socketResponse(c);
    if (!outgoing) return corsAround(c, next, allowed);
    // On node:http's response: every Response sent for this request carries them (response-headers.ts).
    setSharedHeaders(
      outgoing,
      allowed ? ['access-control-allow-origin', allowed, 'access-control-expose-headers', expose] : ['access-control-expose-headers', expose],
    );
    // A route's own Vary is added to this one when written, not put in its place.
    addVary(c, 'Origin');
    return next();
  };

  async function corsAround(c: Context, next: Next, allowed: string | undefined): Promise<void> {
    if (allowed) c.header('access-control-allow-origin', allowed);
    c.header('access-control-expose-headers', expose);
    c.header('vary', 'Origin', { append: true });
    await next();
    // A handler that returned a Response of its own (not built by `c`) lacks them: add them now.
    const headers = c.res.headers;
    if (!headers.has('access-control-expose-headers')) {
      if (allowed) headers.set('access-control-allow-origin', allowed);
      headers.set('access-control-expose-headers', expose);
      headers.append('vary', 'Origin');
    }
  }
}
