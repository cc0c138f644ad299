// The token lifecycle of OAuth connections: stored encrypted (aad binds instance + connection),
// refreshed before expiry under a lock so two server processes never refresh one token twice,
// fetched and cached for client-credentials connections, revoked at the provider on delete.
// No token ever goes into a log line, an error message or an audit event.
import * as oauth from 'oauth4webapi';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { ConnectionStatus } from 'plugboard/protocol';
import type { ConnectionCredentials } from '../sdk/connections.js';
import type { Integration } from '../sdk/integration.js';
import { connectionAad, type StoredTokens } from '../credentials.js';
import { IntegrationIndex } from '../integrations.js';
import type { Logger } from '../logger.js';
import type { Cipher } from '../secrets.js';
import { instanceTag } from '../store/cache.js';
import type { CoreDatabase, ConnectionsTable } from '../store/schema.js';
import type { InstanceRecord, Store } from '../store/types.js';
import type { ConnectionParams } from '../credentials.js';
import { resolveProvider, type OAuthConnectionDefinition, type ResolvedProvider } from './provider.js';
import type { OAuthTables } from './schema.js';

export type OAuthDb = Kysely<CoreDatabase & OAuthTables>;
type Tx = Transaction<CoreDatabase & OAuthTables>;

/** Finds the code an instance runs: its own version's, when the integrations are an IntegrationIndex. */
export type IntegrationLookup = (instance: Pick<InstanceRecord, 'integrationKey' | 'integrationVersion'>) => Integration | undefined;

export function integrationLookup(integrations: ReadonlyMap<string, Integration> | readonly Integration[] | IntegrationLookup): IntegrationLookup {
  if (typeof integrations === 'function') return integrations;
  if (integrations instanceof IntegrationIndex) return (instance) => integrations.of(instance);
  const map = Array.isArray(integrations)
    ? new Map((integrations as readonly Integration[]).map((i) => [i.key, i]))
    : (integrations as ReadonlyMap<string, Integration>);
  return (instance) => map.get(instance.integrationKey);
}

export type OAuthCredentials = Extract<ConnectionCredentials, { kind: 'oauth2' | 'clientCredentials' }>;

export interface ConnectionRef {
  customerId: string;
  instanceId: string;
  connection: string;
}

/**
 * No usable token: `reason` is `not_found` (no such instance/connection for this customer),
 * `not_oauth`, `missing` (never connected), `expired`, `needs_attention` (the provider refused the
 * stored grant; reconnect), `provider_unavailable` (try again later), `misconfigured`.
 * `message` is safe to show a customer.
 */
export class ConnectionUnavailableError extends Error {
  override name = 'ConnectionUnavailableError';
  constructor(
    readonly reason: 'not_found' | 'not_oauth' | 'missing' | 'expired' | 'needs_attention' | 'provider_unavailable' | 'misconfigured',
    message: string,
    /** The connection it is about, when the caller resolved several (instance-inputs.ts). */
    readonly connection?: string,
  ) {
    super(message);
  }
}

// The one AAD convention and token shape for connection ciphertexts (credentials.ts).
export { connectionAad, type StoredTokens };

export function tokensFromResponse(
  response: oauth.TokenEndpointResponse,
  previous: StoredTokens | undefined,
  requestedScopes: string[],
  now: number,
  params: ConnectionParams | undefined = previous?.params,
): StoredTokens {
  return {
    accessToken: response.access_token,
    // A provider that does not rotate refresh tokens omits it on refresh: keep the old one.
    ...((response.refresh_token ?? previous?.refreshToken) ? { refreshToken: response.refresh_token ?? previous?.refreshToken } : {}),
    tokenType: response.token_type,
    // Some providers answer scopes comma-separated (Slack, Shopify, Linear).
    scopes: response.scope ? response.scope.split(/[\s,]+/).filter(Boolean) : (previous?.scopes ?? requestedScopes),
    // No expires_in: a token that does not expire (GitHub OAuth apps, Shopify, Notion...); never refreshed ahead.
    expiresAt: typeof response.expires_in === 'number' ? new Date(now + response.expires_in * 1000).toISOString() : null,
    ...(params && Object.keys(params).length ? { params } : {}),
  };
}

