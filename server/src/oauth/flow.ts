// The authorization-code flow with PKCE: `authorize` records a single-use state (10 minutes,
// bound to customer, instance and connection, with the caller's origin and an encrypted PKCE
// verifier) and answers with Plugboard's own start page; `start` (that page) checks the browser
// came from the recorded origin, binds the flow to it with a random cookie value whose hash is
// stored, and sends it to the provider; `callback` consumes the state atomically, refuses a browser
// without the start cookie, exchanges the code and stores the tokens. Every OAuth step is oauth4webapi's.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import type { AuthorizeResponse, OAuthCallbackMessage } from 'plugboard/protocol';
import type { ConnectionChecks } from '../connection-checks.js';
import type { Logger } from '../logger.js';
import { ConflictError, ForbiddenError, InvalidFieldsError, NotFoundError } from '../errors.js';
import type { Cipher } from '../secrets.js';
import type { Customer, Store } from '../store/types.js';
import { parseConnectionParams, resolveProvider, ProviderConfigError, type ConnectionParams, type ResolvedProvider } from './provider.js';
import { describeProviderError, toCredentials, tokensFromResponse, type OAuthDb, type IntegrationLookup, type TokenService } from './tokens.js';
import type { OAuthTables } from './schema.js';
import type { OAuth2Connection } from '../sdk/connections.js';

export const SESSION_TTL_MS = 10 * 60_000;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** Authorization parameters an integration's `extraAuthorizationParams` may not override. */
const RESERVED_PARAMS = new Set(['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method']);

export interface StartAuthorizationInput {
  customer: Customer;
  /** `user:<sub>`, for the audit event. */
  actor: string;
  instanceId: string;
  connection: string;
  /** The caller's `Origin` header. */
  origin: string | undefined;
  mode?: 'popup' | 'redirect';
  returnUrl?: string;
  /** The connection's fields (tenant parts of the URLs, the customer's own client), when it has any. */
  fields?: Readonly<Record<string, unknown>>;
}

/** Why the callback could not finish, before any origin is known: shown as a page, nothing stored. */
export class CallbackRejected extends Error {
  override name = 'CallbackRejected';
  constructor(
    readonly reason: 'missing_state' | 'unknown_state' | 'expired_state' | 'used_state' | 'other_browser',
    message: string,
  ) {
    super(message);
  }
}

/** Why the start page did not send the browser on to the provider: shown as a page, nothing changed. */
export class StartRejected extends Error {
  override name = 'StartRejected';
  constructor(
    readonly reason: 'missing_state' | 'unknown_state' | 'expired_state' | 'used_state' | 'wrong_origin',
    message: string,
  ) {
    super(message);
  }
}

/** What the start page does: set the binding cookie, then go to the provider. */
export interface StartOutcome {
  /** The provider's authorization URL. */
  providerUrl: string;
  /** The connection's label, for "Connecting to …". */
  providerLabel: string;
  /** The cookie that binds the flow to this browser; only its hash is stored. */
  cookie: { name: string; value: string; maxAgeSeconds: number };
}

/** The callback's outcome for a known, fresh state: what to tell the opener (or the return URL). */
export interface CallbackOutcome {
  message: OAuthCallbackMessage;
  /** The recorded origin: the only `targetOrigin` the page may post to. */
  origin: string;
  mode: 'popup' | 'redirect';
  returnUrl: string | null;
}

export interface OAuthFlowOptions {
  store: Store;
  cipher: Cipher;
  integrations: IntegrationLookup;
  tokens: TokenService;
  /** `PUBLIC_URL`; the redirect URI is `${publicUrl}/oauth/callback`. */
  publicUrl: string;
  allowedOrigins: readonly string[];
  logger?: Logger;
  sessionTtlMs?: number;
  clock?: () => number;
  /** Names the connected account (see OAuthOptions.identify). */
  identify?: ConnectionChecks['identify'];
}

export class OAuthFlow {
  private readonly db: OAuthDb;
  private readonly now: () => number;
  readonly redirectUri: string;
  readonly startUri: string;
  /**
   * `__Host-` cookies need Secure, which browsers take only from a secure context: https, or
   * http on a loopback host (Chromium 156 takes them on http://127.0.0.1 and http://localhost; the
   * e2e test checks it). Plain http on any other host gets a plain cookie without Secure.
   */
  readonly secureCookie: boolean;

  constructor(private readonly options: OAuthFlowOptions) {
    this.db = options.store.db.withTables<OAuthTables>();
    this.now = options.clock ?? Date.now;
    const base = options.publicUrl.replace(/\/+$/, '');
    this.redirectUri = `${base}/oauth/callback`;
    this.startUri = `${base}/oauth/start`;
    const url = new URL(base);
    this.secureCookie = url.protocol === 'https:' || LOOPBACK_HOSTS.has(url.hostname);
  }

