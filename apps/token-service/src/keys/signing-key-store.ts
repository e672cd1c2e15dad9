import { createPublicKey } from 'node:crypto';
import type { JWK } from 'jose';
import type { DataSource, EntityManager } from 'typeorm';

import { TokenServiceError } from '../common/token-service-error.js';
import { decryptPrivateKey, encryptPrivateKey } from './private-key-encryption.js';
import { generateSigningKeyPair, type SigningAlgorithm, type SigningKey, type SigningKeyState } from './signing-key.js';

interface SigningKeyRow {
  kid: string;
  algorithm: SigningAlgorithm;
  state: SigningKeyState;
  public_jwk: JWK;
  private_key_ciphertext: Buffer;
  private_key_iv: Buffer;
  private_key_auth_tag: Buffer;
  created_at: Date;
  activates_at: Date;
  retired_at: Date | null;
}

/** Raised at load when a stored private key does not decrypt, which means the wrong key-encryption key. */
export class SigningKeyDecryptionError extends Error {
  override readonly name = 'SigningKeyDecryptionError';

  constructor(readonly kid: string) {
    super(`signing key ${kid} cannot be decrypted with TOKEN_KEY_ENCRYPTION_KEY; set the key that encrypted it`);
  }
}

/** Serializes key creation and promotion across instances (an arbitrary constant lock id). */
const signingKeysLockId = 7_310_422_001;

/**
 * The `signing_keys` table. Private keys are stored encrypted with AES-256-GCM and decrypted
 * only when loaded.
 */
export class SigningKeyStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keyEncryptionKey: Buffer,
  ) {}

  /** Loads every key, oldest first, decrypted and imported. */
  async load(): Promise<SigningKey[]> {
    const rows: SigningKeyRow[] = await this.dataSource.query('SELECT * FROM signing_keys ORDER BY activates_at, created_at');
    return rows.map((row) => {
      let privateKey;
      try {
        privateKey = decryptPrivateKey(this.keyEncryptionKey, row.kid, {
          ciphertext: row.private_key_ciphertext,
          iv: row.private_key_iv,
          authTag: row.private_key_auth_tag,
        });
      } catch {
        throw new SigningKeyDecryptionError(row.kid);
      }
      return {
        kid: row.kid,
        algorithm: row.algorithm,
        state: row.state,
        publicJwk: row.public_jwk,
        privateKey,
        publicKey: createPublicKey(privateKey),
        createdAt: row.created_at,
        activatesAt: row.activates_at,
        retiredAt: row.retired_at,
      };
    });
  }

  /**
   * Creates an active key when none is active: at the first start, or when the keys command added
   * a `next` key before any service started. Concurrent starts create only one.
   */
  async ensureActiveKey(algorithm: SigningAlgorithm, now: Date): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [signingKeysLockId]);
      const [{ count }]: Array<{ count: number }> = await manager.query(`SELECT count(*)::int AS count FROM signing_keys WHERE state = 'active'`);
      if (count === 0) await this.insert(manager, algorithm, 'active', now, now);
    });
  }

  /** Adds a key in state `next` that starts signing at `activatesAt`; returns its kid. */
  async addNextKey(algorithm: SigningAlgorithm, now: Date, activatesAt: Date): Promise<string> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [signingKeysLockId]);
      return this.insert(manager, algorithm, 'next', now, activatesAt);
    });
  }

  /**
   * Makes the newest `next` key whose activation time has come the active one, and retires the
   * key it replaces along with any older due `next` key. Returns whether anything changed.
   */
  async promoteDueKeys(now: Date): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [signingKeysLockId]);
      const [newest]: Array<{ kid: string }> = await manager.query(
        `SELECT kid FROM signing_keys WHERE state = 'next' AND activates_at <= $1 ORDER BY activates_at DESC, created_at DESC LIMIT 1`,
        [now],
      );
      if (newest === undefined) return false;

      await manager.query(
        `UPDATE signing_keys SET state = 'retired', retired_at = $2
          WHERE kid <> $1 AND (state = 'active' OR (state = 'next' AND activates_at <= $2))`,
        [newest.kid, now],
      );
      await manager.query(`UPDATE signing_keys SET state = 'active' WHERE kid = $1`, [newest.kid]);
      return true;
    });
  }

  /** Deletes a retired key; tokens it signed stop verifying. Active and next keys cannot be removed. */
  async remove(kid: string): Promise<void> {
    const rows: Array<{ state: SigningKeyState }> = await this.dataSource.query('SELECT state FROM signing_keys WHERE kid = $1', [kid]);
    if (rows.length === 0) throw new TokenServiceError('key.not_found', `signing key ${kid} was not found`, 'kid');
    if (rows[0].state !== 'retired') {
      throw new TokenServiceError('key.in_use', `signing key ${kid} is ${rows[0].state}; only a retired key can be removed`, 'kid');
    }
    await this.dataSource.query(`DELETE FROM signing_keys WHERE kid = $1 AND state = 'retired'`, [kid]);
  }

  private async insert(manager: EntityManager, algorithm: SigningAlgorithm, state: SigningKeyState, now: Date, activatesAt: Date): Promise<string> {
    const pair = await generateSigningKeyPair(algorithm);
    const encrypted = encryptPrivateKey(this.keyEncryptionKey, pair.kid, pair.privateKey);
    await manager.query(
      `INSERT INTO signing_keys (kid, algorithm, state, public_jwk, private_key_ciphertext, private_key_iv, private_key_auth_tag, created_at, activates_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [pair.kid, algorithm, state, pair.publicJwk, encrypted.ciphertext, encrypted.iv, encrypted.authTag, now, activatesAt],
    );
    return pair.kid;
  }
}
