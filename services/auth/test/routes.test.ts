import assert from 'node:assert/strict';
import { createHmac, createPrivateKey, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { sql } from 'kysely';
import { createPasswordHasher } from '../src/passwords.js';
import { generateSigningKeyPair } from '../src/keys.js';
import { backends, buildTestAuth, FAST_ARGON2, signingKey, testConfig, uniqueEmail, type ErrorJson, type TestAuth, type TokenPair } from './helpers.js';

const JSON_CT = { 'content-type': 'application/json' };

function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

for (const backend of backends()) {
  describe(`auth routes on ${backend.name}`, { skip: backend.skip }, () => {
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

    describe('POST /register', () => {
      it('creates an account with a normalised email and stores only an argon2id hash', async () => {
        const email = uniqueEmail('Reg');
        const res = await register(`  ${email.toUpperCase()}  `);
        assert.equal(res.statusCode, 201);
        const body = res.json() as { id: string; email: string };
        assert.deepEqual(Object.keys(body).sort(), ['email', 'id']);
        assert.equal(body.email, email.toLowerCase());
        assert.match(body.id, /^[0-9a-f-]{36}$/);
        const row = await auth.database.db.selectFrom('users').selectAll().where('id', '=', body.id).executeTakeFirstOrThrow();
        assert.match(row.password_hash, /^\$argon2id\$v=19\$/);
        assert.ok(!row.password_hash.includes('correct horse'));
      });

      it('answers 409 AUTH_EMAIL_TAKEN for the same email in another case or with spaces', async () => {
        const email = uniqueEmail('dup');
        assert.equal((await register(email)).statusCode, 201);
        const again = await register(` ${email.toUpperCase()}`);
        assert.equal(again.statusCode, 409);
        assert.equal(errorCode(again), 'AUTH_EMAIL_TAKEN');
      });

      it('accepts unicode emails and unicode passwords up to 128 characters (not bytes), NFKC-normalised', async () => {
        const email = `Ünïcødé-${randomBytes(3).toString('hex')}@exämple.de`;
        const password = '🔑'.repeat(128); // 128 characters, 512 UTF-8 bytes
        const res = await register(email, password);
        assert.equal(res.statusCode, 201, res.body);
        assert.equal((res.json() as { email: string }).email, email.normalize('NFC').toLowerCase());
        assert.equal((await login(email.toLowerCase(), password)).statusCode, 200);
        // NIST SP 800-63B: full-width and ASCII forms of the same password are one password.
        const wide = uniqueEmail('nfkc');
        assert.equal((await register(wide, 'ｍａｒｍａｌａｄｅ　ｆｏｒｅｓｔ７')).statusCode, 201);
        assert.equal((await login(wide, 'marmalade forest7')).statusCode, 200);
      });

      it('stores SQL-injection-looking input as plain data', async () => {
        const email = `o'reilly'--${randomBytes(3).toString('hex')}@example.com`;
        const password = "' OR 1=1; DROP TABLE users; --";
        assert.equal((await register(email, password)).statusCode, 201);
        assert.equal((await login(email, password)).statusCode, 200);
        assert.equal((await login(email, "' OR '1'='1")).statusCode, 401);
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from users`.execute(auth.database.db);
        assert.ok((rows[0]?.n ?? 0) >= 1, 'users table still there');
      });
    });

    describe('POST /login', () => {
      it('returns an EdDSA access token with the documented header and claims, and a refresh token', async () => {
        const email = uniqueEmail('login');
        const { id } = (await register(email)).json() as { id: string };
        const res = await login(email);
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['cache-control'], 'no-store');
        const body = res.json() as TokenPair;
        assert.deepEqual(Object.keys(body).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'tokenType']);
        assert.equal(body.tokenType, 'Bearer');
        assert.equal(body.expiresIn, 900);
        assert.match(body.refreshToken, /^[A-Za-z0-9_-]{43}$/);
        assert.deepEqual(decodeProtectedHeader(body.accessToken), { alg: 'EdDSA', kid: signingKey.kid, typ: 'at+jwt' });
        const claims = decodeJwt(body.accessToken);
        assert.equal(claims.iss, 'sre-platform-auth');
        assert.equal(claims.aud, 'sre-platform');
        assert.equal(claims.sub, id);
        assert.equal(claims.email, email);
        assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 900);
        assert.match(String(claims.jti), /^[0-9a-f-]{36}$/);
        const stored = await auth.database.db.selectFrom('refresh_tokens').select('token_hash').where('user_id', '=', id).execute();
        assert.equal(stored.length, 1);
        assert.notEqual(stored[0]?.token_hash, body.refreshToken, 'only the hash is stored');
      });

      it('answers unknown email and wrong password alike, doing one argon2 verification for each', async () => {
        const email = uniqueEmail('enum');
        await register(email);
        const before = verifyCalls;
        const wrong = await login(email, 'not the password');
        const afterWrong = verifyCalls;
        const unknown = await login(uniqueEmail('nobody'), 'not the password');
        assert.equal(afterWrong - before, 1);
        assert.equal(verifyCalls - afterWrong, 1, 'unknown email is verified against a dummy hash');
        for (const res of [wrong, unknown]) {
          assert.equal(res.statusCode, 401);
          const { error } = res.json() as ErrorJson;
          assert.deepEqual({ code: error.code, message: error.message }, { code: 'AUTH_INVALID_CREDENTIALS', message: 'The email or password is wrong.' });
        }
        assert.deepEqual(Object.keys(wrong.headers).sort(), Object.keys(unknown.headers).sort());
      });
    });

    describe('GET /me', () => {
      it('returns the account of a valid access token', async () => {
        const { email, tokens } = await loggedIn('me');
        const res = await me(`Bearer ${tokens.accessToken}`);
        assert.equal(res.statusCode, 200);
        const body = res.json() as { id: string; email: string; createdAt: string };
        assert.equal(body.email, email);
        assert.equal(body.id, decodeJwt(tokens.accessToken).sub);
        assert.ok(!Number.isNaN(Date.parse(body.createdAt)));
        assert.deepEqual(Object.keys(body).sort(), ['createdAt', 'email', 'id']);
      });

      // Tokens crafted by an attacker: every one must be refused with 401, never accepted, never 5xx.
      const privateKey = createPrivateKey(signingKey.privateKeyPem);
      const otherKey = createPrivateKey(generateSigningKeyPair().privateKeyPem);
      const sign = (claims: Record<string, unknown>, opts: { header?: Record<string, unknown>; key?: typeof privateKey; exp?: number } = {}) =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: 'EdDSA', kid: signingKey.kid, typ: 'at+jwt', ...opts.header })
          .setIssuedAt()
          .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 600)
          .setJti('11111111-1111-4111-8111-111111111111')
          .sign(opts.key ?? privateKey);
      const base = (sub: string) => ({ sub, iss: 'sre-platform-auth', aud: 'sre-platform' });

      const cases: Array<[string, (sub: string, valid: string) => Promise<string | undefined>, string]> = [
        ['no Authorization header', async () => undefined, 'AUTH_TOKEN_MISSING'],
        ['a Basic credential', async () => 'Basic dXNlcjpwYXNz', 'AUTH_TOKEN_INVALID'],
        ['a Bearer value that is not a JWT', async () => 'Bearer not-a-token', 'AUTH_TOKEN_INVALID'],
        ['a token with an SQL-injection subject', async () => `Bearer ${await sign(base("' OR 1=1 --"))}`, 'AUTH_TOKEN_INVALID'],
        ['an expired token', async (sub) => `Bearer ${await sign(base(sub), { exp: Math.floor(Date.now() / 1000) - 3600 })}`, 'AUTH_TOKEN_EXPIRED'],
        [
          'a token with a tampered payload',
          async (_sub, valid) => {
            const [h, , s] = valid.split('.');
            return `Bearer ${h}.${b64url({ ...decodeJwt(valid), sub: '00000000-0000-4000-8000-000000000000' })}.${s}`;
          },
          'AUTH_TOKEN_INVALID',
        ],
        [
          'a token with a tampered signature',
          async (_sub, valid) => `Bearer ${valid.slice(0, -4)}${valid.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`,
          'AUTH_TOKEN_INVALID',
        ],
        ['alg "none"', async (_sub, valid) => `Bearer ${b64url({ alg: 'none', typ: 'at+jwt' })}.${valid.split('.')[1]}.`, 'AUTH_TOKEN_INVALID'],
        [
          'HS256 signed with the public key (algorithm confusion)',
          async (_sub, valid) => {
            const input = `${b64url({ alg: 'HS256', kid: signingKey.kid, typ: 'at+jwt' })}.${valid.split('.')[1]}`;
            return `Bearer ${input}.${createHmac('sha256', signingKey.publicKeyPem).update(input).digest('base64url')}`;
          },
          'AUTH_TOKEN_INVALID',
        ],
        ['the wrong audience', async (sub) => `Bearer ${await sign({ ...base(sub), aud: 'someone-else' })}`, 'AUTH_TOKEN_INVALID'],
        ['the wrong issuer', async (sub) => `Bearer ${await sign({ ...base(sub), iss: 'evil-issuer' })}`, 'AUTH_TOKEN_INVALID'],
        ['a key that is not ours (same kid)', async (sub) => `Bearer ${await sign(base(sub), { key: otherKey })}`, 'AUTH_TOKEN_INVALID'],
        ['a typ other than at+jwt', async (sub) => `Bearer ${await sign(base(sub), { header: { typ: 'JWT' } })}`, 'AUTH_TOKEN_INVALID'],
        [
          'a valid signature for an account that does not exist',
          async () => `Bearer ${await sign(base('00000000-0000-4000-8000-000000000000'))}`,
          'AUTH_TOKEN_INVALID',
        ],
      ];
      for (const [name, make, code] of cases) {
        it(`refuses ${name} with 401 ${code}`, async () => {
          const { tokens } = await loggedIn('attack');
          const sub = String(decodeJwt(tokens.accessToken).sub);
          const res = await me(await make(sub, tokens.accessToken));
          assert.equal(res.statusCode, 401, res.body);
          assert.equal(errorCode(res), code);
          assert.match(String(res.headers['www-authenticate']), /^Bearer/);
        });
      }
    });

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
        const before = metricValue(await auth.platform.metrics.registry.metrics(), 'auth_refresh_reuse_detected_total');
        const { tokens } = await loggedIn('reuse');
        const rotated = (await post('/refresh', { refreshToken: tokens.refreshToken })).json() as TokenPair;
        const replay = await post('/refresh', { refreshToken: tokens.refreshToken });
        assert.equal(replay.statusCode, 401);
        assert.equal(errorCode(replay), 'AUTH_REFRESH_INVALID');
        const victim = await post('/refresh', { refreshToken: rotated.refreshToken });
        assert.equal(victim.statusCode, 401, 'the legitimate successor is revoked too');
        const after = metricValue(await auth.platform.metrics.registry.metrics(), 'auth_refresh_reuse_detected_total');
        assert.equal(after - before, 1);
      });

      it('refuses an expired refresh token', async () => {
        const { tokens } = await loggedIn('expired');
        await auth.database.db
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

    describe('bad input never reaches a 5xx', () => {
      type Case = [name: string, payload: string | undefined, headers: Record<string, string>, status: number, code: string];
      const big = JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(5000) });
      const shapeCases = (valid: Record<string, string>, field: string): Case[] => [
        ['malformed JSON', '{"email":', JSON_CT, 400, 'MALFORMED_JSON'],
        ['a prototype-poisoning body', '{"__proto__":{"admin":true}}', JSON_CT, 400, 'MALFORMED_JSON'],
        ['text/plain', JSON.stringify(valid), { 'content-type': 'text/plain' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
        ['a form body', 'email=a&password=b', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
        ['an empty JSON body', '', JSON_CT, 400, 'EMPTY_BODY'],
        ['no body at all', undefined, {}, 400, 'VALIDATION_FAILED'],
        ['a JSON array', '[]', JSON_CT, 400, 'VALIDATION_FAILED'],
        ['JSON null', 'null', JSON_CT, 400, 'VALIDATION_FAILED'],
        ['an extra field', JSON.stringify({ ...valid, admin: true }), JSON_CT, 400, 'VALIDATION_FAILED'],
        ['a missing field', JSON.stringify({}), JSON_CT, 400, 'VALIDATION_FAILED'],
        [`a number for ${field}`, JSON.stringify({ ...valid, [field]: 12345678 }), JSON_CT, 400, 'VALIDATION_FAILED'],
        ['an oversized body', big, JSON_CT, 413, 'PAYLOAD_TOO_LARGE'],
      ];
      const routes: Record<string, Case[]> = {
        '/register': [
          ...shapeCases({ email: 'a@example.com', password: 'password123' }, 'email'),
          ['a 7-character password', JSON.stringify({ email: uniqueEmail(), password: 'short77' }), JSON_CT, 400, 'AUTH_PASSWORD_POLICY'],
          ['a 129-character password', JSON.stringify({ email: uniqueEmail(), password: 'p'.repeat(129) }), JSON_CT, 400, 'AUTH_PASSWORD_POLICY'],
          ['a 129-character unicode password', JSON.stringify({ email: uniqueEmail(), password: '密'.repeat(129) }), JSON_CT, 400, 'AUTH_PASSWORD_POLICY'],
          ['an email without @', JSON.stringify({ email: 'not-an-email', password: 'password123' }), JSON_CT, 400, 'AUTH_EMAIL_INVALID'],
          [
            'an overlong email',
            JSON.stringify({ email: `${'a'.repeat(60)}@${'b'.repeat(200)}.com`, password: 'password123' }),
            JSON_CT,
            400,
            'AUTH_EMAIL_INVALID',
          ],
          ['an email with a control character', JSON.stringify({ email: 'a\u0000b@example.com', password: 'password123' }), JSON_CT, 400, 'AUTH_EMAIL_INVALID'],
          ['an SQL-injection email', JSON.stringify({ email: "' OR '1'='1' --", password: 'password123' }), JSON_CT, 400, 'AUTH_EMAIL_INVALID'],
          ['an empty email', JSON.stringify({ email: '', password: 'password123' }), JSON_CT, 400, 'AUTH_EMAIL_INVALID'],
        ],
        '/login': [
          ...shapeCases({ email: 'a@example.com', password: 'password123' }, 'password'),
          ['an SQL-injection email', JSON.stringify({ email: "' OR 1=1 --", password: 'x' }), JSON_CT, 401, 'AUTH_INVALID_CREDENTIALS'],
          ['an SQL-injection password', JSON.stringify({ email: 'admin@example.com', password: "' OR '1'='1" }), JSON_CT, 401, 'AUTH_INVALID_CREDENTIALS'],
          ['an overlong password', JSON.stringify({ email: 'a@example.com', password: 'p'.repeat(1000) }), JSON_CT, 401, 'AUTH_INVALID_CREDENTIALS'],
          ['an overlong email', JSON.stringify({ email: `${'a'.repeat(300)}@example.com`, password: 'password123' }), JSON_CT, 401, 'AUTH_INVALID_CREDENTIALS'],
          ['a unicode email nobody has', JSON.stringify({ email: 'ünbekannt@exämple.de', password: 'password123' }), JSON_CT, 401, 'AUTH_INVALID_CREDENTIALS'],
          ['an empty password', JSON.stringify({ email: 'a@example.com', password: '' }), JSON_CT, 401, 'AUTH_INVALID_CREDENTIALS'],
        ],
        '/refresh': [
          ...shapeCases({ refreshToken: 'x'.repeat(43) }, 'refreshToken'),
          ['an empty token', JSON.stringify({ refreshToken: '' }), JSON_CT, 400, 'VALIDATION_FAILED'],
          ['an unknown token', JSON.stringify({ refreshToken: randomBytes(32).toString('base64url') }), JSON_CT, 401, 'AUTH_REFRESH_INVALID'],
          ['an SQL-injection token', JSON.stringify({ refreshToken: "' OR 1=1; DELETE FROM refresh_tokens; --" }), JSON_CT, 401, 'AUTH_REFRESH_INVALID'],
          [
            'an access token in place of a refresh token',
            JSON.stringify({ refreshToken: 'eyJhbGciOiJFZERTQSJ9.e30.sig' }),
            JSON_CT,
            401,
            'AUTH_REFRESH_INVALID',
          ],
          ['a unicode token', JSON.stringify({ refreshToken: 'ü'.repeat(43) }), JSON_CT, 401, 'AUTH_REFRESH_INVALID'],
        ],
        '/logout': [
          ...shapeCases({ refreshToken: 'x'.repeat(43) }, 'refreshToken'),
          ['an empty token', JSON.stringify({ refreshToken: '' }), JSON_CT, 400, 'VALIDATION_FAILED'],
        ],
      };
      for (const [url, cases] of Object.entries(routes)) {
        for (const [name, payload, headers, status, code] of cases) {
          it(`POST ${url} with ${name} → ${status} ${code}`, async () => {
            const res = await auth.app.inject({ method: 'POST', url, headers, ...(payload === undefined ? {} : { payload }) });
            assert.equal(res.statusCode, status, res.body);
            const body = res.json() as ErrorJson;
            assert.equal(body.error.code, code);
            assert.equal(body.error.requestId, res.headers['x-request-id']);
          });
        }
      }

      it('never writes a password to the logs, not even from a malformed body', async () => {
        const secret = 'Hunter2SecretPassword';
        const bodies = [
          `{"email":"leak@example.com","password":${secret}}`,
          `{"email":"leak@example.com","password":"${secret}",}`,
          JSON.stringify({ email: 'leak@example.com', password: secret, extra: 1 }),
          JSON.stringify({ email: 'leak@example.com', password: secret }),
        ];
        for (const payload of bodies) {
          for (const url of ['/login', '/register']) await auth.app.inject({ method: 'POST', url, headers: JSON_CT, payload });
        }
        assert.ok(auth.logs.length > 0);
        assert.ok(!JSON.stringify(auth.logs).includes(secret.slice(0, 8)), 'a password reached the logs');
      });

      it('unknown routes and methods answer 404 in the shared shape', async () => {
        for (const [method, url] of [
          ['GET', '/login'],
          ['DELETE', '/me'],
          ['GET', '/admin'],
        ] as const) {
          const res = await auth.app.inject({ method, url });
          assert.equal(res.statusCode, 404);
          assert.equal(errorCode(res), 'NOT_FOUND');
        }
      });

      it('the public port serves no health or metrics routes', async () => {
        for (const url of ['/livez', '/readyz', '/metrics']) assert.equal((await auth.app.inject({ url })).statusCode, 404);
      });
    });

    describe('JWKS and metrics', () => {
      it('publishes the public key (and nothing private) at /.well-known/jwks.json', async () => {
        const res = await auth.app.inject({ url: '/.well-known/jwks.json' });
        assert.equal(res.statusCode, 200);
        const { keys } = res.json() as { keys: Array<Record<string, string>> };
        assert.equal(keys.length, 1);
        assert.deepEqual(Object.keys(keys[0]!).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
        assert.equal(keys[0]!.kid, signingKey.kid);
        assert.ok(!('d' in keys[0]!));
      });

      it('counts logins by result, registrations and issued tokens by type', async () => {
        const read = async () => {
          const text = await auth.platform.metrics.registry.metrics();
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
        assert.equal((await auth.management.inject({ url: '/readyz' })).statusCode, 200);
        const res = await auth.management.inject({ url: '/metrics' });
        assert.match(res.body, /http_requests_total\{service="auth",method="POST",route="\/login",status_code="200"\}/);
        assert.match(res.body, /service_health_check_status\{check="database"\} 1/);
      });
    });
  });
}
