// The Hono app: cross-cutting middleware, auth, and every route, the runtime's included when the
// services have one. Pure: no socket, no process state, so tests drive it with `app.request()`.
import { Hono, type Context } from 'hono';
import { getPath } from 'hono/utils/url';
import { requestId } from './request-id.js';
import { customerAuth, vendorAuth, type TokenVerifier } from './auth.js';
import { bodyLimit } from './body-limit.js';
import { cors } from './cors.js';
import type { BaseEnv, CustomerEnv, Services, VendorEnv } from './env.js';
import { requestLogger } from './logger.js';
import { openApiDocument } from './openapi.js';
import { HttpProblem, onNotFound, problemErrorHandler, problemResponse } from './problem.js';
import { rateLimit } from './rate-limits.js';
import { auditRoutes } from './routes/audit.js';
import { consoleRoutes } from './routes/console.js';
import { executionRoutes } from './routes/executions.js';
import type { Readiness } from './readiness.js';
import { healthRoutes } from './routes/health.js';
import { hookRoutes } from './routes/hooks.js';
import { instanceRoutes } from './routes/instances.js';
import { integrationRoutes } from './routes/integrations.js';
import { metricsRoutes } from './routes/metrics.js';
import { oauthAuthorizeRoutes, oauthCallbackRoutes } from './routes/oauth.js';
import { invokeRoutes } from './routes/invoke.js';
import { proxyRoutes } from './routes/proxy.js';
import { vendorRoutes } from './routes/vendor.js';
import { vendorCustomerRoutes } from './routes/vendor-customers.js';
import { vendorActionRoutes } from './routes/vendor-actions.js';
import { vendorAlertRoutes } from './routes/vendor-alerts.js';
import { vendorCustomerViewRoutes } from './routes/vendor-customer-views.js';
import { vendorExecutionRoutes } from './routes/vendor-executions.js';
import { vendorVersionRoutes } from './routes/vendor-versions.js';
import { vendorRoleCheck } from './vendor-roles.js';
import { httpMetrics } from './runtime/metrics.js';
import { secureHeaders } from './secure-headers.js';

export type { BaseEnv, CustomerEnv, VendorEnv, Services };

export interface AppOptions {
  /** Built by createServices / servicesFromConfig (services.ts). */
  services: Services;
  /** Checks the vendor-signed JWT of every /api/v1 request. */
  verifier: TokenVerifier;
  /** Largest accepted request body. Default 1 MiB. */
  bodyLimitBytes?: number;
  /**
   * Routes of the program that embeds Plugboard (the demo's host page), mounted at `/` after
   * Plugboard's own, behind the same middleware (request id, logging, secure headers, CORS, errors).
   */
  routes?: Hono<any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- any env mounts
  /** True once a shutdown has started: /readyz answers 503 so a balancer stops sending here (startServer sets it). */
  draining?: () => boolean;
  /** /readyz's state, kept fresh off the request path (readiness.ts; startServer builds it). Absent: /readyz pings the store. */
  readiness?: Readiness;
}

/**
 * Paths a route answered at in an earlier version, rewritten before routing to the path that
 * answers them now (documented as deprecated; a route's path and its vendor role are the new
 * path's). Not registered as routes of their own: a literal beside a parameter at the same place,
 * as `POST /vendor/integrations/reload` was beside `POST /vendor/integrations/:key/upgrades`,
 * makes Hono's RegExpRouter refuse the routes, and its fallback, the TrieRouter, walks, sorts and
 * allocates ~3 KB on every request where the RegExpRouter answers a static path from one lookup.
 */
export const PATH_ALIASES: ReadonlyMap<string, string> = new Map([['/api/v1/vendor/integrations/reload', '/api/v1/vendor/reload']]);

const pathOrItsAlias = (request: Request): string => {
  const path = getPath(request);
  return PATH_ALIASES.get(path) ?? path;
};

