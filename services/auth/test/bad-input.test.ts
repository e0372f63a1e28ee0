/**
 * Bad input to the Auth routes on each backend (PostgreSQL and PGlite): malformed, mistyped, oversized
 * and hostile bodies answer 4xx in the shared error shape, never 5xx; no password reaches the logs;
 * unknown routes answer 404, and the public port serves no health or metrics routes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { backends, JSON_CT, routeSuite, uniqueEmail, type ErrorJson } from './helpers.js';

for (const backend of backends()) {
  describe(`auth bad input on ${backend.name}`, { skip: backend.skip }, () => {
    const suite = routeSuite(backend);
    const { errorCode } = suite;

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
            const res = await suite.auth.app.inject({ method: 'POST', url, headers, ...(payload === undefined ? {} : { payload }) });
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
          for (const url of ['/login', '/register']) await suite.auth.app.inject({ method: 'POST', url, headers: JSON_CT, payload });
        }
        assert.ok(suite.auth.logs.length > 0);
        assert.ok(!JSON.stringify(suite.auth.logs).includes(secret.slice(0, 8)), 'a password reached the logs');
      });

      it('unknown routes and methods answer 404 in the shared shape', async () => {
        for (const [method, url] of [
          ['GET', '/login'],
          ['DELETE', '/me'],
          ['GET', '/admin'],
        ] as const) {
          const res = await suite.auth.app.inject({ method, url });
          assert.equal(res.statusCode, 404);
          assert.equal(errorCode(res), 'NOT_FOUND');
        }
      });

      it('the public port serves no health or metrics routes', async () => {
        for (const url of ['/livez', '/readyz', '/metrics']) assert.equal((await suite.auth.app.inject({ url })).statusCode, 404);
      });
    });
  });
}