  /** The binding cookie's name (before any `__Host-` prefix): one per flow, so two flows in one browser don't clash. */
  cookieName(state: string): string {
    return `plugboard_oauth_${createHash('sha256').update(state).digest('hex').slice(0, 16)}`;
  }

  /** Checks the caller, records the session and returns the provider's authorization URL. */
  async authorize(input: StartAuthorizationInput): Promise<AuthorizeResponse> {
    const origin = input.origin;
    if (!origin || !this.options.allowedOrigins.includes(origin)) {
      throw new ForbiddenError(
        origin
          ? `Origin ${origin} is not allowed to start OAuth connections (PLUGBOARD_ALLOWED_ORIGINS).`
          : 'An Origin header is required to start an OAuth connection.',
      );
    }
    const mode = input.mode ?? 'popup';
    let returnUrl: string | null = null;
    if (mode === 'redirect') {
      if (!input.returnUrl) {
        throw new InvalidFieldsError([{ path: 'returnUrl', message: 'Required in redirect mode' }], 'Redirect mode needs a return URL.');
      }
      let parsed: URL;
      try {
        parsed = new URL(input.returnUrl);
      } catch {
        throw new InvalidFieldsError([{ path: 'returnUrl', message: 'Must be an absolute URL' }], 'The return URL is not a URL.');
      }
      if (!this.options.allowedOrigins.includes(parsed.origin)) {
        throw new InvalidFieldsError(
          [{ path: 'returnUrl', message: `Origin ${parsed.origin} is not in PLUGBOARD_ALLOWED_ORIGINS` }],
          'The return URL must be on an allowed origin.',
        );
      }
      returnUrl = parsed.href;
    }

    const customerStore = this.options.store.forCustomer(input.customer);
    const instance = await customerStore.getInstance(input.instanceId);
    if (!instance) throw new NotFoundError('This integration instance');
    const connections = this.options.integrations(instance)?.connections;
    const def = connections && Object.hasOwn(connections, input.connection) ? connections[input.connection] : undefined;
    if (!def) throw new NotFoundError(`Connection "${input.connection}"`);
    if (def.kind !== 'oauth2') {
      throw new ConflictError(`Connection "${input.connection}" does not use the OAuth authorization flow.`);
    }
    const params = parseConnectionParams(def, input.fields);
    const provider = await this.provider(def, params);
    if (!provider.as.authorization_endpoint) throw new ProviderConfigError(def.label, 'the provider has no authorization endpoint');

    const state = oauth.generateRandomState();
    const verifier = oauth.generateRandomCodeVerifier();
    const now = this.now();
    const expiresAt = new Date(now + (this.options.sessionTtlMs ?? SESSION_TTL_MS)).toISOString();
    const url = new URL(provider.as.authorization_endpoint);
    for (const [name, value] of Object.entries(def.extraAuthorizationParams ?? {})) {
      if (!RESERVED_PARAMS.has(name)) url.searchParams.set(name, value);
    }
    url.searchParams.set('client_id', provider.client.client_id);
    url.searchParams.set('redirect_uri', this.redirectUri);
    url.searchParams.set('response_type', 'code');
    if (def.scopes.length) url.searchParams.set('scope', def.scopes.join(def.scopeSeparator));
    url.searchParams.set('state', state);
    if (def.pkce === 'S256') {
      url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
      url.searchParams.set('code_challenge_method', 'S256');
    }
    await this.db
      .insertInto('oauth_sessions')
      .values({
        state,
        customer_id: input.customer.id,
        instance_id: instance.id,
        connection: input.connection,
        verifier: this.options.cipher.encrypt(verifier, sessionAad(state)),
        origin,
        mode,
        return_url: returnUrl,
        actor: input.actor,
        created_at: new Date(now).toISOString(),
        expires_at: expiresAt,
        used_at: null,
        provider_url: url.href,
        provider_label: def.provider ?? def.label,
        browser_hash: null,
        // May hold the customer's client secret: sealed like the verifier.
        params: Object.keys(params).length ? this.options.cipher.encryptJson(params, sessionAad(state)) : null,
      })
      .execute();
    // Sweep sessions that ended more than a day ago; cheap with the expiry index.
    await this.db
      .deleteFrom('oauth_sessions')
      .where('expires_at', '<', new Date(now - 86_400_000).toISOString())
      .execute();

    // The browser goes to Plugboard's start page first, never straight to the provider.
    const start = new URL(this.startUri);
    start.searchParams.set('state', state);
    return { authorizationUrl: start.href, state, expiresAt, callbackOrigin: new URL(this.redirectUri).origin };
  }

