import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * scrypt cost: N = 2^14, r = 8, p = 1 needs 16 MiB and tens of milliseconds per hash, which makes
 * guessing a stolen hash slow. The parameters are stored with each hash, so they can be raised
 * later without breaking existing secrets.
 */
const cost = { N: 16_384, r: 8, p: 1 };
const saltBytes = 16;
const derivedKeyBytes = 32;
const hashPattern = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

function deriveKey(secret: string, salt: Buffer, parameters: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, derivedKeyBytes, { ...parameters, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** A new client secret: 32 random bytes in base64url, which is only ever shown once. */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Hashes a secret with scrypt and a fresh salt, as `scrypt$N$r$p$salt$hash` (base64url parts). */
export async function hashClientSecret(secret: string): Promise<string> {
  const salt = randomBytes(saltBytes);
  const key = await deriveKey(secret, salt, cost);
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/**
 * Checks a presented secret against a stored hash by deriving it again and comparing the two
 * derived keys in constant time. A malformed stored hash never matches.
 */
export async function verifyClientSecret(secret: string, storedHash: string): Promise<boolean> {
  const match = hashPattern.exec(storedHash);
  if (!match) return false;
  const [, n, r, p, salt, expectedText] = match;
  const expected = Buffer.from(expectedText, 'base64url');
  const actual = await deriveKey(secret, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

let decoyHash: Promise<string> | undefined;

/**
 * A hash of a random secret, checked when the client id is unknown so that an unknown id costs as
 * long as a wrong secret and the answer time does not reveal which client ids exist.
 */
export function decoyClientSecretHash(): Promise<string> {
  decoyHash ??= hashClientSecret(generateClientSecret());
  return decoyHash;
}
