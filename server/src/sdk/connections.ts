import type * as z from 'zod';
import { field } from './fields.js';
import { HTML_PATTERN_HINT, placeholdersOf, validHtmlPattern, type ProviderPreset, type TenantField } from './providers.js';
import type { RateLimit } from './rate-limit.js';

/** A value the vendor provides from its environment, read when first needed (not at import). */
export type Setting = string | (() => string | undefined);

/**
 * Where the vendor API's proxy (`/api/v1/vendor/instances/:id/connections/:name/proxy/*`) sends a
 * request made with this connection: the provider's API base URL, to which the proxied path is
 * appended. Without it the connection can't be proxied.
 */
export interface OAuthProxy {
  baseUrl: Setting;
}

/** An API-key connection's proxy also says which headers carry the key, made from the connection's values. */
export interface ApiKeyProxy extends OAuthProxy {
  /** E.g. `(values) => ({ Authorization: `Bearer ${values.apiKey}` })`. They replace any the caller sent. */
  headers: (values: Record<string, string>) => Record<string, string>;
}

/** What a connection's `test` and `identify` receive: the credentials, and a time limit as a signal. */
export interface ConnectionCheckInput<Credentials> {
  credentials: Credentials;
  /** Aborted when the time limit (PLUGBOARD_DATA_SOURCE_TIMEOUT_MS) passes or the customer goes away. */
  signal: AbortSignal;
  fetch: typeof fetch;
}

/**
 * What a `test` answers: the credentials work, or they don't, with a message for the customer
 * shown on `field` (default: the connection's first secret field, else its first field).
 */
export type ConnectionTestResult = { ok: true } | { ok: false; message: string; field?: string };

/** The display name of the account the credentials belong to ("Acme Ltd", "jane@acme.com"); empty: unknown. */
export type Identify<Credentials> = (input: ConnectionCheckInput<Credentials>) => Promise<string | null | undefined>;

export interface ApiKeyConnection {
  kind: 'apiKey';
  label: string;
  description?: string;
  /** The provider's budget for one connected account: every ctx.fetch through it waits its turn (shared by all runners). */
  rateLimit?: RateLimit[];
  /** Field builders from `field`, typically `field.secret(...)` and `field.text(...)`. */
  fields: z.ZodRawShape;
  proxy?: ApiKeyProxy;
  /**
   * Runs when the customer saves the credentials, before anything is stored: a refusal is shown on
   * the field and nothing is saved. A throw or the time limit answers 502 (nothing saved either).
   */
  test?: (input: ConnectionCheckInput<ApiKeyCredentials>) => Promise<ConnectionTestResult>;
  /** Names the account after a save ("Connected as …"). A failure is logged; the connection still counts. */
  identify?: Identify<ApiKeyCredentials>;
}

export interface OAuth2Connection {
  kind: 'oauth2';
  label: string;
  description?: string;
  /** The provider's budget for one connected account: every ctx.fetch through it waits its turn (shared by all runners). */
  rateLimit?: RateLimit[];
  /** Either an issuer (discovered via /.well-known) or explicit endpoints. */
  issuer?: string;
  authorizationUrl?: string;
  tokenUrl?: string;
  revocationUrl?: string;
  scopes: string[];
  clientId: Setting;
  clientSecret?: Setting;
  /** `none` for providers that refuse or ignore PKCE: no code challenge is sent. */
  pkce: 'S256' | 'none';
  /** How scopes are joined in the authorization request (Slack, Shopify, Linear: ','). */
  scopeSeparator: ' ' | ',';
  extraAuthorizationParams?: Record<string, string>;
  /** Sent with the code exchange and every refresh. */
  extraTokenParams?: Record<string, string>;
  tokenAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** The proxy sends the access token as `Authorization: Bearer …`, refreshed when near expiry. */
  proxy?: OAuthProxy;
  /**
   * Fields the customer fills in before connecting (a shop name, a subdomain, a region); each
   * value replaces `{name}` in the URLs above. Kept with the connection for refresh and revoke.
   */
  tenant?: Record<string, TenantField>;
  /**
   * Lets the customer's admin connect with their own OAuth app: the wizard asks for a client id
   * and secret (the secret is stored encrypted and never shown again); authorize, refresh and
   * revoke then use them instead of `clientId`/`clientSecret`.
   */
  clientOverride?: boolean;
  /** The preset this connection was made from (`providers.<name>`), for docs and logs. */
  provider?: string;
  /** Where the provider's API lives, from the preset (may contain tenant placeholders). */
  apiBaseUrl?: string;
  /** Names the account after the sign-in, e.g. from the provider's userinfo. A failure is logged; the connection still counts. */
  identify?: Identify<OAuthTokenCredentials>;
}

export interface ClientCredentialsConnection {
  kind: 'clientCredentials';
  label: string;
  description?: string;
  /** The provider's budget for one connected account: every ctx.fetch through it waits its turn (shared by all runners). */
  rateLimit?: RateLimit[];
  issuer?: string;
  tokenUrl?: string;
  scopes: string[];
  clientId: Setting;
  clientSecret: Setting;
  tokenAuthMethod: 'client_secret_basic' | 'client_secret_post';
  proxy?: OAuthProxy;
}

export type ConnectionDefinition = ApiKeyConnection | OAuth2Connection | ClientCredentialsConnection;

/** Credentials the customer types in (API keys, account ids). Stored encrypted, never shown again. */
export function apiKey(o: Omit<ApiKeyConnection, 'kind'>): ApiKeyConnection {
  return { kind: 'apiKey', ...o };
}

