import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tombstones of deleted OAuth clients. A deleted client's id is never registered again, so that a
 * new client with the old id cannot present the old client's refresh tokens.
 */
export class CreateDeletedClients1733900000000 implements MigrationInterface {
  name = 'CreateDeletedClients1733900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE deleted_oauth_clients (
        client_id text PRIMARY KEY,
        deleted_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE IF EXISTS deleted_oauth_clients');
  }
}
