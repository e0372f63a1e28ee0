import type { Logger } from '@sre/platform';
import { openDatabase, runMigrationsWithRetry, type Database, type MigrationRunner } from '@sre/platform/db';
import type { Config } from './config.js';
import { DB_SCHEMA, migrations, type ImagesDatabase } from './db.js';
import { ImageRepository } from './repository.js';

export interface ImagesDatabaseHandle {
  readonly database: Database<ImagesDatabase>;
  /** Applies the migrations in the background, retrying until the database is reachable. */
  readonly migrations: MigrationRunner;
  readonly repository: ImageRepository;
}

/**
 * PostgreSQL at DATABASE_URL, or embedded PGlite when it is unset: in PGLITE_DATA_DIR, or in memory
 * when that is unset too (one meaning in every service: docs/configuration.md). Migrations start at once; readiness waits for them.
 */
export function openImagesDatabase(config: Pick<Config, 'DATABASE_URL' | 'PGLITE_DATA_DIR' | 'DATABASE_POOL_MAX'>, logger: Logger): ImagesDatabaseHandle {
  const database = openDatabase<ImagesDatabase>({
    url: config.DATABASE_URL,
    pgliteDataDir: config.PGLITE_DATA_DIR,
    poolMax: config.DATABASE_POOL_MAX,
    logger,
  });
  return {
    database,
    migrations: runMigrationsWithRetry(database, migrations, { logger, tableSchema: DB_SCHEMA }),
    repository: new ImageRepository(database.db),
  };
}
