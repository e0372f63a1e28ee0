import type { Logger } from '@sre/platform';
import { openDatabase, runMigrationsWithRetry, type Database, type MigrationRunner } from '@sre/platform/db';
import type { Config } from '../config.js';
import { migrations } from './migrations.js';
import type { AuthDatabase } from './schema.js';

export interface AuthDatabaseHandle {
  readonly database: Database<AuthDatabase>;
  /** Applies the migrations in the background, retrying until the database answers. */
  readonly migrations: MigrationRunner;
}

export interface MigrationRetry {
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * PostgreSQL at DATABASE_URL, or embedded PGlite when it is unset: in PGLITE_DATA_DIR, or in memory
 * when that is unset too. Migrations start at once; readiness waits for them (database-check).
 */
export function openAuthDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'PGLITE_DATA_DIR' | 'DATABASE_POOL_MAX'>,
  logger: Logger,
  retry: MigrationRetry = {},
): AuthDatabaseHandle {
  const database = openDatabase<AuthDatabase>({
    url: config.DATABASE_URL,
    pgliteDataDir: config.PGLITE_DATA_DIR,
    poolMax: config.DATABASE_POOL_MAX,
    logger,
  });
  if (database.kind === 'pglite') {
    logger.info({ dataDir: config.PGLITE_DATA_DIR ?? '(memory: data is lost on exit)' }, 'DATABASE_URL unset: using embedded PGlite');
  }
  return { database, migrations: runMigrationsWithRetry(database, migrations, { logger, ...retry }) };
}
