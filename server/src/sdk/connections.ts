import type * as z from 'zod';

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

export interface ApiKeyConnection {
  kind: 'apiKey';
  label: string;
  description?: string;
  /** Field builders from `field`, typically `field.secret(...)` and `field.text(...)`. */
  fields: z.ZodRawShape;
  proxy?: ApiKeyProxy;
}

export interface OAuth2Connection {
  kind: 'oauth2';
  label: string;
  description?: string;
  /** Either an issuer (discovered via /.well-known) or explicit endpoints. */
  issuer?: string;
  authorizationUrl?: string;
  tokenUrl?: string;
  revocationUrl?: string;
  scopes: string[];
  clientId: Setting;
  clientSecret?: Setting;
  pkce: 'S256';
  extraAuthorizationParams?: Record<string, string>;
  tokenAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** The proxy sends the access token as `Authorization: Bearer …`, refreshed when near expiry. */
  proxy?: OAuthProxy;
}

export interface ClientCredentialsConnection {
  kind: 'clientCredentials';
  label: string;
  description?: string;
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

/** OAuth 2 authorization code with PKCE; Plugboard's server is the client. */
export function oauth2(
  o: Omit<OAuth2Connection, 'kind' | 'pkce' | 'tokenAuthMethod'> & Partial<Pick<OAuth2Connection, 'pkce' | 'tokenAuthMethod'>>,
): OAuth2Connection {
  if (!o.issuer && !(o.authorizationUrl && o.tokenUrl)) {
    throw new Error(`oauth2 "${o.label}": give an issuer, or both authorizationUrl and tokenUrl`);
  }
  return { kind: 'oauth2', pkce: 'S256', tokenAuthMethod: 'client_secret_basic', ...o };
}

/** OAuth 2 client credentials for service-to-service APIs: no customer consent step. */
export function clientCredentials(
  o: Omit<ClientCredentialsConnection, 'kind' | 'tokenAuthMethod'> & Partial<Pick<ClientCredentialsConnection, 'tokenAuthMethod'>>,
): ClientCredentialsConnection {
  if (!o.issuer && !o.tokenUrl) throw new Error(`clientCredentials "${o.label}": give an issuer or a tokenUrl`);
  return { kind: 'clientCredentials', tokenAuthMethod: 'client_secret_basic', ...o };
}

export function readSetting(s: Setting | undefined): string | undefined {
  return typeof s === 'function' ? s() : s;
}

/** What a data source or flow receives for each connection, at call time. */
export type ConnectionCredentials =
  | { kind: 'apiKey'; values: Record<string, string> }
  | { kind: 'oauth2' | 'clientCredentials'; accessToken: string; tokenType: string; expiresAt: string | null; scopes: string[] };
