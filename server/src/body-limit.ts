// The request body limit, only where a request has a body. hono/body-limit asks every request for
// `c.req.raw.body`, which makes @hono/node-server build a real web Request (and an AbortSignal)
// even for a GET. Here a declared Content-Length is checked from the header alone (Node's parser
// never reads past it), an HTTP/1 request with neither Content-Length nor Transfer-Encoding has no
// body and is not looked at, and only a chunked body (or one whose framing this can't see, as
// with `app.request()`) is counted while it streams, by hono/body-limit itself.
import { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit as streamingBodyLimit } from 'hono/body-limit';

export interface BodyLimitOptions {
  maxSize: number;
  /** The response for a body over the limit (the 413 problem). */
  onError: (c: Context) => Response | Promise<Response>;
}

// No route reads a body on these (and @hono/node-server drops GET and HEAD bodies).
const NO_BODY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Served by @hono/node-server over HTTP/1.x, where a body is always framed by one of the two headers. */
function servedOverHttp1(c: Context): boolean {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  return incoming instanceof IncomingMessage && incoming.httpVersionMajor === 1;
}

export function bodyLimit(options: BodyLimitOptions): MiddlewareHandler {
  const streaming = streamingBodyLimit(options);
  // Not async: it passes next()'s promise on as it is (an async function would wrap it in another).
  return function bodyLimitByHeaders(c, next) {
    if (NO_BODY_METHODS.has(c.req.method)) return next();
    const chunked = c.req.header('transfer-encoding') !== undefined;
    const length = c.req.header('content-length');
    if (!chunked && length !== undefined) return Number(length) > options.maxSize ? Promise.resolve(options.onError(c)) : next();
    if (!chunked && servedOverHttp1(c)) return next();
    return streaming(c, next);
  };
}
