// A real OAuth 2 / OpenID Connect authorization server (oidc-provider) on loopback, for the demo
// and for tests: a sign-in + consent page that works offline (no scripts, strict CSP), refresh
// tokens, revocation, client credentials, and a tiny protected "channels" API on the same origin
// that accepts only this server's bearer tokens.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { html } from 'hono/html';
import Provider, { type Interaction } from 'oidc-provider';
import { request as playwrightRequest, type APIRequestContext } from 'playwright-core';

export interface OAuthServerClient {
  clientId: string;
  /** Omit for a public client (token endpoint auth `none`). */
  clientSecret?: string;
  redirectUris?: string[];
  /** Default: authorization_code, refresh_token, client_credentials. */
  grantTypes?: string[];
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | 'none';
}

export interface OAuthServerOptions {
  port?: number;
  host?: string;
  clients: OAuthServerClient[];
  /** Access token lifetime in seconds (default 3600). Tests use a few seconds to force refreshes. */
  accessTokenTtl?: number;
  /**
   * Lifetime of the access tokens a refresh issues (default `accessTokenTtl`): a test that lets a
   * 1-second token expire for real gives the renewed one long enough to be used on a loaded machine.
   */
  refreshedAccessTokenTtl?: number;
  refreshTokenTtl?: number;
  /** Issue a new refresh token on each refresh and reject the old one (default true): makes refresh races visible. */
  rotateRefreshTokens?: boolean;
  /** Scopes besides `openid`, `profile` and `offline_access` (default `channels:read chat:write`). */
  scopes?: string[];
  /** Name shown on the sign-in page. */
  title?: string;
  /** Bend the wire format the way some real providers do (tests of provider presets). */
  quirks?: ProviderQuirks;
}

/**
 * Ways real providers depart from the standard, reproduced in front of oidc-provider so each
 * quirk kind of the provider presets can be tested end to end without the internet.
 */
export interface ProviderQuirks {
  /** ',' (Slack, Shopify, Linear): the authorization request must join scopes with commas (a space is refused), and token responses do too. */
  scopeSeparator?: ',';
  /** false: PKCE is not required (the provider ignores it). Default: required. */
  pkce?: boolean;
  /** Token responses carry no `expires_in`: tokens that never expire. */
  omitExpiresIn?: boolean;
  /** Endpoints also answer under `/t/<tenant>/…` (a per-customer subdomain, as a path here); each request's tenant is recorded. */
  tenantPaths?: boolean;
}

/** What the server saw of one request at the authorization or token endpoint (tests read it; it may hold codes and tokens). */
export interface EndpointRecord {
  endpoint: 'authorization' | 'token' | 'revocation';
  /** The query (authorization) or the form body (token, revocation), as sent. */
  params: URLSearchParams;
  /** The `/t/<tenant>` part of the path, when there was one. */
  tenant?: string;
  /** The request's Authorization header scheme (`Basic` when the client authenticated that way). */
  authScheme?: string;
}

/** One call at the token endpoint, as counted by the server (never carries a token). */
export interface TokenRequestRecord {
  grantType: string;
  clientId: string | undefined;
  ok: boolean;
  error?: string;
}

export interface OAuthServer {
  issuer: string;
  /** `GET` with `Authorization: Bearer …` → `{ channels: [{ id, name }] }`. */
  channelsUrl: string;
  provider: Provider;
  /** Every token endpoint call so far, in order. */
  tokenRequests: TokenRequestRecord[];
  /** Requests to the revocation endpoint so far. */
  revocationRequests: number;
  /** Grants revoked (a refresh or access token revocation revokes its whole grant). */
  grantsRevoked: number;
  /** With `quirks`: every authorization, token and revocation request, in order. */
  endpointRequests: EndpointRecord[];
  close(): Promise<void>;
}

export const DEMO_CHANNELS = [
  { id: 'C001', name: 'general' },
  { id: 'C002', name: 'sales' },
  { id: 'C003', name: 'support' },
];

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ...headers,
  });
  res.end(body);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const STYLE = `body{font:16px system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#0f172a}
h1{font-size:1.3rem}label{display:block;margin:.75rem 0 .25rem}input{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}
button{font:inherit;padding:.5rem 1rem;margin:1rem .5rem 0 0;border-radius:6px;border:1px solid #4f46e5;background:#4f46e5;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#4f46e5}ul{padding-left:1.2rem}`;

