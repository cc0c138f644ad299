// One error shape for every 4xx/5xx: RFC 9457 problem+json (protocol `Problem`), with
// `errors: [{ path, message }]` naming each bad field.
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { PROBLEM_CONTENT_TYPE, ProblemType, type FieldError, type Problem } from 'plugboard/protocol';
import { ProxyRefusedError } from './connection-proxy.js';
import { ConflictError, ForbiddenError, InvalidFieldsError, NotEntitledError, NotFoundError, NotReadyError, VendorCodeError } from './errors.js';
import type { Logger } from './logger.js';
import { ConnectionUnavailableError } from './oauth/tokens.js';
import { ProviderConfigError } from './oauth/provider.js';
import { RateLimitedError } from './rate-limits.js';
import { QueueFullError } from './runtime/backpressure.js';
import { BadCursorError } from './runtime/executions.js';
import { WebhookRefusedError } from './runtime/webhooks.js';
import { DuplicateInstanceError, IdempotencyKeyReuseError, VersionConflictError } from './store/types.js';

export type ProblemKind = keyof typeof ProblemType;

const TITLES: Record<ProblemKind, string> = {
  validation: 'The request has invalid fields',
  unauthorized: 'Authentication required',
  forbidden: 'Not allowed',
  notFound: 'Not found',
  conflict: 'Conflict',
  versionMismatch: 'The resource changed since you read it',
  notReady: 'Not ready',
  tooLarge: 'Request body too large',
  rateLimited: 'Too many requests',
  queueFull: 'The execution queue is full',
  upstream: 'An upstream service failed',
  flowFailed: 'The flow failed',
  timedOut: 'The time limit passed',
  internal: 'Internal server error',
};

/** Thrown from handlers and middleware; `onError` turns it into the problem response. */
export class HttpProblem extends Error {
  readonly status: ContentfulStatusCode;
  readonly kind: ProblemKind;
  readonly errors?: FieldError[];
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;
  readonly title: string;
  readonly detail: string | undefined;

  constructor(
    status: ContentfulStatusCode,
    kind: ProblemKind,
    detail?: string,
    options: { errors?: FieldError[]; extra?: Record<string, unknown>; headers?: Record<string, string>; title?: string } = {},
  ) {
    super(detail ?? options.title ?? TITLES[kind]);
    this.status = status;
    this.kind = kind;
    this.errors = options.errors;
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
    this.title = options.title ?? TITLES[kind];
    this.detail = detail;
  }

