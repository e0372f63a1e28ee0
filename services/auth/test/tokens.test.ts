/**
 * Auth tokens on each backend (PostgreSQL and PGlite): refresh rotation, reuse detection, expiry and
 * logout; the published JWKS; the login, registration and token metrics.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { backends, routeSuite, signingKey, type TokenPair } from './helpers.js';

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

for (const backend of backends()) {
  describe(`auth tokens on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = routeSuite(backend);
    const { post, login, me, loggedIn, errorCode } = suite;

    describe('POST /refresh and POST /logout', () => {
      it('rotates: a new pair each time, the old refresh token is then refused', async () => {
        const { tokens } = await loggedIn('rotate');
        const first = await post('/refresh', { refreshToken: tokens.refreshToken });
        assert.equal(first.statusCode, 200);
        const next = first.json() as TokenPair;
        assert.notEqual(next.refreshToken, tokens.refreshToken);
        assert.equal((await me(`Bearer ${next.accessToken}`)).statusCode, 200);
        const second = await post('/refresh', { refreshToken: next.refreshToken });
        assert.equal(second.statusCode, 200);
      });

      it('reuse of a used refresh token revokes the whole family and is counted', async () => {
        const before = metricValue(await suite.auth.platform.metrics.registry.metrics(), 'auth_refresh_reuse_detected_total');
        const { tokens } = await loggedIn('reuse');
        const rotated = (await post('/refresh', { refreshToken: tokens.refreshToken })).json() as TokenPair;
        const replay = await post('/refresh', { refreshToken: tokens.refreshToken });
        assert.equal(replay.statusCode, 401);
        assert.equal(errorCode(replay), 'AUTH_REFRESH_INVALID');
        const victim = await post('/refresh', { refreshToken: rotated.refreshToken });
        assert.equal(victim.statusCode, 401, 'the legitimate successor is revoked too');
        const after = metricValue(await suite.auth.platform.metrics.registry.metrics(), 'auth_refresh_reuse_detected_total');
        assert.equal(after - before, 1);
      });

      it('refuses an expired refresh token', async () => {
        const { tokens } = await loggedIn('expired');
        await suite.auth.database.db
          .updateTable('refresh_tokens')
          .set({ expires_at: new Date(Date.now() - 60_000) })
          .where('used_at', 'is', null)
          .where('user_id', '=', String(decodeJwt(tokens.accessToken).sub))
          .execute();
        const res = await post('/refresh', { refreshToken: tokens.refreshToken });
        assert.equal(res.statusCode, 401);
        assert.equal(errorCode(res), 'AUTH_REFRESH_INVALID');
      });

      it('logout answers 204 and revokes the family; unknown tokens also get 204', async () => {
        const { tokens } = await loggedIn('logout');
        const rotated = (await post('/refresh', { refreshToken: tokens.refreshToken })).json() as TokenPair;
        const res = await post('/logout', { refreshToken: rotated.refreshToken });
        assert.equal(res.statusCode, 204);
        assert.equal(res.body, '');
        assert.equal((await post('/refresh', { refreshToken: rotated.refreshToken })).statusCode, 401);
        assert.equal((await post('/logout', { refreshToken: randomBytes(32).toString('base64url') })).statusCode, 204);
        assert.equal((await post('/logout', { refreshToken: rotated.refreshToken })).statusCode, 204, 'idempotent');
      });
    });

    describe('JWKS and metrics', () => {
      it('publishes the public key (and nothing private) at /.well-known/jwks.json', async () => {
        const res = await suite.auth.app.inject({ url: '/.well-known/jwks.json' });
        assert.equal(res.statusCode, 200);
        const { keys } = res.json() as { keys: Array<Record<string, string>> };
        assert.equal(keys.length, 1);
        assert.deepEqual(Object.keys(keys[0]!).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
        assert.equal(keys[0]!.kid, signingKey.kid);
        assert.ok(!('d' in keys[0]!));
      });

      it('counts logins by result, registrations and issued tokens by type', async () => {
        const read = async () => {
          const text = await suite.auth.platform.metrics.registry.metrics();
          return {
            success: metricValue(text, 'auth_logins_total{result="success"}'),
            failure: metricValue(text, 'auth_logins_total{result="failure"}'),
            registrations: metricValue(text, 'auth_registrations_total'),
            access: metricValue(text, 'auth_tokens_issued_total{type="access"}'),
            refresh: metricValue(text, 'auth_tokens_issued_total{type="refresh"}'),
          };
        };
        const before = await read();
        const { tokens, email } = await loggedIn('metrics');
        await login(email, 'wrong password!');
        await post('/refresh', { refreshToken: tokens.refreshToken });
        const after = await read();
        assert.deepEqual(
          {
            success: after.success - before.success,
            failure: after.failure - before.failure,
            registrations: after.registrations - before.registrations,
            access: after.access - before.access,
            refresh: after.refresh - before.refresh,
          },
          { success: 1, failure: 1, registrations: 1, access: 2, refresh: 2 },
        );
        assert.equal((await suite.auth.management.inject({ url: '/readyz' })).statusCode, 200);
        const res = await suite.auth.management.inject({ url: '/metrics' });
        assert.match(res.body, /http_requests_total\{service="auth",method="POST",route="\/login",status_code="200"\}/);
        assert.match(res.body, /service_health_check_status\{check="database"\} 1/);
      });
    });
  });
}