async function page(title: string, heading: string, body: ReturnType<typeof html>): Promise<string> {
  const doc = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title}</title><style>${STYLE}</style></head>
<body><main><h1>${heading}</h1>${body}</main></body></html>`;
  return (await doc).toString();
}

async function interactionPage(details: Interaction, title: string): Promise<string> {
  const uid = details.uid;
  const client = details.params.client_id ?? 'an application';
  if (details.prompt.name === 'login') {
    return page(
      title,
      `Sign in to ${title}`,
      html`<p><strong>${client}</strong> asks you to sign in.</p>
<form method="post" action="/interaction/${uid}/login">
<label for="login">User name</label><input id="login" name="login" value="demo-user" autocomplete="username" required>
<label for="password">Password (anything works here)</label><input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Sign in</button></form>`,
    );
  }
  const scopes = (details.params.scope ?? '').split(' ').filter(Boolean);
  return page(
    title,
    'Allow access?',
    html`<p><strong>${client}</strong> wants to:</p><ul>${scopes.map((s) => html`<li>${s}</li>`)}</ul>
<form method="post" action="/interaction/${uid}/confirm"><button type="submit" name="decision" value="allow">Allow</button>
<button class="secondary" type="submit" name="decision" value="deny">Deny</button></form>`,
  );
}

/** The display name of a demo login: `demo-user` → "Demo User". */
function displayName(login: string): string {
  return login
    .split(/[-_.\s]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
}

export async function startOAuthServer(options: OAuthServerOptions): Promise<OAuthServer> {
  const host = options.host ?? '127.0.0.1';
  const title = options.title ?? 'Demo OAuth';
  const extraScopes = options.scopes ?? ['channels:read', 'chat:write'];
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: randomBytes(8).toString('hex') };

  // The issuer needs the port, which a port-0 listen only tells us afterwards.
  const server = createServer();
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${host}:${port}`;

  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      ...(c.clientSecret ? { client_secret: c.clientSecret } : {}),
      redirect_uris: c.redirectUris ?? [],
      grant_types: c.grantTypes ?? ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: (c.grantTypes ?? ['authorization_code']).includes('authorization_code') ? ['code'] : [],
      token_endpoint_auth_method: c.tokenEndpointAuthMethod ?? (c.clientSecret ? 'client_secret_basic' : 'none'),
    })),
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'profile', 'offline_access', ...extraScopes],
    // userinfo (`/me`) answers `name` to a token with the profile scope: integrations' `identify` reads it.
    claims: { openid: ['sub'], profile: ['name'] },
    features: {
      devInteractions: { enabled: false },
      // A client may revoke only its own tokens.
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx: unknown, client: { clientId: string }, token: { clientId: string }) => token.clientId === client.clientId,
      },
      clientCredentials: { enabled: true },
    },
    ttl: {
      // A refreshed token's grant type names the refresh ("authorization_code refresh_token").
      AccessToken: (_ctx: unknown, token: unknown) =>
        ((token as { gty?: string }).gty?.includes('refresh_token') ? options.refreshedAccessTokenTtl : undefined) ?? options.accessTokenTtl ?? 3600,
      ClientCredentials: options.accessTokenTtl ?? 3600,
      RefreshToken: options.refreshTokenTtl ?? 14 * 24 * 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 14 * 24 * 3600,
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id, name: displayName(id) }) }),
    // Every client allowed to refresh gets a refresh token, without requiring `offline_access`.
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: options.rotateRefreshTokens ?? true,
    pkce: { required: () => options.quirks?.pkce !== false },
  });

  const result: OAuthServer = {
    issuer,
    channelsUrl: `${issuer}/api/channels`,
    provider,
    tokenRequests: [],
    revocationRequests: 0,
    grantsRevoked: 0,
    endpointRequests: [],
    close,
  };
  provider.on('grant.success', (ctx: { oidc: { params?: Record<string, unknown>; client?: { clientId: string } } }) => {
    result.tokenRequests.push({ grantType: String(ctx.oidc.params?.grant_type), clientId: ctx.oidc.client?.clientId, ok: true });
  });
  provider.on('grant.error', (ctx: { oidc?: { params?: Record<string, unknown>; client?: { clientId: string } } }, err: { error?: string }) => {
    result.tokenRequests.push({
      grantType: String(ctx.oidc?.params?.grant_type),
      clientId: ctx.oidc?.client?.clientId,
      ok: false,
      error: err.error,
    });
  });
  provider.on('grant.revoked', () => {
    result.grantsRevoked++;
  });
  // Keep the test output readable: errors reach the client as OAuth error responses anyway.
  provider.on('server_error', () => {});

  const providerCallback = provider.callback();
  // Chrome applies form-action to the redirects after a form post too: the consent form's chain
  // ends at the client's redirect URI, so those origins must be allowed as well.
  const formTargets = [...new Set(options.clients.flatMap((c) => c.redirectUris ?? []).map((u) => new URL(u).origin))];
  const interactionCsp = `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${formTargets.join(' ')}; frame-ancestors 'none'; base-uri 'none'`;

  async function handleInteraction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') {
      send(res, 200, 'text/html; charset=utf-8', await interactionPage(details, title), { 'content-security-policy': interactionCsp });
      return;
    }
    const form = await readForm(req);
    if (path.endsWith('/login')) {
      const login = form.get('login')?.trim() || 'demo-user';
      await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
      return;
    }
    if (form.get('decision') !== 'allow') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user denied access' }, { mergeWithLastSubmission: false });
      return;
    }
    const accountId = details.session?.accountId;
    const clientId = details.params.client_id;
    if (!accountId || !clientId) throw new Error('interaction without a session or client');
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId });
    if (!grant) throw new Error('grant not found');
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  async function handleChannels(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(req.headers.authorization ?? '');
    const token = match?.[1];
    const stored = token ? ((await provider.AccessToken.find(token)) ?? (await provider.ClientCredentials.find(token))) : undefined;
    if (!stored || stored.isExpired) {
      send(res, 401, 'application/json', JSON.stringify({ error: 'invalid_token' }), {
        'www-authenticate': 'Bearer error="invalid_token"',
      });
      return;
    }
    send(res, 200, 'application/json', JSON.stringify({ channels: DEMO_CHANNELS, account: stored.accountId ?? null }));
  }

  const quirks = options.quirks;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (quirks) {
      bendRequest(req, res, quirks, result.endpointRequests).then(
        (refused) => refused || serve(req, res),
        (err: unknown) => send(res, 400, 'text/plain; charset=utf-8', (err as Error).message),
      );
      return;
    }
    serve(req, res);
  });

  function serve(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (path === '/token/revocation') result.revocationRequests++;
    let handled: Promise<void> | undefined;
    if (path.startsWith('/interaction/')) handled = handleInteraction(req, res, path);
    else if (path === '/api/channels' && req.method === 'GET') handled = handleChannels(req, res);
    if (!handled) {
      providerCallback(req, res);
      return;
    }
    handled.catch((err: unknown) => {
      if (!res.headersSent) send(res, 400, 'text/plain; charset=utf-8', `This sign-in can't continue: ${(err as Error).message}`);
      else res.end();
    });
  }

  async function close(): Promise<void> {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return result;
}

