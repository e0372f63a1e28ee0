import { parseConfig } from '@sre/platform';
import { captureLogs, createTestDatabase, defaultTestDatabase, pgliteSuiteSkip, testPostgresUrl } from '@sre/testkit';
import { buildApp, type AuthDeps, type AuthService } from '../src/app.js';
import { configSchema, type Config } from '../src/config.js';
import { generateSigningKeyPair } from '../src/keys.js';

/** One signing key for the whole test process: tests generate keys at run time, none is committed. */
export const signingKey = generateSigningKeyPair();

/** argon2 far below production cost so suites stay fast; production defaults are tested separately. */
export const FAST_ARGON2 = { ARGON2_MEMORY_KIB: 1024, ARGON2_TIME_COST: 1, ARGON2_PARALLELISM: 1 } as const;

export function testConfig(env: Record<string, string | undefined> = {}, overrides: Partial<Config> = {}): Config {
  const parsed = parseConfig('auth', configSchema, {
    JWT_PRIVATE_KEY: signingKey.privateKeyPem,
    LOG_LEVEL: 'info',
    READINESS_CACHE_MS: '0',
    DRAIN_DELAY_MS: '0',
    LOGIN_THROTTLE_IP_FREE_ATTEMPTS: '100000',
    // Suites register many accounts from one inject address; the limit has its own tests.
    AUTH_RATE_LIMIT_MAX: '100000',
    ...env,
  });
  return { ...parsed, ...FAST_ARGON2, ...overrides };
}

export interface Backend {
  readonly name: 'postgres' | 'pglite';
  /** undefined when the test PostgreSQL is not available (skipped locally, a failure under CI=true). */
  readonly skip: string | false;
  /** A fresh database: its DATABASE_URL (undefined for PGlite in memory) and a cleanup. */
  create(): Promise<{ env: Record<string, string>; drop(): Promise<void> }>;
}

/** Every route suite runs against real PostgreSQL (pg) and embedded PGlite: same schema, same migrations. */
export function backends(): Backend[] {
  const adminUrl = testPostgresUrl();
  return [
    {
      name: 'postgres',
      skip: adminUrl ? false : 'TEST_POSTGRES_URL is not set (run through tools/test/run.sh)',
      async create() {
        const database = await createTestDatabase(adminUrl!, 'auth');
        return { env: { DATABASE_URL: database.url }, drop: () => database.drop() };
      },
    },
    { name: 'pglite', skip: pgliteSuiteSkip(), create: async () => ({ env: {}, drop: async () => undefined }) },
  ];
}

export interface TestAuth extends AuthService {
  readonly logs: Record<string, unknown>[];
}

export function buildTestAuth(config: Config, deps: AuthDeps = {}): TestAuth {
  const logs = captureLogs();
  const service = buildApp(config, { logDestination: logs.destination, collectProcessMetrics: false, ...deps });
  return Object.assign(service, { logs: logs.lines });
}

/**
 * An Auth app on the default test database (a fresh one on the test PostgreSQL server, see
 * defaultTestDatabase), migrated; close() also drops that database. For tests that do not care which
 * database they run on; the backends() suites run on both.
 */
export async function startTestAuth(env: Record<string, string | undefined> = {}, deps: AuthDeps = {}): Promise<TestAuth> {
  const database = await defaultTestDatabase('auth');
  const auth = buildTestAuth(testConfig({ ...database.env, ...env }), deps);
  await auth.migrated;
  const closeApp = auth.close;
  return Object.assign(auth, {
    async close() {
      await closeApp();
      await database.drop();
    },
  });
}

export interface ErrorJson {
  error: { code: string; message: string; requestId: string };
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
}

let counter = 0;
/** A unique email per call, so tests sharing one database never collide. */
export function uniqueEmail(tag = 'user'): string {
  counter += 1;
  return `${tag}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}
