import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';

export const signingAlgorithms = ['EdDSA', 'ES256'] as const;
export type SigningAlgorithm = (typeof signingAlgorithms)[number];

/** `next`: published, not signing yet; `active`: signs; `retired`: only verifies, until removed. */
export type SigningKeyState = 'next' | 'active' | 'retired';

/** A signing key pair, imported once into node:crypto key objects. */
export interface SigningKey {
  kid: string;
  algorithm: SigningAlgorithm;
  state: SigningKeyState;
  publicJwk: JWK;
  privateKey: KeyObject;
  publicKey: KeyObject;
  createdAt: Date;
  /** When the key starts signing: publication happens before, so verifiers can fetch it first. */
  activatesAt: Date;
  retiredAt: Date | null;
}

/** A key's public facts, as listings show them. */
export function signingKeySummary(key: SigningKey) {
  return {
    kid: key.kid,
    algorithm: key.algorithm,
    state: key.state,
    created_at: key.createdAt.toISOString(),
    activates_at: key.activatesAt.toISOString(),
    retired_at: key.retiredAt?.toISOString() ?? null,
  };
}

/**
 * Generates a key pair for `algorithm` (Ed25519 for EdDSA, P-256 for ES256). The kid is the key's
 * RFC 7638 JWK thumbprint, so it is unique and can be recomputed from the public key.
 */
export async function generateSigningKeyPair(algorithm: SigningAlgorithm): Promise<{ kid: string; publicJwk: JWK; privateKey: KeyObject; publicKey: KeyObject }> {
  const { privateKey, publicKey } =
    algorithm === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return { kid, publicJwk: { ...jwk, kid, alg: algorithm, use: 'sig' }, privateKey, publicKey };
}
