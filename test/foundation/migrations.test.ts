import pg from 'pg';

import { migrations } from '#persistence/migrations.js';
import { prepareDatabase } from '#persistence/prepare-database.js';
import { dropDatabase, testDatabaseName, testServerUrl } from '#testing/test-database.js';

describe('when migrations run on a fresh database', () => {
  const name = testDatabaseName('migrations');
  const url = testServerUrl();
  url.pathname = `/${name}`;

  afterAll(async () => {
    await dropDatabase(name);
  });

  it('applies each migration once', async () => {
    const applied = await prepareDatabase(url.toString());
    expect(applied).toEqual(migrations.map((migration) => migration.name));

    const again = await prepareDatabase(url.toString());
    expect(again).toEqual([]);

    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
      );
      const names = tables.rows.map((row) => row.table_name);
      expect(names).toEqual(expect.arrayContaining(['grant_events', 'active_grant_pairs', 'relay_checkpoints', 'grants', 'schema_migrations']));
    } finally {
      await client.end();
    }
  });
});
