import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { parseConfig } from '@sre/platform';
import { captureLogs, createTestDatabase, defaultTestDatabase, pgliteSuiteSkip, testPostgresUrl } from '@sre/testkit';
import { buildApp, type AuthDeps, type AuthService } from '../src/app.js';
import { configSchema, type Config } from '../src/config.js';
import { generateSigningKeyPair } from '../src/keys.js';
import { createPasswordHasher } from '../src/passwords.js';

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

export const JSON_CT = { 'content-type': 'application/json' };

/**
 * The route suites' app on one backend (accounts, tokens, bad-input.test.ts): a fresh database, the
 * app migrated in before() and closed, database dropped, in after(). Call it inside the backend's
 * describe, where it registers those hooks; `auth` and `verifyCalls` are read once before() has run.
 * The password hasher counts verifications: login does exactly one, known email or not.
 */
export function routeSuite(backend: Backend) {
  let auth: TestAuth;
  let drop: () => Promise<void>;
  let verifyCalls = 0;

  before(async () => {
    const db = await backend.create();
    drop = db.drop;
    const hasher = createPasswordHasher({ memoryKiB: FAST_ARGON2.ARGON2_MEMORY_KIB, timeCost: FAST_ARGON2.ARGON2_TIME_COST, parallelism: 1 });
    auth = buildTestAuth(testConfig(db.env), {
      passwordHasher: {
        hash: (p) => hasher.hash(p),
        verify: (h, p) => {
          verifyCalls += 1;
          return hasher.verify(h, p);
        },
      },
    });
    await auth.migrated;
  });
  after(async () => {
    await auth.close();
    await drop();
  });

  const post = (url: string, payload: unknown, headers: Record<string, string> = JSON_CT) =>
    auth.app.inject({ method: 'POST', url, headers, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });
  const register = (email: string, password = 'correct horse battery') => post('/register', { email, password });
  const login = (email: string, password = 'correct horse battery') => post('/login', { email, password });
  const me = (authorization?: string) => auth.app.inject({ method: 'GET', url: '/me', headers: authorization === undefined ? {} : { authorization } });
  async function loggedIn(tag = 'flow') {
    const email = uniqueEmail(tag);
    assert.equal((await register(email)).statusCode, 201);
    const res = await login(email);
    assert.equal(res.statusCode, 200);
    return { email, tokens: res.json() as TokenPair };
  }
  const errorCode = (res: { json(): unknown }) => (res.json() as ErrorJson).error.code;

  return {
    get auth() {
      return auth;
    },
    get verifyCalls() {
      return verifyCalls;
    },
    post,
    register,
    login,
    me,
    loggedIn,
    errorCode,
  };
}
