// hono/request-id's behaviour (a caller's X-Request-Id of up to 255 word characters is kept, else
// a random UUID; `c.get('requestId')` for logs and spans), with the header set on the socket's
// response (response-headers.ts) instead of a Headers object per request.
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { RequestIdVariables } from 'hono/request-id';
import { setResponseHeader } from './response-headers.js';

const GIVEN_ID = /^[\w\-=]{1,255}$/;

export function requestId(): MiddlewareHandler<{ Variables: RequestIdVariables }> {
  // Not async: it hands back next()'s own promise (an async function's would wrap it in another,
  // with two more microtask turns per request); a throw here still reaches compose's catch.
  return function requestIdFirst(c, next) {
    const given = c.req.header('x-request-id');
    const id = given !== undefined && GIVEN_ID.test(given) ? given : randomUUID();
    c.set('requestId', id);
    setResponseHeader(c, 'x-request-id', id);
    return next();
  };
}