export interface ConsentOptions {
  /** Who signs in (default `demo-user`). */
  login?: string;
  decision?: 'allow' | 'deny';
  /** Reuse a browser-like session (cookies) across several flows. */
  context?: APIRequestContext;
}

/**
 * Walks the sign-in and consent pages over HTTP (a real cookie-keeping client, no browser) and
 * returns the redirect that leaves the authorization server: the client's callback URL with
 * `code`/`state` or `error`. The callback itself is not requested.
 */
const ENDPOINTS: Record<string, EndpointRecord['endpoint']> = { '/auth': 'authorization', '/token': 'token', '/token/revocation': 'revocation' };

/**
 * Applies the quirks to one request before oidc-provider sees it: strips a tenant path, records
 * the endpoint's parameters, turns comma-separated scopes into oidc-provider's spaces, and bends
 * the token response. True when the request was refused here (as the quirky provider would).
 */
async function bendRequest(req: IncomingMessage, res: ServerResponse, quirks: ProviderQuirks, records: EndpointRecord[]): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://provider');
  let tenant: string | undefined;
  const tenantMatch = quirks.tenantPaths ? /^\/t\/([^/]+)(\/.*)$/.exec(url.pathname) : null;
  if (tenantMatch) {
    tenant = decodeURIComponent(tenantMatch[1]!);
    url.pathname = tenantMatch[2]!;
  }
  const endpoint = ENDPOINTS[url.pathname];
  const authScheme = req.headers.authorization?.split(' ')[0];
  if (endpoint === 'authorization') {
    records.push({ endpoint, params: new URLSearchParams(url.search), ...(tenant ? { tenant } : {}) });
    const scope = url.searchParams.get('scope');
    if (quirks.scopeSeparator === ',' && scope !== null) {
      if (/\s/.test(scope)) {
        send(res, 400, 'text/plain; charset=utf-8', `invalid_scope: scopes are separated by commas here, got "${scope}"`);
        return true;
      }
      url.searchParams.set('scope', scope.split(',').join(' '));
    }
  } else if (endpoint) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    records.push({ endpoint, params: new URLSearchParams(body.toString('utf8')), ...(tenant ? { tenant } : {}), ...(authScheme ? { authScheme } : {}) });
    // oidc-provider reads an already-read body from req.body.
    (req as IncomingMessage & { body?: Buffer }).body = body;
    if (endpoint === 'token') bendTokenResponse(res, quirks);
  }
  req.url = url.pathname + url.search;
  return false;
}

