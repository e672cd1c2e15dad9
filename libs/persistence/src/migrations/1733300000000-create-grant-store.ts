import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event store, the per-(user, client) uniqueness rows, the relay checkpoint, the grants
 * projection and the idempotency records.
 */
export class CreateGrantStore1733300000000 implements MigrationInterface {
  name = 'CreateGrantStore1733300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // transaction_id lets the relay publish only events whose transaction and every older one have
    // finished, so a lower position that commits after a higher one is never skipped.
    await queryRunner.query(`
      CREATE TABLE grant_events (
        position bigserial PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        grant_id uuid NOT NULL,
        version integer NOT NULL CHECK (version > 0),
        type text NOT NULL,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL,
        recorded_at timestamptz NOT NULL,
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        CONSTRAINT grant_events_grant_version_key UNIQUE (grant_id, version)
      )`);
    await queryRunner.query(`CREATE INDEX grant_events_transaction_position_idx ON grant_events (transaction_id, position)`);
    await queryRunner.query(`CREATE INDEX grant_events_recorded_at_idx ON grant_events (recorded_at)`);

    await queryRunner.query(`
      CREATE TABLE active_grant_pairs (
        user_id text NOT NULL,
        client_id text NOT NULL,
        grant_id uuid NOT NULL UNIQUE,
        PRIMARY KEY (user_id, client_id)
      )`);

    await queryRunner.query(`
      CREATE TABLE relay_checkpoints (
        relay_name text PRIMARY KEY,
        transaction_id xid8 NOT NULL,
        position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await queryRunner.query(`
      CREATE TABLE grants (
        grant_id uuid PRIMARY KEY,
        user_id text NOT NULL,
        client_id text NOT NULL,
        scopes text[] NOT NULL,
        status text NOT NULL CHECK (status IN ('active', 'revoked')),
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoke_reason text,
        version integer NOT NULL,
        position bigint NOT NULL
      )`);
    await queryRunner.query(`CREATE INDEX grants_user_idx ON grants (user_id, grant_id)`);
    await queryRunner.query(`CREATE INDEX grants_client_idx ON grants (client_id, grant_id)`);

    await queryRunner.query(`
      CREATE TABLE idempotency_records (
        caller text NOT NULL,
        idempotency_key text NOT NULL,
        request_hash text NOT NULL,
        status_code integer NOT NULL,
        response_body jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (caller, idempotency_key)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['idempotency_records', 'grants', 'relay_checkpoints', 'active_grant_pairs', 'grant_events']) {
      await queryRunner.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
