// The Hono app: cross-cutting middleware, auth, and the resource routes. Pure: no socket, no
// process state, so tests drive it with `app.request()`.
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { every } from 'hono/combine';
import { cors } from 'hono/cors';
import { requestId, type RequestIdVariables } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import type { WebhookEndpoint } from 'plugboard/protocol';
import type { Integration } from './sdk/index.js';
import { customerAuth, vendorAuth, type CustomerVariables, type TokenVerifier, type VendorVariables } from './auth.js';
import { indexIntegrations, type IntegrationIndex } from './integrations.js';
import { createLogger, requestLogger, type Logger } from './logger.js';
import { HttpProblem, onNotFound, problemErrorHandler, problemResponse } from './problem.js';
import { healthRoutes } from './routes/health.js';
import { instanceRoutes } from './routes/instances.js';
import { integrationRoutes } from './routes/integrations.js';
import { oauthAuthorizeRoutes, oauthCallbackRoutes } from './routes/oauth.js';
import { vendorRoutes } from './routes/vendor.js';
import type { Cipher } from './secrets.js';
import type { InstanceRecord, Store } from './store/types.js';

export interface AppDeps {
  store: Store;
  cipher: Cipher;
  /** The vendor's integrations (keys must be unique). */
  integrations: readonly Integration[] | IntegrationIndex;
  verifier: TokenVerifier;
  /** Default: a silent logger. */
  logger?: Logger;
  /** Origins allowed by CORS. Default: none (same-origin only). */
  allowedOrigins?: readonly string[];
  /** Default 1 MiB. */
  bodyLimitBytes?: number;
  /** Default 10 s. */
  dataSourceTimeoutMs?: number;
  /** Base URL of this server, e.g. for OAuth redirect URIs and webhook URLs. Default http://localhost:8787. */
  publicUrl?: string;
  /**
   * Adds routes of other modules without editing this file: `app` for public routes (e.g.
   * `/oauth/callback`, `/hooks/:token`), `api` for customer routes under `/api/v1` (already
   * behind customer auth; `c.get('tenant')`, `c.get('actor')`).
   */
  extend?: (parts: { app: Hono<BaseEnv>; api: Hono<CustomerEnv>; ctx: RouteContext }) => void;
}

/** What every route module receives. */
export interface RouteContext {
  store: Store;
  cipher: Cipher;
  integrations: IntegrationIndex;
  logger: Logger;
  dataSourceTimeoutMs: number;
  publicUrl: string;
  allowedOrigins: readonly string[];
  /** Webhook URLs of an instance for its responses; set by the runtime's mount (`extend`) when a runtime runs. */
  webhookEndpoints?: (instance: InstanceRecord, integration: Integration) => Promise<WebhookEndpoint[]>;
  /**
   * Middleware other modules add from `extend` that must see every request (e.g. HTTP metrics):
   * run first, although `extend` is called after the routes are mounted.
   */
  aroundRequests: MiddlewareHandler<BaseEnv>[];
}

export type BaseEnv = { Variables: RequestIdVariables };
/** Env of customer routes (`/api/v1/*` except vendor): `c.get('tenant')` is the customer's store. */
export type CustomerEnv = { Variables: RequestIdVariables & CustomerVariables };
export type VendorEnv = { Variables: RequestIdVariables & VendorVariables };

export function createRouteContext(deps: AppDeps): RouteContext {
  return {
    store: deps.store,
    cipher: deps.cipher,
    integrations: deps.integrations instanceof Map ? deps.integrations : indexIntegrations(deps.integrations as readonly Integration[]),
    logger: deps.logger ?? createLogger({ level: 'silent' }),
    dataSourceTimeoutMs: deps.dataSourceTimeoutMs ?? 10_000,
    publicUrl: (deps.publicUrl ?? 'http://localhost:8787').replace(/\/+$/, ''),
    allowedOrigins: deps.allowedOrigins ?? [],
    aroundRequests: [],
  };
}

export function createApp(deps: AppDeps): Hono<BaseEnv> {
  const ctx = createRouteContext(deps);
  const app = new Hono<BaseEnv>();

  app.use(requestId());
  app.use((c, next) => (ctx.aroundRequests.length ? every(...ctx.aroundRequests)(c, next) : next()));
  app.use(requestLogger(ctx.logger));
  // overwrite: false lets a route keep a header it sets on purpose (the OAuth callback page needs
  // its opener: Cross-Origin-Opener-Policy unsafe-none instead of the default same-origin).
  app.use(secureHeaders({ overwrite: false }));
  const origins = new Set(ctx.allowedOrigins);
  app.use(
    cors({
      origin: (origin) => (origins.has(origin) ? origin : null),
      allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      allowHeaders: ['Authorization', 'Content-Type', 'If-Match', 'Idempotency-Key'],
      exposeHeaders: ['ETag', 'Location', 'X-Request-Id', 'WWW-Authenticate'],
      maxAge: 600,
    }),
  );
  app.use(
    bodyLimit({
      maxSize: deps.bodyLimitBytes ?? 1024 * 1024,
      onError: (c) => problemResponse(c, new HttpProblem(413, 'tooLarge', `The request body is larger than ${deps.bodyLimitBytes ?? 1024 * 1024} bytes`)),
    }),
  );
  app.onError(problemErrorHandler(ctx.logger));
  app.notFound(onNotFound);

  app.route('/', healthRoutes(ctx));

  // ---- public routes (no vendor JWT) of other modules mount here:
  app.route('/oauth', oauthCallbackRoutes(ctx));
  //   /hooks/:token, /metrics: mounted by the runtime through `extend` (runtime/index.ts mount)

  // Vendor API: vendor tokens only.
  const vendor = new Hono<VendorEnv>();
  vendor.use(vendorAuth<VendorEnv>({ verifier: deps.verifier }));
  vendor.route('/', vendorRoutes(ctx));
  app.route('/api/v1/vendor', vendor);

  // Customer API: every other /api/v1 route needs a customer token, so a new route can't forget auth.
  const customerOnly = customerAuth<CustomerEnv>({ verifier: deps.verifier, store: ctx.store });
  const api = new Hono<CustomerEnv>();
  api.use(async (c, next) => (/^\/api\/v1\/vendor(\/|$)/.test(c.req.path) ? next() : customerOnly(c, next)));
  api.route('/', integrationRoutes(ctx));
  api.route('/', instanceRoutes(ctx));
  // ---- customer routes of other modules mount here (they get c.get('tenant'), c.get('actor')):
  api.route('/', oauthAuthorizeRoutes(ctx));
  //   executions API: mounted by the runtime through `extend` (runtime/index.ts mount)
  deps.extend?.({ app, api, ctx });
  app.route('/api/v1', api);

  return app;
}
