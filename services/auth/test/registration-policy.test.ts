import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '@sre/platform';
import { defaultTestDatabase } from '@sre/testkit';
import { configSchema } from '../src/config.js';
import { isCommonPassword } from '../src/password-policy.js';
import { hasMixedScriptLocalPart, normaliseEmail } from '../src/validation.js';
import { backends, buildTestAuth, FAST_ARGON2, signingKey, testConfig, uniqueEmail, type ErrorJson, type TestAuth } from './helpers.js';

const JSON_CT = { 'content-type': 'application/json' };
const GOOD_PASSWORD = 'correct horse battery';

type Inject = { statusCode: number; headers: Record<string, unknown>; json(): unknown };
const codeOf = (res: Inject) => (res.json() as ErrorJson).error.code;

function poster(auth: TestAuth) {
  return (url: string, body: unknown, remoteAddress = '127.0.0.1') =>
    auth.app.inject({ method: 'POST', url, headers: JSON_CT, payload: JSON.stringify(body), remoteAddress }) as unknown as Promise<Inject>;
}

describe('password and email rules (units)', () => {
  it('knows the breached-list classics, whatever their case or padding, and not a passphrase', () => {
    for (const p of ['password', '12345678', 'Password1', 'qwertyuiop', 'iloveyou', 'PASSWORD  ', 'ｐａｓｓｗｏｒｄ']) assert.ok(isCommonPassword(p), p);
    for (const p of [GOOD_PASSWORD, 'marmalade forest7', 'ZqV8#kLm2!wp']) assert.ok(!isCommonPassword(p), p);
  });

  it('folds fullwidth letters and the domain case (NFKC + lower case)', () => {
    assert.equal(normaliseEmail(' ａlice@ＥＸＡＭＰＬＥ.Com '), 'alice@example.com');
    assert.equal(normaliseEmail('Bob@Example.COM'), 'bob@example.com');
  });

  it('calls Latin mixed with Cyrillic or Greek mixed script, and leaves single-script and CJK mixes alone', () => {
    assert.ok(hasMixedScriptLocalPart('\u0430lice@example.com'), 'Cyrillic а + Latin');
    assert.ok(hasMixedScriptLocalPart('p\u0430ypal@example.com'));
    assert.ok(hasMixedScriptLocalPart('b\u03bfb@example.com'), 'Greek ο + Latin');
    for (const ok of [
      'alice@example.com',
      'алиса@example.ru',
      'jean.o-neil+tag9@example.com',
      '山田たろう@example.jp',
      'kim김민수@example.kr',
      'ünïcødé@exämple.de',
    ]) {
      assert.ok(!hasMixedScriptLocalPart(ok), ok);
    }
  });
});

describe('auth rate limit defaults (what the manifests rely on)', () => {
  it('limits register and login to 20 per client IP per minute by default', () => {
    const config = parseConfig('auth', configSchema, { JWT_PRIVATE_KEY: signingKey.privateKeyPem });
    assert.equal(config.AUTH_RATE_LIMIT_MAX, 20);
    assert.equal(config.RATE_LIMIT_WINDOW_MS, 60_000);
  });

  it('answers the 21st register from one IP with 429 under the default config, before reading the body', async () => {
    const database = await defaultTestDatabase('auth');
    const parsed = parseConfig('auth', configSchema, { JWT_PRIVATE_KEY: signingKey.privateKeyPem, LOG_LEVEL: 'silent', ...database.env });
    const auth = buildTestAuth({ ...parsed, ...FAST_ARGON2, MAINTENANCE_INTERVAL_SECONDS: 0 });
    try {
      await auth.migrated;
      const post = poster(auth);
      // Invalid emails cost nothing to answer; the limit counts requests, not accounts.
      for (let i = 0; i < 20; i += 1) assert.equal((await post('/register', { email: 'not-an-email', password: GOOD_PASSWORD })).statusCode, 400);
      const limited = await post('/register', { email: uniqueEmail('late'), password: GOOD_PASSWORD });
      assert.equal(limited.statusCode, 429);
      assert.equal(codeOf(limited), 'AUTH_RATE_LIMITED');
    } finally {
      await auth.close();
      await database.drop();
    }
  });
});

