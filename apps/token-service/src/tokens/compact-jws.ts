import { type KeyObject, sign, verify } from 'node:crypto';
import { promisify } from 'node:util';

import { type SigningAlgorithm, signingAlgorithms } from '../keys/signing-key.js';

/** A compact JWS (RFC 7515 §7.1) that failed a structural or signature check, named by `kind`. */
export class CompactJwsError extends Error {
  override readonly name = 'CompactJwsError';

  constructor(
    readonly kind: 'malformed' | 'algorithm_not_allowed' | 'invalid_signature',
    message: string,
  ) {
    super(message);
  }
}

/** The protected header fields this service reads. Any other member is kept but ignored. */
export interface JwsHeader {
  alg: string;
  typ?: string;
  kid?: string;
  [member: string]: unknown;
}

/** A verification key and the only algorithm it may be used with. */
export interface JwsVerificationKey {
  algorithm: SigningAlgorithm;
  publicKey: KeyObject;
}

const base64urlPattern = /^[A-Za-z0-9_-]*$/;

// With a callback, node:crypto signs and verifies in libuv's thread pool, off the event loop, so
// a busy instance uses more than one core. bench/jws-signing.ts compares this with the other ways.
const signInThreadPool = promisify(sign);
const verifyInThreadPool = promisify(verify);

/** ES256 signatures are R || S, 32 bytes each (RFC 7518 §3.4), not DER. */
const es256SignatureBytes = 64;
const ed25519SignatureBytes = 64;

function encodeSegment(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function signatureOptions(algorithm: SigningAlgorithm, key: KeyObject) {
  return algorithm === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
}

/** Returns the digest node:crypto needs for `algorithm`, or null for Ed25519, which hashes internally. */
function digestOf(algorithm: SigningAlgorithm): string | null {
  return algorithm === 'ES256' ? 'sha256' : null;
}

/**
 * Signs `payload` as a compact JWS with node:crypto. The output is a standard JWS that any JOSE
 * library verifies. Only the signing skips jose's per-call key checks, because the key ring
 * imported and checked the key once.
 */
export async function signCompactJws(header: JwsHeader & { alg: SigningAlgorithm }, payload: object, privateKey: KeyObject): Promise<string> {
  const signingInput = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  const signature = await signInThreadPool(digestOf(header.alg), Buffer.from(signingInput, 'ascii'), signatureOptions(header.alg, privateKey));
  return `${signingInput}.${signature.toString('base64url')}`;
}

/**
 * Verifies a compact JWS with node:crypto and returns its protected header and payload bytes.
 *
 * The checks are those that jose's compactVerify (6.x) applies to this service's tokens. The token
 * has three base64url segments and a JSON object header. Its `alg` is on the allow-list, so `none`
 * and HMAC never pass. It has no `crit` member, because this service supports no extension
 * (RFC 7515 §4.1.11). Its signature verifies with the key `resolveKey` returns, and that key must
 * be made for the header's `alg`, so a token cannot switch algorithms on a known key.
 */
export async function verifyCompactJws(
  token: string,
  resolveKey: (header: JwsHeader) => Promise<JwsVerificationKey | undefined>,
): Promise<{ header: JwsHeader; payload: Buffer }> {
  const segments = token.split('.');
  // A base64 text whose length leaves a remainder of 1 modulo 4 encodes no whole byte sequence.
  if (segments.length !== 3 || !segments.every((segment) => base64urlPattern.test(segment) && segment.length % 4 !== 1)) {
    throw new CompactJwsError('malformed', 'the token is not a compact JWS of three base64url segments');
  }
  const [encodedHeader, encodedPayload, encodedSignature] = segments;

  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8'));
  } catch {
    throw new CompactJwsError('malformed', 'the JWS protected header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new CompactJwsError('malformed', 'the JWS protected header is not a JSON object');
  }
  const { alg, crit } = header as Record<string, unknown>;
  if (typeof alg !== 'string' || !(signingAlgorithms as readonly string[]).includes(alg)) {
    throw new CompactJwsError('algorithm_not_allowed', `the token's algorithm is not one of the allowed ${signingAlgorithms.join(', ')}`);
  }
  if (crit !== undefined) {
    throw new CompactJwsError('malformed', 'the JWS header names critical extensions, which this service does not support');
  }

  const jwsHeader = header as JwsHeader;
  const key = await resolveKey(jwsHeader);
  if (!key || key.algorithm !== alg) {
    throw new CompactJwsError('invalid_signature', 'the token names no known signing key for its algorithm');
  }

  const signature = Buffer.from(encodedSignature, 'base64url');
  const expectedBytes = key.algorithm === 'ES256' ? es256SignatureBytes : ed25519SignatureBytes;
  const signingInput = Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii');
  const valid =
    signature.length === expectedBytes &&
    (await verifyInThreadPool(digestOf(key.algorithm), signingInput, signatureOptions(key.algorithm, key.publicKey), signature));
  if (!valid) throw new CompactJwsError('invalid_signature', 'the token signature is invalid');
  return { header: jwsHeader, payload: Buffer.from(encodedPayload, 'base64url') };
}
