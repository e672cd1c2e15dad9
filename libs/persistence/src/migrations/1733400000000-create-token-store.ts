import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The token service's tables: registered OAuth clients, signing keys with their private halves
 * encrypted, revoked access-token ids until those tokens expire, and the last use of each grant.
 */
export class CreateTokenStore1733400000000 implements MigrationInterface {
  name = 'CreateTokenStore1733400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // A confidential client has a secret hash (scrypt, see the token service's client-secret.ts);
    // a public client has none. NULL offline lifetimes mean the grant has no such limit.
    await queryRunner.query(`
      CREATE TABLE oauth_clients (
        client_id text PRIMARY KEY,
        name text NOT NULL,
        client_type text NOT NULL CHECK (client_type IN ('confidential', 'public')),
        secret_hash text,
        allowed_scopes text[] NOT NULL,
        access_token_lifetime_seconds integer NOT NULL CHECK (access_token_lifetime_seconds > 0),
        offline_idle_timeout_seconds integer CHECK (offline_idle_timeout_seconds > 0),
        offline_max_lifetime_seconds integer CHECK (offline_max_lifetime_seconds > 0),
        created_at timestamptz NOT NULL,
        CONSTRAINT oauth_clients_secret_by_type CHECK ((client_type = 'confidential') = (secret_hash IS NOT NULL))
      )`);

    // The private key is AES-256-GCM ciphertext of its PKCS#8 DER form; the kid is the
    // additional authenticated data, so a row's key cannot be moved to another kid.
    await queryRunner.query(`
      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        algorithm text NOT NULL CHECK (algorithm IN ('EdDSA', 'ES256')),
        state text NOT NULL CHECK (state IN ('next', 'active', 'retired')),
        public_jwk jsonb NOT NULL,
        private_key_ciphertext bytea NOT NULL,
        private_key_iv bytea NOT NULL,
        private_key_auth_tag bytea NOT NULL,
        created_at timestamptz NOT NULL,
        activates_at timestamptz NOT NULL,
        retired_at timestamptz
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX signing_keys_one_active_idx ON signing_keys ((true)) WHERE state = 'active'`);

    await queryRunner.query(`
      CREATE TABLE revoked_access_tokens (
        jti text PRIMARY KEY,
        client_id text NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX revoked_access_tokens_expires_at_idx ON revoked_access_tokens (expires_at)`);

    await queryRunner.query(`
      CREATE TABLE grant_last_used (
        grant_id uuid PRIMARY KEY,
        last_used_at timestamptz NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['grant_last_used', 'revoked_access_tokens', 'signing_keys', 'oauth_clients']) {
      await queryRunner.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