for (const backend of backends()) {
  describe(`registration policy on ${backend.name}`, { skip: backend.skip }, () => {
    let auth: TestAuth;
    let drop: () => Promise<void>;
    let post: ReturnType<typeof poster>;

    before(async () => {
      const db = await backend.create();
      drop = db.drop;
      auth = buildTestAuth(testConfig({ ...db.env, AUTH_RATE_LIMIT_MAX: '4' }));
      await auth.migrated;
      post = poster(auth);
    });
    after(async () => {
      await auth.close();
      await drop();
    });

    // Each test uses its own client addresses: the limit (4 per IP per route) is part of what is tested.
    it('refuses common, breached-list and all-whitespace passwords with their own codes and messages', async () => {
      const cases: [string, string, RegExp][] = [
        ['password', 'AUTH_PASSWORD_COMMON', /most common/],
        ['12345678', 'AUTH_PASSWORD_COMMON', /breached/],
        ['        ', 'AUTH_PASSWORD_BLANK', /only spaces/],
        ['\u3000\u3000\t\t    ', 'AUTH_PASSWORD_BLANK', /only spaces/],
      ];
      for (const [i, [password, code, message]] of cases.entries()) {
        const res = await post('/register', { email: uniqueEmail('weak'), password }, `10.1.0.${i}`);
        assert.equal(res.statusCode, 400, password);
        const body = res.json() as ErrorJson;
        assert.equal(body.error.code, code, JSON.stringify(password));
        assert.match(body.error.message, message);
        assert.ok(body.error.requestId);
      }
      assert.equal((await post('/register', { email: uniqueEmail('strong'), password: GOOD_PASSWORD }, '10.1.1.1')).statusCode, 201);
    });

    it('makes ａlice@ (fullwidth) the same account as alice@, and logs in with either form', async () => {
      const local = `alice${Date.now().toString(36)}`;
      const plain = `${local}@example.com`;
      const fullwidth = `\uff41${local.slice(1)}@EXAMPLE.com`;
      assert.equal((await post('/register', { email: plain, password: GOOD_PASSWORD }, '10.2.0.1')).statusCode, 201);
      const again = await post('/register', { email: fullwidth, password: GOOD_PASSWORD }, '10.2.0.2');
      assert.equal(again.statusCode, 409);
      assert.equal(codeOf(again), 'AUTH_EMAIL_TAKEN');
      assert.equal((await post('/login', { email: fullwidth, password: GOOD_PASSWORD }, '10.2.0.3')).statusCode, 200);
    });

    it('refuses аlice@ (Cyrillic а) with AUTH_EMAIL_MIXED_SCRIPT, and accepts an all-Cyrillic address', async () => {
      const res = await post('/register', { email: `\u0430lice${Date.now().toString(36)}@example.com`, password: GOOD_PASSWORD }, '10.3.0.1');
      assert.equal(res.statusCode, 400);
      assert.equal(codeOf(res), 'AUTH_EMAIL_MIXED_SCRIPT');
      assert.match((res.json() as ErrorJson).error.message, /mixes alphabets/);
      const cyrillic = await post(
        '/register',
        { email: `алиса${Date.now().toString(36).replace(/[a-z]/g, '')}@example.ru`, password: GOOD_PASSWORD },
        '10.3.0.2',
      );
      assert.equal(cyrillic.statusCode, 201);
    });

    it('says 409 for an existing email (documented choice) before judging the password, and only within the per-IP limit', async () => {
      const email = uniqueEmail('taken');
      assert.equal((await post('/register', { email, password: GOOD_PASSWORD }, '10.4.0.1')).statusCode, 201);
      // A weak password does not hide that the account exists: the person should log in instead.
      const weak = await post('/register', { email, password: 'password' }, '10.4.0.2');
      assert.equal(weak.statusCode, 409);
      // An enumerator from one address gets 4 answers per window, then 429 even for a taken email.
      const ip = '10.4.0.3';
      for (let i = 0; i < 4; i += 1) assert.equal(codeOf(await post('/register', { email, password: GOOD_PASSWORD }, ip)), 'AUTH_EMAIL_TAKEN');
      const limited = await post('/register', { email, password: GOOD_PASSWORD }, ip);
      assert.equal(limited.statusCode, 429);
      assert.equal(codeOf(limited), 'AUTH_RATE_LIMITED');
      assert.ok(Number(limited.headers['retry-after']) >= 1);
    });

    it('limits register and login per client IP, each route on its own counter, and leaves other routes and IPs alone', async () => {
      const ip = '10.5.0.1';
      for (let i = 0; i < 4; i += 1) assert.equal((await post('/register', { email: 'nope', password: GOOD_PASSWORD }, ip)).statusCode, 400);
      assert.equal((await post('/register', { email: 'nope', password: GOOD_PASSWORD }, ip)).statusCode, 429);
      for (let i = 0; i < 4; i += 1) assert.equal((await post('/login', { email: 'nope@example.com', password: 'x' }, ip)).statusCode, 401);
      const login = await post('/login', { email: 'nope@example.com', password: 'x' }, ip);
      assert.equal(login.statusCode, 429);
      assert.equal(codeOf(login), 'AUTH_RATE_LIMITED');
      assert.equal((await post('/register', { email: 'nope', password: GOOD_PASSWORD }, '10.5.0.2')).statusCode, 400, 'another IP has its own budget');
      for (let i = 0; i < 6; i += 1) assert.equal((await post('/refresh', { refreshToken: 'x'.repeat(43) }, ip)).statusCode, 401, 'refresh is not limited');
    });
  });
}