/** What flows, data sources and a connection's `identify` see of stored tokens: never the refresh token or client secret. */
export function toCredentials(kind: OAuthCredentials['kind'], tokens: StoredTokens): OAuthCredentials {
  const tenant = tokens.params?.tenant;
  return {
    kind,
    accessToken: tokens.accessToken,
    tokenType: tokens.tokenType,
    expiresAt: tokens.expiresAt,
    scopes: tokens.scopes,
    // The customer's shop, subdomain or region: a flow needs them to build the API's URLs. Never the client secret.
    ...(tenant ? { tenant } : {}),
  };
}

/** A refresh the provider refused for good (the grant is gone): reconnecting is the only fix. */
function isPermanentRefusal(error: unknown): error is oauth.ResponseBodyError {
  return error instanceof oauth.ResponseBodyError && ['invalid_grant', 'invalid_client', 'unauthorized_client', 'invalid_scope'].includes(error.error);
}

/** Describes a provider failure without echoing anything the provider sent except its error code. */
export function describeProviderError(error: unknown): string {
  if (error instanceof oauth.ResponseBodyError) {
    return `the provider answered ${error.error}${error.error_description ? `: ${error.error_description.slice(0, 200)}` : ''}`;
  }
  if (error instanceof oauth.AuthorizationResponseError) {
    return `the provider answered ${error.error}${error.error_description ? `: ${error.error_description.slice(0, 200)}` : ''}`;
  }
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'the provider did not answer in time';
  return 'the provider could not be reached or sent an invalid answer';
}

export interface TokenServiceOptions {
  store: Store;
  cipher: Cipher;
  integrations: IntegrationLookup;
  logger?: Logger;
  /** Refresh when the access token expires within this margin (default 5 minutes). */
  refreshMarginMs?: number;
  clock?: () => number;
}

type Outcome = { ok: true; tokens: StoredTokens } | { ok: false; error: ConnectionUnavailableError };

export class TokenService {
  private readonly db: OAuthDb;
  private readonly margin: number;
  private readonly now: () => number;
  /** One refresh per connection per process; other processes are held off by the database lock. */
  private readonly inflight = new Map<string, Promise<OAuthCredentials>>();
  /** Refreshes this process made at the provider (for tests and metrics). */
  refreshCount = 0;

  constructor(private readonly options: TokenServiceOptions) {
    this.db = options.store.db.withTables<OAuthTables>();
    this.margin = options.refreshMarginMs ?? 5 * 60_000;
    this.now = options.clock ?? Date.now;
  }

  /** The connection's definition, if the instance is this customer's and the connection is OAuth. */
  async definitionOf(ref: ConnectionRef): Promise<OAuthConnectionDefinition> {
    const instance = await this.options.store.vendor.getInstance(ref.instanceId);
    if (!instance || instance.customerId !== ref.customerId) {
      throw new ConnectionUnavailableError('not_found', 'This integration instance was not found.');
    }
    const connections = this.options.integrations(instance)?.connections;
    const def = connections && Object.hasOwn(connections, ref.connection) ? connections[ref.connection] : undefined;
    if (!def) throw new ConnectionUnavailableError('not_found', `This integration has no connection "${ref.connection}".`);
    if (def.kind === 'apiKey') throw new ConnectionUnavailableError('not_oauth', `Connection "${ref.connection}" does not use OAuth.`);
    return def;
  }

