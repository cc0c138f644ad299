// The OAuth provider behind a connection definition, as oauth4webapi needs it: authorization
// server metadata (discovered from `issuer`, cached, or built from explicit endpoints), the client,
// and how the client authenticates at the token endpoint.
import * as oauth from 'oauth4webapi';
import * as z from 'zod';
import type { ConnectionParams } from '../credentials.js';
import { InvalidFieldsError } from '../errors.js';
import { fieldErrors } from '../field-errors.js';
import { fillTemplate } from '../sdk/providers.js';
import { connectionParamFields, readSetting, type ClientCredentialsConnection, type OAuth2Connection } from '../sdk/connections.js';

/** The options every oauth4webapi request takes here; custom fetch is never set. */
export interface RequestOptions {
  signal: AbortSignal;
  [oauth.allowInsecureRequests]?: boolean;
}

export type OAuthConnectionDefinition = OAuth2Connection | ClientCredentialsConnection;

export interface ResolvedProvider {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  /** Options every oauth4webapi request takes: a timeout, and plain http only on loopback. */
  http(): RequestOptions;
}

/** The connection's provider settings are unusable (missing client id, discovery failed). */
export class ProviderConfigError extends Error {
  override name = 'ProviderConfigError';
  constructor(
    /** The connection's label: what a customer may be told. The message is for the operator's log. */
    readonly label: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`"${label}": ${message}`, options);
  }
}

const REQUEST_TIMEOUT_MS = 10_000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Plain http is allowed only for loopback providers (the demo and tests); anything else must be https. */
function insecureAllowed(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'http:' && LOOPBACK.has(u.hostname);
}

function httpOptions(anyUrl: string): ResolvedProvider['http'] {
  const insecure = insecureAllowed(anyUrl);
  return () => ({
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    ...(insecure ? { [oauth.allowInsecureRequests]: true } : {}),
  });
}

const discovered = new Map<string, Promise<oauth.AuthorizationServer>>();

async function discover(issuer: string): Promise<oauth.AuthorizationServer> {
  let pending = discovered.get(issuer);
  if (!pending) {
    const url = new URL(issuer);
    const options = httpOptions(issuer)();
    pending = (async () => {
      // OIDC discovery first (most providers), RFC 8414 metadata otherwise.
      try {
        return await oauth.processDiscoveryResponse(url, await oauth.discoveryRequest(url, { ...options, algorithm: 'oidc' }));
      } catch {
        return oauth.processDiscoveryResponse(url, await oauth.discoveryRequest(url, { ...httpOptions(issuer)(), algorithm: 'oauth2' }));
      }
    })();
    discovered.set(issuer, pending);
    // A failed discovery is retried on the next use, not cached.
    pending.catch(() => discovered.delete(issuer));
  }
  return pending;
}

/** Forgets discovered metadata (tests restart providers on new ports). */
export function clearDiscoveryCache(): void {
  discovered.clear();
}

/** Validates what the customer sent for the connection's fields; throws InvalidFieldsError naming each field. */
export function parseConnectionParams(def: OAuth2Connection, raw: Readonly<Record<string, unknown>> | undefined): ConnectionParams {
  const shape = connectionParamFields(def);
  // Empty strings are "not given": a form sends every field.
  const given = Object.fromEntries(Object.entries(raw ?? {}).filter(([, v]) => v !== '' && v !== null && v !== undefined));
  const parsed = z.strictObject(shape).safeParse(given);
  if (!parsed.success) {
    throw new InvalidFieldsError(fieldErrors(parsed.error.issues, 'fields', 2), 'Check the connection details.');
  }
  const values = parsed.data as Record<string, string | undefined>;
  const params: ConnectionParams = {};
  for (const [name, t] of Object.entries(def.tenant ?? {})) {
    (params.tenant ??= {})[name] = values[name] ?? t.default!;
  }
  if (def.clientOverride && values.clientId) {
    if (def.tokenAuthMethod !== 'none' && !values.clientSecret) {
      throw new InvalidFieldsError([{ path: 'fields.clientSecret', message: 'Enter the client secret of your OAuth app' }], 'Check the connection details.');
    }
    params.clientId = values.clientId;
    if (values.clientSecret) params.clientSecret = values.clientSecret;
  }
  return params;
}

/** The URL with the connection's tenant values in place of its `{placeholders}`. */
function tenantUrl(url: string | undefined, params: ConnectionParams): string | undefined {
  return url === undefined ? undefined : fillTemplate(url, params.tenant ?? {});
}

export type { ConnectionParams };

export async function resolveProvider(def: OAuthConnectionDefinition, params: ConnectionParams = {}): Promise<ResolvedProvider> {
  // The customer's own client only where the integration allows it.
  const own = def.kind === 'oauth2' && def.clientOverride && params.clientId ? params : undefined;
  const clientId = own ? own.clientId : readSetting(def.clientId);
  if (!clientId) throw new ProviderConfigError(def.label, 'the client id is not set');
  const secret = own ? own.clientSecret : readSetting(def.clientSecret);
  if (def.kind === 'oauth2' && def.tenant) {
    def = {
      ...def,
      issuer: tenantUrl(def.issuer, params),
      authorizationUrl: tenantUrl(def.authorizationUrl, params),
      tokenUrl: tenantUrl(def.tokenUrl, params),
      revocationUrl: tenantUrl(def.revocationUrl, params),
    };
  }
  let as: oauth.AuthorizationServer;
  if (def.issuer) {
    try {
      as = await discover(def.issuer);
    } catch (error) {
      throw new ProviderConfigError(def.label, `discovery at ${def.issuer} failed: ${(error as Error).message}`, { cause: error });
    }
  } else {
    const tokenUrl = def.tokenUrl!;
    as = {
      issuer: new URL(tokenUrl).origin,
      token_endpoint: tokenUrl,
      ...(def.kind === 'oauth2' ? { authorization_endpoint: def.authorizationUrl, revocation_endpoint: def.revocationUrl } : {}),
    };
  }
  // An explicit revocation URL wins over discovery.
  if (def.kind === 'oauth2' && def.revocationUrl) as = { ...as, revocation_endpoint: def.revocationUrl };

  let clientAuth: oauth.ClientAuth;
  if (def.tokenAuthMethod === 'none') clientAuth = oauth.None();
  else {
    if (!secret) throw new ProviderConfigError(def.label, 'the client secret is not set');
    clientAuth = def.tokenAuthMethod === 'client_secret_post' ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret);
  }
  return { as, client: { client_id: clientId }, clientAuth, http: httpOptions(as.token_endpoint ?? def.issuer ?? '') };
}
