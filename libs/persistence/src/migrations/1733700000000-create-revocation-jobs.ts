import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The administrative bulk-revocation jobs and the index their batches page through. */
export class CreateRevocationJobs1733700000000 implements MigrationInterface {
  name = 'CreateRevocationJobs1733700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // A job walks the matching active grants in grant_id order; last_grant_id is the keyset
    // cursor of the last finished batch, so a resumed job starts after it.
    await queryRunner.query(`
      CREATE TABLE revocation_jobs (
        job_id uuid PRIMARY KEY,
        filter jsonb NOT NULL,
        reason text NOT NULL,
        actor jsonb NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'interrupted', 'completed', 'failed')),
        total integer NOT NULL CHECK (total >= 0),
        revoked integer NOT NULL DEFAULT 0 CHECK (revoked >= 0),
        unchanged integer NOT NULL DEFAULT 0 CHECK (unchanged >= 0),
        failed integer NOT NULL DEFAULT 0 CHECK (failed >= 0),
        last_grant_id uuid,
        last_error text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        finished_at timestamptz
      )`);
    await queryRunner.query(
      `CREATE INDEX revocation_jobs_unfinished_idx ON revocation_jobs (created_at) WHERE status IN ('running', 'interrupted')`,
    );

    // Revoking every grant of a client pages through its active pairs by grant_id.
    await queryRunner.query(`CREATE INDEX active_grant_pairs_client_grant_idx ON active_grant_pairs (client_id, grant_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS active_grant_pairs_client_grant_idx`);
    await queryRunner.query(`DROP TABLE IF EXISTS revocation_jobs`);
  }
}
