import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes the GrantCreated events by user and by client, in grant id order, so that "which grants
 * of this user or client were active at T" reads the event store page by page without a full scan.
 */
export class IndexGrantCreations1733800000000 implements MigrationInterface {
  name = 'IndexGrantCreations1733800000000';
  // CREATE INDEX CONCURRENTLY cannot run inside a transaction; it lets appends go on while it builds.
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    await createIndexConcurrently(queryRunner, 'grant_events_created_user_idx', `((data->>'userId'), grant_id) WHERE type = 'GrantCreated'`);
    await createIndexConcurrently(queryRunner, 'grant_events_created_client_idx', `((data->>'clientId'), grant_id) WHERE type = 'GrantCreated'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX CONCURRENTLY IF EXISTS grant_events_created_client_idx');
    await queryRunner.query('DROP INDEX CONCURRENTLY IF EXISTS grant_events_created_user_idx');
  }
}

/**
 * Creates an index on grant_events without blocking writes. A concurrent build that failed leaves an
 * invalid index behind, which IF NOT EXISTS would keep, so such a leftover is dropped first.
 */
async function createIndexConcurrently(queryRunner: QueryRunner, name: string, definition: string): Promise<void> {
  const [existing]: Array<{ valid: boolean }> = await queryRunner.query(
    'SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass($1)',
    [name],
  );
  if (existing?.valid === false) await queryRunner.query(`DROP INDEX CONCURRENTLY ${name}`);
  await queryRunner.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON grant_events ${definition}`);
}
