import { randomBytes } from 'node:crypto';
import pg from 'pg';

import { prepareDatabase } from '#persistence/prepare-database.js';

/** Prefix of every database the tests create; global teardown drops the ones left behind. */
export const testDatabasePrefix = 'og_test_';

/**
 * Names the databases of one Jest run after the pid of the process that runs global setup, so that
 * teardown drops its own run's databases and those of dead runs, never those of a run still going.
 */
export function testDatabaseName(label: string): string {
  const run = process.env.TEST_RUN_PID ?? process.pid;
  return `${testDatabasePrefix}${run}_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Returns the server the tests use: TEST_DATABASE_URL's server, or the local one. */
export function testServerUrl(): URL {
  return new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
}

/** Creates a fresh, migrated database for one test file. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = testDatabaseName(label);
  const url = testServerUrl();
  url.pathname = `/${name}`;
  await prepareDatabase(url.toString());

  return {
    url: url.toString(),
    name,
    drop: () => dropDatabase(name),
  };
}

export async function dropDatabase(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: testServerUrl().toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
