import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase, startEphemeralPostgres, testPostgresUrl, waitFor, type EphemeralPostgres } from '@sre/testkit';
import { buildTestAuth, testConfig, uniqueEmail, type ErrorJson, type TestAuth, type TokenPair } from './helpers.js';

const adminUrl = testPostgresUrl();
const skip = adminUrl ? false : 'TEST_POSTGRES_URL is not set (run through tools/test/run.sh)';
const JSON_CT = { 'content-type': 'application/json' };
const PASSWORD = 'correct horse battery';

const post = (auth: TestAuth, url: string, body: unknown) => auth.app.inject({ method: 'POST', url, headers: JSON_CT, payload: JSON.stringify(body) });
const readyStatus = async (auth: TestAuth) => (await auth.management.inject({ url: '/readyz' })).statusCode;

function assertDbUnavailable(res: { statusCode: number; json(): unknown; headers: Record<string, unknown> }, what: string) {
  assert.equal(res.statusCode, 503, `${what}: ${res.statusCode}`);
  assert.equal((res.json() as ErrorJson).error.code, 'AUTH_DB_UNAVAILABLE', what);
  assert.ok(Number(res.headers['retry-after']) > 0, `${what}: Retry-After`);
}

describe('database faults (real PostgreSQL stopped and started)', { skip }, () => {
  describe('database stops while the service runs', () => {
    let pg: EphemeralPostgres;
    let auth: TestAuth;
    before(async () => {
      pg = await startEphemeralPostgres();
      auth = buildTestAuth(testConfig({ DATABASE_URL: pg.url, READINESS_CHECK_TIMEOUT_MS: '2000' }));
      await auth.migrated;
    });
    after(async () => {
      await auth.close();
      await pg.destroy();
    });

    it('fails readiness and answers 503 AUTH_DB_UNAVAILABLE while down, stays live, and recovers without a restart', async () => {
      const email = uniqueEmail('outage');
      assert.equal((await post(auth, '/register', { email, password: PASSWORD })).statusCode, 201);
      const tokens = (await post(auth, '/login', { email, password: PASSWORD })).json() as TokenPair;
      assert.equal(await readyStatus(auth), 200);

      await pg.stop();

      await waitFor(async () => (await readyStatus(auth)) === 503, { timeoutMs: 15_000, what: '/readyz 503' });
      const report = (await auth.management.inject({ url: '/readyz' })).json() as { checks: { database: { ok: boolean } } };
      assert.equal(report.checks.database.ok, false);
      assert.equal((await auth.management.inject({ url: '/livez' })).statusCode, 200, 'liveness ignores the database');
      assertDbUnavailable(await post(auth, '/login', { email, password: PASSWORD }), 'login');
      assertDbUnavailable(await post(auth, '/register', { email: uniqueEmail('down'), password: PASSWORD }), 'register');
      assertDbUnavailable(await post(auth, '/refresh', { refreshToken: tokens.refreshToken }), 'refresh');
      assertDbUnavailable(await post(auth, '/logout', { refreshToken: tokens.refreshToken }), 'logout');
      assertDbUnavailable(await auth.app.inject({ url: '/me', headers: { authorization: `Bearer ${tokens.accessToken}` } }), 'me');
      assert.equal((await auth.app.inject({ url: '/.well-known/jwks.json' })).statusCode, 200, 'JWKS needs no database');
      const metrics = (await auth.management.inject({ url: '/metrics' })).body;
      assert.match(metrics, /service_health_check_status\{check="database"\} 0/);

      await pg.start();

      await waitFor(async () => (await readyStatus(auth)) === 200, { timeoutMs: 30_000, what: '/readyz 200 after the database returned' });
      const again = await post(auth, '/login', { email, password: PASSWORD });
      assert.equal(again.statusCode, 200, again.body);
      assert.equal((await post(auth, '/refresh', { refreshToken: tokens.refreshToken })).statusCode, 200, 'data survived');
    });
  });

  describe('service starts before the database', () => {
    let pg: EphemeralPostgres;
    let auth: TestAuth;
    before(async () => {
      pg = await startEphemeralPostgres();
      await pg.stop();
    });
    after(async () => {
      await auth?.close();
      await pg.destroy();
    });

    it('runs, reports not ready, retries with back-off, then migrates and becomes ready when the database arrives', async () => {
      auth = buildTestAuth(testConfig({ DATABASE_URL: pg.url }), { migrationRetry: { initialDelayMs: 100, maxDelayMs: 1000 } });
      const retries = () => auth.logs.filter((l) => l.msg === 'database not ready for migrations; retrying');
      await waitFor(() => retries().length >= 4, { timeoutMs: 20_000, what: 'four migration retries' });

      // cockatiel's exponential back-off with decorrelated jitter: each delay is drawn at random below a
      // growing ceiling, so two delays need not grow (136, 11, 389, 65 happened). What holds: numbered
      // attempts, every delay within the configured maximum, and not one fixed interval.
      const logged = retries();
      const delays = logged.map((l) => Number(l.delayMs));
      assert.deepEqual(
        logged.map((l) => Number(l.attempt)),
        delays.map((_, i) => i + 1),
        'attempts counted from 1',
      );
      assert.ok(
        delays.every((d) => d >= 0 && d <= 1000),
        `every delay within maxDelayMs: ${delays.join(', ')}`,
      );
      assert.ok(new Set(delays).size > 1, `jittered, not a fixed interval: ${delays.join(', ')}`);
      const readiness = await auth.management.inject({ url: '/readyz' });
      assert.equal(readiness.statusCode, 503);
      assert.match(readiness.body, /migrations pending/);
      assert.equal((await auth.management.inject({ url: '/livez' })).statusCode, 200);
      assertDbUnavailable(await post(auth, '/register', { email: uniqueEmail('early'), password: PASSWORD }), 'register before migrations');
      assert.ok(!auth.logs.some((l) => l.msg === 'migrations failed'), 'no give-up');

      await pg.start();

      await waitFor(async () => (await readyStatus(auth)) === 200, { timeoutMs: 30_000, what: 'ready after the database arrived' });
      assert.ok(auth.logs.some((l) => l.msg === 'database migrated'));
      assert.equal((await post(auth, '/register', { email: uniqueEmail('late'), password: PASSWORD })).statusCode, 201);
    });
  });

  describe('three replicas start on one fresh database at once', () => {
    for (let round = 1; round <= 3; round++) {
      it(`all migrate without error and become ready (round ${round})`, async () => {
        const database = await createTestDatabase(adminUrl!, 'auth3');
        const replicas = Array.from({ length: 3 }, () => buildTestAuth(testConfig({ DATABASE_URL: database.url })));
        try {
          await Promise.all(replicas.map((r) => r.migrated));
          for (const replica of replicas) {
            assert.equal(await readyStatus(replica), 200);
            const problems = replica.logs.filter((l) => l.msg === 'migrations failed' || l.msg === 'database not ready for migrations; retrying');
            assert.deepEqual(problems, []);
          }
          const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(replicas[0]!.database.db);
          assert.deepEqual(
            rows.map((r) => r.name),
            ['0001_initial'],
          );
          const applied = replicas.flatMap((r) => r.logs.filter((l) => l.msg === 'database migrated').map((l) => (l.applied as string[]).length));
          assert.deepEqual(applied.sort(), [0, 0, 1], 'exactly one replica applied the migration');
        } finally {
          await Promise.all(replicas.map((r) => r.close()));
          await database.drop();
        }
      });
    }
  });
});
