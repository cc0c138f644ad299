// Secret values at rest: AES-256-GCM from node:crypto, a random 12-byte IV per value, and the
// key id stored beside the ciphertext so keys can rotate without re-encrypting everything at once.
//
// Ciphertext format: `v1.<kid>.<iv b64url>.<ciphertext+tag b64url>`.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/** Key id used when `PLUGBOARD_ENCRYPTION_KEY` holds one bare key. */
export const DEFAULT_KEY_ID = 'k1';

export interface EncryptionKey {
  kid: string;
  key: Buffer;
}

/** Raised for a bad key, or a ciphertext that is malformed, tampered with, or bound to other data. */
export class SecretsError extends Error {
  override name = 'SecretsError';
}

export interface Cipher {
  /** Key id new values are encrypted with. */
  readonly currentKeyId: string;
  /** `aad` binds the ciphertext to something (e.g. an instance id): decrypting with other aad fails. */
  encrypt(plain: string, aad?: string): string;
  decrypt(ciphertext: string, aad?: string): string;
  encryptJson(value: unknown, aad?: string): string;
  decryptJson<T = unknown>(ciphertext: string, aad?: string): T;
  /** True when the value was encrypted with a key other than the current one. */
  needsRotation(ciphertext: string): boolean;
}

function decodeKey(text: string, label: string): Buffer {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw new SecretsError(`${label}: not base64 or base64url text`);
  }
  const key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== KEY_BYTES) {
    throw new SecretsError(`${label}: must decode to ${KEY_BYTES} bytes (AES-256), got ${key.length}; generate one with \`openssl rand -base64 32\``);
  }
  return key;
}

/**
 * Reads `PLUGBOARD_ENCRYPTION_KEY`: one base64/base64url 32-byte key, or `kid:key,kid2:key2`
 * for rotation (the first encrypts; every listed key decrypts).
 */
export function parseEncryptionKeys(text: string): EncryptionKey[] {
  const parts = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  if (parts.length === 0) throw new SecretsError('PLUGBOARD_ENCRYPTION_KEY is empty');
  const keys: EncryptionKey[] = [];
  for (const [index, part] of parts.entries()) {
    const colon = part.indexOf(':');
    if (colon === -1) {
      if (parts.length > 1) {
        throw new SecretsError(`PLUGBOARD_ENCRYPTION_KEY: key #${index + 1} needs a key id when several keys are listed (kid:base64)`);
      }
      keys.push({ kid: DEFAULT_KEY_ID, key: decodeKey(part, 'PLUGBOARD_ENCRYPTION_KEY') });
      continue;
    }
    const kid = part.slice(0, colon).trim();
    if (!KID_PATTERN.test(kid)) {
      throw new SecretsError(`PLUGBOARD_ENCRYPTION_KEY: key id "${kid}" must be 1-32 characters of A-Z a-z 0-9 _ -`);
    }
    if (keys.some((k) => k.kid === kid)) throw new SecretsError(`PLUGBOARD_ENCRYPTION_KEY: key id "${kid}" is listed twice`);
    keys.push({ kid, key: decodeKey(part.slice(colon + 1), `PLUGBOARD_ENCRYPTION_KEY key "${kid}"`) });
  }
  return keys;
}

/** A fresh random key as base64url text, for demo mode (which says it made one). */
export function generateEncryptionKey(): string {
  return randomBytes(KEY_BYTES).toString('base64url');
}

/** `keys` may be the parsed list or the raw `PLUGBOARD_ENCRYPTION_KEY` text. */
export function createCipher(keys: EncryptionKey[] | string): Cipher {
  const list = typeof keys === 'string' ? parseEncryptionKeys(keys) : keys;
  if (list.length === 0) throw new SecretsError('at least one encryption key is needed');
  for (const { kid, key } of list) {
    if (!KID_PATTERN.test(kid)) throw new SecretsError(`key id "${kid}" must be 1-32 characters of A-Z a-z 0-9 _ -`);
    if (key.length !== KEY_BYTES) throw new SecretsError(`key "${kid}" must be ${KEY_BYTES} bytes, got ${key.length}`);
  }
  const current = list[0]!;
  const byKid = new Map(list.map((k) => [k.kid, k.key]));

  function parse(ciphertext: string): { kid: string; iv: Buffer; body: Buffer; tag: Buffer } {
    const parts = ciphertext.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new SecretsError('malformed ciphertext');
    const [, kid, ivText, bodyText] = parts as [string, string, string, string];
    const iv = Buffer.from(ivText, 'base64url');
    const sealed = Buffer.from(bodyText, 'base64url');
    if (iv.length !== IV_BYTES || sealed.length < TAG_BYTES) throw new SecretsError('malformed ciphertext');
    return { kid, iv, body: sealed.subarray(0, sealed.length - TAG_BYTES), tag: sealed.subarray(sealed.length - TAG_BYTES) };
  }

  const cipher: Cipher = {
    currentKeyId: current.kid,
    encrypt(plain, aad) {
      const iv = randomBytes(IV_BYTES);
      const gcm = createCipheriv('aes-256-gcm', current.key, iv, { authTagLength: TAG_BYTES });
      if (aad !== undefined) gcm.setAAD(Buffer.from(aad, 'utf8'));
      const body = Buffer.concat([gcm.update(plain, 'utf8'), gcm.final(), gcm.getAuthTag()]);
      return `${VERSION}.${current.kid}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    decrypt(ciphertext, aad) {
      const { kid, iv, body, tag } = parse(ciphertext);
      const key = byKid.get(kid);
      if (!key) throw new SecretsError(`ciphertext was made with key "${kid}", which is not configured`);
      const gcm = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      gcm.setAuthTag(tag);
      if (aad !== undefined) gcm.setAAD(Buffer.from(aad, 'utf8'));
      try {
        return Buffer.concat([gcm.update(body), gcm.final()]).toString('utf8');
      } catch {
        // GCM tag mismatch: the value was changed, or belongs to other aad (another row).
        throw new SecretsError('ciphertext failed authentication (tampered, or bound to other data)');
      }
    },
    encryptJson(value, aad) {
      const json = JSON.stringify(value);
      if (json === undefined) throw new SecretsError('encryptJson: value is not JSON-serialisable');
      return cipher.encrypt(json, aad);
    },
    decryptJson<T>(ciphertext: string, aad?: string): T {
      return JSON.parse(cipher.decrypt(ciphertext, aad)) as T;
    },
    needsRotation(ciphertext) {
      return parse(ciphertext).kid !== current.kid;
    },
  };
  return cipher;
}