  /**
   * The start page, opened by the element (popup or redirect). Only a navigation from the
   * recorded origin may start it (the Referer's origin: a page can't forge it, and a link opened
   * from a mail or another site doesn't carry it), and only once; it returns the cookie value
   * that the callback will require from this browser.
   */
  async start(state: string | undefined, referrer: string | undefined): Promise<StartOutcome> {
    if (!state) throw new StartRejected('missing_state', 'This sign-in link is incomplete (no state). Start the connection again from the integration.');
    const nowMs = this.now();
    const nowIso = new Date(nowMs).toISOString();
    const session = await this.db
      .selectFrom('oauth_sessions')
      .select(['origin', 'expires_at', 'used_at', 'browser_hash'])
      .where('state', '=', state)
      .executeTakeFirst();
    if (!session) throw new StartRejected('unknown_state', 'This sign-in is not known here. Start the connection again from the integration.');
    if (session.used_at || session.browser_hash) {
      throw new StartRejected('used_state', 'This sign-in link was already opened. Start the connection again from the integration.');
    }
    if (session.expires_at <= nowIso)
      throw new StartRejected('expired_state', 'This sign-in took too long and expired. Start the connection again from the integration.');
    if (originOf(referrer) !== session.origin) {
      throw new StartRejected(
        'wrong_origin',
        'This sign-in can only be started from the app that asked for it. Start the connection again from the integration.',
      );
    }
    const value = randomBytes(32).toString('base64url');
    // Single use under concurrent opens: only one UPDATE binds a browser.
    const bound = await this.db
      .updateTable('oauth_sessions')
      .set({ browser_hash: browserHash(value) })
      .where('state', '=', state)
      .where('browser_hash', 'is', null)
      .where('used_at', 'is', null)
      .where('expires_at', '>', nowIso)
      .returning(['provider_url', 'provider_label', 'expires_at'])
      .executeTakeFirst();
    if (!bound?.provider_url) throw new StartRejected('used_state', 'This sign-in link was already opened. Start the connection again from the integration.');
    const maxAgeSeconds = Math.max(1, Math.floor((Date.parse(bound.expires_at) - nowMs) / 1000));
    return {
      providerUrl: bound.provider_url,
      providerLabel: bound.provider_label ?? 'the provider',
      cookie: { name: this.cookieName(state), value, maxAgeSeconds },
    };
  }

