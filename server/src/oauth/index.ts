// OAuth connections: the flow (authorize + callback), the token service (refresh under a lock,
// client credentials, revocation) and the migrations they need.
import type { ConnectionChecks } from '../connection-checks.js';
import type { Integration } from '../sdk/integration.js';
import type { Logger } from '../logger.js';
import type { Cipher } from '../secrets.js';
import type { Store } from '../store/types.js';
import { OAuthFlow } from './flow.js';
import { integrationLookup, TokenService, type ConnectionRef, type IntegrationLookup, type OAuthCredentials } from './tokens.js';

export { oauthMigrations } from './migrations.js';
export { OAuthFlow, CallbackRejected, StartRejected, SESSION_TTL_MS, type CallbackOutcome, type StartAuthorizationInput, type StartOutcome } from './flow.js';
export {
  TokenService,
  ConnectionUnavailableError,
  connectionAad,
  integrationLookup,
  type ConnectionRef,
  type IntegrationLookup,
  type OAuthCredentials,
  type StoredTokens,
} from './tokens.js';
export { clearDiscoveryCache } from './provider.js';
export type { OAuthTables, OAuthSessionsTable } from './schema.js';

export interface OAuthOptions {
  /** Opened with `migrations: oauthMigrations`. */
  store: Store;
  cipher: Cipher;
  integrations: ReadonlyMap<string, Integration> | readonly Integration[] | IntegrationLookup;
  /** `PUBLIC_URL` (the redirect URI is `${publicUrl}/oauth/callback`). */
  publicUrl: string;
  /** `PLUGBOARD_ALLOWED_ORIGINS`: who may start a flow and receive its result. */
  allowedOrigins: readonly string[];
  logger?: Logger;
  /** Refresh margin before expiry (default 5 min). */
  refreshMarginMs?: number;
  /** Lifetime of a pending authorization (default 10 min). */
  sessionTtlMs?: number;
  clock?: () => number;
  /** Names the account after a sign-in (the connection's `identify`, run under its time limit). Absent: accounts stay unnamed. */
  identify?: ConnectionChecks['identify'];
}

export interface OAuth {
  flow: OAuthFlow;
  tokens: TokenService;
  /**
   * A usable access token for an OAuth connection (refreshed when it expires within the margin;
   * fetched for client credentials). Throws ConnectionUnavailableError. Never log the result.
   */
  getAccessToken(ref: ConnectionRef): Promise<OAuthCredentials>;
  /** Best-effort revocation at the provider; call before deleting the connection or instance. */
  revokeConnection(ref: ConnectionRef): Promise<{ revoked: boolean }>;
  /** Revokes every OAuth connection of an instance (before the instance is deleted). */
  revokeInstance(ref: Omit<ConnectionRef, 'connection'>): Promise<void>;
}

/** The OAuth service: built once per server or runner (services.ts), so the routes, data sources and the runner share its in-process refresh single-flight. */
export function createOAuth(options: OAuthOptions): OAuth {
  const integrations = integrationLookup(options.integrations);
  const tokens = new TokenService({ ...options, integrations });
  const flow = new OAuthFlow({ ...options, integrations, tokens });
  return {
    flow,
    tokens,
    getAccessToken: (ref) => tokens.getAccessToken(ref),
    revokeConnection: (ref) => tokens.revokeConnection(ref),
    async revokeInstance(ref) {
      const instance = await options.store.vendor.getInstance(ref.instanceId);
      if (!instance || instance.customerId !== ref.customerId) return;
      const customer = await options.store.vendor.getCustomer(ref.customerId);
      if (!customer) return;
      const connections = await options.store.forCustomer(customer).listConnections(ref.instanceId);
      await Promise.all(connections.filter((c) => c.kind !== 'apiKey' && c.ciphertext).map((c) => tokens.revokeConnection({ ...ref, connection: c.name })));
    },
  };
}
