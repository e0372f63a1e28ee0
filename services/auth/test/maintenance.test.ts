import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { backends, buildTestAuth, testConfig, uniqueEmail, type TestAuth, type TokenPair } from './helpers.js';

for (const backend of backends()) {
  describe(`purge of expired rows on ${backend.name}`, { skip: backend.skip }, () => {
    let auth: TestAuth;
    let drop: () => Promise<void>;
    before(async () => {
      const db = await backend.create();
      drop = db.drop;
      auth = buildTestAuth(testConfig(db.env));
      await auth.migrated;
    });
    after(async () => {
      await auth.close();
      await drop();
    });

    it('deletes long-expired refresh tokens, dead families and idle throttle rows, and keeps live ones', async () => {
      const login = async () => {
        const email = uniqueEmail('purge');
        await auth.app.inject({ method: 'POST', url: '/register', payload: { email, password: 'correct horse battery' } });
        return {
          email,
          tokens: (await auth.app.inject({ method: 'POST', url: '/login', payload: { email, password: 'correct horse battery' } })).json() as TokenPair,
        };
      };
      const live = await login();
      const dead = await login();
      await auth.app.inject({ method: 'POST', url: '/login', payload: { email: live.email, password: 'wrong password' }, remoteAddress: '10.1.1.1' });
      const db = auth.database.db;
      const longAgo = new Date(Date.now() - 3 * 24 * 3600 * 1000);
      const deadUser = (await db.selectFrom('users').select('id').where('email', '=', dead.email).executeTakeFirstOrThrow()).id;
      await db.updateTable('refresh_tokens').set({ expires_at: longAgo }).where('user_id', '=', deadUser).execute();
      await db.updateTable('login_throttle').set({ last_failure_at: longAgo, locked_until: null }).where('key', '=', 'ip:10.1.1.1').execute();

      const result = await auth.purgeExpired();
      assert.deepEqual(result, { refreshTokens: 1, refreshFamilies: 0, throttleRows: 1 }, 'families younger than a day are kept');
      assert.equal((await auth.app.inject({ method: 'POST', url: '/refresh', payload: { refreshToken: live.tokens.refreshToken } })).statusCode, 200);
      assert.equal(await db.selectFrom('login_throttle').select('key').where('key', '=', 'ip:10.1.1.1').executeTakeFirst(), undefined);
      assert.ok(await db.selectFrom('login_throttle').select('key').where('key', 'like', 'account:%').executeTakeFirst(), 'recent counters stay');
      await sql`update refresh_families set created_at = now() - interval '2 days'`.execute(db);
      assert.deepEqual(await auth.purgeExpired(), { refreshTokens: 0, refreshFamilies: 1, throttleRows: 0 }, 'only the family without live tokens goes');
    });
  });
}