  /**
   * Finishes the flow for the callback URL the provider redirected to, with the start cookie's
   * value this browser sent (`undefined` when it sent none). Throws CallbackRejected when the state
   * is missing, unknown, expired or used, or the browser is not the one that opened the start
   * page (nothing is stored then; the state is spent).
   */
  async callback(callbackUrl: URL, browserKey: string | undefined): Promise<CallbackOutcome> {
    const state = callbackUrl.searchParams.get('state');
    if (!state) throw new CallbackRejected('missing_state', 'This sign-in link is incomplete (no state). Start the connection again from the integration.');
    const nowIso = new Date(this.now()).toISOString();
    // Single use even under concurrent callbacks: only one UPDATE can flip used_at from null.
    const session = await this.db
      .updateTable('oauth_sessions')
      .set({ used_at: nowIso })
      .where('state', '=', state)
      .where('used_at', 'is', null)
      .where('expires_at', '>', nowIso)
      .returningAll()
      .executeTakeFirst();
    if (!session) {
      const known = await this.db.selectFrom('oauth_sessions').select(['used_at', 'expires_at']).where('state', '=', state).executeTakeFirst();
      if (!known) throw new CallbackRejected('unknown_state', 'This sign-in is not known here. Start the connection again from the integration.');
      if (known.used_at) throw new CallbackRejected('used_state', 'This sign-in was already completed. Start the connection again if you need to reconnect.');
      throw new CallbackRejected('expired_state', 'This sign-in took too long and expired. Start the connection again from the integration.');
    }
    if (!sameBrowser(browserKey, session.browser_hash)) {
      // Someone else's browser finished a flow this customer's admin started: refuse, and say so in the audit trail.
      this.options.logger?.warn({ instanceId: session.instance_id, connection: session.connection, reason: 'other_browser' }, 'oauth callback refused');
      await this.options.store.vendor.recordAudit({
        customerId: session.customer_id,
        actor: session.actor,
        action: 'connection.oauth_refused',
        target: `instance:${session.instance_id}`,
        details: { connection: session.connection, reason: browserKey ? 'other_browser' : 'no_start_cookie' },
      });
      throw new CallbackRejected(
        'other_browser',
        'This sign-in was not started in this browser, so it was not connected. Start the connection again from the integration, in the same browser.',
      );
    }

    const base = { type: 'plugboard:oauth' as const, state, instanceId: session.instance_id, connection: session.connection };
    const outcome = (ok: boolean, error?: string): CallbackOutcome => ({
      message: { ...base, ok, ...(error ? { error } : {}) },
      origin: session.origin,
      mode: session.mode === 'redirect' ? 'redirect' : 'popup',
      returnUrl: session.return_url,
    });
    const ref = { customerId: session.customer_id, instanceId: session.instance_id, connection: session.connection };
    const audit = async (action: string, details: Record<string, unknown>) =>
      this.options.store.vendor.recordAudit({
        customerId: session.customer_id,
        actor: session.actor,
        action,
        target: `instance:${session.instance_id}`,
        details: { connection: session.connection, ...details },
      });

    let def: OAuth2Connection;
    let provider: ResolvedProvider;
    const connectionParams: ConnectionParams = session.params ? this.options.cipher.decryptJson<ConnectionParams>(session.params, sessionAad(state)) : {};
    try {
      const found = await this.options.tokens.definitionOf(ref);
      if (found.kind !== 'oauth2') throw new Error('not an authorization-code connection');
      def = found;
      provider = await this.provider(def, connectionParams);
    } catch (error) {
      return outcome(false, `This connection can no longer be completed: ${(error as Error).message}`);
    }

    let params: URLSearchParams;
    try {
      params = oauth.validateAuthResponse(provider.as, provider.client, callbackUrl, state);
    } catch (error) {
      const denied = error instanceof oauth.AuthorizationResponseError && error.error === 'access_denied';
      const why = denied ? 'Access was denied at the provider.' : `The provider did not authorize the connection: ${describeProviderError(error)}.`;
      await audit('connection.oauth_failed', { reason: error instanceof oauth.AuthorizationResponseError ? error.error : 'invalid_response' });
      return outcome(false, why);
    }

    const verifier = this.options.cipher.decrypt(session.verifier, sessionAad(state));
    const startedAt = this.now();
    let response: oauth.TokenEndpointResponse;
    try {
      const res = await oauth.authorizationCodeGrantRequest(
        provider.as,
        provider.client,
        provider.clientAuth,
        params,
        this.redirectUri,
        def.pkce === 'S256' ? verifier : oauth.nopkce,
        { ...provider.http(), additionalParameters: def.extraTokenParams ?? {} },
      );
      response = await oauth.processAuthorizationCodeResponse(provider.as, provider.client, res);
    } catch (error) {
      const why = describeProviderError(error);
      this.options.logger?.warn({ instanceId: ref.instanceId, connection: ref.connection, reason: why }, 'oauth code exchange failed');
      await audit('connection.oauth_failed', { reason: error instanceof oauth.ResponseBodyError ? error.error : 'exchange_failed' });
      return outcome(false, `The provider did not accept the sign-in: ${why}.`);
    }

    const tokens = tokensFromResponse(response, undefined, def.scopes, startedAt, connectionParams);
    // Who signed in, for "Connected as …". Its failure is logged there and leaves the account unnamed.
    const accountName =
      (await this.options.identify?.(def, toCredentials('oauth2', tokens), { instanceId: ref.instanceId, connection: ref.connection })) ?? null;
    const customer = await this.options.store.vendor.getCustomer(session.customer_id);
    const stored =
      customer &&
      (await this.options.store.forCustomer(customer).putConnection(session.instance_id, session.connection, {
        kind: 'oauth2',
        status: 'connected',
        ciphertext: this.options.tokens.sealTokens(ref, tokens),
        expiresAt: tokens.expiresAt,
        error: null,
        accountName,
        audit: {
          actor: session.actor,
          action: 'connection.connected',
          target: `instance:${session.instance_id}`,
          details: { connection: session.connection, scopes: tokens.scopes, refreshable: Boolean(tokens.refreshToken) },
        },
      }));
    if (!stored) return outcome(false, 'The integration instance was deleted while you were signing in.');
    return outcome(true);
  }

  private async provider(def: OAuth2Connection, params: ConnectionParams): Promise<ResolvedProvider> {
    try {
      return await resolveProvider(def, params);
    } catch (error) {
      // The details are for the operator; problem.ts tells the caller only that the provider is unusable.
      if (error instanceof ProviderConfigError) this.options.logger?.error({ reason: error.message }, 'oauth provider misconfigured');
      throw error;
    }
  }
}

function browserHash(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Constant-time comparison of the cookie's hash with the stored one. */
function sameBrowser(browserKey: string | undefined, storedHash: string | null): boolean {
  if (!browserKey || !storedHash) return false;
  const presented = Buffer.from(browserHash(browserKey), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

function sessionAad(state: string): string {
  return `oauth_session:${state}`;
}
