/**
 * Auth accounts on each backend (PostgreSQL and PGlite): POST /register (normalised emails, argon2id
 * hashes, duplicates, unicode, SQL-looking input), POST /login (token shape and claims, no account
 * enumeration) and GET /me, including every crafted token it must refuse.
 */
import assert from 'node:assert/strict';
import { createHmac, createPrivateKey, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { sql } from 'kysely';
import { generateSigningKeyPair } from '../src/keys.js';
import { backends, routeSuite, signingKey, uniqueEmail, type ErrorJson, type TokenPair } from './helpers.js';

function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

for (const backend of backends()) {
  describe(`auth accounts on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = routeSuite(backend);
    const { register, login, me, loggedIn, errorCode } = suite;

    describe('POST /register', () => {
      it('creates an account with a normalised email and stores only an argon2id hash', async () => {
        const email = uniqueEmail('Reg');
        const res = await register(`  ${email.toUpperCase()}  `);
        assert.equal(res.statusCode, 201);
        const body = res.json() as { id: string; email: string };
        assert.deepEqual(Object.keys(body).sort(), ['email', 'id']);
        assert.equal(body.email, email.toLowerCase());
        assert.match(body.id, /^[0-9a-f-]{36}$/);
        const row = await suite.auth.database.db.selectFrom('users').selectAll().where('id', '=', body.id).executeTakeFirstOrThrow();
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
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from users`.execute(suite.auth.database.db);
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
        const stored = await suite.auth.database.db.selectFrom('refresh_tokens').select('token_hash').where('user_id', '=', id).execute();
        assert.equal(stored.length, 1);
        assert.notEqual(stored[0]?.token_hash, body.refreshToken, 'only the hash is stored');
      });

      it('answers unknown email and wrong password alike, doing one argon2 verification for each', async () => {
        const email = uniqueEmail('enum');
        await register(email);
        const before = suite.verifyCalls;
        const wrong = await login(email, 'not the password');
        const afterWrong = suite.verifyCalls;
        const unknown = await login(uniqueEmail('nobody'), 'not the password');
        assert.equal(afterWrong - before, 1);
        assert.equal(suite.verifyCalls - afterWrong, 1, 'unknown email is verified against a dummy hash');
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
  });
}
