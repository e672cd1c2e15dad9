import { createCipheriv, createDecipheriv, createPrivateKey, type KeyObject, randomBytes } from 'node:crypto';

export interface EncryptedPrivateKey {
  ciphertext: Buffer;
  iv: Buffer;
  authTag: Buffer;
}

/**
 * Encrypts a private key's PKCS#8 DER with AES-256-GCM under the key-encryption key. The kid is
 * the additional authenticated data, so the ciphertext only decrypts for the row it was made for.
 */
export function encryptPrivateKey(keyEncryptionKey: Buffer, kid: string, privateKey: KeyObject): EncryptedPrivateKey {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyEncryptionKey, iv);
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  const ciphertext = Buffer.concat([cipher.update(der), cipher.final()]);
  return { ciphertext, iv, authTag: cipher.getAuthTag() };
}

/** Decrypts what encryptPrivateKey produced; raises when the key-encryption key or kid differ. */
export function decryptPrivateKey(keyEncryptionKey: Buffer, kid: string, encrypted: EncryptedPrivateKey): KeyObject {
  const decipher = createDecipheriv('aes-256-gcm', keyEncryptionKey, encrypted.iv);
  decipher.setAAD(Buffer.from(kid, 'utf8'));
  decipher.setAuthTag(encrypted.authTag);
  const der = Buffer.concat([decipher.update(encrypted.ciphertext), decipher.final()]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}
