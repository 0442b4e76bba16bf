// The one TypeORM DataSource definition. Schema changes happen only through the explicit migration list below:
// never synchronize (it would silently rewrite a production schema) and never globs (ESM output has no
// reliable directory to scan, and an explicit list makes "which migrations ship" a reviewed code change).
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { parseDatabaseUrl } from './database-url.js';
import { ENTITIES } from './entities/index.js';
import { MIGRATIONS, MIGRATIONS_TABLE } from './migrations/index.js';
import { DatabaseConnectionError, isConnectionError } from './pg-sql.adapter.js';

export interface DataSourceOptions {
  max?: number;
  applicationName?: string;
}

export function createDataSource(url: string, options: DataSourceOptions = {}): DataSource {
  parseDatabaseUrl(url);
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsRun: false,
    synchronize: false,
    logging: false,
    extra: {
      max: options.max ?? 10,
      application_name: options.applicationName ?? 'vigil',
      connectionTimeoutMillis: 10_000,
    },
  });
}

/** Initializes a DataSource, turning connection failures into an error that names the (redacted) URL. */
export async function openDataSource(url: string, options: DataSourceOptions = {}): Promise<DataSource> {
  const ds = createDataSource(url, options);
  try {
    await ds.initialize();
  } catch (err) {
    throw isConnectionError(err) ? new DatabaseConnectionError(url, err) : err;
  }
  return ds;
}
