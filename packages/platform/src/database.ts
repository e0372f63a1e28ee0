import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { ExponentialBackoff, handleAll, retry } from 'cockatiel';
import { Kysely, Migrator, PostgresDialect, sql, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';
import type { ReadinessCheck } from './health.js';
import type { Logger } from './logging.js';
import { PGliteDialect } from './pglite-dialect.js';

export type { Migration };

export interface DatabaseOptions {
  /** PostgreSQL URL; when unset the service uses embedded PGlite (one machine, nothing installed). */
  url?: string | undefined;
  /** Where PGlite keeps its files; undefined means in memory (tests). */
  pgliteDataDir?: string | undefined;
  poolMax?: number;
  connectTimeoutMs?: number;
  /** Server-side cap on any one statement, so a stuck query cannot hold a request forever. */
  statementTimeoutMs?: number;
  logger: Logger;
}

export interface Database<DB> {
  readonly db: Kysely<DB>;
  readonly kind: 'postgres' | 'pglite';
  /** A cheap round trip for readiness. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function openDatabase<DB>(options: DatabaseOptions): Database<DB> {
  if (options.url) {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolMax ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
      idleTimeoutMillis: 30_000,
      statement_timeout: options.statementTimeoutMs ?? 10_000,
      query_timeout: (options.statementTimeoutMs ?? 10_000) + 1000,
    });
    // An idle client losing its connection (database restarted) emits here; without a listener
    // the process would crash. The pool drops the client and reconnects on next use.
    pool.on('error', (err) => options.logger.warn({ err: { message: err.message } }, 'idle database connection lost'));
    // A client checked out of the pool (a transaction, the migrator's lock) has no pool listener: its
    // connection dying between two queries emitted an unhandled 'error' and crashed Auth in the
    // real-time drills. Its query fails on its own, and the pool drops the client when it comes back.
    pool.on('connect', (client) => {
      client.on('error', (err) => options.logger.warn({ err: { message: err.message } }, 'database connection lost'));
    });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      kind: 'postgres',
      ping: async () => {
        await sql`select 1`.execute(db);
      },
      close: () => db.destroy(),
    };
  }
  if (options.pgliteDataDir) mkdirSync(options.pgliteDataDir, { recursive: true });
  const pglite = new PGlite(options.pgliteDataDir);
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '53300', // too_many_connections
]);

/**
 * True when `err` means "the database cannot be reached right now" rather than a bug or bad input:
 * such errors become 503 with the service's *_DB_UNAVAILABLE code.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
    if (
      typeof message === 'string' &&
      /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed|Query read timeout/i.test(
        message,
      )
    ) {
      return true;
    }
    if (e instanceof AggregateError && e.errors.some(isDatabaseUnavailable)) return true;
  }
  return false;
}

export class StaticMigrationProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}

/**
 * Runs Kysely's migrator. On PostgreSQL it takes a transaction-scoped advisory lock, so three
 * replicas starting at once apply each migration exactly once (docs/architecture.md#migrations).
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, migrations: Record<string, Migration>, tableSchema?: string): Promise<string[]> {
  if (tableSchema) await sql`create schema if not exists ${sql.id(tableSchema)}`.execute(db);
  const migrator = new Migrator({
    db,
    provider: new StaticMigrationProvider(migrations),
    ...(tableSchema ? { migrationTableSchema: tableSchema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export interface MigrationRunner {
  /** Resolves once migrated (retries forever with back-off until then, or until stopped). */
  readonly done: Promise<void>;
  readonly isDone: () => boolean;
  readonly lastError: () => string | undefined;
  stop(): void;
}

/**
 * Start order in a cluster is not guaranteed: instead of crash-looping while PostgreSQL is not
 * reachable yet, keep retrying with capped exponential back-off; readiness reports "migrations
 * pending" until this succeeds.
 */
export function runMigrationsWithRetry<DB>(
  database: Database<DB>,
  migrations: Record<string, Migration>,
  options: { logger: Logger; tableSchema?: string; initialDelayMs?: number; maxDelayMs?: number },
): MigrationRunner {
  let finished = false;
  let lastError: string | undefined = 'not attempted yet';
  const controller = new AbortController();
  const policy = retry(handleAll, {
    maxAttempts: Number.MAX_SAFE_INTEGER,
    backoff: new ExponentialBackoff({ initialDelay: options.initialDelayMs ?? 200, maxDelay: options.maxDelayMs ?? 5000 }),
  });
  policy.onRetry((event) => {
    const err = 'error' in event ? event.error : undefined;
    lastError = err instanceof Error ? err.message : 'unknown error';
    options.logger.warn({ attempt: event.attempt, delayMs: Math.round(event.delay), reason: lastError }, 'database not ready for migrations; retrying');
  });
  const done = policy
    .execute(async ({ signal }) => {
      if (signal.aborted) throw new Error('migrations stopped');
      const applied = await migrateToLatest(database.db, migrations, options.tableSchema);
      finished = true;
      lastError = undefined;
      options.logger.info({ applied }, 'database migrated');
    }, controller.signal)
    .catch((err: unknown) => {
      if (!controller.signal.aborted) options.logger.error({ err }, 'migrations failed');
    });
  return {
    done,
    isDone: () => finished,
    lastError: () => lastError,
    stop: () => controller.abort(),
  };
}

/**
 * The readiness check of a service with a database: ready when its migrations are applied and it
 * answers. Liveness never looks at it (a database outage must not restart every pod).
 */
export function databaseReadinessCheck(database: Pick<Database<unknown>, 'ping'>, migrations: MigrationRunner): ReadinessCheck {
  return {
    name: 'database',
    check: async () => {
      if (!migrations.isDone()) throw new Error(`migrations pending: ${migrations.lastError() ?? 'running'}`);
      await database.ping();
    },
  };
}
