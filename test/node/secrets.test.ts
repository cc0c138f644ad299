import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { createCipher, generateEncryptionKey, parseEncryptionKeys, SecretsError } from '../../server/src/secrets.js';

const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64url');

describe('secrets', () => {
  test('round-trips text and JSON, with a fresh IV each time', () => {
    const cipher = createCipher(keyA);
    const ct1 = cipher.encrypt('sk_live_123');
    const ct2 = cipher.encrypt('sk_live_123');
    assert.notEqual(ct1, ct2);
    assert.match(ct1, /^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    assert.ok(!ct1.includes('sk_live_123'));
    assert.equal(cipher.decrypt(ct1), 'sk_live_123');
    const value = { apiKey: 'abc', nested: { n: 1, list: ['é', '🔑'] } };
    assert.deepEqual(cipher.decryptJson(cipher.encryptJson(value, 'inst_1'), 'inst_1'), value);
  });

  test('detects a changed byte anywhere in the ciphertext', () => {
    const cipher = createCipher(keyA);
    const ct = cipher.encrypt('hello world');
    const [v, kid, iv, body] = ct.split('.') as [string, string, string, string];
    const flip = (text: string, at: number) => {
      const bytes = Buffer.from(text, 'base64url');
      bytes[at] = bytes[at]! ^ 1;
      return bytes.toString('base64url');
    };
    for (const tampered of [
      [v, kid, flip(iv, 0), body].join('.'),
      [v, kid, iv, flip(body, 0)].join('.'),
      [v, kid, iv, flip(body, Buffer.from(body, 'base64url').length - 1)].join('.'),
    ]) {
      assert.throws(() => cipher.decrypt(tampered), SecretsError);
    }
    assert.throws(() => cipher.decrypt('v1.k1.abc'), /malformed/);
    assert.throws(() => cipher.decrypt('not a ciphertext'), /malformed/);
  });

  test('aad binds a value to its row: other or missing aad fails', () => {
    const cipher = createCipher(keyA);
    const ct = cipher.encrypt('token', 'instance:a/conn:crm');
    assert.equal(cipher.decrypt(ct, 'instance:a/conn:crm'), 'token');
    assert.throws(() => cipher.decrypt(ct, 'instance:b/conn:crm'), /failed authentication/);
    assert.throws(() => cipher.decrypt(ct), /failed authentication/);
    assert.throws(() => cipher.decrypt(cipher.encrypt('token'), 'instance:a/conn:crm'), /failed authentication/);
  });

  test('rotation: the first key encrypts, older keys still decrypt', () => {
    const old = createCipher(`old:${keyA}`);
    const oldCt = old.encrypt('legacy');
    const rotated = createCipher(`new:${keyB}, old:${keyA}`);
    assert.equal(rotated.currentKeyId, 'new');
    assert.equal(rotated.decrypt(oldCt), 'legacy');
    assert.equal(rotated.needsRotation(oldCt), true);
    const newCt = rotated.encrypt('fresh');
    assert.match(newCt, /^v1\.new\./);
    assert.equal(rotated.needsRotation(newCt), false);
    // A value made with a key that is no longer configured names the key.
    assert.throws(() => old.decrypt(newCt), /key "new", which is not configured/);
    // Same kid, different key material: authentication fails rather than returning garbage.
    assert.throws(() => createCipher(`old:${keyB}`).decrypt(oldCt), /failed authentication/);
  });

  test('bad keys are refused with a message naming the problem', () => {
    assert.throws(() => parseEncryptionKeys(randomBytes(16).toString('base64')), /32 bytes \(AES-256\), got 16/);
    assert.throws(() => parseEncryptionKeys(randomBytes(33).toString('base64')), /got 33/);
    assert.throws(() => parseEncryptionKeys(''), /empty/);
    assert.throws(() => parseEncryptionKeys('not base64!!'), /not base64/);
    assert.throws(() => parseEncryptionKeys(`a:${keyA},${keyB}`), /needs a key id/);
    assert.throws(() => parseEncryptionKeys(`a:${keyA},a:${keyB}`), /listed twice/);
    assert.throws(() => parseEncryptionKeys(`bad.kid:${keyA}`), /key id "bad.kid"/);
    assert.throws(() => parseEncryptionKeys(`b:${randomBytes(31).toString('base64')}`), /key "b": must decode to 32 bytes/);
  });

  test('generateEncryptionKey makes a usable, distinct 32-byte key', () => {
    const a = generateEncryptionKey();
    assert.notEqual(a, generateEncryptionKey());
    const [parsed] = parseEncryptionKeys(a);
    assert.equal(parsed?.key.length, 32);
    const cipher = createCipher(a);
    assert.equal(cipher.decrypt(cipher.encrypt('x')), 'x');
  });
});
