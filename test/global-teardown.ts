import { spawnSync } from 'node:child_process';
import pg from 'pg';


// Same values as libs/testing/src/test-database.ts; global hooks run outside Jest's module mapping.
const testDatabasePrefix = 'og_test_';
const testServerUrl = () => new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

/** Checks whether a test database belongs to another Jest run whose process still runs. */
function belongsToAnotherLiveRun(database: string): boolean {
  const pid = Number(/^og_test_(\d+)_/.exec(database)?.[1]);
  if (!Number.isInteger(pid) || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Drops the databases the suites left behind and stops the broker that global setup started. */
export default async function globalTeardown(): Promise<void> {
  const client = new pg.Client({ connectionString: testServerUrl().toString() });
  await client.connect();
  try {
    const leftovers = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [
      testDatabasePrefix,
    ]);
    for (const { datname } of leftovers.rows.filter((row) => !belongsToAnotherLiveRun(row.datname))) {
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`);
    }
  } finally {
    await client.end();
  }

  if (process.env.TEST_STARTED_KAFKA === '1') {
    spawnSync(process.execPath, ['scripts/kafka.mjs', 'stop'], { stdio: 'inherit' });
  }
}