export function createApp({ services, verifier, bodyLimitBytes = 1024 * 1024, routes, draining, readiness }: AppOptions): Hono<BaseEnv> {
  const { runtime } = services;
  const app = new Hono<BaseEnv>({ getPath: pathOrItsAlias });

  // First: the request's span is active in everything below (logs carry its ids, a webhook stores it).
  if (services.telemetry) app.use(services.telemetry.httpSpans());
  // Every middleware here sets its headers before the handler builds the Response and only reads
  // it after (status, a header), so @hono/node-server keeps its fast path: a Response from a string
  // or bytes written at once, no web streams (test/node/http-path.test.ts checks it).
  app.use(requestId());
  if (runtime) app.use(httpMetrics(runtime.metrics));
  app.use(requestLogger(services.logger));
  // A route keeps a header it sets on purpose (the OAuth callback page needs its opener:
  // Cross-Origin-Opener-Policy unsafe-none instead of the default same-origin).
  app.use(secureHeaders());
  app.use(
    cors({
      origins: services.allowedOrigins,
      allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      allowHeaders: ['Authorization', 'Content-Type', 'If-Match', 'If-None-Match', 'Idempotency-Key'],
      exposeHeaders: ['ETag', 'Location', 'X-Request-Id', 'WWW-Authenticate', 'Retry-After', 'RateLimit', 'RateLimit-Policy'],
      maxAge: 600,
    }),
  );
  // Only requests that carry a body are looked at (GET, HEAD, OPTIONS and a bodiless DELETE never are).
  app.use(
    bodyLimit({
      maxSize: bodyLimitBytes,
      onError: (c) => problemResponse(c, new HttpProblem(413, 'tooLarge', `The request body is larger than ${bodyLimitBytes} bytes`)),
    }),
  );
  app.onError(problemErrorHandler(services.logger));
  app.notFound(onNotFound);

  // Public routes (no vendor JWT).
  app.route('/', healthRoutes({ store: services.store, draining, readiness }));
  app.route('/oauth', oauthCallbackRoutes(services));
  // A static page: it shows nothing until given a vendor token, which every API call it makes carries.
  app.route('/console', consoleRoutes());
  // Before the customer API's auth: the document is public, like the routes it describes.
  let openApi: string | undefined;
  app.get('/api/v1/openapi.json', (c) => {
    openApi ??= JSON.stringify(openApiDocument({ publicUrl: services.publicUrl, runtime: runtime !== undefined }));
    return c.body(openApi, 200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
  });
  if (runtime) {
    app.route('/', metricsRoutes(runtime));
    app.route('/hooks', hookRoutes(services, runtime));
  }

  // Vendor API: vendor tokens only. Rate limits count after auth, per identity (/healthz, /readyz,
  // /metrics, /oauth and /hooks are outside both APIs: hooks get their own backpressure).
  const vendor = new Hono<VendorEnv>();
  vendor.use(vendorAuth<VendorEnv>({ verifier }));
  vendor.use(rateLimit<Context<VendorEnv>>(services.rateLimits, 'vendor', (c) => c.get('claims').sub));
  // Every vendor route's least role, from one table (vendor-roles.ts).
  vendor.use(vendorRoleCheck());
  vendor.route('/', vendorRoutes(services));
  if (runtime) vendor.route('/', invokeRoutes(services, runtime));
  vendor.route('/', proxyRoutes(services));
  vendor.route('/', vendorCustomerRoutes(services));
  vendor.route('/', vendorActionRoutes(services));
  vendor.route('/', vendorAlertRoutes(services));
  vendor.route('/', vendorCustomerViewRoutes(services));
  if (runtime) vendor.route('/', vendorExecutionRoutes(services, runtime));
  vendor.route('/', vendorVersionRoutes(services));
  app.route('/api/v1/vendor', vendor);

  // Customer API: every other /api/v1 route needs a customer token, so a new route can't forget auth.
  const customerOnly = customerAuth<CustomerEnv>({ verifier, store: services.store });
  const api = new Hono<CustomerEnv>();
  const customerLimit = rateLimit<Context<CustomerEnv>>(services.rateLimits, 'customer', (c) => c.get('customer').id);
  const vendorPath = /^\/api\/v1\/vendor(\/|$)/;
  // Auth, then the limit that counts per customer: one middleware, one look at the path. Not async:
  // each passes the next one's promise on as it is (no wrapper promise, no extra microtask turns).
  api.use((c, next) => (vendorPath.test(c.req.path) ? next() : customerOnly(c, () => customerLimit(c, next) as Promise<void>)));
  api.route('/', integrationRoutes(services));
  api.route('/', instanceRoutes(services));
  api.route('/', oauthAuthorizeRoutes(services));
  api.route('/', auditRoutes(services));
  if (runtime) api.route('/', executionRoutes(services, runtime));
  app.route('/api/v1', api);

  if (routes) app.route('/', routes);
  return app;
}