/** Rewrites the token endpoint's JSON as the quirky provider would send it. */
function bendTokenResponse(res: ServerResponse, quirks: ProviderQuirks): void {
  const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  res.end = ((chunk?: unknown) => {
    if (chunk === undefined || typeof chunk === 'function') return end(chunk);
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(String(chunk)) as Record<string, unknown>;
    } catch {
      return end(chunk);
    }
    if (!('access_token' in json)) return end(chunk);
    if (quirks.omitExpiresIn) delete json.expires_in;
    if (quirks.scopeSeparator === ',' && typeof json.scope === 'string') json.scope = json.scope.split(' ').join(',');
    const text = JSON.stringify(json);
    res.setHeader('content-length', Buffer.byteLength(text));
    return end(text);
  }) as typeof res.end;
}

export async function consentOverHttp(authorizationUrl: string, options: ConsentOptions = {}): Promise<URL> {
  const context = options.context ?? (await playwrightRequest.newContext());
  const issuerOrigin = new URL(authorizationUrl).origin;
  try {
    let url = new URL(authorizationUrl);
    let method: 'GET' | 'POST' = 'GET';
    let form: Record<string, string> | undefined;
    for (let hop = 0; hop < 20; hop++) {
      if (url.origin !== issuerOrigin) return url;
      const response = method === 'GET' ? await context.get(url.href, { maxRedirects: 0 }) : await context.post(url.href, { form, maxRedirects: 0 });
      const location = response.headers()['location'];
      if (response.status() >= 300 && response.status() < 400 && location) {
        url = new URL(location, url);
        method = 'GET';
        form = undefined;
        continue;
      }
      if (response.status() !== 200) throw new Error(`authorization server answered ${response.status()}: ${await response.text()}`);
      const body = await response.text();
      const action = /<form method="post" action="([^"]+)"/.exec(body)?.[1];
      if (!action) throw new Error(`no form on the authorization page: ${body.slice(0, 300)}`);
      url = new URL(action, url);
      method = 'POST';
      form = action.endsWith('/login') ? { login: options.login ?? 'demo-user', password: 'x' } : { decision: options.decision ?? 'allow' };
    }
    throw new Error('too many redirects at the authorization server');
  } finally {
    if (!options.context) await context.dispose();
  }
}
