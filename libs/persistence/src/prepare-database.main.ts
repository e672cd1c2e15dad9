// `npm run db:prepare`: creates the database named by DATABASE_URL if needed and runs migrations.
import { loadConfig } from '#config/load-config.js';
import { databaseUrlVariable } from '#config/environment-variables.js';

import { prepareDatabase } from './prepare-database.js';

try {
  const config = loadConfig('db:prepare', { DATABASE_URL: databaseUrlVariable });
  const applied = await prepareDatabase(config.DATABASE_URL);
  const target = new URL(config.DATABASE_URL);
  console.log(
    applied.length > 0
      ? `database ${target.pathname.slice(1)} on ${target.host}: applied ${applied.join(', ')}`
      : `database ${target.pathname.slice(1)} on ${target.host}: schema is up to date`,
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
