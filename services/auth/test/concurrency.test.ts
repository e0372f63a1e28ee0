import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends, buildTestAuth, testConfig, uniqueEmail, type ErrorJson, type TestAuth, type TokenPair } from './helpers.js';

const JSON_CT = { 'content-type': 'application/json' };

for (const backend of backends()) {
  describe(`concurrency on ${backend.name}`, { skip: backend.skip }, () => {
    let auth: TestAuth;
    let drop: () => Promise<void>;
    let baseUrl: string;

    before(async () => {
      const db = await backend.create();
      drop = db.drop;
      auth = buildTestAuth(testConfig({ ...db.env, DATABASE_POOL_MAX: '20' }));
      await auth.migrated;
      // Real sockets, so the requests really are in flight together.
      baseUrl = await auth.app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await auth.close();
      await drop();
    });

    const post = (path: string, body: unknown) => fetch(`${baseUrl}${path}`, { method: 'POST', headers: JSON_CT, body: JSON.stringify(body) });

    it('50 simultaneous registrations of one email: exactly one 201 and 49 × 409 AUTH_EMAIL_TAKEN', async () => {
      const email = uniqueEmail('race');
      const responses = await Promise.all(Array.from({ length: 50 }, () => post('/register', { email, password: 'correct horse battery' })));
      const statuses = responses.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 201).length, 1, `statuses: ${statuses.join(',')}`);
      assert.equal(statuses.filter((s) => s === 409).length, 49);
      for (const res of responses.filter((r) => r.status === 409)) assert.equal(((await res.json()) as ErrorJson).error.code, 'AUTH_EMAIL_TAKEN');
      const rows = await auth.database.db.selectFrom('users').select('id').where('email', '=', email).execute();
      assert.equal(rows.length, 1);
    });

    it('two simultaneous uses of one refresh token: at most one succeeds and the family is revoked', async () => {
      for (let round = 0; round < 5; round++) {
        const email = uniqueEmail('twin');
        assert.equal((await post('/register', { email, password: 'correct horse battery' })).status, 201);
        const tokens = (await (await post('/login', { email, password: 'correct horse battery' })).json()) as TokenPair;
        const [a, b] = await Promise.all([post('/refresh', { refreshToken: tokens.refreshToken }), post('/refresh', { refreshToken: tokens.refreshToken })]);
        const winners = [a, b].filter((r) => r.status === 200);
        assert.ok(winners.length <= 1, `round ${round}: both refreshes succeeded`);
        for (const loser of [a, b].filter((r) => r.status !== 200)) {
          assert.equal(loser.status, 401);
          assert.equal(((await loser.json()) as ErrorJson).error.code, 'AUTH_REFRESH_INVALID');
        }
        // Whatever the winner received belongs to a revoked family now.
        for (const winner of winners) {
          const next = (await winner.json()) as TokenPair;
          assert.equal((await post('/refresh', { refreshToken: next.refreshToken })).status, 401, `round ${round}: the winner's token still works`);
        }
        const families = await auth.database.db
          .selectFrom('refresh_families')
          .innerJoin('users', 'users.id', 'refresh_families.user_id')
          .select(['refresh_families.revoked_at', 'refresh_families.revoked_reason'])
          .where('users.email', '=', email)
          .execute();
        assert.equal(families.length, 1);
        assert.notEqual(families[0]?.revoked_at, null, `round ${round}: family not revoked`);
        assert.equal(families[0]?.revoked_reason, 'reuse');
      }
    });
  });
}
