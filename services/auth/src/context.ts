import { createAccessTokenVerifier, staticKeySource, type AccessTokenVerifier, type Platform } from '@sre/platform';
import type { Database, MigrationRunner } from '@sre/platform/db';
import type { Config } from './config.js';
import { openAuthDatabase, type MigrationRetry } from './db/open.js';
import type { AuthDatabase } from './db/schema.js';
import { loadSigningKeys, type SigningKeys } from './keys.js';
import { createAuthMetrics, type AuthMetrics } from './metrics.js';
import { createPasswordHasher, type PasswordHasher } from './passwords.js';
import { createLoginThrottle, type LoginThrottle } from './throttle.js';

/** What the routes and background jobs need, in its own module so routes.ts and app.ts import one way. */
export interface AuthContext {
  readonly config: Readonly<Config>;
  readonly database: Database<AuthDatabase>;
  readonly migrations: MigrationRunner;
  readonly keys: SigningKeys;
  readonly verifier: AccessTokenVerifier;
  readonly passwords: PasswordHasher;
  readonly throttle: LoginThrottle;
  readonly metrics: AuthMetrics;
}

export interface AuthContextOptions {
  /** Tests count verifications (equal work for unknown emails). */
  passwordHasher?: PasswordHasher;
  /** Back-off of the start-up migration retry loop (defaults: 200 ms doubling to 5 s). */
  migrationRetry?: MigrationRetry;
}

/** Opens the database (migrations start in the background) and builds everything the routes use. */
export function createAuthContext(config: Readonly<Config>, platform: Platform, options: AuthContextOptions = {}): AuthContext {
  const keys = loadSigningKeys(config.JWT_PRIVATE_KEY, config.JWT_PREVIOUS_PUBLIC_KEYS);
  const { database, migrations } = openAuthDatabase(config, platform.logger, options.migrationRetry);
  return {
    config,
    database,
    migrations,
    keys,
    // /me verifies with the same code every other service uses, fed with our own public keys.
    verifier: createAccessTokenVerifier({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, keySource: staticKeySource(keys.jwks) }),
    passwords:
      options.passwordHasher ??
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
}
