import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { createAccessTokenVerifier, createHttpApp, createManagementApp, createPlatform, installChaos, staticKeySource, type Platform } from '@sre/platform';
import { isDatabaseUnavailable, openDatabase, runMigrationsWithRetry } from '@sre/platform/db';
import type { Config } from './config.js';
import type { AuthContext } from './context.js';
import { migrations } from './db/migrations.js';
import type { AuthDatabase } from './db/schema.js';
import { authErrors } from './errors.js';
import { loadSigningKeys } from './keys.js';
import { purgeExpired, type PurgeResult } from './maintenance.js';
import { createAuthMetrics } from './metrics.js';
import { createPasswordHasher, type PasswordHasher } from './passwords.js';
import { installCredentialRateLimit } from './rate-limit.js';
import { registerRoutes } from './routes.js';
import { createLoginThrottle } from './throttle.js';

export const SERVICE_NAME = 'auth';

export interface AuthDeps {
  /** Tests read the logs. */
  logDestination?: DestinationStream;
  /** Off in tests that build many apps in one process. */
  collectProcessMetrics?: boolean;
  /** Tests count verifications (equal work for unknown emails). */
  passwordHasher?: PasswordHasher;
  /** Back-off of the start-up migration retry loop (defaults: 200 ms doubling to 5 s). */
  migrationRetry?: { initialDelayMs?: number; maxDelayMs?: number };
}

export type { AuthContext };

export interface AuthService extends AuthContext {
  readonly app: FastifyInstance;
  readonly management: FastifyInstance;
  readonly platform: Platform;
  /** Resolves when migrations are applied (the service is ready when the database also answers). */
  readonly migrated: Promise<void>;
  /** Deletes expired refresh tokens and idle throttle rows (also run every MAINTENANCE_INTERVAL_SECONDS). */
  purgeExpired(): Promise<PurgeResult>;
  /** Stops the migration loop and closes the database (main.ts runs it after the listener closed). */
  closeResources(): Promise<void>;
  /** Everything (tests): listeners, then resources. */
  close(): Promise<void>;
}

/** Builds the Auth service without listening; `main.ts` hands the result to `startService`. */
export function buildApp(config: Readonly<Config>, deps: AuthDeps = {}): AuthService {
  const platform = createPlatform({
    service: SERVICE_NAME,
    config,
    ...(deps.logDestination ? { logDestination: deps.logDestination } : {}),
    collectProcessMetrics: deps.collectProcessMetrics ?? true,
  });
  const keys = loadSigningKeys(config.JWT_PRIVATE_KEY, config.JWT_PREVIOUS_PUBLIC_KEYS);
  const database = openDatabase<AuthDatabase>({
    url: config.DATABASE_URL,
    pgliteDataDir: config.PGLITE_DATA_DIR,
    poolMax: config.DATABASE_POOL_MAX,
    logger: platform.logger,
  });
  if (database.kind === 'pglite') {
    platform.logger.info({ dataDir: config.PGLITE_DATA_DIR ?? '(memory: data is lost on exit)' }, 'DATABASE_URL unset: using embedded PGlite');
  }
  const migrationRunner = runMigrationsWithRetry(database, migrations, { logger: platform.logger, ...deps.migrationRetry });

  // Readiness = database answers AND migrations are applied. Liveness (platform) never checks it.
  platform.health.addCheck({
    name: 'database',
    check: async () => {
      if (!migrationRunner.isDone()) throw new Error(`migrations pending: ${migrationRunner.lastError() ?? 'running'}`);
      await database.ping();
    },
  });

  const context: AuthContext = {
    config,
    database,
    migrations: migrationRunner,
    keys,
    // /me verifies with the same code every other service uses, fed with our own public keys.
    verifier: createAccessTokenVerifier({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, keySource: staticKeySource(keys.jwks) }),
    passwords:
      deps.passwordHasher ??
      createPasswordHasher({ memoryKiB: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_TIME_COST, parallelism: config.ARGON2_PARALLELISM }),
    throttle: createLoginThrottle(database.db, {
      accountFreeAttempts: config.LOGIN_THROTTLE_ACCOUNT_FREE_ATTEMPTS,
      ipFreeAttempts: config.LOGIN_THROTTLE_IP_FREE_ATTEMPTS,
      baseDelaySeconds: config.LOGIN_THROTTLE_BASE_DELAY_SECONDS,
      maxDelaySeconds: config.LOGIN_THROTTLE_MAX_DELAY_SECONDS,
      windowSeconds: config.LOGIN_THROTTLE_WINDOW_SECONDS,
    }),
    metrics: createAuthMetrics(platform.metrics.registry),
  };

  const app = createHttpApp(platform, {
    config,
    trustProxy: config.TRUST_PROXY,
    openapi: { title: 'Auth service', version: '1.0.0', description: 'Accounts, password login, access and refresh tokens.' },
    classifyError: (err) => (isDatabaseUnavailable(err) ? authErrors.AUTH_DB_UNAVAILABLE(undefined, { headers: { 'retry-after': '1' } }) : undefined),
  });
  // The limiter's onRoute hook must exist before the routes are added, hence routes inside a plugin.
  installCredentialRateLimit(app, config);
  void app.register(function authRoutes(scope, _options, done) {
    registerRoutes(scope, context);
    done();
  });
  const management = createManagementApp(platform);
  // Opt-in drills (CHAOS_ENABLED=true): readiness, latency, error, CPU and memory faults.
  const chaos = installChaos(platform, app, management, { config });

  const purge = () => purgeExpired(database.db, config.LOGIN_THROTTLE_WINDOW_SECONDS);
  const maintenance =
    config.MAINTENANCE_INTERVAL_SECONDS > 0
      ? setInterval(() => {
          if (!migrationRunner.isDone()) return;
          purge().then(
            (result) => platform.logger.info({ purged: result }, 'expired rows purged'),
            (err: unknown) => platform.logger.warn({ reason: err instanceof Error ? err.message : String(err) }, 'purge of expired rows failed; will retry'),
          );
        }, config.MAINTENANCE_INTERVAL_SECONDS * 1000)
      : undefined;
  maintenance?.unref();

  let resourcesClosed: Promise<void> | undefined;
  const closeResources = () =>
    (resourcesClosed ??= (async () => {
      clearInterval(maintenance);
      chaos.clearAll('shutting down');
      migrationRunner.stop();
      context.verifier.close();
      await database.close();
    })());

  return {
    ...context,
    app,
    management,
    platform,
    migrated: migrationRunner.done,
    purgeExpired: purge,
    closeResources,
    async close() {
      await app.close();
      await management.close();
      await closeResources();
    },
  };
}
