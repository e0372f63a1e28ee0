import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { createHttpApp, createManagementApp, createPlatform, installChaos, type Platform } from '@sre/platform';
import { databaseReadinessCheck } from '@sre/platform/db';
import { classifyError } from './classify-error.js';
import type { Config } from './config.js';
import { createAuthContext, type AuthContext, type AuthContextOptions } from './context.js';
import { startMaintenance, type PurgeResult } from './maintenance.js';
import { credentialRateLimit } from './rate-limit.js';
import { authRoutes } from './routes.js';

export const SERVICE_NAME = 'auth';

export interface AuthDeps extends AuthContextOptions {
  /** Tests read the logs. */
  logDestination?: DestinationStream;
  /** Off in tests that build many apps in one process. */
  collectProcessMetrics?: boolean;
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

/**
 * Builds the Auth service without listening; `main.ts` hands the result to `startService`. Reads as
 * the table of contents of the service: each line is one concern in its own module.
 */
export function buildApp(config: Readonly<Config>, deps: AuthDeps = {}): AuthService {
  const platform = createPlatform({
    service: SERVICE_NAME,
    config,
    ...(deps.logDestination ? { logDestination: deps.logDestination } : {}),
    collectProcessMetrics: deps.collectProcessMetrics ?? true,
  });
  // Signing keys, database and migrations (db/open.ts: PGLITE_DATA_DIR), verifier, passwords, throttle, metrics.
  const context = createAuthContext(config, platform, deps);
  // Readiness = database answers AND migrations are applied. Liveness (platform) never checks it.
  platform.health.addCheck(databaseReadinessCheck(context.database, context.migrations));

  const app = createHttpApp(platform, {
    config,
    trustProxy: config.TRUST_PROXY,
    openapi: { title: 'Auth service', version: '1.0.0', description: 'Accounts, password login, access and refresh tokens.' },
    classifyError,
  });
  void app.register(credentialRateLimit, { config });
  void app.register(authRoutes, { context });
  const management = createManagementApp(platform);
  // Opt-in drills (CHAOS_ENABLED=true): readiness, latency, error, CPU and memory faults.
  const chaos = installChaos(platform, app, management, { config });
  const maintenance = startMaintenance(context, platform.logger);

  // After the public listener closed (main.ts, docs/shutdown.md): timers and faults first, then the
  // migration loop and the verifier, the database last. Safe to call twice.
  let resourcesClosed: Promise<void> | undefined;
  const closeResources = () =>
    (resourcesClosed ??= (async () => {
      maintenance.stop();
      chaos.clearAll('shutting down');
      context.migrations.stop();
      context.verifier.close();
      await context.database.close();
    })());

  return {
    ...context,
    app,
    management,
    platform,
    migrated: context.migrations.done,
    purgeExpired: maintenance.purge,
    closeResources,
    async close() {
      await app.close();
      await management.close();
      await closeResources();
    },
  };
}