  /**
   * A usable access token for the connection, refreshed first when it expires within the margin.
   * Client-credentials connections get (and cache) a token from the provider on first use.
   * Throws ConnectionUnavailableError.
   */
  async getAccessToken(ref: ConnectionRef): Promise<OAuthCredentials> {
    const def = await this.definitionOf(ref);
    const row = await this.readRow(this.db, ref);
    if (row && this.usable(row)) return toCredentials(def.kind, this.decrypt(ref, row.ciphertext!));
    if (def.kind === 'oauth2') this.assertRefreshable(row);

    const key = `${ref.customerId}\u0000${ref.instanceId}\u0000${ref.connection}`;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.renewLocked(ref, def).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** Encrypts and stores fresh tokens (the callback's code exchange). */
  sealTokens(ref: ConnectionRef, tokens: StoredTokens): string {
    return this.options.cipher.encryptJson(tokens, connectionAad(ref.instanceId, ref.connection));
  }

  /**
   * Revokes the connection's tokens at the provider when it supports revocation (refresh token
   * first: that ends the whole grant at most providers), best effort. Does not delete the row;
   * the caller deletes it after. Returns whether the provider confirmed a revocation.
   */
  async revokeConnection(ref: ConnectionRef): Promise<{ revoked: boolean }> {
    let def: OAuthConnectionDefinition;
    try {
      def = await this.definitionOf(ref);
    } catch {
      return { revoked: false };
    }
    const row = await this.readRow(this.db, ref);
    if (!row?.ciphertext) return { revoked: false };
    let tokens: StoredTokens;
    try {
      tokens = this.decrypt(ref, row.ciphertext);
    } catch {
      return { revoked: false };
    }
    let provider: ResolvedProvider;
    try {
      provider = await resolveProvider(def, tokens.params);
    } catch (error) {
      this.options.logger?.warn({ instanceId: ref.instanceId, connection: ref.connection, reason: (error as Error).message }, 'oauth revocation skipped');
      return { revoked: false };
    }
    if (!provider.as.revocation_endpoint) return { revoked: false };
    let revoked = false;
    const attempts: [string, string][] = [];
    if (tokens.refreshToken) attempts.push([tokens.refreshToken, 'refresh_token']);
    attempts.push([tokens.accessToken, 'access_token']);
    for (const [token, hint] of attempts) {
      try {
        const response = await oauth.revocationRequest(provider.as, provider.client, provider.clientAuth, token, {
          ...provider.http(),
          additionalParameters: { token_type_hint: hint },
        });
        await oauth.processRevocationResponse(response);
        revoked = true;
      } catch (error) {
        this.options.logger?.warn(
          { instanceId: ref.instanceId, connection: ref.connection, tokenType: hint, reason: describeProviderError(error) },
          'oauth revocation failed',
        );
      }
    }
    return { revoked };
  }

  private usable(row: Selectable<ConnectionsTable>): boolean {
    if (row.status !== 'connected' || !row.ciphertext) return false;
    return row.expires_at === null || Date.parse(row.expires_at) - this.now() > this.margin;
  }

  private assertRefreshable(row: Selectable<ConnectionsTable> | undefined): void {
    if (!row?.ciphertext) throw new ConnectionUnavailableError('missing', 'This connection is not connected yet.');
    if (row.status === 'needs_attention') {
      throw new ConnectionUnavailableError('needs_attention', row.error ?? 'This connection needs to be reconnected.');
    }
  }

  private decrypt(ref: ConnectionRef, ciphertext: string): StoredTokens {
    return this.options.cipher.decryptJson<StoredTokens>(ciphertext, connectionAad(ref.instanceId, ref.connection));
  }

  private readRow(db: OAuthDb | Tx, ref: ConnectionRef, options: { forUpdate?: boolean } = {}) {
    const query = db
      .selectFrom('connections')
      .selectAll()
      .where('customer_id', '=', ref.customerId)
      .where('instance_id', '=', ref.instanceId)
      .where('name', '=', ref.connection);
    return (options.forUpdate ? query.forUpdate() : query).executeTakeFirst();
  }

  /**
   * PostgreSQL: one transaction holding a lock on the connection (the row for authorization-code
   * connections, an advisory lock for client credentials, whose row may not exist yet), re-reading
   * after the lock is granted, so a process that waited finds the other's fresh token and does not
   * refresh again. SQLite serves one process, where the in-process single flight suffices; its
   * write is a compare-and-set on `updated_at` so a concurrent reconnect is never overwritten.
   */
  private async renewLocked(ref: ConnectionRef, def: OAuthConnectionDefinition): Promise<OAuthCredentials> {
    // The store keeps the instance's connections in memory (its view shows their status and expiry): drop them.
    const outcome = await this.options.store.cache.write([instanceTag(ref.instanceId)], () => this.renewOnce(ref, def));
    if (!outcome.ok) throw outcome.error;
    return toCredentials(def.kind, outcome.tokens);
  }

  private async renewOnce(ref: ConnectionRef, def: OAuthConnectionDefinition): Promise<Outcome> {
    if (this.options.store.engine === 'postgres') {
      return this.db.transaction().execute(async (tx) => {
        let row: Selectable<ConnectionsTable> | undefined;
        if (def.kind === 'clientCredentials') {
          await sql`select pg_advisory_xact_lock(hashtextextended(${connectionAad(ref.instanceId, ref.connection)}, 0))`.execute(tx);
          row = await this.readRow(tx, ref);
        } else {
          row = await this.readRow(tx, ref, { forUpdate: true });
        }
        return this.renew(tx, ref, def, row);
      });
    }
    return this.renew(this.db, ref, def, await this.readRow(this.db, ref));
  }

  private async renew(db: OAuthDb | Tx, ref: ConnectionRef, def: OAuthConnectionDefinition, row: Selectable<ConnectionsTable> | undefined): Promise<Outcome> {
    // Another process may have renewed while this one waited for the lock.
    if (row && this.usable(row)) return { ok: true, tokens: this.decrypt(ref, row.ciphertext!) };
    if (def.kind === 'oauth2') {
      try {
        this.assertRefreshable(row);
      } catch (error) {
        return { ok: false, error: error as ConnectionUnavailableError };
      }
    }
    const previous = row?.ciphertext ? this.decrypt(ref, row.ciphertext) : undefined;
    if (def.kind === 'oauth2' && !previous?.refreshToken) {
      const message = 'The access expired and the provider gave no refresh token. Reconnect to continue.';
      await this.writeStatus(db, ref, row!, 'expired', message);
      return { ok: false, error: new ConnectionUnavailableError('expired', message) };
    }

    let provider: ResolvedProvider;
    try {
      provider = await resolveProvider(def, previous?.params);
    } catch (error) {
      return { ok: false, error: new ConnectionUnavailableError('misconfigured', (error as Error).message) };
    }
    const startedAt = this.now();
    let response: oauth.TokenEndpointResponse;
    try {
      this.refreshCount++;
      if (def.kind === 'oauth2') {
        const res = await oauth.refreshTokenGrantRequest(provider.as, provider.client, provider.clientAuth, previous!.refreshToken!, {
          ...provider.http(),
          additionalParameters: def.extraTokenParams ?? {},
        });
        response = await oauth.processRefreshTokenResponse(provider.as, provider.client, res);
      } else {
        const parameters: Record<string, string> = def.scopes.length ? { scope: def.scopes.join(' ') } : {};
        const res = await oauth.clientCredentialsGrantRequest(provider.as, provider.client, provider.clientAuth, parameters, provider.http());
        response = await oauth.processClientCredentialsResponse(provider.as, provider.client, res);
      }
    } catch (error) {
      const why = describeProviderError(error);
      this.options.logger?.warn({ instanceId: ref.instanceId, connection: ref.connection, reason: why }, 'oauth token renewal failed');
      if (isPermanentRefusal(error) && row) {
        const message = `The provider refused the stored authorization (${why}). Reconnect to continue.`;
        await this.writeStatus(db, ref, row, 'needs_attention', message);
        await this.options.store.vendor
          .recordAudit({
            customerId: ref.customerId,
            actor: 'system',
            action: 'connection.needs_attention',
            target: `instance:${ref.instanceId}`,
            details: { connection: ref.connection, reason: why },
          })
          .catch(() => {});
        return { ok: false, error: new ConnectionUnavailableError('needs_attention', message) };
      }
      return { ok: false, error: new ConnectionUnavailableError('provider_unavailable', `Could not renew the access: ${why}.`) };
    }

    const tokens = tokensFromResponse(response, previous, def.scopes, startedAt);
    const values = {
      kind: def.kind,
      status: 'connected' as ConnectionStatus,
      ciphertext: this.sealTokens(ref, tokens),
      expires_at: tokens.expiresAt,
      error: null,
      updated_at: new Date(this.now()).toISOString(),
    };
    if (row) {
      await db
        .updateTable('connections')
        .set(values)
        .where('customer_id', '=', ref.customerId)
        .where('instance_id', '=', ref.instanceId)
        .where('name', '=', ref.connection)
        .where('updated_at', '=', row.updated_at)
        .execute();
    } else {
      await db
        .insertInto('connections')
        .values({ instance_id: ref.instanceId, customer_id: ref.customerId, name: ref.connection, ...values })
        .onConflict((oc) => oc.columns(['instance_id', 'name']).doUpdateSet(values))
        .execute();
    }
    await this.announce(db, ref);
    return { ok: true, tokens };
  }

  private async writeStatus(db: OAuthDb | Tx, ref: ConnectionRef, row: Selectable<ConnectionsTable>, status: ConnectionStatus, error: string): Promise<void> {
    await db
      .updateTable('connections')
      .set({ status, error, updated_at: new Date(this.now()).toISOString() })
      .where('customer_id', '=', ref.customerId)
      .where('instance_id', '=', ref.instanceId)
      .where('name', '=', ref.connection)
      .where('updated_at', '=', row.updated_at)
      .execute();
    await this.announce(db, ref);
  }

  /** Tells other processes the connection changed (PostgreSQL: delivered when `db`'s transaction commits); renewLocked drops it here. */
  private announce(db: OAuthDb | Tx, ref: ConnectionRef): Promise<void> {
    return this.options.store.cache.announce(db, [instanceTag(ref.instanceId)]);
  }
}
