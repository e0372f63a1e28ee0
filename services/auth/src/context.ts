import type { AccessTokenVerifier } from '@sre/platform';
import type { Database, MigrationRunner } from '@sre/platform/db';
import type { Config } from './config.js';
import type { AuthDatabase } from './db/schema.js';
import type { SigningKeys } from './keys.js';
import type { AuthMetrics } from './metrics.js';
import type { PasswordHasher } from './passwords.js';
import type { LoginThrottle } from './throttle.js';

/** What the routes need from the app, in its own module so routes.ts and app.ts import one way. */
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