  toProblem(instance?: string): Problem {
    return {
      ...this.extra,
      type: ProblemType[this.kind],
      title: this.title,
      status: this.status,
      ...(this.detail !== undefined ? { detail: this.detail } : {}),
      ...(instance ? { instance } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

/** 422 with one entry per bad field. */
export function validationProblem(errors: FieldError[], detail = 'Some fields are invalid; see errors.'): HttpProblem {
  return new HttpProblem(422, 'validation', detail, { errors });
}

export const notFound = (what: string): HttpProblem => new HttpProblem(404, 'notFound', `${what} was not found`);

/** PostgreSQL refusing text it cannot store (a NUL in a path segment, a header or JSON): the caller's input, not our fault. */
function isUnstorableText(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // 22021 character_not_in_repertoire (text), 22P05 untranslatable_character (jsonb's \u0000).
  return error instanceof Error && (code === '22021' || code === '22P05');
}

// SQLSTATEs: 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 08xxx connection exceptions,
// 57014 query_canceled (the statement_timeout the store sets: the database is too busy to answer in time).
const UNAVAILABLE_SQLSTATES = new Set(['57014', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
const UNAVAILABLE_NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
// node-postgres says these in its messages, without a code ('Query read timeout': its query_timeout, a black-holed connection).
const UNAVAILABLE_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly|Query read timeout)/;

/** Seconds a client should wait before retrying while the database is unavailable. */
export const DATABASE_RETRY_AFTER_S = 2;

/**
 * The database can't be reached right now (refused, cut, shutting down, pool connect timeout):
 * the request may succeed on retry, so it is a 503, not a bug. Follows `cause` and AggregateError.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 4) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_NET_CODES.has(code))) return true;
  if (UNAVAILABLE_MESSAGES.test(error.message)) return true;
  if (error instanceof AggregateError && error.errors.some((e) => isDatabaseUnavailable(e, depth + 1))) return true;
  return error.cause !== undefined && isDatabaseUnavailable(error.cause, depth + 1);
}

/**
 * The one table from domain errors (what services, the store, OAuth and the runtime throw) to
 * the problem the API answers with. Undefined: not a domain error (a bug, answered 500).
 */
export function problemFor(error: unknown): HttpProblem | undefined {
  if (error instanceof HttpProblem) return error;
  if (error instanceof NotFoundError) return notFound(error.what);
  if (error instanceof InvalidFieldsError) return validationProblem(error.errors, error.message);
  if (error instanceof NotEntitledError) {
    return new HttpProblem(403, 'forbidden', error.message, {
      title: 'Not in the plan',
      extra: { reason: 'notEntitled', integrationKey: error.integrationKey },
    });
  }
  if (error instanceof ForbiddenError) return new HttpProblem(403, 'forbidden', error.message);
  if (error instanceof ConflictError) return new HttpProblem(409, 'conflict', error.message, { extra: error.details });
  if (error instanceof NotReadyError) {
    return new HttpProblem(409, 'notReady', error.message, { errors: error.blockers, title: 'Not ready to activate' });
  }
  if (error instanceof VersionConflictError) {
    const current = error.currentVersion;
    return new HttpProblem(409, 'versionMismatch', `The instance changed since you read it; it is at version ${current}. Reload and retry.`, {
      extra: { currentVersion: current },
      headers: { etag: `"${current}"` },
    });
  }
  if (error instanceof DuplicateInstanceError) {
    return new HttpProblem(409, 'conflict', 'You already have an instance of this integration', { extra: { instanceId: error.existingId } });
  }
  if (error instanceof IdempotencyKeyReuseError) {
    return new HttpProblem(422, 'validation', 'This Idempotency-Key was already used to create an instance of another integration', {
      errors: [{ path: 'Idempotency-Key', message: 'Already used for another integration; send a new key' }],
      extra: { instanceId: error.existingId },
    });
  }
  if (error instanceof ConnectionUnavailableError) {
    // The provider's trouble is upstream; a connection that needs the customer is a conflict they can fix.
    const upstream = error.reason === 'provider_unavailable' || error.reason === 'misconfigured';
    return new HttpProblem(upstream ? 502 : 409, upstream ? 'upstream' : 'conflict', error.message, {
      extra: { ...(error.connection ? { connection: error.connection } : {}), reason: error.reason },
    });
  }
  if (error instanceof ProviderConfigError) {
    // Its message names settings and URLs for the operator's log; the caller learns only that the provider is unusable.
    return new HttpProblem(502, 'upstream', `The provider for "${error.label}" is not reachable or not configured.`);
  }
  // A data source or a connection test: the vendor's code, or the service it calls.
  if (error instanceof VendorCodeError) return new HttpProblem(502, 'upstream', error.message);
  if (error instanceof ProxyRefusedError) {
    if (error.status === 400) return validationProblem([{ path: 'path', message: error.message }], error.message);
    if (error.status === 429) return new HttpProblem(429, 'rateLimited', error.message, { headers: { 'retry-after': String(error.retryAfterS ?? 1) } });
    const kind: ProblemKind = error.status === 403 ? 'forbidden' : error.status === 504 ? 'timedOut' : 'upstream';
    return new HttpProblem(error.status, kind, error.message);
  }
  if (error instanceof BadCursorError) {
    return new HttpProblem(422, 'validation', 'The cursor is not one this API returned.', { errors: [{ path: 'query.cursor', message: error.message }] });
  }
  if (isUnstorableText(error)) {
    return validationProblem(
      [{ path: '(request)', message: 'A value holds a character that cannot be stored (NUL, \\u0000)' }],
      'The request holds a character that cannot be stored (NUL, \\u0000).',
    );
  }
  if (isDatabaseUnavailable(error)) {
    return new HttpProblem(503, 'notReady', 'The database is unavailable right now; retry shortly.', {
      title: 'Service unavailable',
      headers: { 'retry-after': String(DATABASE_RETRY_AFTER_S) },
    });
  }
  if (error instanceof RateLimitedError) return new HttpProblem(429, 'rateLimited', error.message, { headers: error.headers });
  if (error instanceof QueueFullError) {
    // The customer's own queue: 429, theirs to slow down. All queues: 503, ours. Neither names anyone else.
    const customer = error.scope === 'customer';
    return new HttpProblem(customer ? 429 : 503, 'queueFull', error.message, {
      title: customer ? "This customer's execution queue is full" : 'The execution queues are full',
      headers: { 'retry-after': String(error.retryAfterS) },
    });
  }
  if (error instanceof WebhookRefusedError) {
    return error.status === 401
      ? new HttpProblem(401, 'unauthorized', error.message, { errors: error.errors, headers: { 'www-authenticate': error.scheme } })
      : new HttpProblem(400, 'validation', error.message, { errors: error.errors });
  }
  return undefined;
}

/** Writes a problem+json response. */
export function problemResponse(c: Context, p: HttpProblem): Response {
  const body = p.toProblem(c.req.path);
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE, ...p.headers };
  return c.body(JSON.stringify(body), p.status, headers);
}

/** Unknown route: 404 problem instead of Hono's text body. */
export const onNotFound: NotFoundHandler = (c) => problemResponse(c, new HttpProblem(404, 'notFound', `No route for ${c.req.method} ${c.req.path}`));

/** Domain errors answer with their problem (problemFor); anything else is logged and answered with a generic 500 that leaks nothing. */
export function problemErrorHandler(logger: Logger): ErrorHandler {
  return (err, c) => {
    const known = problemFor(err);
    if (known) return problemResponse(c, known);
    // Hono's own HTTPException (e.g. from a built-in middleware): keep its status, not its text.
    if (err instanceof HTTPException && err.status < 500) {
      const kind: ProblemKind = err.status === 401 ? 'unauthorized' : err.status === 404 ? 'notFound' : err.status === 413 ? 'tooLarge' : 'validation';
      return problemResponse(c, new HttpProblem(err.status as ContentfulStatusCode, kind, 'The request could not be processed'));
    }
    const requestId = (c.get as (key: string) => unknown)('requestId');
    logger.error({ err, requestId, method: c.req.method, path: c.req.path }, 'unhandled error');
    return problemResponse(
      c,
      new HttpProblem(500, 'internal', 'Something went wrong on our side. The error was logged.', { extra: requestId ? { requestId } : {} }),
    );
  };
}
