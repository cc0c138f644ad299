// What an instance's code runs with: its config with the secrets decrypted, and the credentials of
// every connection its integration declares (API-key values decrypted; OAuth tokens fresh:
// refreshed near expiry, fetched on first use for client credentials, which have no row until
// then). The one way data sources, the runner and anything later get them.
import type { ConnectionCredentials, Integration } from './sdk/index.js';
import { openApiKey, openInstanceSecrets } from './credentials.js';
import { ConnectionUnavailableError, type OAuth } from './oauth/index.js';
import type { Cipher } from './secrets.js';
import type { ConnectionRecord, InstanceRecord, Store } from './store/types.js';

export interface ResolvedInputs {
  /** Stored config with the secret values merged in. */
  config: Record<string, unknown>;
  /** The secret config values alone (to keep them out of log lines). */
  secrets: Record<string, string>;
  /** Connections that are usable now; one never connected (no row) is absent. */
  connections: Record<string, ConnectionCredentials>;
  /** Every secret config value and credential (API key values, access tokens): what the vendor's code must not echo. */
  secretValues: string[];
}

export interface InstanceInputs {
  /**
   * Resolves the instance's inputs. `connections`: its connection rows, when the caller already read
   * them. Throws ConnectionUnavailableError (with `connection` set, message prefixed with its label)
   * for a connection that is set up but unusable: expired, needs attention, provider down.
   */
  resolve(instance: InstanceRecord, integration: Integration, options?: { connections?: readonly ConnectionRecord[] }): Promise<ResolvedInputs>;
}

export function createInstanceInputs(options: { store: Store; cipher: Cipher; oauth: OAuth }): InstanceInputs {
  const { store, cipher, oauth } = options;
  return {
    async resolve(instance, integration, { connections: given } = {}) {
      const secrets = openInstanceSecrets(cipher, instance);
      const connections: Record<string, ConnectionCredentials> = {};
      const specs = Object.entries(integration.connections);
      const records = specs.some(([, spec]) => spec.kind === 'apiKey') ? (given ?? (await store.vendor.listConnections([instance.id]))) : [];
      const byName = new Map(records.map((r) => [r.name, r]));
      for (const [name, spec] of specs) {
        if (spec.kind === 'apiKey') {
          const record = byName.get(name);
          if (record?.status === 'connected' && record.ciphertext) {
            connections[name] = { kind: 'apiKey', values: openApiKey(cipher, instance.id, name, record.ciphertext) };
          }
          continue;
        }
        // Every OAuth connection asks the token service, whether or not a row exists yet.
        try {
          connections[name] = await oauth.getAccessToken({ customerId: instance.customerId, instanceId: instance.id, connection: name });
        } catch (error) {
          if (!(error instanceof ConnectionUnavailableError)) throw error;
          if (error.reason === 'missing') continue;
          throw new ConnectionUnavailableError(error.reason, `${spec.label}: ${error.message}`, name);
        }
      }
      const secretValues = [
        ...Object.values(secrets),
        ...Object.values(connections).flatMap((c) => (c.kind === 'apiKey' ? Object.values(c.values) : [c.accessToken])),
      ];
      return { config: { ...instance.config, ...secrets }, secrets, connections, secretValues };
    },
  };
}
