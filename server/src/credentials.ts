// Where secret values are sealed and opened. Each ciphertext is bound (AES-GCM AAD) to the row
// it belongs to, so a ciphertext copied onto another instance or connection fails to decrypt.
import type { ConnectionCredentials, Integration } from './sdk/index.js';
import type { Cipher } from './secrets.js';
import type { ConnectionRecord, InstanceRecord } from './store/types.js';

/** AAD of an instance's secret config map. */
export const instanceSecretsAad = (instanceId: string): string => instanceId;

/** AAD of a connection's credentials (API-key values or OAuth tokens). */
export const connectionAad = (instanceId: string, connection: string): string => `${instanceId}/connections/${connection}`;

/** What an OAuth connection's ciphertext holds (written by the OAuth routes). */
export interface StoredOAuthTokens {
  accessToken: string;
  tokenType?: string;
  refreshToken?: string;
  scopes?: string[];
  expiresAt?: string | null;
}

/** The instance's secret config values (empty when none are stored). */
export function openInstanceSecrets(cipher: Cipher, instance: Pick<InstanceRecord, 'id' | 'secrets'>): Record<string, string> {
  if (!instance.secrets) return {};
  return cipher.decryptJson<Record<string, string>>(instance.secrets, instanceSecretsAad(instance.id));
}

export function sealInstanceSecrets(cipher: Cipher, instanceId: string, secrets: Record<string, string>): string | null {
  return Object.keys(secrets).length ? cipher.encryptJson(secrets, instanceSecretsAad(instanceId)) : null;
}

/** Decrypts every connected connection the integration declares, as flows and data sources receive them. */
export function openConnections(
  cipher: Cipher,
  integration: Integration,
  instanceId: string,
  records: readonly ConnectionRecord[],
): Record<string, ConnectionCredentials> {
  const out: Record<string, ConnectionCredentials> = {};
  for (const record of records) {
    const spec = integration.connections[record.name];
    if (!spec || record.status !== 'connected' || !record.ciphertext) continue;
    const aad = connectionAad(instanceId, record.name);
    if (spec.kind === 'apiKey') {
      out[record.name] = { kind: 'apiKey', values: cipher.decryptJson<Record<string, string>>(record.ciphertext, aad) };
    } else {
      const tokens = cipher.decryptJson<StoredOAuthTokens>(record.ciphertext, aad);
      out[record.name] = {
        kind: spec.kind,
        accessToken: tokens.accessToken,
        tokenType: tokens.tokenType ?? 'Bearer',
        expiresAt: tokens.expiresAt ?? record.expiresAt,
        scopes: tokens.scopes ?? [],
      };
    }
  }
  return out;
}
