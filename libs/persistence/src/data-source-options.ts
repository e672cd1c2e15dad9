import type { DataSourceOptions } from 'typeorm';

import { migrations } from './migrations.js';

export interface DataSourceSettings {
  databaseUrl: string;
  /** Name PostgreSQL shows for the connections in pg_stat_activity. */
  applicationName: string;
  poolSize?: number;
}

/** TypeORM options for PostgreSQL; the schema comes from migrations only, never `synchronize`. */
export function dataSourceOptions(settings: DataSourceSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.databaseUrl,
    applicationName: settings.applicationName,
    poolSize: settings.poolSize ?? 10,
    synchronize: false,
    migrationsRun: false,
    migrations,
    migrationsTableName: 'schema_migrations',
    entities: [],
    logging: false,
    extra: { connectionTimeoutMillis: 5000 },
  };
}
