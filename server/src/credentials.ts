// Where secret values are sealed and opened. Each ciphertext is bound (AES-GCM AAD) to the row
// it belongs to, so a ciphertext copied onto another instance or connection fails to decrypt.
import type { Cipher } from './secrets.js';
import type { InstanceRecord } from './store/types.js';

/** AAD of an instance's secret config map. */
export const instanceSecretsAad = (instanceId: string): string => instanceId;

/** AAD of a connection's credentials (API-key values or OAuth tokens). */
export const connectionAad = (instanceId: string, connection: string): string => `${instanceId}/connections/${connection}`;

/**
 * What the customer gave for one OAuth connection before connecting: the tenant parts of the
 * provider's URLs, and (with `clientOverride`) their own OAuth client. Sealed with the tokens.
 */
export interface ConnectionParams {
  tenant?: Record<string, string>;
  clientId?: string;
  clientSecret?: string;
}

/** What an OAuth connection's ciphertext holds (sealed by the token service, oauth/tokens.ts). */
export interface StoredTokens {
  accessToken: string;
  refreshToken?: string;
  tokenType: string;
  scopes: string[];
  expiresAt: string | null;
  /** What the customer gave before connecting (tenant values, their own client): needed to refresh and revoke. */
  params?: ConnectionParams;
}

/** The instance's secret config values (empty when none are stored). */
export function openInstanceSecrets(cipher: Cipher, instance: Pick<InstanceRecord, 'id' | 'secrets'>): Record<string, string> {
  if (!instance.secrets) return {};
  return cipher.decryptJson<Record<string, string>>(instance.secrets, instanceSecretsAad(instance.id));
}

export function sealInstanceSecrets(cipher: Cipher, instanceId: string, secrets: Record<string, string>): string | null {
  return Object.keys(secrets).length ? cipher.encryptJson(secrets, instanceSecretsAad(instanceId)) : null;
}

/** An API-key connection's values, sealed for its row. */
export function sealApiKey(cipher: Cipher, instanceId: string, connection: string, values: Record<string, unknown>): string {
  return cipher.encryptJson(values, connectionAad(instanceId, connection));
}

export function openApiKey(cipher: Cipher, instanceId: string, connection: string, ciphertext: string): Record<string, string> {
  return cipher.decryptJson<Record<string, string>>(ciphertext, connectionAad(instanceId, connection));
}