type OAuth2Options = Omit<OAuth2Connection, 'kind' | 'pkce' | 'tokenAuthMethod' | 'scopeSeparator'> &
  Partial<Pick<OAuth2Connection, 'pkce' | 'tokenAuthMethod' | 'scopeSeparator'>>;

/** What an integration still says when it starts from a provider preset. */
export type OAuth2PresetOptions = Pick<OAuth2Connection, 'scopes' | 'clientId'> &
  Partial<Pick<OAuth2Connection, 'label' | 'description' | 'clientSecret' | 'clientOverride' | 'extraAuthorizationParams' | 'extraTokenParams' | 'proxy'>>;

/**
 * OAuth 2 authorization code (with PKCE unless the provider can't); Plugboard's server is the client.
 * Either the endpoints yourself, or a preset: `oauth2(providers.hubspot, { scopes, clientId, clientSecret })`.
 */
export function oauth2(preset: ProviderPreset, o: OAuth2PresetOptions): OAuth2Connection;
export function oauth2(o: OAuth2Options): OAuth2Connection;
export function oauth2(first: OAuth2Options | ProviderPreset, presetOptions?: OAuth2PresetOptions): OAuth2Connection {
  const o: OAuth2Options = presetOptions ? fromPreset(first as ProviderPreset, presetOptions) : (first as OAuth2Options);
  if (!o.issuer && !(o.authorizationUrl && o.tokenUrl)) {
    throw new Error(`oauth2 "${o.label}": give an issuer, or both authorizationUrl and tokenUrl`);
  }
  const connection: OAuth2Connection = { kind: 'oauth2', pkce: 'S256', tokenAuthMethod: 'client_secret_basic', scopeSeparator: ' ', ...o };
  for (const [name, t] of Object.entries(connection.tenant ?? {})) {
    if (!validHtmlPattern(t.pattern)) throw new Error(`oauth2 "${o.label}": the pattern of tenant field "${name}" ${HTML_PATTERN_HINT}`);
  }
  for (const url of [connection.issuer, connection.authorizationUrl, connection.tokenUrl, connection.revocationUrl]) {
    for (const name of placeholdersOf(url ?? '')) {
      if (!connection.tenant || !Object.hasOwn(connection.tenant, name)) throw new Error(`oauth2 "${o.label}": {${name}} in a URL is not a tenant field`);
    }
  }
  return connection;
}

function fromPreset(preset: ProviderPreset, o: OAuth2PresetOptions): OAuth2Options {
  return {
    label: preset.name,
    provider: preset.name,
    authorizationUrl: preset.authorizationUrl,
    tokenUrl: preset.tokenUrl,
    revocationUrl: preset.revocationUrl,
    pkce: preset.pkce ? 'S256' : 'none',
    scopeSeparator: preset.scopeSeparator,
    tokenAuthMethod: preset.tokenAuthMethod,
    tenant: preset.tenant,
    apiBaseUrl: preset.apiBaseUrl,
    ...o,
    extraAuthorizationParams: { ...preset.extraAuthorizationParams, ...o.extraAuthorizationParams },
    extraTokenParams: { ...preset.extraTokenParams, ...o.extraTokenParams },
  };
}

/** OAuth 2 client credentials for service-to-service APIs: no customer consent step. */
export function clientCredentials(
  o: Omit<ClientCredentialsConnection, 'kind' | 'tokenAuthMethod'> & Partial<Pick<ClientCredentialsConnection, 'tokenAuthMethod'>>,
): ClientCredentialsConnection {
  if (!o.issuer && !o.tokenUrl) throw new Error(`clientCredentials "${o.label}": give an issuer or a tokenUrl`);
  return { kind: 'clientCredentials', tokenAuthMethod: 'client_secret_basic', ...o };
}

/**
 * The fields a customer fills in before an OAuth connection, as field builders (the same ones
 * config pages use, so the wizard renders them and the server validates them alike). Empty when
 * the connection needs nothing.
 */
export function connectionParamFields(def: OAuth2Connection): z.ZodRawShape {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, t] of Object.entries(def.tenant ?? {})) {
    shape[name] = field.text({
      label: t.label,
      help: t.description,
      placeholder: t.placeholder ?? t.default,
      pattern: new RegExp(t.pattern),
      required: t.default === undefined,
    });
  }
  if (def.clientOverride) {
    const provider = def.provider ?? def.label;
    shape.clientId = field.text({
      label: 'Client ID',
      help: `Of your own OAuth app at ${provider}. Leave empty to use ours.`,
      required: false,
      maxLength: 500,
    });
    shape.clientSecret = field.secret({ label: 'Client secret', help: 'Stored encrypted; never shown again.', required: false });
  }
  return shape;
}

export function readSetting(s: Setting | undefined): string | undefined {
  return typeof s === 'function' ? s() : s;
}

export interface ApiKeyCredentials {
  kind: 'apiKey';
  values: Record<string, string>;
}
export interface OAuthTokenCredentials {
  kind: 'oauth2' | 'clientCredentials';
  accessToken: string;
  tokenType: string;
  expiresAt: string | null;
  scopes: string[];
  /** The customer's tenant values (`shop`, `subdomain`, `region`…) for connections whose provider URLs have them. */
  tenant?: Record<string, string>;
}

/** What a data source or flow receives for each connection, at call time. */
export type ConnectionCredentials = ApiKeyCredentials | OAuthTokenCredentials;
