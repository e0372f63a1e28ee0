import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends, buildTestAuth, testConfig, uniqueEmail, type ErrorJson, type TestAuth } from './helpers.js';

const JSON_CT = { 'content-type': 'application/json' };
const PASSWORD = 'correct horse battery';

for (const backend of backends()) {
  describe(`login throttling on ${backend.name}`, { skip: backend.skip }, () => {
    let auth: TestAuth;
    let drop: () => Promise<void>;

    before(async () => {
      const db = await backend.create();
      drop = db.drop;
      auth = buildTestAuth(
        testConfig({
          ...db.env,
          LOGIN_THROTTLE_ACCOUNT_FREE_ATTEMPTS: '2',
          LOGIN_THROTTLE_IP_FREE_ATTEMPTS: '4',
          LOGIN_THROTTLE_BASE_DELAY_SECONDS: '30',
          LOGIN_THROTTLE_MAX_DELAY_SECONDS: '100',
        }),
      );
      await auth.migrated;
    });
    after(async () => {
      await auth.close();
      await drop();
    });

    let ipCounter = 0;
    const freshIp = () => `10.20.${Math.floor(++ipCounter / 250)}.${(ipCounter % 250) + 1}`;
    const login = (email: string, password: string, remoteAddress: string) =>
      auth.app.inject({ method: 'POST', url: '/login', headers: JSON_CT, remoteAddress, payload: JSON.stringify({ email, password }) });
    const register = async (email: string) =>
      assert.equal(
        (await auth.app.inject({ method: 'POST', url: '/register', headers: JSON_CT, payload: JSON.stringify({ email, password: PASSWORD }) })).statusCode,
        201,
      );
    /** Simulates the lock running out (no sleeping in tests): the lock's end moves into the past. */
    const expireLocks = () =>
      auth.database.db
        .updateTable('login_throttle')
        .set({ locked_until: new Date(Date.now() - 1000) })
        .execute();
    const accountFailures = async (email: string) => {
      const key = auth.throttle.keysFor(email, '').account;
      return (await auth.database.db.selectFrom('login_throttle').select('failures').where('key', '=', key).executeTakeFirst())?.failures ?? 0;
    };

    it('backs off per account with 429 and Retry-After, doubling, across client IPs', async () => {
      const email = uniqueEmail('victim');
      await register(email);
      // Two free failures, then the third locks the account for 30 s (each from a different IP).
      for (let i = 0; i < 3; i++) assert.equal((await login(email, 'wrong', freshIp())).statusCode, 401);
      const locked = await login(email, PASSWORD, freshIp());
      assert.equal(locked.statusCode, 429, 'even the right password waits');
      assert.equal((locked.json() as ErrorJson).error.code, 'AUTH_THROTTLED');
      const first = Number(locked.headers['retry-after']);
      assert.ok(first > 0 && first <= 30, `Retry-After ${first}`);
      await expireLocks();
      assert.equal((await login(email, 'wrong', freshIp())).statusCode, 401);
      const second = Number((await login(email, PASSWORD, freshIp())).headers['retry-after']);
      assert.ok(second > 30 && second <= 60, `Retry-After doubled: ${second}`);
      const metrics = await auth.platform.metrics.registry.metrics();
      assert.match(metrics, /auth_logins_total\{result="throttled"\} [1-9]/);
    });

    it('a successful login resets the account counter', async () => {
      const email = uniqueEmail('reset');
      await register(email);
      const ip = freshIp();
      await login(email, 'wrong', ip);
      await login(email, 'wrong', ip);
      assert.equal(await accountFailures(email), 2);
      assert.equal((await login(email, PASSWORD, ip)).statusCode, 200);
      assert.equal(await accountFailures(email), 0);
      // Two more failures are free again.
      await login(email, 'wrong', ip);
      assert.equal((await login(email, 'wrong', freshIp())).statusCode, 401);
      assert.equal((await login(email, PASSWORD, freshIp())).statusCode, 200);
    });

    it('throttles a client IP spraying many accounts, and only that IP', async () => {
      const ip = freshIp();
      for (let i = 0; i < 5; i++) assert.equal((await login(uniqueEmail('spray'), 'wrong', ip)).statusCode, 401);
      const email = uniqueEmail('fresh');
      await register(email);
      const blocked = await login(email, PASSWORD, ip);
      assert.equal(blocked.statusCode, 429);
      assert.ok(Number(blocked.headers['retry-after']) > 0);
      assert.equal((await login(email, PASSWORD, freshIp())).statusCode, 200, 'other clients are unaffected');
    });

    it('unknown emails are throttled exactly like real ones (no enumeration through 429s)', async () => {
      const ip = () => freshIp();
      const ghost = uniqueEmail('ghost');
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await login(ghost, 'wrong', ip())).statusCode);
      assert.deepEqual(statuses, [401, 401, 401, 429]);
    });

    // PGlite is one process's embedded database; sharing across replicas is PostgreSQL's job.
    if (backend.name === 'postgres')
      it('state lives in the database, so a second replica on the same database sees the lock', async () => {
        const email = uniqueEmail('replica');
        await register(email);
        for (let i = 0; i < 3; i++) await login(email, 'wrong', freshIp());
        const replica = buildTestAuth({ ...auth.config });
        try {
          await replica.migrated;
          const res = await replica.app.inject({
            method: 'POST',
            url: '/login',
            headers: JSON_CT,
            remoteAddress: freshIp(),
            payload: JSON.stringify({ email, password: PASSWORD }),
          });
          assert.equal(res.statusCode, 429);
        } finally {
          await replica.close();
        }
      });
  });
}
