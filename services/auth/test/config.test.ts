import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '@sre/platform';
import { ARGON2_OWASP_MINIMUM, configSchema } from '../src/config.js';
import { generateSigningKeyPair } from '../src/keys.js';

const key = generateSigningKeyPair();
const marker = 'SECRETMARKER';
const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('auth config schema', () => {
  it('has production defaults at or above the OWASP argon2id minimum (m=19 MiB, t=2, p=1)', () => {
    const config = parseConfig('auth', configSchema, { JWT_PRIVATE_KEY: key.privateKeyPem });
    assert.ok(config.ARGON2_MEMORY_KIB >= 19_456);
    assert.ok(config.ARGON2_TIME_COST >= 2);
    assert.ok(config.ARGON2_PARALLELISM >= 1);
    assert.deepEqual(ARGON2_OWASP_MINIMUM, { memoryKiB: 19_456, timeCost: 2, parallelism: 1 });
    assert.equal(config.ACCESS_TOKEN_TTL_SECONDS, 900);
    assert.equal(config.JWT_ISSUER, 'sre-platform-auth');
    assert.equal(config.JWT_AUDIENCE, 'sre-platform');
    assert.equal(config.PORT, 8080);
    assert.equal(config.MANAGEMENT_PORT, 9464);
    assert.equal(config.DATABASE_URL, undefined, 'PGlite when unset');
    assert.equal(config.TRUST_PROXY, false);
    assert.equal(config.PGLITE_DATA_DIR, undefined, 'in memory when unset');
  });

  it('shares TRUST_PROXY and PGLITE_DATA_DIR with the other services: a hop count, no "true", no ":memory:"', () => {
    const config = parseConfig('auth', configSchema, { JWT_PRIVATE_KEY: key.privateKeyPem, TRUST_PROXY: '2', PGLITE_DATA_DIR: '.data/auth/pglite' });
    assert.equal(config.TRUST_PROXY, 2);
    assert.equal(config.PGLITE_DATA_DIR, '.data/auth/pglite');
    assert.throws(
      () => parseConfig('auth', configSchema, { JWT_PRIVATE_KEY: key.privateKeyPem, TRUST_PROXY: 'true', PGLITE_DATA_DIR: ':memory:' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.length === 2 &&
        /TRUST_PROXY must not be "true"/.test(err.message) &&
        /PGLITE_DATA_DIR must be a folder/.test(err.message),
    );
  });

  it('refuses argon2 parameters below the OWASP minimum', () => {
    assert.throws(
      () =>
        parseConfig('auth', configSchema, { JWT_PRIVATE_KEY: key.privateKeyPem, ARGON2_MEMORY_KIB: '19455', ARGON2_TIME_COST: '1', ARGON2_PARALLELISM: '0' }),
      (err: unknown) => err instanceof ConfigError && err.problems.length === 3 && /ARGON2_MEMORY_KIB must be >= 19456/.test(err.message),
    );
  });

  it('accepts a PEM with literal \\n escapes (env files), and extra public keys for rotation', () => {
    const previous = generateSigningKeyPair();
    const config = parseConfig('auth', configSchema, {
      JWT_PRIVATE_KEY: key.privateKeyPem.replace(/\n/g, '\\n'),
      JWT_PREVIOUS_PUBLIC_KEYS: `${previous.publicKeyPem}\n${generateSigningKeyPair().publicKeyPem}`,
      TRUST_PROXY: '10.0.0.0/8,127.0.0.1',
    });
    assert.equal(config.TRUST_PROXY, '10.0.0.0/8,127.0.0.1');
  });

  const invalid: Array<[string, Record<string, string>, RegExp]> = [
    ['a placeholder key', { JWT_PRIVATE_KEY: 'change-me' }, /JWT_PRIVATE_KEY is a placeholder value/],
    ['a key that is not PEM', { JWT_PRIVATE_KEY: `${marker}-not-a-key` }, /JWT_PRIVATE_KEY is not a PEM private key/],
    ['an RSA key', { JWT_PRIVATE_KEY: rsa }, /JWT_PRIVATE_KEY must be an Ed25519 key \(found rsa\)/],
    [
      'previous keys that are not PEM',
      { JWT_PRIVATE_KEY: key.privateKeyPem, JWT_PREVIOUS_PUBLIC_KEYS: `${marker}` },
      /JWT_PREVIOUS_PUBLIC_KEYS must contain one or more PEM public keys/,
    ],
    [
      'a private key among the previous public keys',
      { JWT_PRIVATE_KEY: key.privateKeyPem, JWT_PREVIOUS_PUBLIC_KEYS: `${generateSigningKeyPair().publicKeyPem}\n${key.privateKeyPem}` },
      /JWT_PREVIOUS_PUBLIC_KEYS contains text outside PEM public key blocks/,
    ],
    [
      'a MySQL DATABASE_URL with a password',
      { JWT_PRIVATE_KEY: key.privateKeyPem, DATABASE_URL: `mysql://u:${marker}@h/db` },
      /DATABASE_URL must be a URL with protocol postgres or postgresql/,
    ],
  ];
  for (const [name, env, message] of invalid) {
    it(`refuses ${name}, naming the variable and not the value`, () => {
      try {
        parseConfig('auth', configSchema, env);
        assert.fail('should throw');
      } catch (err) {
        assert.ok(err instanceof ConfigError, String(err));
        assert.match(err.message, message);
        assert.ok(!err.message.includes(marker), err.message);
        assert.ok(!err.message.includes('PRIVATE KEY-----\n'), 'no key material');
      }
    });
  }
});

describe('auth chaos settings', () => {
  it('requires a 16-character CHAOS_ADMIN_TOKEN only when chaos is enabled, without printing it', () => {
    assert.equal(parseConfig('auth', configSchema, { JWT_PRIVATE_KEY: key.privateKeyPem }).CHAOS_ENABLED, false);
    assert.throws(
      () => parseConfig('auth', configSchema, { JWT_PRIVATE_KEY: key.privateKeyPem, CHAOS_ENABLED: 'true', CHAOS_ADMIN_TOKEN: `${marker}` }),
      (err: unknown) => err instanceof ConfigError && /CHAOS_ADMIN_TOKEN must be at least 16 characters/.test(err.message) && !err.message.includes(marker),
    );
    assert.equal(
      parseConfig('auth', configSchema, { JWT_PRIVATE_KEY: key.privateKeyPem, CHAOS_ENABLED: 'true', CHAOS_ADMIN_TOKEN: 'q7-chaos-token-16' }).CHAOS_ENABLED,
      true,
    );
  });
});
