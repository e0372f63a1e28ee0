/**
 * `@sre/platform/db`: the database part of the platform (Kysely over `pg` or embedded PGlite,
 * migrations with retry). Apart from the main entry point so services without a database never load it.
 */
export {
  databaseReadinessCheck,
  isDatabaseUnavailable,
  migrateToLatest,
  openDatabase,
  runMigrationsWithRetry,
  type Database,
  type DatabaseOptions,
  type Migration,
  type MigrationRunner,
} from './database.js';
export { PGliteDialect } from './pglite-dialect.js';
